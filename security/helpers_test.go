package security

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/kubelark/kubelark/builtins"
	"github.com/kubelark/kubelark/recipes"
	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
	"github.com/kubelark/kubelark/stdlib"
)

// bin is the kubelark binary built once for the whole suite by TestMain:
// the tests run a fork's recipe the way an operator would, through it.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kubelark-security-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	bin = filepath.Join(dir, "kubelark")
	_, here, _, _ := goruntime.Caller(0)
	build := exec.Command("go", "build", "-o", bin, "./cmd/kubelark")
	build.Dir = filepath.Dir(filepath.Dir(here))
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building kubelark for the security suite:", err)
		os.RemoveAll(dir)
		os.Exit(2)
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
	r := runCLI(t, dir, timeout, args...)
	return result{Stdout: r.stdout, Stderr: r.stderr, Code: r.code}
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

// recipeFile writes src as main.star in a new directory and returns its path.
func recipeFile(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "main.star")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// deepList is Starlark building a list nested n levels deep.
func deepList(n int) string {
	return fmt.Sprintf(`
def deep(n):
    x = []
    for i in range(n):
        x = [x]
    return x
x = deep(%d)
`, n)
}

// runOn runs the recipe at path on h with the real builtins and returns
// the run's error; the run must end within limit.
func runOn(t *testing.T, h host.Host, path string, limit time.Duration, opts runtime.Options) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	opts.Recipe, opts.Host = path, h
	opts.RecipeFS, opts.StdlibFS, opts.Registry = recipes.FS, stdlib.FS, builtins.Registry()
	var out bytes.Buffer
	opts.Out = &out
	start := time.Now()
	_, err := runtime.Run(ctx, opts)
	if d := time.Since(start); d > limit {
		t.Errorf("the run took %v, more than %v", d, limit)
	}
	return err
}

// rootHost is the CLI's host for --root dir (without --dry-run).
func rootHost(t *testing.T, dir string) host.Host {
	t.Helper()
	h, err := host.NewSandbox(host.NewLive(host.LiveOptions{}), host.SandboxOptions{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %.600q\ndoes not contain %q", err, p)
		}
	}
}

// cliResult is how a kubelark process ended.
type cliResult struct {
	code     int
	stderr   string
	stdout   string
	duration time.Duration
}

// startCLI starts kubelark with args in dir.
func startCLI(t *testing.T, dir string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stdout, &stderr
}

// waitCLI waits for cmd at most limit (then kills it and fails).
func waitCLI(t *testing.T, cmd *exec.Cmd, stdout, stderr *bytes.Buffer, start time.Time, limit time.Duration) cliResult {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Fatalf("kubelark %v did not end within %v; stderr:\n%.2000s", cmd.Args[1:], limit, stderr.String())
	}
	return cliResult{code: cmd.ProcessState.ExitCode(), stderr: stderr.String(), stdout: stdout.String(), duration: time.Since(start)}
}

// runCLI runs kubelark with args in dir, at most limit.
func runCLI(t *testing.T, dir string, limit time.Duration, args ...string) cliResult {
	t.Helper()
	start := time.Now()
	cmd, stdout, stderr := startCLI(t, dir, args...)
	return waitCLI(t, cmd, stdout, stderr, start, limit)
}

// wantOneLineError checks that a process failed with code and a single
// "error: ..." line holding parts, and nothing that looks like a Go crash.
func wantOneLineError(t *testing.T, r cliResult, code int, parts ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status %d, want %d", r.code, code)
	}
	for _, crash := range []string{"fatal error:", "goroutine ", "panic:", "runtime stack"} {
		if strings.Contains(r.stderr, crash) {
			t.Errorf("stderr holds a Go crash (%q):\n%.3000s", crash, r.stderr)
		}
	}
	var errLines []string
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if strings.HasPrefix(l, "error: ") {
			errLines = append(errLines, l)
		}
	}
	if len(errLines) != 1 {
		t.Fatalf("want exactly one error line, got %d; stderr:\n%.3000s", len(errLines), r.stderr)
	}
	for _, p := range parts {
		if !strings.Contains(errLines[0], p) {
			t.Errorf("error line %.600q does not contain %q", errLines[0], p)
		}
	}
}
