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
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubelark/kubelark/e2e/internal/build"
	"github.com/kubelark/kubelark/e2e/internal/images"
	"github.com/kubelark/kubelark/e2e/internal/sysdeps"
	"github.com/kubelark/kubelark/e2e/node"
)

var prep struct {
	once   sync.Once
	binDir string
	images []string
	err    error
}

// prepare installs host packages and builds binaries and images once per
// test binary (cached across runs; a cold build takes a long while).
func prepare(t *testing.T) (binDir string, imgs []string) {
	t.Helper()
	if err := node.CheckHost(); err != nil {
		t.Fatal(err)
	}
	prep.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
		defer cancel()
		log := &testLog{}
		start := time.Now()
		if prep.err = sysdeps.Ensure(ctx, log); prep.err != nil {
			return
		}
		if prep.binDir, prep.err = build.Ensure(ctx, build.Options{Log: log, Nice: true}); prep.err != nil {
			return
		}
		prep.images, prep.err = images.Ensure(ctx, prep.binDir, log)
		fmt.Fprintf(os.Stderr, "e2e: binaries and images ready in %s\n", time.Since(start).Round(time.Second))
	})
	if prep.err != nil {
		t.Fatalf("e2e preparation: %v", prep.err)
	}
	return prep.binDir, prep.images
}

// testLog forwards progress to stderr (go test -v shows it as it happens).
type testLog struct{}

func (testLog) Write(p []byte) (int, error) { return os.Stderr.Write(p) }

// tlog routes node harness messages to t.Log.
type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newNetwork creates the test bridge, removed when the test ends.
func newNetwork(t *testing.T) *node.Network {
	t.Helper()
	nw, err := node.NewNetwork(context.Background(), "10.77.0", tlog{t})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := nw.Close(context.Background()); err != nil {
			t.Errorf("network teardown: %v", err)
		}
	})
	return nw
}

// newNode starts a node; on test failure the tails of its logs are printed
// before it is torn down.
func newNode(t *testing.T, nw *node.Network, name string) *node.Node {
	t.Helper()
	binDir, imgs := prepare(t)
	return startNode(t, nw, name, binDir, imgs)
}

// newWorker starts a node with only the pause image: a worker runs no
// control-plane Pods (its kube-proxy Pod stays pending: no image is built).
func newWorker(t *testing.T, nw *node.Network, name string) *node.Node {
	t.Helper()
	binDir, imgs := prepare(t)
	var pause []string
	for _, i := range imgs {
		if filepath.Base(i) == "pause.tar" {
			pause = append(pause, i)
		}
	}
	return startNode(t, nw, name, binDir, pause)
}

func startNode(t *testing.T, nw *node.Network, name, binDir string, imgs []string) *node.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	n, err := nw.New(ctx, node.Config{Name: name, BinDir: binDir, Images: imgs, Log: tlog{t}})
	if err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	t.Logf("node %s (%s) up in %s", name, n.IP, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range []string{"kubelet", "containerd"} {
				t.Logf("--- node %s %s log (tail) ---\n%s", name, l, n.LogTail(l, 40))
			}
		}
		if err := n.Close(context.Background()); err != nil {
			t.Errorf("node %s teardown: %v", name, err)
		}
	})
	return n
}

// run runs a command inside the node, logs its output and fails the test on error.
func run(ctx context.Context, t *testing.T, n *node.Node, args ...string) string {
	t.Helper()
	out, err := runStatus(ctx, t, n, args...)
	if err != nil {
		t.Fatalf("[%s] %s: %v", n.Name, strings.Join(args, " "), err)
	}
	return out
}

// runStatus runs a command inside the node, streams and returns its
// combined output and its error (a failing command is not a test failure:
// the bad-input tests expect some).
func runStatus(ctx context.Context, t *testing.T, n *node.Node, args ...string) (string, error) {
	t.Helper()
	start := time.Now()
	fmt.Fprintf(os.Stderr, "[%s] $ %s\n", n.Name, strings.Join(args, " "))
	var buf bytes.Buffer
	cmd := n.Command(ctx, args...)
	// Stream the output as it comes (a stuck step is visible at once) and keep it.
	w := io.MultiWriter(&buf, &prefixWriter{prefix: "[" + n.Name + "] ", w: os.Stderr})
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	t.Logf("[%s] %s: done in %s (%v)", n.Name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond), errOrOK(err))
	return buf.String(), err
}

func errOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// prefixWriter writes complete lines with a prefix.
type prefixWriter struct {
	prefix string
	w      io.Writer
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.buf = p.buf[i+1:]
	}
}

// clientFor builds a clientset from a kubeconfig inside the node, dialling
// through the node's network namespace.
func clientFor(t *testing.T, n *node.Node, kubeconfig string) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(restConfigFor(t, n, kubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// restConfigFor is the client configuration of a kubeconfig inside the node,
// dialling through the node's network namespace.
func restConfigFor(t *testing.T, n *node.Node, kubeconfig string) *rest.Config {
	t.Helper()
	b, err := n.ReadFile(kubeconfig)
	if err != nil {
		t.Fatalf("read %s in node %s: %v", kubeconfig, n.Name, err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(b)
	if err != nil {
		t.Fatalf("%s: %v", kubeconfig, err)
	}
	cfg.Dial = n.DialContext
	cfg.Timeout = 10 * time.Second
	return cfg
}

// waitReadyz polls the API server's /readyz until it answers "ok".
func waitReadyz(ctx context.Context, t *testing.T, cs *kubernetes.Clientset) {
	t.Helper()
	var last string
	for {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && string(body) == "ok" {
			return
		}
		last = fmt.Sprintf("%s %v", body, err)
		select {
		case <-ctx.Done():
			t.Fatalf("API server /readyz not ok: %s", last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// controlPlaneComponents are the static Pods of a stacked control-plane node.
var controlPlaneComponents = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// waitControlPlanePods waits until the mirror Pods of the four static Pods of
// nodeName are Running and Ready.
func waitControlPlanePods(ctx context.Context, t *testing.T, cs *kubernetes.Clientset, nodeName string) {
	t.Helper()
	var last string
	for {
		missing := []string{}
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
			return
		}
		last = strings.Join(missing, "; ")
		select {
		case <-ctx.Done():
			t.Fatalf("control-plane Pods on %s not ready: %s", nodeName, last)
		case <-time.After(time.Second):
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
