// Package e2eutil holds what every test package of the e2e module needs to
// bring up nodes and talk to their API servers: preparation (packages,
// binaries, images), networks, nodes, commands inside a node, clients,
// readiness waits and the kubeadm configuration this machine kind needs.
package e2eutil

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

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

// Prepare installs host packages and builds the binaries and images once per
// test binary (cached across runs; a cold build takes a long while).
func Prepare(t testing.TB) (binDir string, imgs []string) {
	t.Helper()
	if err := node.CheckHost(); err != nil {
		t.Fatal(err)
	}
	prep.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
		defer cancel()
		start := time.Now()
		if prep.err = sysdeps.Ensure(ctx, os.Stderr); prep.err != nil {
			return
		}
		if prep.binDir, prep.err = build.Ensure(ctx, build.Options{Log: os.Stderr, Nice: true}); prep.err != nil {
			return
		}
		prep.images, prep.err = images.Ensure(ctx, prep.binDir, os.Stderr)
		fmt.Fprintf(os.Stderr, "e2e: binaries and images ready in %s\n", time.Since(start).Round(time.Second))
	})
	if prep.err != nil {
		t.Fatalf("e2e preparation: %v", prep.err)
	}
	return prep.binDir, prep.images
}

// TLog routes harness messages to t.Log.
type TLog struct{ T testing.TB }

func (l TLog) Write(p []byte) (int, error) {
	l.T.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// NewNetwork creates the test bridge for prefix3 ("10.78.0"), removed when
// the test ends. Each test package uses its own prefix.
func NewNetwork(t testing.TB, prefix3 string) *node.Network {
	t.Helper()
	nw, err := node.NewNetwork(context.Background(), prefix3, TLog{t})
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

// StartNode starts a control-plane-capable node (every image imported) with
// the given name and address ("" = the network's next address). It is safe
// to call from several goroutines when each node has its own ip.
func StartNode(ctx context.Context, t testing.TB, nw *node.Network, name, ip string) (*node.Node, error) {
	return StartNodeConfig(ctx, t, nw, node.Config{Name: name, IP: ip})
}

// StartNodeConfig starts a node; an empty BinDir or Images list is filled by
// Prepare, an empty Log is t.Log. On test failure the tails of its logs are
// printed before it is torn down at the end of the test.
func StartNodeConfig(ctx context.Context, t testing.TB, nw *node.Network, cfg node.Config) (*node.Node, error) {
	binDir, imgs := Prepare(t)
	if cfg.BinDir == "" {
		cfg.BinDir = binDir
	}
	if cfg.Images == nil {
		cfg.Images = imgs
	}
	if cfg.Log == nil {
		cfg.Log = TLog{t}
	}
	start := time.Now()
	n, err := nw.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", cfg.Name, err)
	}
	t.Logf("node %s (%s) up in %s", cfg.Name, n.IP, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range []string{"kubelet", "containerd"} {
				t.Logf("--- node %s %s log (tail) ---\n%s", cfg.Name, l, n.LogTail(l, 40))
			}
		}
		if err := n.Close(context.Background()); err != nil {
			t.Errorf("node %s teardown: %v", cfg.Name, err)
		}
	})
	return n, nil
}

// Run runs a command inside the node, streaming its output to stderr with
// the node's name as prefix, and returns the output; the error names the
// command.
func Run(ctx context.Context, n *node.Node, args ...string) (string, error) {
	fmt.Fprintf(os.Stderr, "[%s] $ %s\n", n.Name, strings.Join(args, " "))
	var buf bytes.Buffer
	cmd := n.Command(ctx, args...)
	w := io.MultiWriter(&buf, &PrefixWriter{Prefix: "[" + n.Name + "] ", W: os.Stderr})
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return buf.String(), fmt.Errorf("[%s] %s: %w", n.Name, strings.Join(args, " "), err)
	}
	return buf.String(), nil
}

// PrefixWriter writes complete lines with a prefix.
type PrefixWriter struct {
	Prefix string
	W      io.Writer
	buf    []byte
	mu     sync.Mutex
}

func (p *PrefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		fmt.Fprintf(p.W, "%s%s\n", p.Prefix, p.buf[:i])
		p.buf = p.buf[i+1:]
	}
}

// RESTConfig builds a client configuration from a kubeconfig inside the
// node, dialling through the node's network namespace. The server is
// replaced by the node's own address (same port): a control-plane endpoint
// given as a DNS name resolves only inside the node, and the API server
// certificate carries the node address as a SAN.
func RESTConfig(n *node.Node, kubeconfig string) (*rest.Config, error) {
	b, err := n.ReadFile(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read %s in node %s: %w", kubeconfig, n.Name, err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s in node %s: %w", kubeconfig, n.Name, err)
	}
	u, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("%s in node %s: server %q: %w", kubeconfig, n.Name, cfg.Host, err)
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	if net.ParseIP(u.Hostname()) == nil {
		u.Host = net.JoinHostPort(n.IP, port)
		cfg.Host = u.String()
	}
	cfg.Dial = n.DialContext
	cfg.Timeout = 15 * time.Second
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}
