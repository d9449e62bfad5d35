package builtins

import (
	"bytes"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// starRun is the result of execStar: the module globals, the Env (plan,
// secrets) and the printed lines.
type starRun struct {
	globals starlark.StringDict
	env     *runtime.Env
	out     *bytes.Buffer
}

// execStar runs src against the builtin registry on h.
func execStar(t *testing.T, h host.Host, src string) (*starRun, error) {
	t.Helper()
	run := &starRun{}
	var thread *starlark.Thread
	run.env, thread, run.out = newTestEnv(t, h)
	g, err := execTest(thread, src)
	run.globals = g
	return run, err
}

// mustExecStar is execStar failing the test on error.
func mustExecStar(t *testing.T, h host.Host, src string) *starRun {
	t.Helper()
	run, err := execStar(t, h, src)
	if err != nil {
		if ee, ok := err.(*starlark.EvalError); ok {
			t.Fatalf("exec: %s", ee.Backtrace())
		}
		t.Fatalf("exec: %v", err)
	}
	return run
}

// wantErr runs src and requires an error containing every fragment.
func wantErr(t *testing.T, h host.Host, src string, fragments ...string) string {
	t.Helper()
	_, err := execStar(t, h, src)
	if err == nil {
		t.Fatalf("no error from:\n%s", src)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not contain %q", err, f)
		}
	}
	return err.Error()
}

// ops lists the plan's actions as "op target result mode".
func ops(env *runtime.Env) []string {
	var out []string
	for _, a := range env.Plan().Actions {
		out = append(out, strings.TrimSpace(a.Op+" "+a.Target+" "+a.Result+" "+a.Mode))
	}
	return out
}

// dirMode returns the permission bits of a directory in the fake fs.
func dirMode(t *testing.T, h host.Host, p string) string {
	t.Helper()
	fi, err := h.Stat(p)
	if err != nil {
		t.Fatalf("stat %s: %v", p, err)
	}
	if !fi.IsDir() {
		t.Fatalf("%s is not a directory", p)
	}
	return fi.Mode().Perm().String()
}

func starlarkInt(n uint32) starlark.Int { return starlark.MakeUint64(uint64(n)) }

// str returns a string global of a run.
func (r *starRun) str(t *testing.T, name string) string {
	t.Helper()
	s, ok := starlark.AsString(r.globals[name])
	if !ok {
		t.Fatalf("global %s = %v, want a string", name, r.globals[name])
	}
	return s
}
