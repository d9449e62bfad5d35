package runtime

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/kubelark/kubelark/runtime/host"
)

// BenchmarkRun measures the interpreter's own cost for a recipe with
// params, phases, loads and 100 recorded actions (builtins do no work).
func BenchmarkRun(b *testing.B) {
	dir := b.TempDir()
	files := map[string]string{
		"main.star": `
load("lib.star", "paths")
cfg = params(n = param(100, "files"), sans = param(["a", "b"], "sans"))
phases(["files", "files/one"])
def one():
    for p in paths(cfg.n):
        touch(p)
phase("files", lambda: phase("one", one))
`,
		"lib.star": `def paths(n): return ["/etc/kubernetes/f%d" % i for i in range(n)]`,
	}
	for name, src := range files {
		if err := writeFile(filepath.Join(dir, name), src); err != nil {
			b.Fatal(err)
		}
	}
	reg := testRegistry()
	b.ResetTimer()
	for b.Loop() {
		_, err := Run(context.Background(), Options{
			Recipe: filepath.Join(dir, "main.star"), Host: host.NewFake(), Out: io.Discard, Registry: reg,
			Set: []string{"sans=x,y,z"},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
