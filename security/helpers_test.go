// Package security holds the security suite: one test per finding of the
// security review (docs/security.md), each run the way a hostile or
// careless site fork would run it — a recipe of its own, given to the real
// kubelark binary under --root or --dry-run, on scratch directories only.
// Nothing here needs root.
package security

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// bin is the kubelark binary built once for the whole suite by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kubelark-security-")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "kubelark")
	_, here, _, _ := runtime.Caller(0)
	build := exec.Command("go", "build", "-o", bin, "./cmd/kubelark")
	build.Dir = filepath.Dir(filepath.Dir(here))
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		panic("building kubelark for the security suite: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one kubelark invocation did.
type result struct {
	Stdout, Stderr string
	Code           int // exit status; -1 when killed by a signal
}

// Output is stdout and stderr together, for "never printed" assertions.
func (r result) Output() string { return r.Stdout + r.Stderr }

// kubelark runs the binary with args (and a one-minute bound, so a hang
// fails the test instead of the suite).
func kubelark(t *testing.T, args ...string) result {
	t.Helper()
	return kubelarkIn(t, time.Minute, "", args...)
}

// kubelarkIn runs the binary in dir (the test's working directory when
// empty) with a timeout.
func kubelarkIn(t *testing.T, timeout time.Duration, dir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	default:
		t.Fatalf("kubelark %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("kubelark %v: still running after %s\nstdout:\n%s\nstderr:\n%s", args, timeout, r.Stdout, r.Stderr)
	}
	return r
}

// recipe writes a recipe file (and nothing else) into a new directory and
// returns its path.
func recipe(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fork.star")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
