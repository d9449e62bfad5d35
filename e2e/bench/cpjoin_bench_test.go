package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// controlPlaneJoinConfig is the JoinConfiguration both tools get for a
// control-plane join: token discovery as for a worker, plus this node's
// API endpoint and the key of the kubeadm-certs Secret init uploaded.
const controlPlaneJoinConfig = workerJoinConfig + `controlPlane:
  localAPIEndpoint:
    advertiseAddress: %[6]s
    bindPort: 6443
  certificateKey: %[7]s
`

// CPRoundsEnv sets the control-plane join rounds (default 1: one
// costs about half a minute with the node's start, and every join but the
// last is undone with a reset whose etcd member removal must leave the
// one-member cluster its quorum).
const CPRoundsEnv = "KUBELARK_BENCH_CP_ROUNDS"

func cpJoinRounds(b *testing.B) int {
	v := os.Getenv(CPRoundsEnv)
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number of rounds", CPRoundsEnv, v)
	}
	return n
}

// BenchmarkControlPlaneJoin: a second control-plane node (stacked etcd)
// joins a control plane made by `kubelark run init --upload-certs` on bn1
// (its ClusterConfiguration names bn1's address as controlPlaneEndpoint,
// which a control-plane join needs), with the same JoinConfiguration for
// both tools; timed from the start of the tool to the joined node's own
// API server answering /readyz at its address and the tool exited
// (ns/op: the later; both reported, as readyz and tool-exit). Between
// joins the joined node is reset with `kubeadm reset -f` (which removes
// its etcd member, so the one-member cluster keeps its quorum; bn1's
// /readyz is checked after it), torn down and its Node deleted. A fresh
// node each join (bn3, bn4); $KUBELARK_BENCH_CP_ROUNDS rounds (default 1).
//
// kubeadm joins first (a failed kubelark join may leave etcd without
// quorum; a failed join is reported as a benchmark error and the other
// tool's row is still measured). While `kubelark join --help` says
// --control-plane is not implemented (a build without it), only kubeadm's
// row is measured and the run says so.
func BenchmarkControlPlaneJoin(b *testing.B) {
	t, imgs := prepareNodes(b)
	// kubeadm first: a failed kubelark join may leave the cluster without
	// its etcd quorum, and kubeadm's figure is still worth having then.
	tools := []string{"kubeadm", "kubelark"}
	if !kubelarkJoinsControlPlanes(b, t) {
		fmt.Fprintln(os.Stderr, "[bench] kubelark join does not implement --control-plane yet (its --help says so): measuring kubeadm only")
		tools = []string{"kubeadm"}
	}
	nw := newNetwork(b)
	cp := startNode(b, nw, "bn1", imgs, t.BinDir)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()

	cfgText := Config(ConfigOptions{Address: cp.IP, NodeName: cp.Name, IgnoreSystemVerification: true})
	const cluster = "clusterName: kubernetes\n"
	if !strings.Contains(cfgText, cluster) {
		b.Fatalf("the e2e init configuration has no %q line to put controlPlaneEndpoint after", strings.TrimSpace(cluster))
	}
	cfgText = strings.Replace(cfgText, cluster, cluster+"controlPlaneEndpoint: "+cp.IP+":6443\n", 1)
	cfg := filepath.Join(cp.Dir, "init.yaml")
	if err := os.WriteFile(cfg, []byte(cfgText), 0o600); err != nil {
		b.Fatal(err)
	}
	keyBytes := make([]byte, 32)
	if _, err := rand.Read(keyBytes); err != nil {
		b.Fatal(err)
	}
	certKey := hex.EncodeToString(keyBytes)
	up, err := Measure(cp.Command(ctx, t.Kubelark, "run", "init", "--config", cfg, "--service-command", cp.ServiceCommand(),
		"--set", "upload_certs=true", "--set", "certificate_key="+certKey))
	if err != nil {
		b.Fatalf("bringing up the control plane on %s: %v", cp.Name, err)
	}
	m := printedKubeadmJoin.FindStringSubmatch(up.Output)
	if m == nil {
		b.Fatalf("kubelark run init printed no kubeadm join command:\n%s", tail(up.Output, 30))
	}
	endpoint, token, caHash := m[1], m[2], m[3]
	rc, err := e2eutil.RESTConfig(cp.Node, "/etc/kubernetes/super-admin.conf")
	if err != nil {
		b.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err == nil {
		err = e2eutil.WaitReadyz(ctx, cs, 100*time.Millisecond)
	}
	if err == nil {
		err = e2eutil.WaitControlPlanePods(ctx, cs, cp.Name, 250*time.Millisecond)
	}
	if err != nil {
		b.Fatalf("control plane on %s: %v", cp.Name, err)
	}
	fmt.Fprintf(os.Stderr, "[bench] control plane on %s up with controlPlaneEndpoint %s:6443 (kubelark run init --upload-certs: %s)\n",
		cp.Name, cp.IP, up.Wall.Round(time.Millisecond))

	samples := map[string][]Sample{}
	extra := map[string]map[string][]float64{"kubelark": {}, "kubeadm": {}}
	joinsLeft := cpJoinRounds(b) * len(tools)
	failed := map[string]bool{}
	for r := range cpJoinRounds(b) {
		seq := tools
		if r%2 == 1 && len(tools) == 2 {
			seq = []string{tools[1], tools[0]}
		}
		for i, tool := range seq {
			if failed[tool] {
				joinsLeft--
				continue
			}
			name := workerName(i)
			n := startNode(b, nw, name, imgs, t.BinDir)
			joinCfg := filepath.Join(n.Dir, "join.yaml")
			text := fmt.Sprintf(controlPlaneJoinConfig, endpoint, token, caHash, n.Name, node.ContainerdSocket, n.IP, certKey)
			if err := os.WriteFile(joinCfg, []byte(text), 0o600); err != nil {
				b.Fatal(err)
			}
			var cmd *exec.Cmd
			if tool == "kubelark" {
				cmd = n.Command(ctx, t.Kubelark, "join", "--config", joinCfg, "--service-command", n.ServiceCommand(), "-vv")
			} else {
				cmd = n.Command(ctx, t.Kubeadm, "join", "--config", joinCfg, "--v=6")
			}
			s, readyz, err := joinToServing(ctx, rc, n, cmd)
			if err == nil {
				if tool == "kubelark" {
					s.Requests, err = CountKubelarkRequests(s.Output)
				} else {
					s.Requests = CountKubeadmRequests(s.Output)
				}
			}
			if err != nil {
				// Reported (the run fails, bench-report says so), and
				// the other tool's rows are still measured.
				b.Errorf("round %d, %s control-plane join of %s: %v", r+1, tool, n.Name, err)
				failed[tool] = true
				if joinsLeft--; joinsLeft > 0 {
					resetControlPlane(ctx, b, t, cs, n)
				}
				continue
			}
			fmt.Fprintf(os.Stderr, "[bench] round %d %s control-plane join of %s: exit %s, its API server ready %s, %d tool requests%s\n",
				r+1, tool, n.Name, s.Wall.Round(time.Millisecond), readyz.Round(time.Millisecond), s.Requests, phaseLine(PhaseTimes(s.Output)))
			e := extra[tool]
			e["tool-exit-ms/op"] = append(e["tool-exit-ms/op"], ms(s.Wall))
			e["readyz-ms/op"] = append(e["readyz-ms/op"], ms(readyz))
			s.Wall = max(s.Wall, readyz)
			samples[tool] = append(samples[tool], s)
			if joinsLeft--; joinsLeft > 0 {
				resetControlPlane(ctx, b, t, cs, n)
			}
		}
	}
	for _, tool := range tools {
		if len(samples[tool]) > 0 {
			b.Run("tool="+tool, func(b *testing.B) { Report(b, samples[tool], extra[tool]) })
		}
	}
}

// kubelarkJoinsControlPlanes is false while the join recipe declares
// --control-plane as not yet implemented.
func kubelarkJoinsControlPlanes(b *testing.B, t Tools) bool {
	b.Helper()
	out, err := exec.Command(t.Kubelark, "join", "--help").CombinedOutput()
	if err != nil {
		b.Fatalf("kubelark join --help: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "--control-plane") && strings.Contains(line, "not yet implemented") {
			return false
		}
	}
	return true
}

// joinToServing runs cmd and, beside it, polls the joining node's own API
// server (its address, port 6443) for /readyz; it returns the tool's
// sample (Wall = its exit) and when /readyz first answered ok, both from
// the start.
func joinToServing(ctx context.Context, cpConfig *rest.Config, n *testNode, cmd *exec.Cmd) (Sample, time.Duration, error) {
	rc := rest.CopyConfig(cpConfig)
	rc.Host = "https://" + n.IP + ":6443"
	rc.Timeout = 2 * time.Second
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return Sample{}, 0, err
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	start := time.Now()
	ready := make(chan time.Duration, 1)
	go func() {
		for {
			body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(pctx)
			if err == nil && string(body) == "ok" {
				ready <- time.Since(start)
				return
			}
			select {
			case <-pctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	s, err := Measure(cmd)
	if err != nil {
		return s, 0, err
	}
	select {
	case d := <-ready:
		return s, d, nil
	case <-time.After(3 * time.Minute):
		return s, 0, fmt.Errorf("the API server of %s did not answer /readyz within 3m of the join's exit", n.Name)
	}
}

// resetControlPlane undoes a control-plane join: `kubeadm reset -f` on the
// node (removes its etcd member from the cluster), the node torn down,
// its Node and its mirror Pods deleted.
func resetControlPlane(ctx context.Context, b *testing.B, t Tools, cs kubernetes.Interface, n *testNode) {
	b.Helper()
	out, err := n.Command(ctx, t.Kubeadm, "reset", "-f").CombinedOutput()
	if err != nil {
		b.Fatalf("kubeadm reset -f on %s: %v\n%s", n.Name, err, tail(string(out), 20))
	}
	n.close(b)
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := e2eutil.WaitReadyz(rctx, cs, 250*time.Millisecond); err != nil {
		b.Fatalf("the control plane is not ready after kubeadm reset -f of %s (its etcd member not removed?): %v\nreset said:\n%s", n.Name, err, tail(string(out), 30))
	}
	if err := cs.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		b.Fatalf("deleting Node %s: %v", n.Name, err)
	}
	for {
		_, err := cs.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if ctx.Err() != nil {
			b.Fatalf("Node %s not deleted: %v", n.Name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The node's mirror Pods (etcd-<node>, ...) outlive it until the pod
	// garbage collector's next sweep; the next join must find the cluster
	// as the first one did (one control-plane node, one etcd Pod), so
	// they go now.
	sel := metav1.ListOptions{FieldSelector: "spec.nodeName=" + n.Name}
	zero := int64(0)
	for {
		pods, err := cs.CoreV1().Pods("kube-system").List(ctx, sel)
		if err != nil {
			b.Fatalf("listing the Pods of %s: %v", n.Name, err)
		}
		if len(pods.Items) == 0 {
			return
		}
		for _, p := range pods.Items {
			err := cs.CoreV1().Pods("kube-system").Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
			if err != nil && !apierrors.IsNotFound(err) {
				b.Fatalf("deleting Pod %s of %s: %v", p.Name, n.Name, err)
			}
		}
		if ctx.Err() != nil {
			b.Fatalf("the Pods of %s not deleted", n.Name)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
