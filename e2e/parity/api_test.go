package parity

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
)

// TestParityAPI runs a whole `kubeadm init` and a whole `kubelark run init`
// for every config of testdata/parity/api-configs, each on its own real
// node (network 10.78.0, nodes pk1 and pl1), reads back the objects of both
// control planes (apiCollector says which and how they are normalized) and
// fails on every difference testdata/parity/differences.md does not list,
// and on every listed difference (of these configs) that no longer occurs.
// It needs root and fails, never skips, without it.
func TestParityAPI(t *testing.T) {
	start := time.Now()
	repo := repoRoot(t)
	tools := prepareTools(t, repo)
	e2eutil.Prepare(t)
	configs, err := LoadConfigs(filepath.Join(repo, "testdata", "parity", "api-configs"))
	if err != nil {
		t.Fatal(err)
	}
	allow, err := LoadAllowList(filepath.Join(repo, "testdata", "parity", "differences.md"))
	if err != nil {
		t.Fatal(err)
	}
	keep := os.Getenv(KeepEnv)
	nw := e2eutil.NewNetwork(t, APINetwork)
	t.Run("matrix", func(t *testing.T) {
		for _, c := range configs {
			t.Run(c.Name, func(t *testing.T) {
				cstart := time.Now()
				if c.Workflow != "init" {
					t.Fatalf("%s: the API suite runs init configs only (workflow %q)", c.Path, c.Workflow)
				}
				dir := ""
				if keep != "" {
					dir = filepath.Join(keep, c.Name)
				}
				ka, kl := runAPIBoth(t, nw, tools, c, dir)
				var arts [2]Artifacts
				for i, o := range []*Output{ka, kl} {
					a, err := CollectAll(o, APICollectors())
					if err != nil {
						t.Fatal(err)
					}
					arts[i] = a
					if dir != "" {
						if err := os.WriteFile(filepath.Join(dir, o.Tool+".artifacts"), []byte(a.Dump()), 0o644); err != nil {
							t.Fatal(err)
						}
					}
				}
				checkParity(t, allow, c.Name, "objects", arts[0], arts[1], "; "+time.Since(cstart).Round(100*time.Millisecond).String())
			})
		}
	})
	for _, a := range allow.Stale() {
		t.Errorf("%s: %s no longer occurs: remove it from the list (%s)", allow.File, a, a.Reason)
	}
	t.Logf("API parity suite: %d configs in %s", len(configs), time.Since(start).Round(100*time.Millisecond))
}
