package runtime

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime/host"
)

// envKey is the thread-local key under which the Env is stored.
const envKey = "kubelark.env"

// Env is what a builtin may use: the host, the recorder, the printer and the
// run's options. One Env is attached to each Starlark thread (like
// starlark-go's time.SetNow), never a global, so tests can run in parallel.
type Env struct {
	Host host.Host
	Ctx  context.Context
	// Out receives human-readable progress lines; nil discards them.
	Out io.Writer
	// OutputOut, when not nil, receives output() lines instead of Out.
	OutputOut io.Writer
	// Verbose is the -v level.
	Verbose int

	// Start is the run's start time: certificate validity is measured from
	// it, as kubeadm does, so every certificate of one run agrees.
	Start time.Time

	mu      sync.Mutex
	plan    *Plan
	phases  []string // current phase stack
	warns   []string
	secrets []string // values redacted from every printed line and the plan
	typed   []string // the bytes of Secret values (see HoldsSecret)
	state   map[any]any

	// prefixes is the with_prefix() stack: the innermost replaces the top
	// phase as the "[prefix]" of printed lines.
	prefixes []string
}

// State returns the per-run value stored under key, creating it with init on
// first use. Builtin families keep run-scoped machinery here (e.g. the key
// pool that generates keys ahead on all cores) instead of in globals.
func (e *Env) State(key any, init func() any) any {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state == nil {
		e.state = map[any]any{}
	}
	v, ok := e.state[key]
	if !ok {
		v = init()
		e.state[key] = v
	}
	return v
}

// NewEnv returns an Env recording into plan.
func NewEnv(ctx context.Context, h host.Host, plan *Plan, out io.Writer) *Env {
	if plan == nil {
		plan = &Plan{Version: PlanVersion}
	}
	return &Env{Host: h, Ctx: ctx, Out: out, plan: plan, Start: h.Now().UTC()}
}

// RegisterSecret marks s (a token secret, a certificate key…) so that it is
// replaced by Redacted wherever it would be printed or written to the plan.
func (e *Env) RegisterSecret(s string) {
	if len(s) < 6 {
		return // too short to redact without mangling ordinary text
	}
	e.mu.Lock()
	e.secrets = append(e.secrets, s)
	e.mu.Unlock()
}

// Redact replaces every registered secret in s.
func (e *Env) Redact(s string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return RedactSecrets(s, e.secrets)
}

// RedactSecrets replaces each of secrets (those of six characters or more,
// as RegisterSecret keeps) in s by Redacted: the textual redaction, for
// callers that hold secrets without an Env (the command's error printer).
func RedactSecrets(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 6 {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}

// Attach stores e in thread.
func (e *Env) Attach(thread *starlark.Thread) { thread.SetLocal(envKey, e) }

// FromThread returns the Env attached to thread. Builtins call this first;
// a thread without an Env is a programming error reported as a Starlark error.
func FromThread(thread *starlark.Thread) (*Env, error) {
	if e, ok := thread.Local(envKey).(*Env); ok && e != nil {
		return e, nil
	}
	return nil, fmt.Errorf("internal error: no kubelark environment on this thread")
}

// Plan returns the plan being recorded.
func (e *Env) Plan() *Plan { return e.plan }

// Phase is the current phase path, e.g. "certs/apiserver", or "".
func (e *Env) Phase() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.phases, "/")
}

// PushPhase and PopPhase maintain the phase stack (used by phase()).
func (e *Env) PushPhase(name string) { e.mu.Lock(); e.phases = append(e.phases, name); e.mu.Unlock() }
func (e *Env) PopPhase()             { e.mu.Lock(); e.phases = e.phases[:len(e.phases)-1]; e.mu.Unlock() }

// prefix is the "[certs]" of printed lines: the innermost with_prefix()
// in force, else the first element of the phase path, as kubeadm prints
// its phase name. The caller holds e.mu.
func (e *Env) prefix() string {
	switch {
	case len(e.prefixes) > 0:
		return e.prefixes[len(e.prefixes)-1]
	case len(e.phases) == 0:
		return "kubelark"
	}
	return e.phases[0]
}

// PushPrefix and PopPrefix maintain the with_prefix() stack.
func (e *Env) PushPrefix(p string) { e.mu.Lock(); e.prefixes = append(e.prefixes, p); e.mu.Unlock() }
func (e *Env) PopPrefix()          { e.mu.Lock(); e.prefixes = e.prefixes[:len(e.prefixes)-1]; e.mu.Unlock() }

// Record appends a to the plan, filling Seq, Phase, Builtin (the
// builtin's name, e.g. "gen_cert"; what it worked on goes in a.Subject),
// At and RecipeAt (see Action), and prints it.
func (e *Env) Record(thread *starlark.Thread, builtin string, a Action) {
	e.mu.Lock()
	a.Seq = len(e.plan.Actions) + 1
	if a.Phase == "" {
		a.Phase = strings.Join(e.phases, "/")
	}
	if a.Builtin == "" {
		a.Builtin = builtin
	}
	if a.At == "" && thread != nil {
		a.At = CallerPos(thread)
	}
	if a.RecipeAt == "" && thread != nil {
		a.RecipeAt = RecipePos(thread)
	}
	e.plan.Actions = append(e.plan.Actions, a)
	prefix, root := e.prefix(), e.plan.Root
	e.mu.Unlock()
	if e.Out != nil {
		fmt.Fprintln(e.Out, e.Redact(actionLine(prefix, root, a)))
	}
}

// actionLine is the printed form of a recorded Action, e.g.
// "[certs] created file /etc/kubernetes/pki/ca.key (0600)". Under --root the
// paths are those the node will see, so the line says where they really
// are: "(0600, under --root /tmp/img)".
func actionLine(prefix, root string, a Action) string {
	if a.Op == "check" {
		return fmt.Sprintf("[%s] %s checks: %s", prefix, a.Target, a.Result)
	}
	line := fmt.Sprintf("[%s] %s %s %s", prefix, a.Result, opNoun(a.Op), a.Target)
	var notes []string
	if a.Mode != "" {
		notes = append(notes, a.Mode)
	}
	if root != "" && isFileOp(a.Op) {
		notes = append(notes, "under --root "+root)
	}
	if a.Server != "" {
		notes = append(notes, "to "+a.Server+" as "+a.Credential)
	}
	if len(notes) > 0 {
		line += " (" + strings.Join(notes, ", ") + ")"
	}
	return line
}

func isFileOp(op string) bool { return strings.HasPrefix(op, "file.") || strings.HasPrefix(op, "dir.") }

func opNoun(op string) string {
	switch op {
	case "file.write":
		return "file"
	case "file.delete":
		return "file (delete)"
	case "dir.create":
		return "directory"
	}
	return op
}

// Infof prints a progress line prefixed with the current top-level phase,
// e.g. `[certs] Generating "ca" certificate and key`.
func (e *Env) Infof(format string, args ...any) {
	if e.Out == nil {
		return
	}
	e.mu.Lock()
	prefix := e.prefix()
	e.mu.Unlock()
	fmt.Fprintf(e.Out, "[%s] %s\n", prefix, e.Redact(fmt.Sprintf(format, args...)))
}

// Warnf prints a warning line and keeps it for the summary.
func (e *Env) Warnf(format string, args ...any) {
	msg := e.Redact(fmt.Sprintf(format, args...))
	e.mu.Lock()
	e.warns = append(e.warns, msg)
	e.mu.Unlock()
	if e.Out != nil {
		fmt.Fprintf(e.Out, "[WARNING] %s\n", msg)
	}
}

// WouldStop notes, in a dry run, that a real run would have stopped here
// (preflight errors not ignored...): the dry run goes on so the whole plan
// can be read, and Run fails at the end with a DryRunStopError so that the
// exit status of `--dry-run` can gate a real run. reason says what failed
// in kubeadm's words ("preflight would have failed: CRI, ImagePull").
func (e *Env) WouldStop(reason string) {
	reason = e.Redact(reason)
	e.mu.Lock()
	phase := strings.Join(e.phases, "/")
	e.plan.WouldStop = append(e.plan.WouldStop, Stop{Phase: phase, Reason: reason})
	prefix := e.prefix()
	e.mu.Unlock()
	if e.Out != nil {
		fmt.Fprintf(e.Out, "[%s] dry run: a real run would stop here (%s); going on so the whole plan can be reviewed\n", prefix, reason)
	}
}

// Warnings returns the warnings printed so far.
func (e *Env) Warnings() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.warns...)
}

// Output records a line the recipe prints for the operator. The plan
// always gets the redacted line; stdout gets the line as is only when reveal
// is set and the run is live (the join command must carry its token).
func (e *Env) Output(line string, reveal bool) { e.output(line, line, reveal) }

// OutputSecret is Output of a Secret line (a join command built with +):
// the plan and every dry-run or unrevealed stdout get its redacted
// rendering; only a live run with reveal prints the real bytes.
func (e *Env) OutputSecret(line *Secret, reveal bool) {
	e.RegisterSecretValue(line)
	e.output(line.String(), line.Reveal(), reveal)
}

func (e *Env) output(shown, real string, reveal bool) {
	red := e.Redact(shown)
	e.mu.Lock()
	e.plan.Output = append(e.plan.Output, red)
	e.mu.Unlock()
	w := e.Out
	if e.OutputOut != nil {
		w = e.OutputOut
	}
	if w == nil {
		return
	}
	if reveal && e.Host.Live() {
		fmt.Fprintln(w, real)
	} else {
		fmt.Fprintln(w, red)
	}
}

// CallerPos returns "file:line" of the innermost Starlark frame that called
// the running builtin.
func CallerPos(thread *starlark.Thread) string {
	return framePos(thread, func(string) bool { return true })
}

// RecipePos returns "file:line" of the innermost Starlark frame outside the
// stdlib: the line of the operator's own recipe that led to the running
// builtin, however deep in the stdlib the builtin was called.
func RecipePos(thread *starlark.Thread) string {
	return framePos(thread, func(file string) bool { return !strings.HasPrefix(file, stdlibPrefix) })
}

// framePos returns the position of the innermost frame whose file passes
// keep. Builtin frames have the valid but useless position "<builtin>:0"
// and are skipped.
func framePos(thread *starlark.Thread, keep func(file string) bool) string {
	for i := 0; i < thread.CallStackDepth(); i++ {
		fr := thread.CallFrame(i)
		if fr.Pos.IsValid() && fr.Pos.Filename() != "<builtin>" && keep(fr.Pos.Filename()) {
			return fmt.Sprintf("%s:%d", fr.Pos.Filename(), fr.Pos.Line)
		}
	}
	return ""
}
