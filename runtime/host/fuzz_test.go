package host

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubelark/kubelark/internal/fuzzseed"
)

// FuzzSandboxResolve fuzzes path resolution under --root over a tree with
// hostile symlinks (to /, climbing up, a loop): it must return an error or
// a clean absolute recipe path, which relocated stays inside the root;
// and the write check must refuse every path outside the allowed roots.
func FuzzSandboxResolve(f *testing.F) {
	fuzzseed.Strings(f, "sandbox-paths")
	root := f.TempDir()
	k := filepath.Join(root, "etc/kubernetes")
	if err := os.MkdirAll(filepath.Join(k, "pki"), 0o755); err != nil {
		f.Fatal(err)
	}
	for name, target := range map[string]string{
		"link-to-root": "/",
		"link-up":      "../../../../..",
		"loop":         "loop",
		"pki-link":     "pki",
		"abs-etc":      "/etc",
	} {
		if err := os.Symlink(target, filepath.Join(k, name)); err != nil {
			f.Fatal(err)
		}
	}
	s, err := NewSandbox(NewLive(LiveOptions{}), SandboxOptions{Root: root})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		v, err := s.resolve(p)
		if err != nil {
			return
		}
		if !path.IsAbs(v) || path.Clean(v) != v {
			t.Fatalf("resolve(%q) = %q, not a clean absolute path", p, v)
		}
		if real := s.real(v); real != root && !strings.HasPrefix(real, root+"/") {
			t.Fatalf("resolve(%q) = %q, which relocates to %q outside --root %s", p, v, real, root)
		}
		if s.allow("write", p, v) == nil {
			ok := false
			for _, r := range s.roots {
				ok = ok || within(v, r.resolved)
			}
			if !ok {
				t.Fatalf("the write check allows %q (resolved %q) outside the roots %v", p, v, s.roots)
			}
		}
	})
}
