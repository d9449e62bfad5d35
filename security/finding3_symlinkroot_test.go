package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubelark/kubelark/runtime/host"
)

// Finding 3: with ROOT/etc/kubernetes -> /, a recipe under --root ROOT
// wrote ROOT/usr/bin/... and ROOT/root/.ssh/authorized_keys: the root
// "resolved" to / and every path was under it. Roots are resolved once at
// start-up now and refused when they lead to an ancestor of themselves or
// to a place the deny-list forbids.

const sbxTakeover = `
write_file("/usr/bin/kubelet", "#!/bin/sh\n", mode = 0o755)
mkdir("/root/.ssh", mode = 0o700)
write_file("/root/.ssh/authorized_keys", "ssh-ed25519 AAAA evil\n", mode = 0o600)
`

func TestFinding3SymlinkedRootRefused(t *testing.T) {
	root := t.TempDir()
	sbxLink(t, root, "etc/kubernetes", "/")
	r := kubelark(t, "run", recipe(t, sbxTakeover), "--root", root)
	sbxRefused(t, r, "refusing allowed root /etc/kubernetes", "resolves to / through a symlink")
	sbxAbsent(t, root, "usr/bin/kubelet")
	sbxAbsent(t, root, "root/.ssh/authorized_keys")
}

// The same with a relative link (ROOT/etc/kubernetes -> . is ROOT/etc).
func TestFinding3RelativeSymlinkedRootRefused(t *testing.T) {
	root := t.TempDir()
	sbxLink(t, root, "etc/kubernetes", ".")
	r := kubelark(t, "run", recipe(t, `write_file("/etc/kubernetes/passwd", "evil::0:0::/:/bin/sh\n")`), "--root", root, "--dry-run")
	sbxRefused(t, r, "refusing allowed root /etc/kubernetes", "resolves to /etc through a symlink")
	sbxAbsent(t, root, "passwd")
}

// A root that leads into a denied tree is refused too.
func TestFinding3SymlinkedRootIntoSystemDirRefused(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "usr/lib/systemd"), 0o755)
	sbxLink(t, root, "var/lib/kubelet", "/usr/lib/systemd")
	r := kubelark(t, "run", recipe(t, `write_file("/var/lib/kubelet/system/evil.service", "[Service]\n")`), "--root", root)
	sbxRefused(t, r, "refusing allowed root /var/lib/kubelet", "resolves to /usr/lib/systemd", "under /usr")
	sbxAbsent(t, root, "usr/lib/systemd/system/evil.service")
}

// The live host's resolution logic, with a temp dir standing in for /:
// T/etc/kubernetes -> T is refused at start-up, a root moved to its own
// disk (T/var/lib/kubelet -> T/data/kubelet) still works and allows only
// its target.
func TestFinding3LiveResolutionRefusesAncestor(t *testing.T) {
	fakeRoot := t.TempDir()
	sbxLink(t, fakeRoot, "etc/kubernetes", fakeRoot)
	live := host.NewLive(host.LiveOptions{Environ: []string{}})
	kube := filepath.Join(fakeRoot, "etc/kubernetes")
	_, err := host.NewSandbox(live, host.SandboxOptions{Roots: []string{kube}})
	if err == nil || !strings.Contains(err.Error(), "an ancestor of itself") {
		t.Fatalf("NewSandbox with %s -> %s: %v, want a refusal", kube, fakeRoot, err)
	}

	other := t.TempDir()
	os.MkdirAll(filepath.Join(other, "data/kubelet"), 0o755)
	sbxLink(t, other, "var/lib/kubelet", filepath.Join(other, "data/kubelet"))
	s, err := host.NewSandbox(live, host.SandboxOptions{Roots: []string{filepath.Join(other, "var/lib/kubelet")}})
	if err != nil {
		t.Fatalf("a root moved to its own directory: %v", err)
	}
	if _, err := s.WriteFile(filepath.Join(other, "var/lib/kubelet/config.yaml"), []byte("c"), 0o644, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteFile(filepath.Join(other, "data/evil"), []byte("x"), 0o644, 0o755); err == nil {
		t.Fatal("the target's parent was writable")
	}
}

// The live host's resolution into a denied system directory: a root
// whose link leads to /usr is refused whatever the link's name.
func TestFinding3LiveResolutionRefusesSystemDir(t *testing.T) {
	dir := t.TempDir()
	sbxLink(t, dir, "kubernetes", "/usr")
	live := host.NewLive(host.LiveOptions{Environ: []string{}})
	_, err := host.NewSandbox(live, host.SandboxOptions{Roots: []string{filepath.Join(dir, "kubernetes")}})
	if err == nil || !strings.Contains(err.Error(), "resolves to /usr through a symlink") {
		t.Fatalf("a root linked to /usr: %v, want a refusal", err)
	}
}
