package runtime

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// RecipeError is a failed run: the Starlark backtrace (recipe file:line
// of every frame, innermost last) followed by the failing builtin's
// message.
type RecipeError struct {
	Recipe string
	// Trace is the backtrace, or the compile errors of a file that did
	// not parse or resolve.
	Trace string
	Err   error
}

func (e *RecipeError) Error() string { return "recipe " + e.Recipe + " failed:\n" + e.Trace }
func (e *RecipeError) Unwrap() error { return e.Err }

// recipeError renders err from executing a recipe. Loaded modules run on
// the same thread, so the innermost EvalError in the chain carries the
// complete stack: from the main recipe's load or call down to the failing
// builtin.
func recipeError(recipe string, err error) error {
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
		return &RecipeError{Recipe: recipe, Trace: inner.Backtrace() + dialectHint(inner.Msg), Err: err}
	}
	var rl resolve.ErrorList
	if errors.As(err, &rl) {
		lines := make([]string, len(rl))
		for i, e := range rl {
			lines[i] = fmt.Sprintf("%s: %s%s", e.Pos, e.Msg, dialectHint(e.Msg))
		}
		return &RecipeError{Recipe: recipe, Trace: strings.Join(lines, "\n"), Err: err}
	}
	var se syntax.Error
	if errors.As(err, &se) {
		return &RecipeError{Recipe: recipe, Trace: fmt.Sprintf("%s: syntax error: %s", se.Pos, se.Msg), Err: err}
	}
	return &RecipeError{Recipe: recipe, Trace: err.Error(), Err: err}
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
