package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

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
