package runtime

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// RecipeError is a failed run. It reads like kubeadm's errors: first the
// failing builtin's (or fail()'s) message, which says what failed and how
// to fix it; then where in the recipe it happened. The full Starlark
// backtrace (every frame, innermost last) follows only at -v: a newcomer
// needs the message, a recipe author the frames.
type RecipeError struct {
	Recipe string
	// Msg is the message of the failing call, or the compile errors of a
	// file that did not parse or resolve.
	Msg string
	// Where is the short location: the innermost frame and the operator's
	// own recipe line that led to it ("at @stdlib//pki.star:114:17 in
	// ensure, from init.star:130:6"). Empty for compile errors.
	Where string
	// Trace is the full backtrace, empty for compile errors.
	Trace string
	// Verbose (-v) shows Trace instead of Where.
	Verbose bool
	Err     error
}

func (e *RecipeError) Error() string {
	switch {
	case e.Trace == "":
		return e.Msg
	case e.Verbose:
		return e.Msg + "\n" + e.Trace
	}
	return e.Msg + "\n" + e.Where + " (run with -v for the Starlark backtrace)"
}
func (e *RecipeError) Unwrap() error { return e.Err }

// recipeError renders err from executing a recipe. Loaded modules run on
// the same thread, so the innermost EvalError in the chain carries the
// complete stack: from the main recipe's load or call down to the failing
// builtin.
func recipeError(recipe string, err error, verbose bool) error {
	var in *inputError
	if errors.As(err, &in) {
		return in
	}
	var inner *starlark.EvalError
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ee, ok := e.(*starlark.EvalError); ok {
			inner = ee
		}
	}
	if inner != nil {
		return &RecipeError{Recipe: recipe, Msg: evalMessage(inner) + dialectHint(inner.Msg), Where: where(inner.CallStack),
			Trace:   "Starlark backtrace (most recent call last):\n" + strings.TrimPrefix(inner.CallStack.String(), "Traceback (most recent call last):\n"),
			Verbose: verbose, Err: err}
	}
	var rl resolve.ErrorList
	if errors.As(err, &rl) {
		lines := make([]string, len(rl))
		for i, e := range rl {
			lines[i] = fmt.Sprintf("%s: %s%s", e.Pos, e.Msg, dialectHint(e.Msg))
		}
		return &RecipeError{Recipe: recipe, Msg: compileMsg(recipe, lines), Err: err}
	}
	var se syntax.Error
	if errors.As(err, &se) {
		return &RecipeError{Recipe: recipe, Msg: compileMsg(recipe, []string{fmt.Sprintf("%s: syntax error: %s", se.Pos, se.Msg)}), Err: err}
	}
	return &RecipeError{Recipe: recipe, Msg: err.Error(), Err: err}
}

// compileMsg introduces the compile errors of a recipe (or a module it
// loads), each with its position.
func compileMsg(recipe string, lines []string) string {
	return "recipe " + recipe + " does not compile:\n" + strings.Join(lines, "\n")
}

// evalMessage is the failing call's own message. fail("...") gets no
// "fail: " prefix: the stdlib's fail() messages are written for the
// operator, like a builtin's.
func evalMessage(e *starlark.EvalError) string {
	if n := len(e.CallStack); n > 0 && e.CallStack[n-1].Name == "fail" && e.CallStack[n-1].Pos.Filename() == "<builtin>" {
		return strings.TrimPrefix(e.Msg, "fail: ")
	}
	return e.Msg
}

// where is the short location of a failure: the innermost Starlark frame,
// and the innermost frame of the operator's own files when that is a
// different one (the stdlib line that failed, and the recipe line that
// led to it).
func where(stack starlark.CallStack) string {
	var inner, recipe *starlark.CallFrame
	for i := len(stack) - 1; i >= 0; i-- {
		fr := &stack[i]
		if !fr.Pos.IsValid() || fr.Pos.Filename() == "<builtin>" {
			continue
		}
		if inner == nil {
			inner = fr
		}
		if !strings.HasPrefix(fr.Pos.Filename(), stdlibPrefix) {
			recipe = fr
			break
		}
	}
	if inner == nil {
		return ""
	}
	s := fmt.Sprintf("at %s in %s", inner.Pos, inner.Name)
	if recipe != nil && recipe != inner {
		s += fmt.Sprintf(", from %s in %s", recipe.Pos, recipe.Name)
	}
	return s
}

// dialectHint explains the strict dialect's refusals (see fileOptions).
func dialectHint(msg string) string {
	switch {
	case strings.Contains(msg, "does not support while loops"):
		return " (kubelark recipes loop over data with for; waiting is done by builtins)"
	case strings.Contains(msg, "called recursively"):
		return " (recursion is off in kubelark recipes so every run terminates; iterate instead)"
	}
	return ""
}

// inputError is a mistake in the operator's input (--set, --values,
// --config, --phases...) found while the recipe runs params() or
// phases(). It is reported as is: the recipe backtrace would only distract
// from the flag to fix.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

func inputErr(err error) error {
	if err == nil {
		return nil
	}
	return &inputError{err}
}

// RedactError returns err with every registered secret replaced by
// Redacted in its message: a RecipeError's message, location and
// backtrace are redacted in place; any other error whose message would
// change is wrapped (errors.As and errors.Is still see the original).
// Secrets are a type, so a well-behaved builtin never puts one in an
// error; this is the second line of defence, for the messages of
// libraries and API servers that echo what they were given.
func (e *Env) RedactError(err error) error {
	if err == nil {
		return nil
	}
	var re *RecipeError
	if errors.As(err, &re) {
		re.Msg, re.Where, re.Trace = e.Redact(re.Msg), e.Redact(re.Where), e.Redact(re.Trace)
	}
	if msg := err.Error(); e.Redact(msg) != msg {
		return &redactedError{msg: e.Redact(msg), err: err}
	}
	return err
}

// redactedError is an error whose message has been redacted.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
