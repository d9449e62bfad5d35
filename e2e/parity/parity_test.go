package parity

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubelark/kubelark/e2e/internal/build"
)

// KeepEnv names a directory where the outputs of both tools are kept
// (<dir>/<config>/{kubeadm,kubelark}, and the normalized records in
// <dir>/<config>/{kubeadm,kubelark}.artifacts) for inspection; by default
// they are removed.
const KeepEnv = "KUBELARK_PARITY_KEEP"

// TestParity runs kubeadm v1.36.3 and kubelark on every config of
// testdata/parity/configs and fails on every difference that
// testdata/parity/differences.md does not list, and on every listed
// difference that no longer occurs. It needs root (mount namespaces) and
// fails, never skips, without it.
func TestParity(t *testing.T) {
	start := time.Now()
	repo := repoRoot(t)
	tools := prepareTools(t, repo)
	configs, err := LoadConfigs(filepath.Join(repo, "testdata", "parity", "configs"))
	if err != nil {
		t.Fatal(err)
	}
	allow, err := LoadAllowList(filepath.Join(repo, "testdata", "parity", "differences.md"))
	if err != nil {
		t.Fatal(err)
	}
	keep := os.Getenv(KeepEnv)
	t.Run("matrix", func(t *testing.T) {
		for _, c := range configs {
			t.Run(c.Name, func(t *testing.T) {
				wf := Workflows[c.Workflow]
				if wf == nil {
					t.Fatalf("%s: workflow %q is not implemented in package parity (known: init)", c.Path, c.Workflow)
				}
				dir := t.TempDir()
				if keep != "" {
					dir = filepath.Join(keep, c.Name)
					if err := os.RemoveAll(dir); err != nil {
						t.Fatal(err)
					}
				}
				ka, kl := runBoth(t, wf, tools, c, dir)
				checkParity(t, allow, c.Name, "artifacts", ka, kl, "")
			})
		}
	})
	for _, a := range allow.Stale() {
		t.Errorf("%s: %s no longer occurs: remove it from the list (%s)", allow.File, a, a.Reason)
	}
	t.Logf("parity suite: %d configs in %s", len(configs), time.Since(start).Round(100*time.Millisecond))
}

// runBoth runs kubeadm and kubelark for c at the same time (they share
// nothing: kubeadm writes in its own mount namespace, kubelark under
// --root) and collects both outputs.
func runBoth(t *testing.T, wf *Workflow, tools Tools, c *Config, dir string) (kubeadm, kubelark Artifacts) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	outs := []*Output{
		{Tool: "kubeadm", Root: filepath.Join(dir, "kubeadm")},
		{Tool: "kubelark", Root: filepath.Join(dir, "kubelark")},
	}
	runs := []func(context.Context, Tools, *Config, *Output) error{wf.Kubeadm, wf.Kubelark}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range outs {
		if err := os.MkdirAll(outs[i].Root, 0o755); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = runs[i](ctx, tools, c, outs[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s on %s: %v", outs[i].Tool, c.Path, err)
		}
	}
	var res [2]Artifacts
	for i, o := range outs {
		a, err := CollectAll(o, wf.Collectors)
		if err != nil {
			t.Fatalf("%s: %v", c.Path, err)
		}
		if len(a) == 0 {
			t.Fatalf("%s wrote nothing for %s; its output:\n%s", o.Tool, c.Path, o.Log)
		}
		res[i] = a
		if os.Getenv(KeepEnv) != "" {
			if err := os.WriteFile(o.Root+".artifacts", []byte(a.Dump()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return res[0], res[1]
}

// prepareTools checks the machine, builds kubeadm (cached by the e2e build
// step) and kubelark (from this repository).
func prepareTools(t *testing.T, repo string) Tools {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("the parity suite needs root (it mounts tmpfs in a private mount namespace for kubeadm); run it as root: make parity")
	}
	for _, p := range []string{"unshare", "mount", "tar", "sh"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("the parity suite needs %s in PATH (util-linux, tar): %v", p, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
	defer cancel()
	binDir, err := build.Ensure(ctx, build.Options{Log: testLog{t}, Nice: true})
	if err != nil {
		t.Fatalf("building kubeadm %s: %v", build.KubernetesVersion, err)
	}
	kubelark := filepath.Join(t.TempDir(), "kubelark")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", kubelark, "./cmd/kubelark")
	cmd.Dir = repo
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/kubelark in %s: %v\n%s", repo, err, b)
	}
	return Tools{Kubeadm: filepath.Join(binDir, "kubeadm"), Kubelark: kubelark}
}

// repoRoot finds the kubelark repository (the parent module of e2e/).
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module github.com/kubelark/kubelark\n")) {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("kubelark repository (go.mod of github.com/kubelark/kubelark) not found above %s", wd)
		}
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// checkParity compares what kubeadm and kubelark produced for one config
// and fails the test on every difference the allow-list does not name.
// unit names what was compared ("artifacts", "objects") in the log line;
// note is appended to it.
func checkParity(t *testing.T, allow *AllowList, config, unit string, kubeadm, kubelark Artifacts, note string) {
	t.Helper()
	diffs := Compare(config, kubeadm, kubelark)
	unexpected := allow.Check(config, diffs)
	t.Logf("%s: %d %s (kubeadm) / %d (kubelark), %d differences, %d of them listed%s",
		config, len(kubeadm), unit, len(kubelark), len(diffs), len(diffs)-len(unexpected), note)
	if len(unexpected) > 0 {
		var b strings.Builder
		for _, d := range unexpected {
			fmt.Fprintf(&b, "  - %s\n", d)
		}
		t.Errorf("%d differences not listed in %s (fix kubelark, or list them with the reason they are deliberate; outputs: set %s=DIR to keep them):\n%s",
			len(unexpected), allow.File, KeepEnv, b.String())
	}
}
