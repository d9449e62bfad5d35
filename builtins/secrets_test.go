package builtins

import (
	"testing"

	"github.com/kubelark/kubelark/runtime"
)

// revealed returns the real bytes of the global name, which must be a
// runtime.Secret: the builtin under test returned its value typed secret.
func (r *starRun) revealed(t *testing.T, name string) string {
	t.Helper()
	s, ok := r.globals[name].(*runtime.Secret)
	if !ok {
		t.Fatalf("global %s = %v (%s), want a secret", name, r.globals[name], r.globals[name].Type())
	}
	return s.Reveal()
}
