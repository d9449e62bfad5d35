package recipes_test

// Tests of recipes/reset.star on in-memory hosts: a control-plane node
// made by the init recipe (and a worker made by the join recipe) on fake
// machines, with what a running node has beside kubelark's files: Pod
// sandboxes in the fake CRI, mounts under /var/lib/kubelet, an etcd
// member and its data.

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kubelark/kubelark/builtins"
	"github.com/kubelark/kubelark/recipes"
	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/cluster"
	"github.com/kubelark/kubelark/runtime/host"
	"github.com/kubelark/kubelark/runtime/kubeadmconfig"
	"github.com/kubelark/kubelark/stdlib"
)

// runReset runs the embedded reset recipe on h.
func runReset(t *testing.T, h host.Host, dryRun bool, set ...string) (*runtime.Plan, string, error) {
	t.Helper()
	return runResetOpts(t, runtime.Options{Host: h, DryRun: dryRun, Set: set})
}

func runResetOpts(t *testing.T, opts runtime.Options) (*runtime.Plan, string, error) {
	t.Helper()
	var out bytes.Buffer
	opts.Recipe, opts.RecipeFS, opts.StdlibFS, opts.Registry, opts.Out = "reset", recipes.FS, stdlib.FS, builtins.Registry(), &out
	plan, err := runtime.Run(context.Background(), opts)
	return plan, out.String(), err
}

// nodeDirs are the directories reset empties (and keeps).
var nodeDirs = []string{"/etc/kubernetes", "/var/lib/kubelet", "/var/lib/etcd"}

// leftFiles lists what is left under the node's directories, but the
// directories reset keeps (the roots, manifests, pki).
func leftFiles(f *host.Fake) []string {
	keep := map[string]bool{"/etc/kubernetes": true, "/etc/kubernetes/manifests": true, "/etc/kubernetes/pki": true,
		"/var/lib/kubelet": true, "/var/lib/etcd": true}
	var out []string
	for _, p := range f.Paths() {
		for _, d := range nodeDirs {
			if (p == d || strings.HasPrefix(p, d+"/")) && !keep[p] {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// podsOf gives the fake runtime the Pod sandboxes a kubelet would run.
func podsOf(names ...string) *host.FakeCRI {
	c := &host.FakeCRI{}
	for i, n := range names {
		c.Pods = append(c.Pods, &runtimeapi.PodSandbox{
			Id:       strings.Repeat(string(rune('a'+i)), 12),
			Metadata: &runtimeapi.PodSandboxMetadata{Name: n, Namespace: "kube-system", Uid: "uid-" + n},
			State:    runtimeapi.PodSandboxState_SANDBOX_READY,
		})
	}
	return c
}

// kubeletMounts are a running kubelet's mounts: /var/lib/kubelet itself
// (its own filesystem, as on the e2e nodes) and a Pod's projected volume.
var kubeletMounts = []string{"/", "/var/lib/kubelet", "/var/lib/kubelet/pods/uid-kube-proxy/volumes/kubernetes.io~projected/kube-api-access-x",
	"/var/lib/kubelet/pods/uid-kube-proxy/volumes/kubernetes.io~configmap/kube-proxy"}

// controlPlaneNode runs init on a fresh fake and adds what a running
// control-plane node has: its Pods, mounts, a one-member etcd and its data.
func controlPlaneNode(t *testing.T) *host.Fake {
	t.Helper()
	cp := newFake()
	if _, out, err := runInit(t, cp, false, "", "token="+joinToken); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	running(cp, "etcd-node1", "kube-apiserver-node1", "kube-proxy-abcde")
	cp.FEtcd = host.NewFakeEtcd()
	cp.FEtcd.AddVoter("node1", "https://10.0.0.10:2380", "https://10.0.0.10:2379")
	cp.Put("/var/lib/etcd/member/snap/db", []byte("etcd data"), 0o600)
	cp.Put("/var/lib/etcd/member/wal/0.wal", []byte("etcd wal"), 0o600)
	return cp
}

// running gives f the Pods, mounts and kubelet files of a running node.
func running(f *host.Fake, pods ...string) {
	f.FCRI = podsOf(pods...)
	f.FMounts = append([]string(nil), kubeletMounts...)
	f.Put("/var/lib/kubelet/pods/uid-kube-proxy/volumes/kubernetes.io~configmap/kube-proxy/config.conf", []byte("x"), 0o644)
	f.Put("/var/lib/kubelet/pki/kubelet-client-current.pem", []byte("client"), 0o600)
}

func hasUnmounted(f *host.Fake, p string) bool {
	for _, u := range f.Unmounted {
		if u == p || strings.HasPrefix(u, p+" ") {
			return true
		}
	}
	return false
}

// TestResetControlPlane: the whole reset of a single control-plane node:
// the kubelet stopped, the Pod volumes unmounted (not /var/lib/kubelet
// itself), every sandbox removed, the directories emptied but kept, the
// kubeconfigs deleted; etcd's only member is kept (it is the cluster),
// its data deleted; the report names what was left.
func TestResetControlPlane(t *testing.T) {
	cp := controlPlaneNode(t)
	plan, out, err := runReset(t, cp, false, "force=true")
	if err != nil {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	if left := leftFiles(cp); len(left) > 0 {
		t.Errorf("files left after reset: %v", left)
	}
	for _, d := range append(nodeDirs, "/etc/kubernetes/manifests", "/etc/kubernetes/pki") {
		if _, _, ok := cp.Get(d); !ok {
			t.Errorf("reset removed the directory %s itself (kubeadm keeps it)", d)
		}
	}
	if !strings.Contains(strings.Join(cp.Services, ","), "stop kubelet") {
		t.Errorf("the kubelet was not stopped: %v", cp.Services)
	}
	if len(cp.FCRI.(*host.FakeCRI).Pods) != 0 {
		t.Errorf("Pod sandboxes left: %v", cp.FCRI.(*host.FakeCRI).Pods)
	}
	for _, m := range kubeletMounts[2:] {
		if !hasUnmounted(cp, m) {
			t.Errorf("%s not unmounted (unmounted: %v)", m, cp.Unmounted)
		}
	}
	if hasUnmounted(cp, "/var/lib/kubelet") || hasUnmounted(cp, "/") {
		t.Errorf("reset unmounted /var/lib/kubelet itself or /: %v", cp.Unmounted)
	}
	if n := len(cp.FEtcd.Members()); n != 1 {
		t.Errorf("the last etcd member was removed: %d members", n)
	}
	for _, want := range []string{"is the last member of the etcd cluster: it is not removed", "Deleted contents of the etcd data directory: /var/lib/etcd",
		"The reset process did not clean:", "kubectl delete node node1", "ipvsadm --clear", "$HOME/.kube/config", "kubelark token list",
		"flush_iptables=true"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "nothing to do") {
		t.Errorf("a reset that removed things says nothing to do:\n%s", out)
	}
	if c := countOps(plan, "file.delete"); c == 0 {
		t.Errorf("no file.delete actions in the plan")
	}
}

// getObject reads an object from the fake's cluster with admin rights.
func getObject(f *host.Fake, apiVersion, kind, ns, name string) (map[string]any, error) {
	c, err := f.Clients().Anonymous("https://"+joinServer, nil, true)
	if err != nil {
		return nil, err
	}
	u, err := c.Get(context.Background(), apiVersion, kind, ns, name)
	if err != nil || u == nil {
		return nil, err
	}
	return u.Object, nil
}

func countOps(plan *runtime.Plan, op string) int {
	n := 0
	if plan == nil {
		return 0
	}
	for _, a := range plan.Actions {
		if a.Op == op {
			n++
		}
	}
	return n
}

// TestResetSecondRun: a reset of a reset node finds nothing and says so.
func TestResetSecondRun(t *testing.T) {
	cp := controlPlaneNode(t)
	if _, out, err := runReset(t, cp, false, "force=true"); err != nil {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	plan, out, err := runReset(t, cp, false, "force=true")
	if err != nil {
		t.Fatalf("second reset: %v\n%s", err, out)
	}
	for _, want := range []string{"[reset] nothing to do", "cleanup-node: nothing to do", "remove-etcd-member: nothing to do"} {
		if !strings.Contains(out, want) {
			t.Errorf("second reset's output lacks %q:\n%s", want, out)
		}
	}
	for _, op := range []string{"file.delete", "mount.unmount", "cri.pod-remove", "etcd.member-remove"} {
		if n := countOps(plan, op); n > 0 {
			t.Errorf("second reset recorded %d %s actions", n, op)
		}
	}
}

// TestResetWorker: a worker made by join has no admin.conf: no cluster
// step runs, and its files, Pods and mounts go.
func TestResetWorker(t *testing.T) {
	cp, hash := initCluster(t, true)
	w := worker(cp)
	if _, out, err := runJoin(t, w, false, joinSet(hash)...); err != nil {
		t.Fatalf("join: %v\n%s", err, out)
	}
	running(w, "kube-proxy-abcde")
	w.Put("/etc/cni/net.d/10-bridge.conflist", []byte("{}"), 0o644)
	_, out, err := runReset(t, w, false, "force=true")
	if err != nil {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	if left := leftFiles(w); len(left) > 0 {
		t.Errorf("files left after reset: %v", left)
	}
	if len(w.FCRI.(*host.FakeCRI).Pods) != 0 {
		t.Errorf("Pod sandboxes left")
	}
	for _, want := range []string{"kubectl delete node node2", "the CNI configuration and state in /etc/cni/net.d", "cleanup_cni=true"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "does not answer") {
		t.Errorf("a worker without admin.conf warned about the API server:\n%s", out)
	}
	// The CNI config is the user's: reset leaves it without cleanup_cni.
	if _, _, ok := w.Get("/etc/cni/net.d/10-bridge.conflist"); !ok {
		t.Errorf("reset deleted the CNI config without cleanup_cni")
	}
}

// TestResetOptions: cleanup_cni empties the CNI dirs, delete_node deletes
// the Node with admin.conf (before the credentials go), and the report
// leaves out what they cleaned.
func TestResetOptions(t *testing.T) {
	cp := controlPlaneNode(t)
	applyObject(t, cp, map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": "node1"}})
	cp.Put("/etc/cni/net.d/10-bridge.conflist", []byte("{}"), 0o644)
	cp.Put("/var/lib/cni/networks/bridge/10.244.0.2", []byte("x"), 0o644)
	plan, out, err := runReset(t, cp, false, "force=true", "cleanup_cni=true", "delete_node=true")
	if err != nil {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	if obj, _ := getObject(cp, "v1", "Node", "", "node1"); obj != nil {
		t.Errorf("the Node was not deleted")
	}
	for _, p := range []string{"/etc/cni/net.d/10-bridge.conflist", "/var/lib/cni/networks/bridge/10.244.0.2"} {
		if _, _, ok := cp.Get(p); ok {
			t.Errorf("%s left with cleanup_cni", p)
		}
	}
	if countOps(plan, "api.delete") != 1 {
		t.Errorf("want one api.delete action")
	}
	for _, unwanted := range []string{"kubectl delete node", "the CNI configuration"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("the report names %q, which an option cleaned:\n%s", unwanted, out)
		}
	}
	if !strings.Contains(out, "kubeadm-config has no per-node entry to drop") {
		t.Errorf("output does not say what kubeadm-config holds:\n%s", out)
	}
}

// TestResetPartlyGone: files already removed by hand (admin.conf, the etcd
// manifest, part of the kubelet dir, the etcd data) are no error.
func TestResetPartlyGone(t *testing.T) {
	cp := controlPlaneNode(t)
	for _, p := range []string{"/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf", "/etc/kubernetes/manifests/etcd.yaml",
		"/var/lib/kubelet/config.yaml", "/etc/kubernetes/pki/ca.key", "/var/lib/etcd/member/wal/0.wal"} {
		if _, err := cp.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	_, out, err := runReset(t, cp, false, "force=true")
	if err != nil {
		t.Fatalf("reset of a partly cleaned node: %v\n%s", err, out)
	}
	if left := leftFiles(cp); len(left) > 0 {
		t.Errorf("files left: %v", left)
	}
}

// downAPI points admin.conf at a port where nothing listens, through a
// live API factory (connection refused at once; the fake clock makes the
// probe's wait instant).
func downAPI(t *testing.T, f *host.Fake) {
	t.Helper()
	b, _, ok := f.Get("/etc/kubernetes/admin.conf")
	if !ok {
		t.Fatal("no admin.conf")
	}
	f.Put("/etc/kubernetes/admin.conf", bytes.ReplaceAll(b, []byte("https://10.0.0.10:6443"), []byte("https://127.0.0.1:1")), 0o600)
	f.FClients = cluster.NewLive(cluster.LiveOptions{Clock: f})
}

// TestResetAPIDown: with the API server gone the cluster steps are skipped
// with a warning and the node is cleaned all the same.
func TestResetAPIDown(t *testing.T) {
	cp := controlPlaneNode(t)
	downAPI(t, cp)
	_, out, err := runReset(t, cp, false, "force=true", "delete_node=true")
	if err != nil {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	for _, want := range []string{"https://127.0.0.1:1", "does not answer", "the cluster steps are skipped", "The Node \"node1\" was not deleted",
		"kubectl delete node node1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if left := leftFiles(cp); len(left) > 0 {
		t.Errorf("files left: %v", left)
	}
}

// TestResetConfigFile: a v1beta4 ResetConfiguration's certificatesDir,
// criSocket, cleanupTmpDir, unmountFlags, force and skipPhases are honoured.
func TestResetConfigFile(t *testing.T) {
	cp := controlPlaneNode(t)
	cp.Put("/etc/kubernetes/other-pki/ca.crt", []byte("x"), 0o644)
	cp.Put("/etc/kubernetes/tmp/kubeadm-backup-etcd/x", []byte("x"), 0o644)
	path := filepath.Join(t.TempDir(), "reset.yaml")
	if err := os.WriteFile(path, []byte(`apiVersion: kubeadm.k8s.io/v1beta4
kind: ResetConfiguration
certificatesDir: /etc/kubernetes/other-pki
criSocket: unix:///run/other.sock
cleanupTmpDir: true
unmountFlags: [MNT_DETACH]
force: true
skipPhases: [remove-etcd-member]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := kubeadmconfig.Load(mustRead(t, path))
	if err != nil {
		t.Fatal(err)
	}
	_, out, err := runResetOpts(t, runtime.Options{Host: cp, ConfigFile: path, ConfigDocs: cfg.Docs})
	if err != nil {
		t.Fatalf("reset --config: %v\n%s", err, out)
	}
	if _, _, ok := cp.Get("/etc/kubernetes/other-pki/ca.crt"); ok {
		t.Errorf("certificatesDir was not emptied")
	}
	if !strings.Contains(out, `Cleaning a non-default certificates directory: "/etc/kubernetes/other-pki"`) {
		t.Errorf("no warning about the non-default certificates dir:\n%s", out)
	}
	if _, _, ok := cp.Get("/etc/kubernetes/tmp/kubeadm-backup-etcd/x"); ok {
		t.Errorf("cleanupTmpDir: /etc/kubernetes/tmp not emptied")
	}
	if !contains(cp.Unmounted, kubeletMounts[2]+" MNT_DETACH") {
		t.Errorf("unmountFlags not passed: %v", cp.Unmounted)
	}
	if !strings.Contains(out, "through the CRI at unix:///run/other.sock") {
		t.Errorf("the Pods were not removed through criSocket:\n%s", out)
	}
	if _, _, ok := cp.Get("/var/lib/etcd/member/snap/db"); !ok {
		t.Errorf("skipPhases remove-etcd-member: the etcd data was deleted")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

