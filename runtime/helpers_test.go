package runtime

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime/host"
)

// testRegistry holds small builtins that exercise the runtime: touch
// writes and records a file, boom panics, secret registers a secret.
func testRegistry() *Registry {
	r := NewRegistry()
	r.Add(&Builtin{Name: "touch", Signature: "touch(path)", Doc: "writes an empty file",
		Fn: func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var p string
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &p); err != nil {
				return nil, err
			}
			env, err := FromThread(thread)
			if err != nil {
				return nil, err
			}
			res, err := env.Host.WriteFile(p, nil, 0o644, 0o755)
			if err != nil {
				return nil, err
			}
			env.Record(thread, b.Name(), Action{Op: "file.write", Target: p, Result: string(res), Mode: "0644"})
			return starlark.None, nil
		}})
	r.Add(&Builtin{Name: "refuse", Signature: "refuse(what)", Doc: "always fails",
		Fn: func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return nil, fmt.Errorf("%s: %s is not allowed; do something else", b.Name(), args[0])
		}})
	r.Add(&Builtin{Name: "boom", Signature: "boom()", Doc: "panics",
		Fn: func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var m map[string]int
			m["x"] = 1 // nil map write: a real Go panic
			return starlark.None, nil
		}})
	r.Add(&Builtin{Name: "secret", Signature: "secret(s)", Doc: "registers s as a secret and returns it",
		Fn: func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			env, _ := FromThread(thread)
			s, _ := starlark.AsString(args[0])
			env.RegisterSecret(s)
			return args[0], nil
		}})
	r.Add(&Builtin{Name: "net.double", Signature: "net.double(n)", Doc: "returns 2n",
		Fn: func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var n int
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n", &n); err != nil {
				return nil, err
			}
			return starlark.MakeInt(2 * n), nil
		}})
	return r
}

// writeTree writes files (slash paths -> content) under a new temp dir.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type result struct {
	plan *Plan
	out  string
	err  error
	host *host.Fake
}

// runFiles runs main.star of a temp tree holding files; opts may preset
// anything but Recipe/Host/Out/Registry.
func runFiles(t *testing.T, files map[string]string, opts Options) result {
	t.Helper()
	dir := writeTree(t, files)
	return runIn(t, context.Background(), filepath.Join(dir, "main.star"), opts)
}

func runIn(t *testing.T, ctx context.Context, recipe string, opts Options) result {
	t.Helper()
	var buf bytes.Buffer
	fake := host.NewFake()
	opts.Recipe = recipe
	opts.Host = fake
	opts.Out = &buf
	if opts.Registry == nil {
		opts.Registry = testRegistry()
	}
	plan, err := Run(ctx, opts)
	if plan == nil {
		t.Fatalf("Run returned a nil plan (err %v)", err)
	}
	return result{plan: plan, out: buf.String(), err: err, host: fake}
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q\ndoes not contain %q", err, p)
		}
	}
}

func mustRun(t *testing.T, r result) result {
	t.Helper()
	if r.err != nil {
		t.Fatalf("run failed: %v\noutput:\n%s", r.err, r.out)
	}
	return r
}
