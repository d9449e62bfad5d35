package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"go.starlark.net/starlark"
)

// StopReason is the cause a caller gives when it ends a run's context on
// purpose (a signal, the --timeout budget, the memory budget): the thread
// is cancelled with Reason as is, and the run ends in a StoppedError that
// names the recipe line. Any other cause reads "interrupted: <cause>".
type StopReason struct{ Reason string }

func (r *StopReason) Error() string { return r.Reason }

// cancelReason is the text a thread is cancelled with when ctx ends.
func cancelReason(ctx context.Context) string {
	cause := context.Cause(ctx)
	var sr *StopReason
	if errors.As(cause, &sr) {
		return sr.Reason
	}
	return "interrupted: " + cause.Error()
}

// StoppedError is a run stopped from outside the recipe's logic: by a
// signal, a budget, the step limit or a LimitError. It is one line (where, and why),
// since the backtrace of a cancelled thread only says where it happened
// to be.
type StoppedError struct {
	Recipe string
	At     string // file:line:col of the innermost recipe frame, or ""
	Reason string
	Err    error
}

func (e *StoppedError) Error() string {
	if e.At == "" {
		return fmt.Sprintf("recipe %s stopped: %s", e.Recipe, e.Reason)
	}
	return fmt.Sprintf("recipe %s stopped at %s: %s", e.Recipe, e.At, e.Reason)
}
func (e *StoppedError) Unwrap() error { return e.Err }

// cancelledPrefix is how go.starlark.net reports a cancelled thread.
const cancelledPrefix = "Starlark computation cancelled: "

// stoppedError returns the StoppedError for err if the thread was
// cancelled, else nil.
func stoppedError(recipe string, err error) error {
	var inner *starlark.EvalError
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ee, ok := e.(*starlark.EvalError); ok {
			inner = ee
		}
	}
	if inner == nil {
		return nil
	}
	reason := ""
	var le *LimitError
	switch {
	case strings.HasPrefix(inner.Msg, cancelledPrefix):
		reason = strings.TrimPrefix(inner.Msg, cancelledPrefix)
	case errors.As(err, &le):
		reason = inner.Msg
	default:
		return nil
	}
	at := ""
	for i := len(inner.CallStack) - 1; i >= 0; i-- {
		if p := inner.CallStack[i].Pos; p.IsValid() && p.Filename() != "<builtin>" {
			at = p.String()
			break
		}
	}
	return &StoppedError{Recipe: recipe, At: at, Reason: reason, Err: err}
}

// LimitError is a bound refusing an operation (nesting depth, the size of
// one * or +): the run ends like a budget stop, in one line naming the
// recipe line, since the fix is in the recipe's data, not in its flow.
type LimitError struct{ Err error }

func (e *LimitError) Error() string { return e.Err.Error() }
func (e *LimitError) Unwrap() error { return e.Err }

// Progress tells a watchdog outside the interpreter where the recipe last
// was: a budget that must end the process while a builtin does not return
// can still name the line. The position is sampled every progressEvery
// Starlark steps on the interpreter's own goroutine (the thread is not
// safe to inspect from another one).
type Progress struct{ pos atomic.Pointer[string] }

// Last returns the last sampled recipe position ("file:line:col"), or "".
func (p *Progress) Last() string {
	if p == nil {
		return ""
	}
	if s := p.pos.Load(); s != nil {
		return *s
	}
	return ""
}

const progressEvery = 1 << 10

// limitSteps installs the step limit on thread and, when progress is set,
// samples the position every progressEvery steps (OnMaxSteps is the
// interpreter's only periodic hook: it raises the next checkpoint until
// the real limit is reached).
func limitSteps(thread *starlark.Thread, maxSteps uint64, progress *Progress) {
	tooMany := func(th *starlark.Thread) {
		th.Cancel(fmt.Sprintf("the run exceeded %d Starlark execution steps (a runaway loop?); raise the limit with --max-steps if the recipe really needs more", maxSteps))
	}
	if progress == nil {
		thread.SetMaxExecutionSteps(maxSteps)
		thread.OnMaxSteps = tooMany
		return
	}
	next := func(steps uint64) uint64 { return min(steps+progressEvery, maxSteps) }
	thread.SetMaxExecutionSteps(next(0))
	thread.OnMaxSteps = func(th *starlark.Thread) {
		if th.ExecutionSteps() >= maxSteps {
			tooMany(th)
			return
		}
		if th.CallStackDepth() > 0 {
			s := th.CallFrame(0).Pos.String()
			progress.pos.Store(&s)
		}
		th.SetMaxExecutionSteps(next(th.ExecutionSteps()))
	}
}
