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

// FuzzIptablesPlan fuzzes the iptables-save parser and the deletion
// planner: any input either fails to parse or gives a plan the sandbox
// accepts, whose restore payload only deletes, and whose applied result
// parses again.
func FuzzIptablesPlan(f *testing.F) {
	fuzzseed.Strings(f, "iptables-save")
	f.Fuzz(func(t *testing.T, text string) {
		rules, err := ParseIptablesSave(text)
		if err != nil {
			return
		}
		p := PlanIptablesDelete("ipv4", rules, []string{"KUBE-", "CNI-"})
		if err := CheckIptablesPlan(p); err != nil {
			t.Fatalf("the planner's own plan is refused: %v", err)
		}
		for _, line := range strings.Split(strings.TrimSpace(p.RestorePayload()), "\n") {
			switch {
			case line == "", line == "COMMIT", strings.HasPrefix(line, "*"), strings.HasPrefix(line, "-D "),
				strings.HasPrefix(line, "-F KUBE-"), strings.HasPrefix(line, "-F CNI-"), strings.HasPrefix(line, "-X KUBE-"), strings.HasPrefix(line, "-X CNI-"):
			default:
				t.Fatalf("payload line %q does not only delete", line)
			}
		}
		if _, err := ParseIptablesSave(applyIptablesPlan(text, p)); err != nil {
			t.Fatalf("the applied plan does not parse: %v", err)
		}
	})
}

// FuzzParseMountInfo: no input crashes the mountinfo parser, and every
// mount point listed under a path lies at or below it.
func FuzzParseMountInfo(f *testing.F) {
	f.Add("22 1 8:1 / / rw - ext4 /dev/vda rw\n310 22 0:52 / /var/lib/kubelet rw - tmpfs tmpfs rw\n421 310 0:61 / /var/lib/kubelet/a\\040b rw - tmpfs t rw\n")
	f.Add("1 2 3 4 \\\\\\0\n")
	f.Fuzz(func(t *testing.T, text string) {
		table, err := ParseMountInfo(text)
		if err != nil {
			return
		}
		for _, m := range mountsUnder(table, "/var/lib/kubelet") {
			if !within(m, "/var/lib/kubelet") {
				t.Fatalf("%q listed under /var/lib/kubelet", m)
			}
		}
	})
}
