package builtins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubelark/kubelark/runtime/host"
)

func kubeletTree(h *host.Fake) {
	h.Put("/var/lib/kubelet/config.yaml", []byte("kind: KubeletConfiguration\n"), 0o644)
	h.Put("/var/lib/kubelet/pki/kubelet.crt", []byte("crt"), 0o644)
	h.Put("/var/lib/kubelet/pki/kubelet.key", []byte("key"), 0o600)
	h.Put("/var/lib/kubelet/pods/uid1/volumes/x", []byte("v"), 0o644)
}

// TestRemoveTreeFake: children before parents, the directory stays with
// contents_only, a second call and a missing path find nothing.
func TestRemoveTreeFake(t *testing.T) {
	h := host.NewFake()
	kubeletTree(h)
	run := mustExecStar(t, h, `
first = remove_tree("/var/lib/kubelet")
again = remove_tree("/var/lib/kubelet")
missing = remove_tree("/var/lib/nothing")
left = list_dir("/var/lib/kubelet")
`)
	want := `["/var/lib/kubelet/config.yaml", "/var/lib/kubelet/pki/kubelet.crt", "/var/lib/kubelet/pki/kubelet.key", "/var/lib/kubelet/pki", ` +
		`"/var/lib/kubelet/pods/uid1/volumes/x", "/var/lib/kubelet/pods/uid1/volumes", "/var/lib/kubelet/pods/uid1", "/var/lib/kubelet/pods"]`
	if diff := cmp.Diff(want, run.globals["first"].String()); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	for _, g := range []string{"again", "missing", "left"} {
		if s := run.globals[g].String(); s != "[]" {
			t.Errorf("%s = %s, want []", g, s)
		}
	}
	if len(h.Paths()) != 0 {
		t.Errorf("files left: %v", h.Paths())
	}
	acts := run.env.Plan().Actions
	if len(acts) != 8 || acts[0].Op != "file.delete" || acts[0].Builtin != "remove_tree" || acts[0].Target != "/var/lib/kubelet/config.yaml" || acts[0].Result != "deleted" {
		t.Errorf("actions = %v", ops(run.env))
	}
	mustExecStar(t, h, `remove_tree("/var/lib/kubelet", contents_only = False)`)
	if _, err := h.Stat("/var/lib/kubelet"); err == nil {
		t.Error("contents_only=False left the directory")
	}
	h.Put("/etc/kubernetes/admin.conf", []byte("x"), 0o600)
	run = mustExecStar(t, h, `r = remove_tree("/etc/kubernetes/admin.conf", contents_only = False)`)
	if s := run.globals["r"].String(); s != `["/etc/kubernetes/admin.conf"]` {
		t.Errorf("file removal = %s", s)
	}
}

func TestRemoveTreeErrors(t *testing.T) {
	h := host.NewFake()
	kubeletTree(h)
	wantErr(t, h, `remove_tree("var/lib/kubelet")`, "remove_tree", "relative", `"/var/lib/kubelet"`)
	wantErr(t, h, `remove_tree("")`, "remove_tree", "empty")
	wantErr(t, h, `remove_tree(3)`, "remove_tree", "int")
	wantErr(t, h, `remove_tree("/var/lib/kubelet", contents_only = "yes")`, "remove_tree", "contents_only")
	wantErr(t, h, `remove_tree("/")`, "refusing to remove /")
	wantErr(t, h, `remove_tree("/var/lib/kubelet/config.yaml")`, "not a directory", "contents_only=False")
	h.FMounts = []string{"/", "/var/lib/kubelet", "/var/lib/kubelet/pods/uid1/volumes"}
	wantErr(t, h, `remove_tree("/var/lib/kubelet")`, "remove_tree", "/var/lib/kubelet/pods/uid1/volumes is a mount point", "unmount it first")
	// The top mount itself is fine when only its contents go, not otherwise.
	h.FMounts = []string{"/", "/var/lib/kubelet"}
	wantErr(t, h, `remove_tree("/var/lib/kubelet", contents_only = False)`, "/var/lib/kubelet is a mount point")
	if len(h.Paths()) != 4 {
		t.Errorf("a refused call removed files: %v", h.Paths())
	}
	mustExecStar(t, h, `remove_tree("/var/lib/kubelet")`)
}

// TestRemoveTreeSandbox: the sandbox refuses trees outside the roots and a
// root itself before anything is removed.
func TestRemoveTreeSandbox(t *testing.T) {
	fake := host.NewFake()
	kubeletTree(fake)
	fake.Put("/etc/passwd", []byte("root:x:0:0::/root:/bin/sh\n"), 0o644)
	fake.Put("/etc/kubernetes/manifests/etcd.yaml", []byte("x"), 0o600)
	h, err := host.NewSandbox(fake, host.SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, h, `remove_tree("/etc")`, "refusing to remove /etc", "outside the allowed roots")
	wantErr(t, h, `remove_tree("/etc", contents_only = False)`, "refusing to remove /etc")
	wantErr(t, h, `remove_tree("/")`, "refusing to remove /")
	wantErr(t, h, `remove_tree("/etc/passwd", contents_only = False)`, "refusing to remove /etc/passwd", "outside the allowed roots")
	wantErr(t, h, `remove_tree("/etc/kubernetes", contents_only = False)`, "refusing to remove /etc/kubernetes itself", "allowed root")
	wantErr(t, h, `remove_tree("/var/lib/kubelet/../../../etc")`, "refusing to remove /etc")
	if got := len(fake.Paths()); got != 6 {
		t.Errorf("refused calls removed files: %v", fake.Paths())
	}
	run := mustExecStar(t, h, `r = remove_tree("/etc/kubernetes/manifests", contents_only = False)`)
	if s := run.globals["r"].String(); s != `["/etc/kubernetes/manifests/etcd.yaml", "/etc/kubernetes/manifests"]` {
		t.Errorf("removed %s", s)
	}
	if _, _, ok := fake.Get("/etc/passwd"); !ok {
		t.Error("/etc/passwd is gone")
	}
}

// TestCheckWritable: the sandbox's write rule, asked without removing
// anything; a bare host (no sandbox) allows every path.
func TestCheckWritable(t *testing.T) {
	fake := host.NewFake()
	fake.Put("/etc/passwd", []byte("root:x:0:0::/root:/bin/sh\n"), 0o644)
	h, err := host.NewSandbox(fake, host.SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustExecStar(t, h, `check_writable(["/etc/kubernetes/pki", "/var/lib/kubelet", "/var/lib/etcd/member"])`)
	wantErr(t, h, `check_writable(["/etc/kubernetes/pki", "/etc"])`, "check_writable", "/etc", "outside the allowed roots")
	wantErr(t, h, `check_writable(["/var/lib/kubelet/../../../etc/passwd"])`, "outside the allowed roots")
	wantErr(t, h, `check_writable(["pki"])`, "paths[0]")
	wantErr(t, h, `check_writable("/etc")`, "check_writable")
	mustExecStar(t, fake, `check_writable(["/etc"])`)
	if _, _, ok := fake.Get("/etc/passwd"); !ok {
		t.Error("/etc/passwd is gone")
	}
}

// TestRemoveTreeDryRun: a dry run records every removal, later reads see
// the files gone, the machine keeps them.
func TestRemoveTreeDryRun(t *testing.T) {
	fake := host.NewFake()
	kubeletTree(fake)
	h, err := host.NewSandbox(host.NewDryRun(fake), host.SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	run := mustExecStar(t, h, `
first = remove_tree("/var/lib/kubelet")
again = remove_tree("/var/lib/kubelet")
left = list_dir("/var/lib/kubelet")
gone = path_exists("/var/lib/kubelet/pki/kubelet.key")
kept = path_exists("/var/lib/kubelet")
`)
	if n := len(strings.Split(run.globals["first"].String(), ",")); n != 8 {
		t.Errorf("dry run removed %d: %s", n, run.globals["first"])
	}
	if run.globals["again"].String() != "[]" || run.globals["left"].String() != "[]" ||
		run.globals["gone"].String() != "False" || run.globals["kept"].String() != "True" {
		t.Errorf("after the dry removal: again=%s left=%s gone=%s kept=%s", run.globals["again"], run.globals["left"], run.globals["gone"], run.globals["kept"])
	}
	if len(run.env.Plan().Actions) != 8 {
		t.Errorf("plan = %v", ops(run.env))
	}
	if len(fake.Paths()) != 4 {
		t.Errorf("the dry run removed real files: %v", fake.Paths())
	}
}

// TestRemoveTreeSymlinks: on a real tree (--root), links are removed, not
// followed; a link cannot carry a removal out of the roots; real_path
// resolves inside the root.
func TestRemoveTreeSymlinks(t *testing.T) {
	root := t.TempDir()
	mk := func(p, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("/outside/keep", "precious")
	mk("/etc/kubernetes/pki/ca.crt", "crt")
	mk("/data/kubelet/config.yaml", "cfg")
	for link, target := range map[string]string{
		"/etc/kubernetes/rel": "../../outside", "/etc/kubernetes/abs": "/outside", "/etc/kubernetes/pki/keep": "/outside/keep",
		"/var/lib/kubelet": "/data/kubelet",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, link)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	h, err := host.NewSandbox(host.NewLive(host.LiveOptions{}), host.SandboxOptions{Root: root, AllowRoots: []string{"/data/kubelet"}})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, h, `remove_tree("/etc/kubernetes/rel/x", contents_only = False)`, "refusing to remove", "outside the allowed roots")
	wantErr(t, h, `remove_tree("/etc/kubernetes/abs")`, "is a symbolic link", "real_path")
	run := mustExecStar(t, h, `
rp = real_path("/var/lib/kubelet")
missing = real_path("/var/lib/kubelet/pods/../x")
k = remove_tree(real_path("/var/lib/kubelet"))
r = remove_tree("/etc/kubernetes")
`)
	if rp := run.str(t, "rp"); rp != "/data/kubelet" {
		t.Errorf("real_path = %s", rp)
	}
	if m := run.str(t, "missing"); m != "/data/kubelet/x" {
		t.Errorf("real_path of a missing path = %s", m)
	}
	if s := run.globals["k"].String(); s != `["/data/kubelet/config.yaml"]` {
		t.Errorf("kubelet removal = %s", s)
	}
	want := `["/etc/kubernetes/abs", "/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/keep", "/etc/kubernetes/pki", "/etc/kubernetes/rel"]`
	if s := run.globals["r"].String(); s != want {
		t.Errorf("removed %s, want %s", s, want)
	}
	if b, err := os.ReadFile(filepath.Join(root, "outside/keep")); err != nil || string(b) != "precious" {
		t.Errorf("outside/keep = %q, %v", b, err)
	}
	wantErr(t, h, `real_path("/etc/shadow-not-readable/x")`, "refusing to resolve")
}

// TestRemoveTreeCNIRoots: reset's cleanup_cni=true empties the CNI's
// configuration and state directories, default roots of the sandbox;
// their parent stays out of reach.
func TestRemoveTreeCNIRoots(t *testing.T) {
	fake := host.NewFake()
	fake.Put("/etc/cni/net.d/10-bridge.conflist", []byte("{}"), 0o644)
	fake.Put("/etc/cni/other/keep", []byte("x"), 0o644)
	fake.Put("/var/lib/cni/networks/cbr0/10.244.1.2", []byte("id"), 0o644)
	h, err := host.NewSandbox(fake, host.SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	run := mustExecStar(t, h, `
a = remove_tree("/etc/cni/net.d")
b = remove_tree("/var/lib/cni")
`)
	if run.globals["a"].String() != `["/etc/cni/net.d/10-bridge.conflist"]` || !strings.Contains(run.globals["b"].String(), "/var/lib/cni/networks/cbr0/10.244.1.2") {
		t.Errorf("a=%s b=%s", run.globals["a"], run.globals["b"])
	}
	wantErr(t, h, `remove_tree("/etc/cni")`, "refusing to remove /etc/cni", "outside the allowed roots")
	if _, _, ok := fake.Get("/etc/cni/other/keep"); !ok {
		t.Error("/etc/cni/other/keep is gone")
	}
}

// TestRemoveTreeDryRunSymlinks: a dry run over a real tree removes a link
// to a full directory as a link (its target keeps its files, also in the
// overlay's view), and later reads see the tree gone.
func TestRemoveTreeDryRunSymlinks(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"outside/full", "etc/kubernetes/manifests"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, data := range map[string]string{"outside/full/a": "a", "etc/kubernetes/manifests/etcd.yaml": "x"} {
		if err := os.WriteFile(filepath.Join(root, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/outside/full", filepath.Join(root, "etc/kubernetes/link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nowhere", filepath.Join(root, "etc/kubernetes/dangling")); err != nil {
		t.Fatal(err)
	}
	h, err := host.NewSandbox(host.NewDryRun(host.NewLive(host.LiveOptions{})), host.SandboxOptions{Root: root, AllowReads: []string{"/outside"}})
	if err != nil {
		t.Fatal(err)
	}
	run := mustExecStar(t, h, `
r = remove_tree("/etc/kubernetes")
left = list_dir("/etc/kubernetes")
target = list_dir("/outside/full")
again = remove_tree("/etc/kubernetes")
`)
	want := `["/etc/kubernetes/dangling", "/etc/kubernetes/link", "/etc/kubernetes/manifests/etcd.yaml", "/etc/kubernetes/manifests"]`
	if s := run.globals["r"].String(); s != want {
		t.Errorf("removed %s, want %s", s, want)
	}
	if run.globals["left"].String() != "[]" || run.globals["target"].String() != `["a"]` || run.globals["again"].String() != "[]" {
		t.Errorf("left=%s target=%s again=%s", run.globals["left"], run.globals["target"], run.globals["again"])
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/kubernetes/link")); err != nil {
		t.Errorf("the dry run removed the real link: %v", err)
	}
}
