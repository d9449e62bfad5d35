package runtime

import (
	"context"
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// MaxNesting bounds how deeply data may nest where kubelark walks it
// recursively: ToGo/FromGo, yaml.* and json.*. A Go recursion over a value
// a hostile recipe built with `for i in range(10**6): x = [x]` would
// otherwise overflow the goroutine stack, which is a fatal error, not a
// recoverable panic. Kubernetes objects nest a few dozen levels; 1000 is
// far beyond that and below the 10000 at which go-yaml and encoding/json
// stop, so kubelark's message comes first and whatever yaml.decode or
// json.decode returns, yaml.encode and json.encode accept.
const MaxNesting = 1000

// errNesting is the one message for data nested too deeply.
func errNesting(what string) error {
	return &LimitError{fmt.Errorf("%s nests deeper than %d levels; kubelark data (Kubernetes objects, parameters) is a few dozen levels deep, so this is a runaway construction", what, MaxNesting)}
}

// cancelEvery is how many values a walk visits between two looks at the
// run's context, so a long encode of a huge value stops when the run is
// interrupted or over its budget.
const cancelEvery = 1 << 12

// checkNesting walks v (lists, tuples, dicts, sets, structs) and fails if
// it nests deeper than MaxNesting or if ctx ends during the walk. It runs
// before handing v to an encoder that recurses without a limit
// (go.starlark.net/lib/json).
func checkNesting(ctx context.Context, v starlark.Value) error {
	w := nestWalker{ctx: ctx}
	return w.walk(v, 0)
}

type nestWalker struct {
	ctx     context.Context
	visited int
}

func (w *nestWalker) walk(v starlark.Value, depth int) error {
	if depth >= MaxNesting && isContainer(v) {
		return errNesting("the value")
	}
	if w.visited++; w.visited%cancelEvery == 0 && w.ctx != nil {
		if err := w.ctx.Err(); err != nil {
			return fmt.Errorf("stopped: %w", context.Cause(w.ctx))
		}
	}
	switch v := v.(type) {
	case *starlark.List:
		for i := 0; i < v.Len(); i++ {
			if err := w.walk(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case starlark.Tuple:
		for _, e := range v {
			if err := w.walk(e, depth+1); err != nil {
				return err
			}
		}
	case *starlark.Dict:
		for _, kv := range v.Items() {
			if err := w.walk(kv[1], depth+1); err != nil {
				return err
			}
		}
	case *starlark.Set:
		it := v.Iterate() // elements are hashable, but a tuple can nest
		defer it.Done()
		var e starlark.Value
		for it.Next(&e) {
			if err := w.walk(e, depth+1); err != nil {
				return err
			}
		}
	case *starlarkstruct.Struct:
		d := starlark.StringDict{}
		v.ToStringDict(d)
		for _, e := range d {
			if err := w.walk(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// isContainer reports whether v holds other values: the levels
// MaxNesting counts (the outermost list is level 1).
func isContainer(v starlark.Value) bool {
	switch v.(type) {
	case *starlark.List, starlark.Tuple, *starlark.Dict, *starlark.Set, *starlarkstruct.Struct:
		return true
	}
	return false
}

// checkJSONNesting scans JSON text for brackets nested deeper than
// MaxNesting (outside strings) before go.starlark.net/lib/json decodes it
// recursively: a million "[" would otherwise recurse a million levels.
func checkJSONNesting(ctx context.Context, s string) error {
	depth, inString, escaped := 0, false, false
	for i := 0; i < len(s); i++ {
		if i%(1<<20) == 0 && ctx != nil && ctx.Err() != nil {
			return fmt.Errorf("stopped: %w", context.Cause(ctx))
		}
		c := s[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if depth++; depth > MaxNesting {
				return errNesting(fmt.Sprintf("the JSON text (at byte %d)", i))
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return nil
}

// runContext is the run's context for builtins that check for
// cancellation; a thread without an Env (unit tests of a builtin) has none.
func runContext(thread *starlark.Thread) context.Context {
	if env, err := FromThread(thread); err == nil && env.Ctx != nil {
		return env.Ctx
	}
	return context.Background()
}
