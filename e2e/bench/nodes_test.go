package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubelark/kubelark/e2e/node"
)

// netPrefix is this package's test network; its nodes are bn1 and bn2
// (other e2e packages use other prefixes and names, so they can run at the
// same time).
const netPrefix = "10.79.0"

// logWriter sends harness progress to stderr (visible while a long
// benchmark runs, and never mixed into the benchmark lines on stdout).
type logWriter struct{ prefix string }

func (l logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		fmt.Fprintf(os.Stderr, "%s%s\n", l.prefix, line)
	}
	return len(p), nil
}

func newNetwork(b *testing.B) *node.Network {
	b.Helper()
	nw, err := node.NewNetwork(context.Background(), netPrefix, logWriter{"[bench] "})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := nw.Close(context.Background()); err != nil {
			b.Errorf("network teardown: %v", err)
		}
	})
	return nw
}

// testNode is a started node that is torn down once: by its user when a
// benchmark needs a fresh node per iteration, else at cleanup.
type testNode struct {
	*node.Node
	closed bool
}

func (n *testNode) close(b *testing.B) {
	if n.closed {
		return
	}
	n.closed = true
	if b.Failed() {
		for _, l := range []string{"kubelet", "containerd"} {
			fmt.Fprintf(os.Stderr, "--- node %s %s log (tail) ---\n%s\n", n.Name, l, n.LogTail(l, 40))
		}
	}
	if err := n.Close(context.Background()); err != nil {
		b.Errorf("node %s teardown: %v", n.Name, err)
	}
}

func startNode(b *testing.B, nw *node.Network, name string, imgs []string, binDir string) *testNode {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, err := nw.New(ctx, node.Config{Name: name, BinDir: binDir, Images: imgs, Log: logWriter{"[bench] "}})
	if err != nil {
		b.Fatalf("node %s: %v", name, err)
	}
	tn := &testNode{Node: n}
	b.Cleanup(func() { tn.close(b) })
	return tn
}

// clientFor builds a clientset from a kubeconfig inside the node, dialling
// through the node's network namespace.
func clientFor(n *node.Node, kubeconfig string) (*kubernetes.Clientset, error) {
	data, err := n.ReadFile(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read %s in node %s: %w", kubeconfig, n.Name, err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kubeconfig, err)
	}
	cfg.Dial = n.DialContext
	cfg.Timeout = 10 * time.Second
	return kubernetes.NewForConfig(cfg)
}

// waitReadyz polls /readyz every 100 ms until it answers "ok".
func waitReadyz(ctx context.Context, cs *kubernetes.Clientset) error {
	var last string
	for {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && string(body) == "ok" {
			return nil
		}
		last = fmt.Sprintf("%s %v", body, err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("API server /readyz not ok: %s", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var controlPlaneComponents = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// waitControlPlanePods polls every 250 ms until the mirror Pods of the four
// static Pods of nodeName are Running and Ready.
func waitControlPlanePods(ctx context.Context, cs *kubernetes.Clientset, nodeName string) error {
	var last string
	for {
		var missing []string
		for _, c := range controlPlaneComponents {
			p, err := cs.CoreV1().Pods("kube-system").Get(ctx, c+"-"+nodeName, metav1.GetOptions{})
			if err != nil {
				missing = append(missing, fmt.Sprintf("%s: %v", c, err))
				continue
			}
			if !podReady(p) {
				missing = append(missing, fmt.Sprintf("%s: phase %s, not ready", c, p.Status.Phase))
			}
		}
		if len(missing) == 0 {
			return nil
		}
		last = strings.Join(missing, "; ")
		select {
		case <-ctx.Done():
			return fmt.Errorf("control-plane Pods on %s not ready: %s", nodeName, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func podReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
