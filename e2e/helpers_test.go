// Package e2e drives real nodes (kubelet + containerd in namespaces, see
// package node) with kubeadm and the kubelark binary. Run as root:
//
//	cd e2e && go test -count=1 -v -timeout 60m ./...
//
// The tests fail (never skip) when the machine cannot run nodes, so a broken
// CI machine cannot pass silently.
package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// The helpers below adapt package e2eutil (shared by every e2e test
// package) to this package's tests: they fail the test instead of
// returning errors, and this package's nodes live on network 10.77.0.

// prepare installs host packages and builds binaries and images once per
// test binary (cached across runs; a cold build takes a long while).
func prepare(t *testing.T) (binDir string, imgs []string) { return e2eutil.Prepare(t) }

// newNetwork creates this package's test bridge, removed when the test ends.
func newNetwork(t *testing.T) *node.Network { return e2eutil.NewNetwork(t, "10.77.0") }

// newNode starts a control-plane-capable node.
func newNode(t *testing.T, nw *node.Network, name string) *node.Node {
	t.Helper()
	return startNode(t, nw, node.Config{Name: name})
}

// newWorker starts a node with only the pause image: a worker runs no
// control-plane Pods (its kube-proxy Pod stays pending: no image is built).
func newWorker(t *testing.T, nw *node.Network, name string) *node.Node {
	t.Helper()
	_, imgs := prepare(t)
	pause := []string{}
	for _, i := range imgs {
		if filepath.Base(i) == "pause.tar" {
			pause = append(pause, i)
		}
	}
	return startNode(t, nw, node.Config{Name: name, Images: pause})
}

func startNode(t *testing.T, nw *node.Network, cfg node.Config) *node.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, err := e2eutil.StartNodeConfig(ctx, t, nw, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// run runs a command inside the node, logs its output and fails the test on error.
func run(ctx context.Context, t *testing.T, n *node.Node, args ...string) string {
	t.Helper()
	out, err := runStatus(ctx, t, n, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runStatus runs a command inside the node, streams and returns its
// combined output and its error (a failing command is not a test failure:
// the bad-input tests expect some).
func runStatus(ctx context.Context, t *testing.T, n *node.Node, args ...string) (string, error) {
	t.Helper()
	start := time.Now()
	out, err := e2eutil.Run(ctx, n, args...)
	t.Logf("[%s] %s: done in %s (%s)", n.Name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond), errOrOK(err))
	return out, err
}

func errOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// clientFor builds a clientset from a kubeconfig inside the node, dialling
// through the node's network namespace.
func clientFor(t *testing.T, n *node.Node, kubeconfig string) *kubernetes.Clientset {
	t.Helper()
	cs, err := e2eutil.ClientFor(n, kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// restConfigFor is the client configuration of a kubeconfig inside the node.
func restConfigFor(t *testing.T, n *node.Node, kubeconfig string) *rest.Config {
	t.Helper()
	cfg, err := e2eutil.RESTConfig(n, kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// waitReadyz polls the API server's /readyz until it answers "ok".
func waitReadyz(ctx context.Context, t *testing.T, cs *kubernetes.Clientset) {
	t.Helper()
	if err := e2eutil.WaitReadyz(ctx, cs, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

// waitControlPlanePods waits until the mirror Pods of the four static Pods of
// nodeName are Running and Ready.
func waitControlPlanePods(ctx context.Context, t *testing.T, cs *kubernetes.Clientset, nodeName string) {
	t.Helper()
	if err := e2eutil.WaitControlPlanePods(ctx, cs, nodeName, time.Second); err != nil {
		t.Fatal(err)
	}
}

// repoRoot is the kubelark module (the parent of this e2e module).
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(wd)
	if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !bytes.Contains(b, []byte("module github.com/kubelark/kubelark\n")) {
		t.Fatalf("kubelark module not found at %s (the e2e tests run from e2e/)", root)
	}
	return root
}

// buildKubelark builds ./cmd/kubelark of the repository into a temp dir.
func buildKubelark(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "kubelark")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/kubelark")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the kubelark binary (go build ./cmd/kubelark in %s) failed; the e2e tests drive that binary:\n%v\n%s", cmd.Dir, err, b)
	}
	return out
}
