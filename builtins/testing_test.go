package builtins

// Shared test helpers of the builtins package: run Starlark source against
// an in-memory host with every registered builtin predeclared, the way a
// recipe would call them.

import (
	"bytes"
	"context"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// testPredeclared is what a recipe sees: every registered builtin (dotted
// names grouped into modules) plus the runtime's recipe API, built by the
// runtime itself so tests and recipes cannot disagree.
func testPredeclared() starlark.StringDict { return runtime.Predeclared(Registry()) }

// testFileOptions is permissive so test sources may use any construct.
var testFileOptions = &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true}

// newTestEnv returns an Env over h printing into the returned buffer, and a
// thread carrying it (print() goes to the same buffer). Every Starlark test
// helper of this package starts here.
func newTestEnv(t *testing.T, h host.Host) (*runtime.Env, *starlark.Thread, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	env := runtime.NewEnv(context.Background(), h, nil, &out)
	thread := &starlark.Thread{Name: t.Name(), Print: func(_ *starlark.Thread, msg string) { out.WriteString(msg + "\n") }}
	env.Attach(thread)
	return env, thread, &out
}

// execTest execs src as "test.star" on thread with every builtin predeclared.
func execTest(thread *starlark.Thread, src string) (starlark.StringDict, error) {
	return starlark.ExecFileOptions(testFileOptions, thread, "test.star", src, testPredeclared())
}

// runStarEnv execs src (file name "test.star") on a fresh thread whose Env
// uses h and prints into the returned buffer. It returns the module's
// globals, the Env (plan, warnings) and the exec error, if any.
func runStarEnv(t *testing.T, h *host.Fake, src string) (starlark.StringDict, *runtime.Env, *bytes.Buffer, error) {
	t.Helper()
	env, thread, out := newTestEnv(t, h)
	g, err := execTest(thread, src)
	return g, env, out, err
}

// runStar execs src with every builtin predeclared against h and returns
// the globals, the recorded plan and the exec error.
func runStar(t *testing.T, h *host.Fake, src string) (starlark.StringDict, *runtime.Plan, error) {
	t.Helper()
	g, env, _, err := runStarEnv(t, h, src)
	return g, env.Plan(), err
}

// mustRunStar is runStar that fails the test on an exec error.
func mustRunStar(t *testing.T, h *host.Fake, src string) (starlark.StringDict, *runtime.Plan) {
	t.Helper()
	g, p, err := runStar(t, h, src)
	if err != nil {
		t.Fatalf("exec failed: %v\nsource:\n%s", err, src)
	}
	return g, p
}

// attr reads field name of a struct global, e.g. attr(t, g["ca"], "status").
func attr(t *testing.T, v starlark.Value, name string) starlark.Value {
	t.Helper()
	s, ok := v.(*starlarkstruct.Struct)
	if !ok {
		t.Fatalf("got %s (%v), want struct", v.Type(), v)
	}
	x, err := s.Attr(name)
	if err != nil {
		t.Fatalf("struct has no %q: %v", name, err)
	}
	return x
}
