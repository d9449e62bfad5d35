package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// Issue 10's Scenario B (reset), on TestKubelarkHA's cluster once its
// checks are done: `kubelark run reset --force` on hw1, hcp3, hcp2 and
// hcp1 in that order, as a user runs it on the node (with the node's
// --service-command, nothing else: the recipe finds the CRI socket, the
// etcd data dir and the certificate dir itself). After each reset the node
// is compared with what it held right after it started, before init or
// join (e2eutil.TakeNodeState): no file in /etc/kubernetes,
// /var/lib/kubelet or /var/lib/etcd, no directory but those kubeadm keeps
// (it empties them), no container or Pod sandbox in its containerd, no
// mount under /var/lib/kubelet but the node's own. etcd membership shrinks
// as kubeadm's remove-etcd-member does it: 3 members after hw1, 2 healthy
// voters after hcp3, hcp1 alone after hcp2, and hcp1, the last member, is
// not removed (its data dir is emptied and etcd no longer runs). While a
// control-plane node is left, the cluster serves writes and reads through
// the load balancer. Each reset ends with the report of what it did not
// clean (the Node object among it); a second reset of hw1 says it had
// nothing to do. Finally `kubelark run init` on hcp1 with the same
// configuration makes a new cluster on the same node and hw1 joins it
// again with init's printed command and becomes Ready; the new etcd
// cluster has the one member hcp1.

// haCluster is what the reset scenario takes over from TestKubelarkHA.
type haCluster struct {
	kubelark   string
	nw         *node.Network
	cps        []*node.Node // hcp1, hcp2, hcp3
	worker     *node.Node
	initConfig string                       // hcp1's init configuration file, as init got it
	baseline   map[string]e2eutil.NodeState // each node right after it started
}

// keptDirs are the directories kubeadm's reset empties but keeps (facts
// §8: "directories themselves are kept"): the manifest and certificate
// dirs, and /etc/kubernetes/tmp unless cleanup-tmp-dir is asked for. The
// roots of e2eutil.ResetDirs are the node's own (in the baseline).
var keptDirs = map[string]bool{"/etc/kubernetes/manifests": true, "/etc/kubernetes/pki": true, "/etc/kubernetes/tmp": true}

func resetScenario(ctx context.Context, t *testing.T, tm *haTimings, c haCluster) {
	cp1, w := c.cps[0], c.worker
	steps := []struct {
		n *node.Node
		// members: the etcd members left after this reset (nil: the last
		// control-plane node, whose member stays).
		members []*node.Node
	}{
		{w, c.cps},
		{c.cps[2], c.cps[:2]},
		{c.cps[1], c.cps[:1]},
		{cp1, nil},
	}
	for i, s := range steps {
		start := time.Now()
		ok := t.Run("Reset"+s.n.Name, func(t *testing.T) {
			checkHoldsState(ctx, t, s.n, c.baseline[s.n.Name])
			out := resetNode(ctx, t, c.kubelark, s.n)
			checkResetNode(ctx, t, s.n, c.baseline[s.n.Name])
			// The end of the run says what reset did not clean, with the
			// command for each, the Node object among them.
			if !strings.Contains(out, "did not clean") || !strings.Contains(out, "kubectl delete node "+s.n.Name) {
				t.Errorf("reset of %s does not report what it did not clean (the Node object: kubectl delete node %s); output ends:\n%s", s.n.Name, s.n.Name, lastLines(out, 25))
			}
			if strings.Contains(out, "[reset] nothing to do") {
				t.Errorf("the first reset of %s says it had nothing to do", s.n.Name)
			}
			if s.n == w {
				// A second reset finds nothing left to do, says so and
				// succeeds.
				again := resetNode(ctx, t, c.kubelark, s.n)
				checkResetNode(ctx, t, s.n, c.baseline[s.n.Name])
				if !strings.Contains(again, "[reset] nothing to do") {
					t.Errorf("a second reset of %s does not say it had nothing to do; output ends:\n%s", s.n.Name, lastLines(again, 25))
				}
			}
			if s.members == nil {
				checkEtcdGone(ctx, t, s.n)
				return
			}
			checkEtcdMembers(ctx, t, s.members)
			checkServesThroughLB(ctx, t, cp1, fmt.Sprintf("reset-%d-%s", i, s.n.Name))
		})
		tm.add(t, "reset "+s.n.Name, start)
		if !ok {
			return
		}
	}

	// init on hcp1 again, same node, same configuration; hw1 joins again.
	start := time.Now()
	initOut := run(ctx, t, cp1, c.kubelark, "run", "init", "--config", c.initConfig, "--set", "upload_certs=true",
		"--service-command", cp1.ServiceCommand())
	tm.add(t, "kubelark init hcp1 again", start)
	start = time.Now()
	lbCS := haClient(t, cp1, cp1, haLBIP)
	waitReadyz(ctx, t, lbCS)
	workerArgs := append(append([]string{c.kubelark}, printedKubelarkJoin(t, initOut, false)...),
		"--service-command", w.ServiceCommand(), "--cri-socket", "unix://"+node.ContainerdSocket,
		"--ignore-preflight-errors", "SystemVerification")
	run(ctx, t, w, workerArgs...)
	t.Run("RejoinedWorkerReady", func(t *testing.T) {
		if err := e2eutil.InstallCNI(ctx, lbCS, c.nw, cp1, w); err != nil {
			t.Fatal(err)
		}
		if err := e2eutil.WaitNodesReady(ctx, lbCS, []string{cp1.Name, w.Name}, time.Second); err != nil {
			t.Fatalf("after init again and the worker's join again: %v", err)
		}
		checkJoinedKubelet(ctx, t, cp1, w)
		// A new etcd cluster of one member, hcp1.
		checkEtcdMembers(ctx, t, c.cps[:1])
		checkServer(t, w, "kubelet.conf", "https://"+haLB)
		// The new cluster is a new cluster: the old one's objects are gone.
		if _, err := lbCS.CoreV1().ConfigMaps("default").Get(ctx, "ha-probe", metav1.GetOptions{}); err == nil {
			t.Errorf("ConfigMap default/ha-probe of the old cluster is in the new one (was the etcd data dir not emptied?)")
		}
	})
	tm.add(t, "hw1 joins again, Ready", start)
}

// resetNode runs `kubelark run reset --force` on n as a user would. A
// failed reset fails the test, and the checks after it still run (they
// say what it left).
func resetNode(ctx context.Context, t *testing.T, kubelark string, n *node.Node) string {
	t.Helper()
	args := []string{kubelark, "run", "reset", "--force", "--service-command", n.ServiceCommand()}
	out, err := runStatus(ctx, t, n, args...)
	if err != nil {
		t.Errorf("reset of %s failed: %v; its output ends:\n%s", n.Name, err, lastLines(out, 15))
	}
	return out
}

// mountsBelow are the mount points strictly below /var/lib/kubelet.
func mountsBelow(mounts []string) []string {
	var out []string
	for _, m := range mounts {
		if strings.HasPrefix(m, "/var/lib/kubelet/") {
			out = append(out, m)
		}
	}
	return out
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// checkHoldsState: before its reset, n holds what checkResetNode looks
// for (files in its reset dirs, containers and sandboxes, a mount below
// /var/lib/kubelet: every node runs kube-proxy, whose service-account
// token is a projected tmpfs volume), so the checks after the reset can
// fail.
func checkHoldsState(ctx context.Context, t *testing.T, n *node.Node, before e2eutil.NodeState) {
	t.Helper()
	now, err := e2eutil.TakeNodeState(n)
	if err != nil {
		t.Fatal(err)
	}
	_, files := e2eutil.Added(before.Files, now.Files)
	objs, err := e2eutil.CRIObjects(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s before reset: %d files in %s, %d containers/sandboxes, mounts at or below /var/lib/kubelet: %q (when it started: %q)",
		n.Name, len(files), strings.Join(e2eutil.ResetDirs, ", "), len(objs), now.Mounts, before.Mounts)
	if len(files) == 0 || len(objs) == 0 || len(mountsBelow(now.Mounts)) == 0 {
		t.Errorf("%s before reset holds nothing for the reset checks to find (files %d, containers %d, mounts %q): they would prove nothing", n.Name, len(files), len(objs), now.Mounts)
	}
}

// checkResetNode compares n after a reset with its state before init or
// join: no file added in its reset dirs and no directory but keptDirs, no
// container or sandbox left in its containerd, no mount below
// /var/lib/kubelet (the directory itself stays mounted: the node's own
// tmpfs, and the kubelet's rshared bind mount of its root dir; kubeadm
// unmounts only mount points below "/var/lib/kubelet/"), the kubelet
// stopped.
func checkResetNode(ctx context.Context, t *testing.T, n *node.Node, before e2eutil.NodeState) {
	t.Helper()
	after, err := e2eutil.TakeNodeState(n)
	if err != nil {
		t.Fatal(err)
	}
	dirs, files := e2eutil.Added(before.Files, after.Files)
	if len(files) > 0 {
		t.Errorf("%s after reset: %d files kubelark wrote (or the kubelet or Pods did) are still there:\n\t%s", n.Name, len(files), strings.Join(files, "\n\t"))
	}
	var extra []string
	for _, d := range dirs {
		if !keptDirs[d] {
			extra = append(extra, d)
		}
	}
	if len(extra) > 0 {
		t.Errorf("%s after reset: directories that were not there before init/join and that kubeadm's reset does not keep:\n\t%s", n.Name, strings.Join(extra, "\n\t"))
	}
	if below := mountsBelow(after.Mounts); len(below) > 0 {
		t.Errorf("%s after reset: mounts below /var/lib/kubelet are left: %q", n.Name, below)
	}
	if !reflect.DeepEqual(after.Mounts, before.Mounts) {
		// The directory itself: the node's tmpfs, and the kubelet's own
		// rshared bind mount of its root dir, which kubeadm's reset leaves
		// too (it unmounts only below "/var/lib/kubelet/").
		t.Logf("%s after reset: mounts at /var/lib/kubelet %q (when the node started: %q)", n.Name, after.Mounts, before.Mounts)
	}
	if len(after.Mounts) == 0 {
		t.Errorf("%s after reset: /var/lib/kubelet is no longer mounted at all: the node's own tmpfs was unmounted (kubeadm unmounts only below the directory)", n.Name)
	}
	objs, err := e2eutil.CRIObjects(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) > 0 {
		l := make([]string, len(objs))
		for i, o := range objs {
			l[i] = o.String()
		}
		t.Errorf("%s after reset: %d containers/sandboxes left in its containerd:\n\t%s", n.Name, len(objs), strings.Join(l, "\n\t"))
	}
	if out, err := n.Exec(ctx, filepath.Join(n.Dir, "node-svc"), "is-active", "kubelet"); err == nil {
		t.Errorf("%s after reset: the kubelet is still active: %s", n.Name, strings.TrimSpace(string(out)))
	}
}

// checkEtcdGone: on the last control-plane node etcd no longer runs (its
// Pod sandbox is removed; its member was not removed, as kubeadm leaves
// the last member, and its data dir is empty: checkResetNode).
func checkEtcdGone(ctx context.Context, t *testing.T, n *node.Node) {
	t.Helper()
	for _, port := range []string{"2379", "2380", "6443"} {
		if c, err := n.DialContext(ctx, "tcp", n.IP+":"+port); err == nil {
			c.Close()
			t.Errorf("%s after reset: something still listens on %s:%s", n.Name, n.IP, port)
		}
	}
}

// checkServesThroughLB writes ConfigMaps through the load balancer, each
// on a new connection, and reads them back: the first write may wait for
// haproxy's health checks to take the reset node out; the next ones must
// succeed at once.
func checkServesThroughLB(ctx context.Context, t *testing.T, cp1 *node.Node, prefix string) {
	t.Helper()
	lb := func() kubernetes.Interface { return haClient(t, cp1, cp1, haLBIP) }
	const n = 6
	writeThroughLB(ctx, t, lb, prefix, n, "")
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s-%d", prefix, i)
		if _, err := lb().CoreV1().ConfigMaps("default").Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("read %s back through the load balancer: %v", name, err)
		}
	}
}

// writeThroughLB creates ConfigMaps <prefix>-0 .. <prefix>-(n-1) in
// default through lb (a new client, so a new connection, each time): the
// first may be retried for 30s while haproxy's health checks move traffic
// off a node that went away, every later one must succeed at once. when
// says in the messages under which condition ("" or " with hcp2 down").
// It returns how long the first write took.
func writeThroughLB(ctx context.Context, t *testing.T, lb func() kubernetes.Interface, prefix string, n int, when string) time.Duration {
	t.Helper()
	write := func(i int) error {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, i), Namespace: "default"}}
		_, err := lb().CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{})
		return err
	}
	first := time.Now()
	for {
		err := write(0)
		if err == nil {
			break
		}
		if time.Since(first) > 30*time.Second {
			t.Fatalf("no write through the load balancer%s succeeded within 30s: %v", when, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	took := time.Since(first)
	for i := 1; i < n; i++ {
		if err := write(i); err != nil {
			t.Errorf("write %d through the load balancer%s: %v", i, when, err)
		}
	}
	return took
}
