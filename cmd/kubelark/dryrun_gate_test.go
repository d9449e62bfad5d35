package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubelark/kubelark/builtins"
)

// gateRecipe fails preflight on any machine (the binary does not exist)
// and writes one file afterwards.
const gateRecipe = `phases(["preflight", "certs"])
phase("preflight", lambda: preflight_check([{"kind": "file_existing", "path": "/opt/kubelark-gate/no-such-binary"}]))
phase("certs", lambda: write_file("/etc/kubernetes/pki/x.txt", "x\n"))
`

// TestDryRunExitStatusGates: a dry run whose preflight fails still plans
// everything, but exits non-zero with a dry-run summary, so
// `kubelark run ... --dry-run && kubelark run ...` never starts a run known
// to fail; a real run stops at preflight; a clean dry run exits 0.
func TestDryRunExitStatusGates(t *testing.T) {
	recipe := filepath.Join(t.TempDir(), "gate.star")
	if err := os.WriteFile(recipe, []byte(gateRecipe), 0o644); err != nil {
		t.Fatal(err)
	}
	a, stdout, stderr, _ := testApp(t)
	a.registry = builtins.Registry
	if code := execute(context.Background(), a, []string{"run", recipe, "--dry-run"}); code == 0 {
		t.Fatalf("dry run with failing preflight exited 0:\n%s", stdout)
	}
	for _, want := range []string{
		"[ERROR FileExisting--opt-kubelark-gate-no-such-binary]",
		"[certs] created file /etc/kubernetes/pki/x.txt (0644)", // it went on
		"[summary] dry run: 2 actions planned; preflight would have failed: FileExisting--opt-kubelark-gate-no-such-binary; a real run would stop at phase preflight",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr.String(), "error: dry run: a real run would stop at phase preflight") {
		t.Errorf("stderr:\n%s", stderr)
	}

	a, stdout, stderr, _ = testApp(t)
	a.registry = builtins.Registry
	if code := execute(context.Background(), a, []string{"run", recipe}); code != 1 ||
		!strings.HasPrefix(stderr.String(), "error: [preflight] Some fatal errors occurred:") || strings.Contains(stdout.String(), "x.txt") {
		t.Errorf("real run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// The same check as a warning: nothing would stop a real run.
	warnOnly := filepath.Join(filepath.Dir(recipe), "warn.star")
	if err := os.WriteFile(warnOnly, []byte(strings.Replace(gateRecipe, `"path":`, `"severity": "warning", "path":`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	a, stdout, stderr, _ = testApp(t)
	a.registry = builtins.Registry
	if code := execute(context.Background(), a, []string{"run", warnOnly, "--dry-run"}); code != 0 ||
		!strings.Contains(stdout.String(), "[summary] dry run: 2 actions planned; nothing on this machine was changed") {
		t.Errorf("clean dry run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestErrorFormatVerbose: an error leads with the message (what failed,
// how to fix it) and says where; the Starlark backtrace is shown with -v.
func TestErrorFormatVerbose(t *testing.T) {
	recipe := filepath.Join(t.TempDir(), "broken.star")
	src := "def check():\n    fail(\"the thing is missing; create it first\")\n\ncheck()\n"
	if err := os.WriteFile(recipe, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args         []string
		want, absent string
	}{
		{[]string{"run", recipe}, "broken.star:2:9 in check (run with -v for the Starlark backtrace)", "Starlark backtrace (most recent call last)"},
		{[]string{"run", recipe, "-v"}, "Starlark backtrace (most recent call last):\n  " + recipe + ":4:6: in <toplevel>\n  " + recipe + ":2:9: in check", "run with -v"},
	} {
		a, _, stderr, _ := testApp(t)
		code := execute(context.Background(), a, tc.args)
		got := stderr.String()
		if code != 1 || !strings.HasPrefix(got, "error: the thing is missing; create it first\n") ||
			!strings.Contains(got, tc.want) || strings.Contains(got, tc.absent) {
			t.Errorf("%v: exit %d, stderr:\n%s\nwant %q, not %q", tc.args, code, got, tc.want, tc.absent)
		}
	}
}
