package security

import (
	"strings"
	"testing"
)

// TestSuiteRunsTheBinary keeps the harness honest: a fork's recipe runs
// through the real binary, and its output comes back.
func TestSuiteRunsTheBinary(t *testing.T) {
	r := kubelark(t, "run", recipe(t, `info("hello from a fork")`+"\n"), "--dry-run")
	if r.Code != 0 || !strings.Contains(r.Stdout, "hello from a fork") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
}
