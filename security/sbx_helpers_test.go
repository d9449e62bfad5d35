package security

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Helpers of the sandbox findings (#1 reads and API targets, #3 symlinked
// roots, #9 user-configured paths).

// sbxPut writes content at rel under dir, creating the parents.
func sbxPut(t *testing.T, dir, rel, content string) string {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sbxLink makes the symlink dir/rel -> target, creating the parents.
func sbxLink(t *testing.T, dir, rel, target string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// sbxPlan is the part of a plan these tests read.
type sbxPlan struct {
	Roots []struct {
		Path, Access, Source string
	} `json:"roots"`
	Actions []struct {
		Op, Target, Result, Server, Credential string
	} `json:"actions"`
}

func sbxReadPlan(t *testing.T, p string) sbxPlan {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("reading the plan: %v", err)
	}
	var plan sbxPlan
	if err := json.Unmarshal(data, &plan); err != nil {
		t.Fatalf("plan %s: %v", p, err)
	}
	return plan
}

// sbxRefused asserts that a run failed with a one-line error containing
// every want, and printed no Go crash.
func sbxRefused(t *testing.T, r result, want ...string) {
	t.Helper()
	if r.Code == 0 {
		t.Fatalf("the run succeeded; want a refusal %q\nstdout:\n%s\nstderr:\n%s", want, r.Stdout, r.Stderr)
	}
	out := r.Output()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Fatalf("output lacks %q\nstdout:\n%s\nstderr:\n%s", w, r.Stdout, r.Stderr)
		}
	}
	for _, crash := range []string{"goroutine ", "fatal error:", "panic:"} {
		if strings.Contains(out, crash) {
			t.Fatalf("output shows a Go crash (%q):\n%s", crash, out)
		}
	}
}

// sbxAbsent asserts that nothing exists at dir/rel.
func sbxAbsent(t *testing.T, dir, rel string) {
	t.Helper()
	if _, err := os.Lstat(filepath.Join(dir, rel)); err == nil {
		t.Fatalf("%s was created under the scratch root", rel)
	}
}

// sbxKubeadmConfig writes a kubeadm ClusterConfiguration with the given
// body (indented YAML under the header).
func sbxKubeadmConfig(t *testing.T, body string) string {
	t.Helper()
	return sbxPut(t, t.TempDir(), "kubeadm.yaml", "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"+body)
}
