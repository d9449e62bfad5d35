// Package node runs e2e test nodes on this machine: each node is a network
// namespace on a shared test bridge plus one private mount (and UTS)
// namespace in which the node's own containerd and a real kubelet run, so
// /etc/kubernetes, /var/lib/kubelet, /var/lib/etcd and /run/containerd are
// private to it while programs and the Go build cache are shared.
// /work/shared/reference/real-node.md records why each step is as it is.
package node

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Prefix starts the name of every network namespace, cgroup and veth the
// harness creates, so e2e-clean can find leftovers of a crashed run.
const Prefix = "kle2e-"

// StateEnv overrides DefaultStateDir.
const StateEnv = "KUBELARK_E2E_STATE"

// DefaultStateDir holds one directory per node (containerd root, logs, pid
// files, the node-svc script). It must be on a disk filesystem (overlayfs
// snapshots), not on tmpfs.
const DefaultStateDir = "/var/lib/kubelark-e2e/nodes"

// StateDir returns $KUBELARK_E2E_STATE or DefaultStateDir.
func StateDir() string {
	if d := os.Getenv(StateEnv); d != "" {
		return d
	}
	return DefaultStateDir
}

// Network is a test bridge living in its own network namespace; nodes attach
// to it with one veth each. Nothing is added to the host's network namespace.
type Network struct {
	NS      string // network namespace of the bridge
	Prefix3 string // first three octets of the /24, e.g. "10.77.0"
	Gateway string // the bridge's address, each node's default route
	next    int
	log     io.Writer
}

// NewNetwork creates the bridge namespace Prefix+"br"+<second octet>-<third octet> with br0
// at <prefix3>.1/24 (prefix3 e.g. "10.77.0").
func NewNetwork(ctx context.Context, prefix3 string, log io.Writer) (*Network, error) {
	if log == nil {
		log = io.Discard
	}
	octets := strings.Split(prefix3, ".")
	if len(octets) != 3 || net.ParseIP(prefix3+".1") == nil {
		return nil, fmt.Errorf("test network prefix %q: want the first three octets of a /24, e.g. 10.77.0", prefix3)
	}
	// One bridge namespace per /24, so test binaries of different packages
	// (go test runs them in parallel) can use different networks: named by
	// two octets, as 10.77.0 and 10.78.0 must not share one.
	n := &Network{NS: Prefix + "br" + octets[1] + "-" + octets[2], Prefix3: prefix3, Gateway: prefix3 + ".1", next: 11, log: log}
	if _, err := os.Stat("/run/netns/" + n.NS); err == nil {
		return nil, fmt.Errorf("network namespace %s already exists: another e2e run is active or one crashed; run `make e2e-clean` (go run ./cmd/e2e-clean in e2e/)", n.NS)
	}
	steps := [][]string{
		{"ip", "netns", "add", n.NS},
		{"ip", "-n", n.NS, "link", "set", "lo", "up"},
		{"ip", "-n", n.NS, "link", "add", "br0", "type", "bridge"},
		{"ip", "-n", n.NS, "addr", "add", n.Gateway + "/24", "dev", "br0"},
		{"ip", "-n", n.NS, "link", "set", "br0", "up"},
	}
	if err := runAll(ctx, steps); err != nil {
		n.Close(context.Background())
		return nil, fmt.Errorf("test network: %w", err)
	}
	return n, nil
}

// Close deletes the bridge namespace (and with it every node's veth peer).
func (n *Network) Close(ctx context.Context) error {
	return deleteNetns(ctx, n.NS)
}

// nextIP hands out node addresses .11, .12, ...
func (n *Network) nextIP() string {
	ip := fmt.Sprintf("%s.%d", n.Prefix3, n.next)
	n.next++
	return ip
}

// attach creates the node's network namespace with eth0 (ip/24) bridged to
// br0, lo up and a default route via the gateway (kubeadm and the kubelet
// pick the node address from the default route).
func (n *Network) attach(ctx context.Context, name, ip string) (string, error) {
	ns := Prefix + name
	if _, err := os.Stat("/run/netns/" + ns); err == nil {
		return "", fmt.Errorf("network namespace %s already exists; run `make e2e-clean`", ns)
	}
	veth := vethName(name)
	steps := [][]string{
		{"ip", "netns", "add", ns},
		{"ip", "-n", n.NS, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"ip", "-n", n.NS, "link", "set", veth, "master", "br0", "up"},
		{"ip", "-n", ns, "link", "set", "lo", "up"},
		{"ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0"},
		{"ip", "-n", ns, "link", "set", "eth0", "up"},
		{"ip", "-n", ns, "route", "add", "default", "via", n.Gateway},
	}
	if err := runAll(ctx, steps); err != nil {
		deleteNetns(context.Background(), ns)
		return "", fmt.Errorf("node %s network: %w", name, err)
	}
	return ns, nil
}

// vethName is the bridge-side end of a node's veth (at most 15 bytes).
func vethName(node string) string {
	v := "kv-" + node
	if len(v) > 15 {
		v = v[:15]
	}
	return v
}

func deleteNetns(ctx context.Context, ns string) error {
	if _, err := os.Stat(filepath.Join("/run/netns", ns)); err != nil {
		return nil
	}
	return run(ctx, "ip", "netns", "delete", ns)
}

func runAll(ctx context.Context, steps [][]string) error {
	for _, s := range steps {
		if err := run(ctx, s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
}

func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
