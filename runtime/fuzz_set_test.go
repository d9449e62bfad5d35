package runtime

import (
	"strings"
	"testing"

	"github.com/kubelark/kubelark/internal/fuzzseed"
)

// FuzzSetParser feeds arbitrary --set items to the parser for every
// parameter type: it must return a value or an error, never panic, and a
// parsed value must convert to Starlark (what params() hands the recipe).
func FuzzSetParser(f *testing.F) {
	fuzzseed.Strings(f, "set")
	f.Fuzz(func(t *testing.T, kv string) {
		_, raw, ok := strings.Cut(kv, "=")
		if !ok {
			raw = kv
		}
		for _, typ := range paramTypes {
			v, err := parseSet(&paramDecl{typ: typ}, raw)
			if err != nil {
				continue
			}
			c, err := canonical(v)
			if err != nil {
				continue // e.g. a YAML number out of range: refused later with a message
			}
			if _, err := FromGo(c); err != nil {
				t.Fatalf("--set %q as %s parsed to %#v, which does not convert to Starlark: %v", raw, typ, c, err)
			}
		}
	})
}
