package recipes_test

// Tests of recipes/reset.star on in-memory hosts: a control-plane node
// made by the init recipe (and a worker made by the join recipe) on fake
// machines, with what a running node has beside kubelark's files: Pod
// sandboxes in the fake CRI, mounts under /var/lib/kubelet, an etcd
// member and its data.

import (
	"bytes"
	"context"
	"errors"
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
	if opts.Recipe == "" {
		opts.Recipe = "reset"
	}
	opts.RecipeFS, opts.StdlibFS, opts.Registry, opts.Out = recipes.FS, stdlib.FS, builtins.Registry(), &out
	plan, err := runtime.Run(context.Background(), opts)
	if os.Getenv("RESET_DEBUG") != "" {
		t.Logf("reset output:\n%s", out.String())
	}
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
		if st, err := cp.Stat(d); err != nil || !st.IsDir() {
			t.Errorf("reset removed the directory %s itself (kubeadm keeps it): %v", d, err)
		}
	}
	if countOps(plan, "service.stop") != 1 {
		t.Errorf("the kubelet was not stopped (want one service.stop action)")
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
	for _, want := range []string{"[reset] nothing to do", "[cleanup-node] nothing to do", "[remove-etcd-member] nothing to do"} {
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

// twoMemberEtcd makes cp's etcd a cluster of members: node1 (this node)
// and the given others (name, 10.0.0.x address), all started voters.
func withEtcdMembers(cp *host.Fake, others ...string) map[string]uint64 {
	e := host.NewFakeEtcd()
	ids := map[string]uint64{"node1": e.AddVoter("node1", "https://10.0.0.10:2380", "https://10.0.0.10:2379")}
	for _, o := range others {
		name, ip, _ := strings.Cut(o, "=")
		ids[name] = e.AddVoter(name, "https://"+ip+":2380", "https://"+ip+":2379")
	}
	cp.FEtcd = e
	return ids
}

// TestResetEtcdMemberRemoved: a member of a larger etcd is removed through
// the other members (found by its peer URL), then its data is deleted.
func TestResetEtcdMemberRemoved(t *testing.T) {
	cp := controlPlaneNode(t)
	withEtcdMembers(cp, "node3=10.0.0.30")
	plan, out, err := runReset(t, cp, false, "force=true")
	if err != nil {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	m := cp.FEtcd.Members()
	if len(m) != 1 || m[0].Name != "node3" {
		t.Errorf("etcd members after reset: %+v, want node3 alone", m)
	}
	if countOps(plan, "etcd.member-remove") != 1 {
		t.Errorf("want one etcd.member-remove action")
	}
	if !strings.Contains(out, "through https://10.0.0.30:2379") {
		t.Errorf("the member was not removed through the other member:\n%s", out)
	}
	if _, _, ok := cp.Get("/var/lib/etcd/member/snap/db"); ok {
		t.Errorf("the etcd data was not deleted")
	}
}

// TestResetEtcdRemoveFails: when this member cannot be removed — no
// quorum among the other members, or etcd refusing the removal although
// they have one — reset warns with the etcdctl command, keeps every member
// and still cleans the node (kubeadm warns and goes on).
func TestResetEtcdRemoveFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(e *host.FakeEtcd, ids map[string]uint64)
		say  string
	}{
		{"no quorum among the others", func(e *host.FakeEtcd, ids map[string]uint64) { e.SetDown(ids["node3"], true) },
			"this node's etcd member in the etcd cluster"},
		{"etcd refuses", func(e *host.FakeEtcd, _ map[string]uint64) {
			e.RemoveErr = errors.New("etcdserver: re-configuration failed due to not enough started members")
		}, "not enough started members"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := controlPlaneNode(t)
			ids := withEtcdMembers(cp, "node3=10.0.0.30", "node4=10.0.0.40")
			tc.fail(cp.FEtcd, ids)
			_, out, err := runReset(t, cp, false, "force=true")
			if err != nil {
				t.Fatalf("reset: %v\n%s", err, out)
			}
			if len(cp.FEtcd.Members()) != 3 {
				t.Errorf("members %v, want all 3 (the removal failed)", cp.FEtcd.Members())
			}
			want := "etcdctl --endpoints=https://10.0.0.30:2379,https://10.0.0.40:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt " +
				"--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key member remove " +
				hex16(ids["node1"])
			for _, w := range []string{"please manually remove this etcd member using etcdctl", want, tc.say} {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if left := leftFiles(cp); len(left) > 0 {
				t.Errorf("files left: %v", left)
			}
		})
	}
}

// TestResetSandboxRemovalFails: a sandbox the runtime will not stop after
// kubeadm's 5 tries is a warning naming it; the other sandboxes are
// removed and the node is cleaned.
func TestResetSandboxRemovalFails(t *testing.T) {
	cp := controlPlaneNode(t)
	cri := cp.FCRI.(*host.FakeCRI)
	stuck := cri.Pods[1].Id
	refuse := errors.New("rpc error: code = Unknown desc = failed to stop sandbox: device or resource busy")
	cri.StopErr = map[string][]error{stuck: {refuse, refuse, refuse, refuse, refuse}}
	_, out, err := runReset(t, cp, false, "force=true")
	if err != nil {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	if len(cri.Pods) != 1 || cri.Pods[0].Id != stuck {
		t.Errorf("sandboxes left %v, want only the stuck %s", cri.Pods, stuck)
	}
	for _, w := range []string{"Failed to remove Pod sandbox kube-system/kube-apiserver-node1", "5 tries failed", "device or resource busy", "crictl stopp " + stuck} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if left := leftFiles(cp); len(left) > 0 {
		t.Errorf("files left: %v", left)
	}
}

func hex16(id uint64) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 16)
	for i := 15; i >= 0; i-- {
		b[i] = digits[id&0xf]
		id >>= 4
	}
	return string(b)
}

// TestResetNoTerminal: without --force and with no terminal on stdin,
// reset refuses before it reads or removes anything, and says why.
func TestResetNoTerminal(t *testing.T) {
	cp := controlPlaneNode(t)
	before := cp.Paths()
	plan, out, err := runReset(t, cp, false)
	if err == nil || !strings.Contains(err.Error(), "stdin is not a terminal") || !strings.Contains(err.Error(), "pass --force") {
		t.Fatalf("err = %v, want the no-terminal refusal naming --force\n%s", err, out)
	}
	if plan != nil && len(plan.Actions) > 0 {
		t.Errorf("%d actions recorded before the refusal", len(plan.Actions))
	}
	if after := cp.Paths(); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("the refused reset changed files")
	}
}

// TestResetConfirm: "y" resets, anything else stops with nothing changed.
func TestResetConfirm(t *testing.T) {
	cp := controlPlaneNode(t)
	cp.FConsole = &host.FakeConsole{Answers: []string{"n"}}
	if _, out, err := runReset(t, cp, false); err == nil || !strings.Contains(err.Error(), "reset aborted") {
		t.Fatalf("answer n: err = %v\n%s", err, out)
	}
	if _, _, ok := cp.Get("/etc/kubernetes/admin.conf"); !ok {
		t.Fatalf("a refused reset deleted admin.conf")
	}
	cp.FConsole = &host.FakeConsole{Answers: []string{"y"}}
	if _, out, err := runReset(t, cp, false); err != nil {
		t.Fatalf("answer y: %v\n%s", err, out)
	}
	if len(cp.FConsole.Asked) != 1 || !strings.Contains(cp.FConsole.Asked[0], "Are you sure you want to proceed?") {
		t.Errorf("asked %q", cp.FConsole.Asked)
	}
	if left := leftFiles(cp); len(left) > 0 {
		t.Errorf("files left: %v", left)
	}
}

// TestResetDryRun: a dry run asks nothing, changes nothing, and plans
// every delete, unmount, sandbox removal and member removal.
func TestResetDryRun(t *testing.T) {
	cp := controlPlaneNode(t)
	withEtcdMembers(cp, "node3=10.0.0.30")
	before := cp.Paths()
	plan, out, err := runReset(t, host.NewDryRun(cp), true, "delete_node=true")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	for op, min := range map[string]int{"file.delete": 40, "mount.unmount": 2, "cri.pod-remove": 3, "etcd.member-remove": 1} {
		if n := countOps(plan, op); n < min {
			t.Errorf("%d %s actions planned, want at least %d", n, op, min)
		}
	}
	if after := cp.Paths(); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("the dry run changed files")
	}
	if len(cp.FEtcd.Members()) != 2 || len(cp.FCRI.(*host.FakeCRI).Pods) != 3 || len(cp.Unmounted) != 0 {
		t.Errorf("the dry run changed etcd, the runtime or the mounts")
	}
}

// TestGoldenReset: dry-run plans of a control-plane node (a member of a
// two-member etcd, with delete_node) and of a worker, compared with
// testdata/golden/reset-*.json and .out.
func TestGoldenReset(t *testing.T) {
	t.Run("controlplane", func(t *testing.T) {
		cp := controlPlaneNode(t)
		withEtcdMembers(cp, "node3=10.0.0.30")
		applyObject(t, cp, map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": "node1"}})
		plan, out, err := runReset(t, host.NewDryRun(cp), true, "delete_node=true", "cleanup_tmp_dir=true")
		if err != nil {
			t.Fatalf("dry run: %v\n%s", err, out)
		}
		compareGolden(t, filepath.Join(testdata, "golden", "reset-controlplane.json"), maskPlan(t, plan))
		compareGolden(t, filepath.Join(testdata, "golden", "reset-controlplane.out"), maskKeyDerived([]byte(out)))
	})
	t.Run("worker", func(t *testing.T) {
		cp, hash := initCluster(t, true)
		w := worker(cp)
		if _, out, err := runJoin(t, w, false, joinSet(hash)...); err != nil {
			t.Fatalf("join: %v\n%s", err, out)
		}
		running(w, "kube-proxy-abcde")
		w.Put("/etc/cni/net.d/10-bridge.conflist", []byte("{}"), 0o644)
		plan, out, err := runReset(t, host.NewDryRun(w), true)
		if err != nil {
			t.Fatalf("dry run: %v\n%s", err, out)
		}
		compareGolden(t, filepath.Join(testdata, "golden", "reset-worker.json"), maskPlan(t, plan))
		compareGolden(t, filepath.Join(testdata, "golden", "reset-worker.out"), maskKeyDerived([]byte(out)))
	})
}

// TestResetFlushIptables: flush_iptables deletes kube-proxy's and the
// CNI's chains (and the jumps to them) and kube-proxy's nftables tables,
// nothing of the host's own (fail2ban's chain, firewalld's table).
func TestResetFlushIptables(t *testing.T) {
	cp := controlPlaneNode(t)
	save, err := os.ReadFile(filepath.Join(testdata, "netfilter", "kube-proxy-cni.iptables-save"))
	if err != nil {
		t.Fatal(err)
	}
	cp.FNetfilter = &host.FakeNetfilter{
		Save:   map[string]string{"ipv4": string(save), "ipv6": "*filter\n:INPUT ACCEPT [0:0]\n:KUBE-FIREWALL - [0:0]\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n"},
		Tables: []string{"ip kube-proxy", "ip6 kube-proxy", "inet firewalld"},
	}
	_, out, err := runReset(t, cp, false, "force=true", "flush_iptables=true")
	if err != nil {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	for fam, s := range cp.FNetfilter.Save {
		if strings.Contains(s, "KUBE-") || strings.Contains(s, "CNI-") {
			t.Errorf("%s: kube-proxy or CNI rules left:\n%s", fam, s)
		}
	}
	if !strings.Contains(cp.FNetfilter.Save["ipv4"], "-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd") {
		t.Errorf("the host's own rules were touched:\n%s", cp.FNetfilter.Save["ipv4"])
	}
	if strings.Join(cp.FNetfilter.Tables, ",") != "inet firewalld" {
		t.Errorf("nftables tables left: %v", cp.FNetfilter.Tables)
	}
	if strings.Contains(out, "flush_iptables=true") || strings.Contains(out, "nft delete table") {
		t.Errorf("the report names the rules flush_iptables deleted:\n%s", out)
	}

	// Without nft on the host: the iptables part still runs, and the report
	// names the table it could not delete.
	cp = controlPlaneNode(t)
	cp.FNetfilter = &host.FakeNetfilter{Save: map[string]string{"ipv4": string(save), "ipv6": ""}, NoNft: true}
	_, out, err = runReset(t, cp, false, "force=true", "flush_iptables=true")
	if err != nil || !strings.Contains(out, "nft is not installed") || strings.Contains(cp.FNetfilter.Save["ipv4"], "KUBE-") ||
		!strings.Contains(out, "nft delete table ip kube-proxy") {
		t.Errorf("reset without nft: %v\n%s", err, out)
	}
}
