package recipes_test

// Reset deletes through remove_tree and remove_file, which the sandbox
// holds to its allowed roots: a forked reset recipe that asks for /etc, /
// or /etc/passwd is refused, and so is the real recipe given a
// certificate dir outside the roots.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

const forkedReset = `"""A forked reset that deletes what it should not."""
P = params(
    target = param("/etc", "what to delete"),
    file = param(False, "remove_file instead of remove_tree"),
    whole = param(False, "remove_tree(contents_only = False)"),
)
phases([phase_decl("cleanup-node", "delete")])
def run():
    if P.file:
        remove_file(P.target)
    else:
        remove_tree(P.target, contents_only = not P.whole)
phase("cleanup-node", run)
`

func sandboxed(t *testing.T, f *host.Fake) host.Host {
	t.Helper()
	s, err := host.NewSandbox(f, host.SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestResetForkRefusedBySandbox(t *testing.T) {
	dir := t.TempDir()
	recipe := filepath.Join(dir, "reset.star")
	if err := os.WriteFile(recipe, []byte(forkedReset), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, set := range [][]string{
		{"target=/etc"},
		{"target=/"},
		{"target=/etc", "whole=true"},
		{"target=/etc/passwd", "file=true"},
		{"target=/etc/kubernetes/../passwd", "file=true"},
		{"target=/var/lib/kubelet/../../../etc"},
		{"target=/etc/kubernetes", "whole=true"},
	} {
		t.Run(strings.Join(set, ","), func(t *testing.T) {
			f := newFake()
			f.Put("/etc/kubernetes/admin.conf", []byte("x"), 0o600)
			f.Put("/etc/passwd", []byte("root:x:0:0::/root:/bin/sh\n"), 0o644)
			f.Put("/etc/hostname", []byte("node1\n"), 0o644)
			before := f.Paths()
			for _, dry := range []bool{false, true} {
				var base host.Host = f
				if dry {
					base = host.NewDryRun(f)
				}
				h, err := host.NewSandbox(base, host.SandboxOptions{})
				if err != nil {
					t.Fatal(err)
				}
				plan, out, err := runResetOpts(t, runtime.Options{Recipe: recipe, Host: h, DryRun: dry, Set: set})
				if err == nil || !strings.Contains(err.Error(), "refus") {
					t.Fatalf("dry run %v: the sandbox let %v through: %v\n%s", dry, set, err, out)
				}
				if plan != nil && countOps(plan, "file.delete") > 0 {
					t.Errorf("dry run %v: %d deletes recorded before the refusal", dry, countOps(plan, "file.delete"))
				}
			}
			if after := f.Paths(); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("files changed by a refused delete")
			}
		})
	}
}

// TestResetCertDirOutsideRoots: the real recipe asked to empty /etc as
// its certificate dir is refused there; /etc keeps its files.
func TestResetCertDirOutsideRoots(t *testing.T) {
	f := controlPlaneNode(t)
	f.Put("/etc/passwd", []byte("root:x:0:0::/root:/bin/sh\n"), 0o644)
	_, out, err := runReset(t, sandboxed(t, f), false, "force=true", "cert_dir=/etc", "skip_phases=remove-etcd-member")
	if err == nil || !strings.Contains(err.Error(), "check_writable") || !strings.Contains(err.Error(), "/etc") {
		t.Fatalf("reset with cert_dir=/etc: err = %v, want check_writable's refusal\n%s", err, out)
	}
	if _, _, ok := f.Get("/etc/passwd"); !ok {
		t.Errorf("/etc/passwd deleted")
	}
	// Refused before anything changed: the node is as init left it.
	for _, p := range []string{"/etc/kubernetes/manifests/kube-apiserver.yaml", "/etc/kubernetes/admin.conf", "/var/lib/kubelet/config.yaml"} {
		if _, _, ok := f.Get(p); !ok {
			t.Errorf("%s deleted by a reset that was refused", p)
		}
	}
	if len(f.Unmounted) > 0 {
		t.Errorf("unmounted %v before the refusal", f.Unmounted)
	}
	t.Logf("refused: %v", err)
}

// TestResetSandboxedNode: the real recipe under the sandbox the command
// line puts around every run (Sandbox(Fake), and Sandbox(DryRun(Fake)) for
// --dry-run) reads and deletes only what its roots allow, with every option.
func TestResetSandboxedNode(t *testing.T) {
	for _, tc := range []struct {
		dry bool
		set []string
	}{
		{true, []string{"cleanup_cni=true", "cleanup_tmp_dir=true", "delete_node=true"}},
		{false, []string{"cleanup_cni=true", "cleanup_tmp_dir=true", "delete_node=true"}},
		{false, nil}, // the report reads the CNI dirs
	} {
		dry := tc.dry
		cp := controlPlaneNode(t)
		cp.Put("/etc/cni/net.d/10-bridge.conflist", []byte("{}"), 0o644)
		cp.Put("/var/lib/cni/networks/bridge/10.244.0.2", []byte("x"), 0o644)
		var base host.Host = cp
		if dry {
			base = host.NewDryRun(cp)
		}
		h, err := host.NewSandbox(base, host.SandboxOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, out, err := runReset(t, h, dry, append([]string{"force=true"}, tc.set...)...)
		if err != nil {
			t.Fatalf("dry run %v: sandboxed reset: %v\n%s", dry, err, out)
		}
		if left := leftFiles(cp); !dry && len(left) > 0 {
			t.Errorf("files left: %v", left)
		}
	}
}
