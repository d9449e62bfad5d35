package host

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSandboxRootsOverFake(t *testing.T) {
	f := NewFake()
	s, err := NewSandbox(f, SandboxOptions{AllowRoots: []string{"/opt/extra"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteFile("/etc/kubernetes/pki/ca.crt", []byte("x"), 0o644, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteFile("/opt/extra/x", []byte("x"), 0o644, 0o755); err != nil {
		t.Fatalf("--allow-root ignored: %v", err)
	}
	for _, p := range []string{"/etc/passwd", "/etc/kubernetes/../passwd", "/etc/kubernetes/../../etc/shadow", "/etc/kubernetesX/a", "/var/lib"} {
		_, err := s.WriteFile(p, []byte("x"), 0o644, 0o755)
		if err == nil || !strings.Contains(err.Error(), "outside the allowed roots") ||
			!strings.Contains(err.Error(), "--allow-root") && !strings.Contains(err.Error(), "no configuration can allow") {
			t.Errorf("write %s: %v", p, err)
		}
	}
	if _, err := s.MkdirAll("/root/.ssh", 0o700); err == nil {
		t.Error("mkdir outside roots accepted")
	}
	if _, err := s.Remove("/etc/hosts"); err == nil {
		t.Error("remove outside roots accepted")
	}
	if _, err := s.WriteFile("etc/kubernetes/x", nil, 0o644, 0o755); err == nil || !strings.Contains(err.Error(), "relative") {
		t.Errorf("relative path: %v", err)
	}
	// Reads of the read-only list are allowed (others: sandbox_reads_test.go).
	f.Put("/proc/swaps", []byte("Filename\n"), 0o444)
	if _, err := s.ReadFile("/proc/swaps"); err != nil {
		t.Fatal(err)
	}
	if !reflectEqual(f.Paths(), []string{"/etc/kubernetes/pki/ca.crt", "/opt/extra/x", "/proc/swaps"}) {
		t.Fatalf("files = %v", f.Paths())
	}
	if _, err := NewSandbox(f, SandboxOptions{AllowRoots: []string{"rel"}}); err == nil {
		t.Fatal("relative allowed root accepted")
	}
}

func reflectEqual(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

func TestSandboxSymlinkEscapeLive(t *testing.T) {
	dir := t.TempDir()
	kube := filepath.Join(dir, "etc/kubernetes")
	outside := filepath.Join(dir, "outside")
	os.MkdirAll(kube, 0o755)
	os.MkdirAll(outside, 0o755)
	os.Symlink(outside, filepath.Join(kube, "evil"))
	os.Symlink("../../outside/f", filepath.Join(kube, "evilrel"))
	os.MkdirAll(filepath.Join(dir, "data/kubelet"), 0o755)
	os.MkdirAll(filepath.Join(dir, "var/lib"), 0o755)
	os.Symlink(filepath.Join(dir, "data/kubelet"), filepath.Join(dir, "var/lib/kubelet"))

	s, err := NewSandbox(NewLive(LiveOptions{Environ: []string{}}), SandboxOptions{Roots: []string{kube, filepath.Join(dir, "var/lib/kubelet")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(kube, "evil/x"), filepath.Join(kube, "evilrel")} {
		_, err := s.WriteFile(p, []byte("x"), 0o644, 0o755)
		if err == nil || !strings.Contains(err.Error(), "through a symlink") {
			t.Errorf("write via symlink %s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "x")); err == nil {
		t.Fatal("a write escaped through a symlink")
	}
	// An allowed root that is itself a symlink allows its target.
	if _, err := s.WriteFile(filepath.Join(dir, "var/lib/kubelet/config.yaml"), []byte("x"), 0o644, 0o755); err != nil {
		t.Fatalf("write under a symlinked root: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data/kubelet/config.yaml")); err != nil {
		t.Fatal(err)
	}
	// Removing a symlink removes the link, and is judged by where the link is.
	if res, err := s.Remove(filepath.Join(kube, "evil")); err != nil || res != Deleted {
		t.Fatalf("remove link = %v, %v", res, err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatal("removing the link removed its target")
	}
}

func TestSandboxRelocation(t *testing.T) {
	root := t.TempDir()
	s, err := NewSandbox(NewLive(LiveOptions{Environ: []string{}}), SandboxOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if s.Live() {
		t.Fatal("a relocated host must not be Live")
	}
	if _, err := s.WriteFile("/etc/kubernetes/manifests/etcd.yaml", []byte("pod"), 0o600, 0o700); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "etc/kubernetes/manifests/etcd.yaml")); err != nil || string(b) != "pod" {
		t.Fatalf("relocated file: %q %v", b, err)
	}
	assertMode(t, filepath.Join(root, "etc/kubernetes/manifests"), 0o700)
	if b, err := s.ReadFile("/etc/kubernetes/manifests/etcd.yaml"); err != nil || string(b) != "pod" {
		t.Fatalf("relocated read: %q %v", b, err)
	}
	// Reads are relocated too: the host's /etc/os-release is not visible.
	if _, err := s.ReadFile("/etc/os-release"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read escaped --root: %v", err)
	}
	if _, err := s.ReadFile("/../../../etc/os-release"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read with .. escaped --root: %v", err)
	}
	// Absolute symlinks resolve inside the root (chroot semantics).
	os.MkdirAll(filepath.Join(root, "data/kubelet"), 0o755)
	os.MkdirAll(filepath.Join(root, "var/lib"), 0o755)
	os.Symlink("/data/kubelet", filepath.Join(root, "var/lib/kubelet"))
	s2, _ := NewSandbox(NewLive(LiveOptions{Environ: []string{}}), SandboxOptions{Root: root, AllowRoots: []string{"/data"}})
	if _, err := s2.WriteFile("/var/lib/kubelet/config.yaml", []byte("c"), 0o644, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "data/kubelet/config.yaml")); err != nil {
		t.Fatal("absolute symlink not resolved inside --root")
	}
	// A relative link climbing out of the root is refused, for reads too.
	os.Symlink("../../../../../../../../etc", filepath.Join(root, "etc/kubernetes/up"))
	if _, err := s.ReadFile("/etc/kubernetes/up/hostname"); err == nil || !strings.Contains(err.Error(), "outside --root") {
		t.Fatalf("symlink out of --root: %v", err)
	}
	// A link to a directory outside the allowed roots is refused for writes.
	os.Symlink("/etc", filepath.Join(root, "etc/kubernetes/etc"))
	if _, err := s.WriteFile("/etc/kubernetes/etc/passwd", []byte("x"), 0o644, 0o755); err == nil || !strings.Contains(err.Error(), "allowed roots") {
		t.Fatalf("symlink out of allowed roots: %v", err)
	}
	// Service actions are not performed; state is unknown.
	if err := s.Service(context.Background(), "restart", "kubelet"); err != nil {
		t.Fatal(err)
	}
	if err := s.Service(context.Background(), "is-active", "kubelet"); !errors.Is(err, ErrNotLive) {
		t.Fatalf("is-active under --root: %v", err)
	}
}

// The CLI's dry-run composition: Sandbox(DryRun(Live)). The policy is
// enforced in dry-run too, relocation applies to the overlay and to the
// reads it passes through, and nothing reaches the disk.
func TestSandboxDryRunComposition(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/kubernetes/pki"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/kubernetes/pki/ca.crt"), []byte("CA"), 0o644)
	d := NewDryRun(NewLive(LiveOptions{Environ: []string{}}))
	s, err := NewSandbox(d, SandboxOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if !s.DryRun() || s.Live() {
		t.Fatal("modes")
	}
	if res, _ := s.WriteFile("/etc/kubernetes/pki/ca.crt", []byte("CA"), 0o644, 0o755); res != Unchanged {
		t.Fatalf("existing relocated file = %v", res)
	}
	if res, _ := s.WriteFile("/etc/kubernetes/admin.conf", []byte("A"), 0o600, 0o755); res != Created {
		t.Fatalf("new = %v", res)
	}
	if b, err := s.ReadFile("/etc/kubernetes/admin.conf"); err != nil || string(b) != "A" {
		t.Fatalf("overlay read = %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/kubernetes/admin.conf")); err == nil {
		t.Fatal("dry-run wrote to disk")
	}
	if _, err := s.WriteFile("/etc/passwd", []byte("x"), 0o644, 0o755); err == nil {
		t.Fatal("dry-run must refuse what a real run refuses")
	}
	written, _ := d.Overlay()
	if len(written) != 1 || written[0] != filepath.Join(root, "etc/kubernetes/admin.conf") {
		t.Fatalf("overlay holds %v, want the relocated path", written)
	}
}
