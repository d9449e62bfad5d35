package builtins

// Shared test helpers of the builtins package: run Starlark source against
// an in-memory host with every registered builtin predeclared, the way a
// recipe would call them.

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// testPredeclared returns builtins.Registry() as Starlark values: plain
// names as functions, dotted names ("net.cidr_ip") grouped into a struct per
// module, plus struct() for recipes that build values.
func testPredeclared() starlark.StringDict {
	out := starlark.StringDict{"struct": starlark.NewBuiltin("struct", starlarkstruct.Make)}
	modules := map[string]starlark.StringDict{}
	for _, b := range Registry().All() {
		fn := starlark.NewBuiltin(b.Name, b.Fn)
		if mod, member, dotted := strings.Cut(b.Name, "."); dotted {
			if modules[mod] == nil {
				modules[mod] = starlark.StringDict{}
			}
			modules[mod][member] = starlark.NewBuiltin(member, b.Fn)
			continue
		}
		out[b.Name] = fn
	}
	for mod, members := range modules {
		out[mod] = starlarkstruct.FromStringDict(starlark.String(mod), members)
	}
	return out
}

// runStarEnv execs src (file name "test.star") on a fresh thread whose Env
// uses h and prints into the returned buffer. It returns the module's
// globals, the Env (plan, warnings) and the exec error, if any.
func runStarEnv(t *testing.T, h *host.Fake, src string) (starlark.StringDict, *runtime.Env, *bytes.Buffer, error) {
	t.Helper()
	var out bytes.Buffer
	env := runtime.NewEnv(context.Background(), h, nil, &out)
	thread := &starlark.Thread{Name: t.Name(), Print: func(_ *starlark.Thread, msg string) { out.WriteString(msg + "\n") }}
	env.Attach(thread)
	opts := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true}
	g, err := starlark.ExecFileOptions(opts, thread, "test.star", src, testPredeclared())
	return g, env, &out, err
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
