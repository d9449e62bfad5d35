package runtime

import (
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/kubelark/kubelark/internal/fuzzseed"
)

// codecBuiltin returns module.member of the recipe environment.
func codecBuiltin(t testing.TB, module, member string) starlark.Value {
	m, ok := Predeclared(nil)[module].(*starlarkstruct.Module)
	if !ok || m.Members[member] == nil {
		t.Fatalf("no builtin %s.%s", module, member)
	}
	return m.Members[member]
}

// roundTrip decodes s with decode and, when that works, encodes the value
// again: both must return a value or an error, never panic or overflow
// the stack.
func roundTrip(t *testing.T, decode, encode starlark.Value, s string) {
	thread := &starlark.Thread{Name: "fuzz"}
	v, err := starlark.Call(thread, decode, starlark.Tuple{starlark.String(s)}, nil)
	if err != nil {
		return
	}
	if _, err := starlark.Call(thread, encode, starlark.Tuple{v}, nil); err != nil {
		t.Fatalf("decoded %q into %.200s, which does not encode again: %v", s, v, err)
	}
}

// FuzzYAMLDecode fuzzes yaml.decode and yaml.encode of what it returns.
func FuzzYAMLDecode(f *testing.F) {
	fuzzseed.Strings(f, "yaml")
	dec, enc := codecBuiltin(f, "yaml", "decode"), codecBuiltin(f, "yaml", "encode")
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1<<20 {
			return
		}
		roundTrip(t, dec, enc, s)
	})
}

// FuzzJSONDecode fuzzes json.decode (behind the nesting guard) and
// json.encode of what it returns.
func FuzzJSONDecode(f *testing.F) {
	fuzzseed.Strings(f, "json")
	dec, enc := codecBuiltin(f, "json", "decode"), codecBuiltin(f, "json", "encode")
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1<<20 {
			return
		}
		roundTrip(t, dec, enc, s)
	})
}
