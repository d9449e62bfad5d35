package builtins

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
)

func init() { families = append(families, registerPreflight) }

func registerPreflight(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "preflight_check",
		Signature: "preflight_check(checks, ignore=[])",
		Doc: "Runs host checks like kubeadm's preflight and prints one report.\n" +
			"Each check is a dict {\"kind\": ..., \"name\": ..., \"severity\": ..., <kind fields>}; name defaults to " +
			"kubeadm's check name, severity (\"error\" or \"warning\") overrides the kind's default for every finding. " +
			"Warnings print as `[WARNING Name]: msg`; errors of checks named in ignore (case-insensitive, or \"all\") " +
			"are demoted to warnings. A check with \"requires\": [names] is skipped with one line when one of those (earlier) " +
			"checks found an error, e.g. ImagePull after a failed CRI check. Any other error fails the call with every `[ERROR Name]: msg` and the " +
			"--ignore-preflight-errors hint. Returns struct(errors, warnings): lists of struct(name, message), " +
			"errors holding the ignored errors.\n\nKinds:\n" + preflightKindsDoc(),
		Args: []runtime.Arg{
			{Name: "checks", Type: "list of dict", Doc: "the checks, in order"},
			{Name: "ignore", Type: "list of string", Doc: "check names whose errors become warnings, or [\"all\"]"},
		},
		DryRun: "Checks run the same way: they only read the machine (files through the dry-run overlay).",
		Fn:     preflightCheckBuiltin,
	})
}

type pfFinding struct {
	name, msg string
	err       bool
}

func preflightCheckBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var checksV, ignoreV starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "checks", &checksV, "ignore?", &ignoreV); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	ignoreAll, ignored, err := parseIgnore(b.Name(), ignoreV)
	if err != nil {
		return nil, err
	}
	checks, err := parseChecks(b.Name(), checksV)
	if err != nil {
		return nil, err
	}

	pc := &pfCtx{env: env, h: env.Host, ctx: ctxOf(env)}
	var errs, warns, demoted []pfFinding
	failed := map[string]bool{} // check names with an error, ignored or not
	var skipped []string
	for _, c := range checks {
		if dep := firstFailed(c.requires, failed); dep != "" {
			env.Infof("Skipping the %s check: the %s check failed", c.name, dep)
			skipped = append(skipped, c.name)
			continue
		}
		for _, f := range c.run(pc) {
			if c.severity != "" {
				f.err = c.severity == "error"
			}
			f.name = c.name
			failed[c.name] = failed[c.name] || f.err
			switch {
			case !f.err:
				warns = append(warns, f)
			case ignoreAll || ignored[strings.ToLower(c.name)]:
				demoted = append(demoted, f)
			default:
				errs = append(errs, f)
			}
		}
	}
	if env.Out != nil {
		// Printed in check order, ignored errors as warnings, like kubeadm.
		for _, f := range mergeInOrder(checks, warns, demoted) {
			fmt.Fprintf(env.Out, "\t[WARNING %s]: %s\n", f.name, env.Redact(f.msg))
		}
	}

	summary := map[string]any{"checks": len(checks), "errors": findingNames(errs),
		"warnings": findingNames(warns), "ignored": findingNames(demoted)}
	if len(skipped) > 0 {
		summary["skipped"] = skipped
	}
	a := runtime.Action{Op: "check", Target: "preflight", Result: "passed", Summary: summary}
	if len(errs) > 0 {
		a.Result = "failed"
	}
	env.Record(thread, b.Name(), a)

	if len(errs) > 0 && env.Host.DryRun() {
		// A dry run is for review: report what would stop a real run, keep
		// it in the plan (Result "failed"), and go on so the rest of the
		// plan can be read too, even on a machine that is not prepared yet.
		for _, f := range errs {
			fmt.Fprintf(outOrDiscard(env), "\t[ERROR %s]: %s\n", f.name, env.Redact(f.msg))
		}
		env.WouldStop("preflight would have failed: " + strings.Join(findingNames(errs), ", "))
	} else if len(errs) > 0 {
		var sb strings.Builder
		sb.WriteString("[preflight] Some fatal errors occurred:\n")
		for _, f := range errs {
			fmt.Fprintf(&sb, "\t[ERROR %s]: %s\n", f.name, f.msg)
		}
		names := findingNames(errs)
		fmt.Fprintf(&sb, "[preflight] If you know what you are doing, you can make a check non-fatal with "+
			"--ignore-preflight-errors=%s (recipe parameter ignore_preflight_errors)", strings.Join(names, ","))
		return nil, fmt.Errorf("%s", env.Redact(sb.String()))
	}
	return Struct(map[string]starlark.Value{
		"errors":   findingList(demoted),
		"warnings": findingList(warns),
		"failed":   findingList(errs), // non-empty only in a dry run
	}), nil
}

// firstFailed returns the first of names that failed, or "".
func firstFailed(names []string, failed map[string]bool) string {
	for _, n := range names {
		if failed[n] {
			return n
		}
	}
	return ""
}

func outOrDiscard(env *runtime.Env) io.Writer {
	if env.Out == nil {
		return io.Discard
	}
	return env.Out
}

// mergeInOrder interleaves two finding lists back into check order.
func mergeInOrder(checks []*pfCheck, a, b []pfFinding) []pfFinding {
	rank := map[string]int{}
	for i, c := range checks {
		if _, ok := rank[c.name]; !ok {
			rank[c.name] = i
		}
	}
	out := append(append([]pfFinding(nil), a...), b...)
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].name] < rank[out[j].name] })
	return out
}

func findingNames(fs []pfFinding) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, f := range fs {
		if !seen[f.name] {
			seen[f.name] = true
			out = append(out, f.name)
		}
	}
	return out
}

func findingList(fs []pfFinding) *starlark.List {
	l := make([]starlark.Value, len(fs))
	for i, f := range fs {
		l[i] = Struct(map[string]starlark.Value{"name": starlark.String(f.name), "message": starlark.String(f.msg)})
	}
	return starlark.NewList(l)
}

// parseIgnore implements kubeadm's rules: names are case-insensitive; "all"
// ignores every error and cannot be combined with names.
func parseIgnore(builtin string, v starlark.Value) (bool, map[string]bool, error) {
	names, err := Strings(builtin+": ignore", v)
	if err != nil {
		return false, nil, err
	}
	set := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		set[n] = true
	}
	if set["all"] && len(set) > 1 {
		return false, nil, fmt.Errorf("%s: ignore: \"all\" cannot be combined with check names (got %s); pass either \"all\" or the names",
			builtin, strings.Join(names, ","))
	}
	return set["all"], set, nil
}
