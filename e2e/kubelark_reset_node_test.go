package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// resetNetwork is TestKubelarkResetNode's own test bridge (nodes rcp1, rw1).
const resetNetwork = "10.87.0"

// TestKubelarkResetNode is issue 10's node-level reset: on a working
// cluster (CNI installed, kube-proxy and CoreDNS running, so the nodes
// have real Pods, volume mounts and iptables rules) made by `kubelark init`
// on rcp1 and `kubelark join` on rw1:
//   - a dry run on rcp1 plans every delete, unmount, sandbox removal and
//     the Node deletion, and changes nothing;
//   - `kubelark reset` with no terminal and no --force refuses, changing nothing;
//   - `kubelark reset --force` (kubeadm's command line, with kubelark's
//     cleanup_cni and flush_iptables) on rw1 leaves no file, mount,
//     container, CNI config or KUBE-/CNI- chain; a second reset has nothing to do;
//   - rcp1 with its API server already gone: the cluster steps are skipped
//     with a warning and the node is cleaned all the same; again, a second
//     reset has nothing to do.
func TestKubelarkResetNode(t *testing.T) {
	testStart := time.Now()
	kubelark := buildKubelark(t)
	nw := e2eutil.NewNetwork(t, resetNetwork)
	cp := newNode(t, nw, "rcp1")
	_, imgs := prepare(t)
	w := startNode(t, nw, node.Config{Name: "rw1", Images: e2eutil.WorkerImages(imgs)})
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()

	cfg := e2eutil.WorkingInitConfig(e2eutil.ConfigOptions{Address: cp.IP, NodeName: cp.Name, IgnoreSystemVerification: true})
	cfgPath := filepath.Join(cp.Dir, "kubeadm-init.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out := run(ctx, t, cp, kubelark, "run", "init", "--config", cfgPath, "--service-command", cp.ServiceCommand())
	cs := clientFor(t, cp, "/etc/kubernetes/admin.conf")
	waitReadyz(ctx, t, cs)
	run(ctx, t, w, append(append([]string{kubelark}, parsePrintedJoin(t, out)...),
		"--service-command", w.ServiceCommand(), "--cri-socket", "unix://"+node.ContainerdSocket,
		"--ignore-preflight-errors", "SystemVerification")...)
	if err := e2eutil.InstallCNI(ctx, cs, nw, cp, w); err != nil {
		t.Fatal(err)
	}
	if err := e2eutil.WaitNodesReady(ctx, cs, []string{cp.Name, w.Name}, time.Second); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, 5*time.Minute, "kube-proxy DaemonSet ready on both nodes", func() (bool, string) {
		ds, err := cs.AppsV1().DaemonSets("kube-system").Get(ctx, "kube-proxy", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return daemonSetReady(ds, 2)
	})
	for _, n := range []*node.Node{cp, w} {
		poll(ctx, t, 3*time.Minute, "kube-proxy rules on "+n.Name, func() (bool, string) { return kubeProxyHealthy(ctx, n) })
		if c := nodeState(ctx, t, n); len(c.pods) == 0 || len(c.mounts) == 0 || len(c.chains) == 0 {
			t.Fatalf("%s runs no Pod, has no mount under /var/lib/kubelet or no KUBE-/CNI- chain before reset: %+v", n.Name, c)
		}
	}
	t.Logf("working cluster up %s after the test started", time.Since(testStart).Round(time.Second))

	local := func(n *node.Node) []string { return []string{"--service-command", n.ServiceCommand()} }

	t.Run("DryRun", func(t *testing.T) {
		before := nodeState(ctx, t, cp)
		plan := filepath.Join(cp.Dir, "reset-plan.json")
		o := run(ctx, t, cp, append([]string{kubelark, "reset", "--dry-run", "--set", "delete_node=true", "--plan", plan}, local(cp)...)...)
		ops := resetPlanOps(t, plan)
		for _, op := range []string{"file.delete", "mount.unmount", "cri.pod-remove", "api.delete", "service.stop"} {
			if ops[op] == 0 {
				t.Errorf("the dry run plans no %s (ops: %v)", op, ops)
			}
		}
		if !strings.Contains(o, "is the last member of the etcd cluster") {
			t.Errorf("the dry run does not say the last etcd member stays:\n%s", o)
		}
		after := nodeState(ctx, t, cp)
		if strings.Join(ours(before.files), "\n") != strings.Join(ours(after.files), "\n") || len(after.pods) < len(before.pods) {
			t.Errorf("the dry run changed the node")
		}
		if _, err := cs.CoreV1().Nodes().Get(ctx, cp.Name, metav1.GetOptions{}); err != nil {
			t.Errorf("the dry run deleted the Node: %v", err)
		}
	})

	t.Run("NoTerminalRefused", func(t *testing.T) {
		before := nodeState(ctx, t, w)
		o, err := runStatus(ctx, t, w, append([]string{kubelark, "reset"}, local(w)...)...)
		if err == nil || !strings.Contains(o, "stdin is not a terminal") || !strings.Contains(o, "--force") {
			t.Fatalf("reset without a terminal and --force: err %v, want the refusal naming --force:\n%s", err, o)
		}
		if after := nodeState(ctx, t, w); strings.Join(ours(before.files), "\n") != strings.Join(ours(after.files), "\n") {
			t.Errorf("the refused reset changed files")
		}
	})

	t.Run("Worker", func(t *testing.T) {
		start := time.Now()
		o := run(ctx, t, w, append([]string{kubelark, "reset", "--force", "--cleanup-tmp-dir", "--set", "cleanup_cni=true", "--set", "flush_iptables=true"}, local(w)...)...)
		t.Logf("kubelark reset of the worker took %s", time.Since(start).Round(time.Millisecond))
		checkClean(ctx, t, w, true)
		for _, want := range []string{"The reset process did not clean:", "kubectl delete node " + w.Name, "ipvsadm --clear"} {
			if !strings.Contains(o, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		for _, unwanted := range []string{"the CNI configuration", "flush_iptables=true"} {
			if strings.Contains(o, unwanted) {
				t.Errorf("the report names %q, which this run cleaned", unwanted)
			}
		}
		o = run(ctx, t, w, append([]string{kubelark, "reset", "--force"}, local(w)...)...)
		if !strings.Contains(o, "[reset] nothing to do") {
			t.Errorf("a second reset of %s does not say it had nothing to do:\n%s", w.Name, o)
		}
	})

	t.Run("ControlPlaneAPIDown", func(t *testing.T) {
		// The API server goes as an operator's broken node loses it: its
		// static Pod manifest moves away and the kubelet stops it.
		if out, err := cp.Exec(ctx, "mv", "/etc/kubernetes/manifests/kube-apiserver.yaml", filepath.Join(cp.Dir, "kube-apiserver.yaml")); err != nil {
			t.Fatalf("moving the API server's manifest: %v: %s", err, out)
		}
		poll(ctx, t, 2*time.Minute, "API server gone", func() (bool, string) {
			_, err := cs.Discovery().ServerVersion()
			return err != nil, "still answers"
		})
		start := time.Now()
		o := run(ctx, t, cp, append([]string{kubelark, "reset", "--force"}, local(cp)...)...)
		t.Logf("kubelark reset of the control-plane node took %s", time.Since(start).Round(time.Millisecond))
		for _, want := range []string{"does not answer", "the cluster steps are skipped", "Deleted contents of the etcd data directory: /var/lib/etcd",
			"the CNI configuration and state in /etc/cni/net.d"} {
			if !strings.Contains(o, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		checkClean(ctx, t, cp, false)
		o = run(ctx, t, cp, append([]string{kubelark, "reset", "--force"}, local(cp)...)...)
		if !strings.Contains(o, "[reset] nothing to do") {
			t.Errorf("a second reset of %s does not say it had nothing to do:\n%s", cp.Name, o)
		}
	})
	t.Logf("TestKubelarkResetNode took %s", time.Since(testStart).Round(time.Second))
}

// resetState is what a node holds that reset removes.
type resetState struct {
	files  []string // under /etc/kubernetes, /var/lib/kubelet, /var/lib/etcd, but the kept directories
	mounts []string // mount points below /var/lib/kubelet
	pods   []string // containerd's k8s.io containers
	chains []string // iptables chains KUBE-*/CNI-*
	cni    []string // files under /etc/cni/net.d and /var/lib/cni
}

func nodeState(ctx context.Context, t *testing.T, n *node.Node) resetState {
	t.Helper()
	sh := func(script string) []string {
		b, err := n.Exec(ctx, "sh", "-c", script)
		if err != nil {
			t.Fatalf("%s: %s: %v\n%s", n.Name, script, err, b)
		}
		return strings.Fields(string(b))
	}
	return resetState{
		files:  sh(`find /etc/kubernetes /var/lib/kubelet /var/lib/etcd -mindepth 1 -xdev ! -path /etc/kubernetes/manifests ! -path /etc/kubernetes/pki 2>/dev/null | sort; true`),
		mounts: sh(`awk '$5 ~ "^/var/lib/kubelet/" {print $5}' /proc/self/mountinfo`),
		pods:   sh(`ctr -a ` + node.ContainerdSocket + ` -n k8s.io containers ls -q`),
		chains: sh(`(iptables-save; ip6tables-save) 2>/dev/null | grep -oE '^:(KUBE|CNI)-[^ ]+' | sort -u; true`),
		cni:    sh(`find /etc/cni/net.d /var/lib/cni -mindepth 1 2>/dev/null; true`),
	}
}

// ours drops the paths the running kubelet and etcd change on their own.
func ours(files []string) []string {
	var out []string
	for _, f := range files {
		if !kubeletOwned(f) && !strings.HasPrefix(f, "/var/lib/kubelet/pods") {
			out = append(out, f)
		}
	}
	return out
}

// checkClean: nothing kubelark or the kubelet wrote is left on n, no mount
// below /var/lib/kubelet, no container; with options also no CNI file and
// no KUBE-/CNI- chain.
func checkClean(ctx context.Context, t *testing.T, n *node.Node, options bool) {
	t.Helper()
	s := nodeState(ctx, t, n)
	if len(s.files) > 0 {
		t.Errorf("%s: files left after reset: %v", n.Name, s.files)
	}
	if len(s.mounts) > 0 {
		t.Errorf("%s: mounts left below /var/lib/kubelet: %v", n.Name, s.mounts)
	}
	if len(s.pods) > 0 {
		t.Errorf("%s: containers left: %v", n.Name, s.pods)
	}
	if options && (len(s.chains) > 0 || len(s.cni) > 0) {
		t.Errorf("%s: with flush_iptables and cleanup_cni, left chains %v and CNI files %v", n.Name, s.chains, s.cni)
	}
}

// resetPlanOps counts a plan file's actions by op.
func resetPlanOps(t *testing.T, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Actions []struct {
			Op string `json:"op"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, a := range p.Actions {
		out[a.Op]++
	}
	return out
}
