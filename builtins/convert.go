package builtins

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Strings converts a Starlark list or tuple of strings; what names the
// argument in the error.
func Strings(what string, v starlark.Value) ([]string, error) {
	if v == nil || v == starlark.None {
		return nil, nil
	}
	it, ok := v.(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("%s: got %s, want list of strings", what, v.Type())
	}
	if _, isStr := v.(starlark.String); isStr {
		return nil, fmt.Errorf("%s: got string, want list of strings", what)
	}
	var out []string
	iter := it.Iterate()
	defer iter.Done()
	var x starlark.Value
	for i := 0; iter.Next(&x); i++ {
		s, ok := starlark.AsString(x)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: got %s, want string", what, i, x.Type())
		}
		out = append(out, s)
	}
	return out, nil
}

// Struct builds a Starlark struct from string keys, for builtin results.
func Struct(kv map[string]starlark.Value) *starlarkstruct.Struct {
	return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict(kv))
}

// optString unpacks an optional string argument (None or absent = "").
func optString(builtin, arg string, v starlark.Value) (string, error) {
	if v == nil || v == starlark.None {
		return "", nil
	}
	s, ok := starlark.AsString(v)
	if !ok {
		return "", fmt.Errorf("%s: %s: got %s, want string or None", builtin, arg, v.Type())
	}
	return s, nil
}
