package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.starlark.net/starlark"
)

// resultOrder is the order of counts in the summary line.
var resultOrder = []string{"created", "updated", "unchanged", "deleted", "absent", "performed", "recorded", "skipped"}

// WriteSummary prints the end-of-run lines: counts of action results,
// warnings, and the dry-run notice.
func WriteSummary(w io.Writer, p *Plan, warnings int, failed bool) {
	counts := map[string]int{}
	var other []string
	for _, a := range p.Actions {
		if counts[a.Result] == 0 && !contains(resultOrder, a.Result) {
			other = append(other, a.Result)
		}
		counts[a.Result]++
	}
	var parts []string
	for _, r := range append(append([]string(nil), resultOrder...), other...) {
		if n := counts[r]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, r))
		}
	}
	line := "no actions"
	if len(parts) > 0 {
		line = strings.Join(parts, ", ")
	}
	if warnings == 1 {
		line += "; 1 warning"
	} else if warnings > 1 {
		line += fmt.Sprintf("; %d warnings", warnings)
	}
	if failed {
		line = "run failed after: " + line
	}
	fmt.Fprintf(w, "[summary] %s\n", line)
	if p.DryRun {
		fmt.Fprintf(w, "[summary] %s\n", dryRunSummary(p))
	}
}

// dryRunSummary is the last line of a dry run, in place of a success
// banner: what was planned and whether a real run would get through.
func dryRunSummary(p *Plan) string {
	planned := fmt.Sprintf("dry run: %d actions planned", len(p.Actions))
	if len(p.Actions) == 1 {
		planned = "dry run: 1 action planned"
	}
	if len(p.WouldStop) == 0 {
		return planned + "; nothing on this machine was changed; the plan shows what a real run would do"
	}
	reasons := make([]string, len(p.WouldStop))
	for i, s := range p.WouldStop {
		reasons[i] = s.Reason
	}
	return fmt.Sprintf("%s; %s; a real run would stop at phase %s", planned, strings.Join(reasons, "; "), p.WouldStop[0].Phase)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// MarshalPlan renders p as indented JSON and passes the whole text through
// redact, so a secret that slipped into any field still never reaches a
// plan file. HTML escaping is off so "<redacted>" reads as such.
func MarshalPlan(p *Plan, redact func(string) string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	if redact == nil {
		return buf.Bytes(), nil
	}
	return []byte(redact(buf.String())), nil
}

// writePlanOutputs prints the summary and writes the plan JSON where the
// options ask. It runs after success and after failure alike.
func writePlanOutputs(opts *Options, env *Env, plan *Plan, runErr error, out io.Writer) error {
	// A dry run that would stop has not failed: it planned everything.
	var stop *DryRunStopError
	failed := runErr != nil && !errors.As(runErr, &stop)
	// A run that failed before doing anything (a typo in --set) gets no
	// summary: the error alone says it all.
	if runErr == nil || len(plan.Actions) > 0 {
		WriteSummary(out, plan, len(env.Warnings()), failed)
	}
	// At -v, the number of HTTP requests sent to API servers, when there
	// were any: the benchmarks (e2e/bench) compare it with kubeadm's --v=6
	// request log.
	if n := env.Host.Clients().RequestCount(); env.Verbose >= 1 && n > 0 {
		fmt.Fprintf(out, "[summary] %d API requests\n", n)
	}
	if opts.JSON == nil && opts.PlanFile == "" {
		return nil
	}
	data, err := MarshalPlan(plan, env.Redact)
	if err != nil {
		return fmt.Errorf("encoding the plan: %w", err)
	}
	if opts.JSON != nil {
		if _, err := opts.JSON.Write(data); err != nil {
			return fmt.Errorf("writing the plan: %w", err)
		}
	}
	if opts.PlanFile != "" {
		// 0600: a plan is free of secrets by construction, but it maps the
		// cluster's PKI and is for the operator's eyes first.
		if err := os.WriteFile(opts.PlanFile, data, 0o600); err != nil {
			return fmt.Errorf("--plan %s: %w", opts.PlanFile, err)
		}
	}
	return nil
}

// withPrefixBuiltin is with_prefix(prefix, fn): the printed prefix is the
// recipe's choice (policy), the stack that applies it the runtime's.
func withPrefixBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var prefix string
	var fn starlark.Callable
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "prefix", &prefix, "fn", &fn); err != nil {
		return nil, err
	}
	if prefix == "" || strings.ContainsAny(prefix, "[] \t\n") {
		return nil, fmt.Errorf("%s: prefix %q: give one word without brackets or spaces, e.g. \"kubelet-check\"", b.Name(), prefix)
	}
	env, err := FromThread(thread)
	if err != nil {
		return nil, err
	}
	env.PushPrefix(prefix)
	defer env.PopPrefix()
	return starlark.Call(thread, fn, nil, nil)
}
