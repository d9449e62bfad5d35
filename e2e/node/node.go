package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Config describes a node to start.
type Config struct {
	Name   string   // node name and hostname; [a-z0-9-], at most 12 characters
	IP     string   // address on the test network; default: next free .11, .12, ...
	BinDir string   // directory with kubelet, kubeadm, ... (build.CacheDir())
	Images []string // docker-save tarballs imported into containerd's k8s.io namespace
	Log    io.Writer
}

// Node is a running test node: holder process (namespaces), containerd,
// and—once something calls the service command—a kubelet.
type Node struct {
	Name   string
	IP     string
	Dir    string // state directory on the host
	NetNS  string // network namespace name (under /run/netns)
	BinDir string
	holder *exec.Cmd
	// holderDone is closed when the holder exits (the harness reaps it).
	holderDone chan struct{}
	ctrd       *exec.Cmd
	ctrdCh     chan struct{} // closed when containerd exits
	log        io.Writer
}

// paths private to each node: a tmpfs is mounted on each inside the node's
// mount namespace. /run/containerd is among them because containerd 1.6
// puts its shim sockets under the fixed /run/containerd/s/.
var privateDirs = []string{
	"/etc/kubernetes",
	"/var/lib/kubelet",
	"/var/lib/etcd",
	"/run/containerd",
	"/var/log/pods",
	"/var/log/containers",
	"/etc/cni/net.d",
	"/var/lib/cni",
}

// ContainerdSocket is the node's CRI socket path inside the node: the
// default kubeadm and kubelark expect (/var/run is /run).
const ContainerdSocket = "/run/containerd/containerd.sock"

// New starts a node on the network: namespaces, containerd, images. On error
// everything started so far is torn down.
func (nw *Network) New(ctx context.Context, cfg Config) (_ *Node, err error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	if err := CheckHost(); err != nil {
		return nil, err
	}
	if cfg.IP == "" {
		cfg.IP = nw.nextIP()
	}
	n := &Node{Name: cfg.Name, IP: cfg.IP, Dir: filepath.Join(StateDir(), cfg.Name), BinDir: cfg.BinDir, log: cfg.Log}
	if _, err := os.Stat(n.Dir); err == nil {
		return nil, fmt.Errorf("node %s: state directory %s exists (leftover of a crashed run?); run `make e2e-clean`", n.Name, n.Dir)
	}
	for _, d := range []string{n.Dir, n.logDir(), filepath.Join(n.Dir, "containerd")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	defer func() {
		if err != nil {
			n.Close(context.Background())
		}
	}()
	start := time.Now()
	if n.NetNS, err = nw.attach(ctx, n.Name, n.IP); err != nil {
		return nil, err
	}
	if err := n.makeCgroups(); err != nil {
		return nil, err
	}
	if err := n.startHolder(ctx); err != nil {
		return nil, err
	}
	if err := n.writeScripts(); err != nil {
		return nil, err
	}
	if err := n.startContainerd(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(n.log, "node %s: namespaces and containerd up in %s\n", n.Name, time.Since(start).Round(time.Millisecond))
	t := time.Now()
	for _, img := range cfg.Images {
		if out, err := n.Exec(ctx, "ctr", "-n", "k8s.io", "-a", ContainerdSocket, "images", "import", img); err != nil {
			return nil, fmt.Errorf("node %s: import %s: %w\n%s", n.Name, img, err, out)
		}
	}
	fmt.Fprintf(n.log, "node %s: %d images imported in %s\n", n.Name, len(cfg.Images), time.Since(t).Round(time.Millisecond))
	return n, nil
}

func checkName(name string) error {
	if name == "" || len(name) > 12 || strings.HasPrefix(name, "br") {
		return fmt.Errorf("node name %q: must be 1-12 characters and not start with \"br\" (bridge namespaces are named %sbr...)", name, Prefix)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("node name %q: only a-z, 0-9 and - are allowed (it is a hostname and a veth name)", name)
		}
	}
	return nil
}

func (n *Node) logDir() string { return filepath.Join(n.Dir, "logs") }

// HolderPID is the process anchoring the node's namespaces.
func (n *Node) HolderPID() int { return n.holder.Process.Pid }

// startHolder starts the process that owns the node's mount and UTS
// namespaces, inside its network namespace. nsenter --net (not `ip netns
// exec`, which remounts /sys and hides the cgroup mounts) and unshare with
// slave propagation: host mounts still propagate in, none leak out.
func (n *Node) startHolder(ctx context.Context) error {
	var script strings.Builder
	// ip_forward is per network namespace and off in a new one; kubeadm's
	// preflight requires it.
	script.WriteString("set -e\nhostname " + n.Name + "\necho 1 > /proc/sys/net/ipv4/ip_forward\n")
	for _, d := range privateDirs {
		fmt.Fprintf(&script, "mkdir -p %s && mount -t tmpfs -o mode=0755 kle2e-%s %s\n", d, n.Name, d)
	}
	// The node's own /etc/hosts (its name resolves to its address, as on a
	// real machine) and /etc/resolv.conf: the host's DNS server is not
	// reachable from the test network, and a resolver on the node's own
	// loopback fails at once instead of timing out.
	for f, body := range map[string]string{
		"hosts":       fmt.Sprintf("127.0.0.1\tlocalhost\n::1\tlocalhost\n%s\t%s\n", n.IP, n.Name),
		"resolv.conf": "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
	} {
		p := filepath.Join(n.Dir, "etc", f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&script, "mount --bind %s /etc/%s\n", p, f)
	}
	fmt.Fprintf(&script, "touch %s\nexec sleep infinity\n", filepath.Join(n.Dir, "holder.ready"))
	lf, err := os.Create(filepath.Join(n.logDir(), "holder.log"))
	if err != nil {
		return err
	}
	defer lf.Close()
	cmd := exec.Command("nsenter", "--net=/run/netns/"+n.NetNS, "--",
		"unshare", "--mount", "--uts", "--propagation", "slave", "--", "/bin/sh", "-c", script.String())
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("node %s: start namespace holder: %w", n.Name, err)
	}
	n.holder = cmd
	n.holderDone = make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(n.holderDone) }()
	if err := os.WriteFile(filepath.Join(n.Dir, "holder.pid"), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		return err
	}
	deadline := time.After(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(n.Dir, "holder.ready")); err == nil {
			return nil
		}
		select {
		case <-n.holderDone:
			b, _ := os.ReadFile(lf.Name())
			return fmt.Errorf("node %s: namespace holder exited: %v: %s", n.Name, waitErr, bytes.TrimSpace(b))
		case <-deadline:
			return fmt.Errorf("node %s: namespace holder not ready after 10s", n.Name)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Command returns a command that runs inside the node's namespaces, with the
// node's systemctl stand-in and the binary cache (kubeadm, kubelet) first in
// PATH, like /usr/bin on a real node.
func (n *Node) Command(ctx context.Context, args ...string) *exec.Cmd {
	a := append([]string{"-t", strconv.Itoa(n.HolderPID()), "-m", "-n", "-u", "--"}, args...)
	cmd := exec.CommandContext(ctx, "nsenter", a...)
	cmd.Env = append(os.Environ(), "PATH="+n.path())
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// path puts the node's own bin (the systemctl stand-in) first, then the
// binary cache.
func (n *Node) path() string {
	return filepath.Join(n.Dir, "bin") + ":" + n.BinDir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

// Exec runs a command inside the node and returns its combined output.
func (n *Node) Exec(ctx context.Context, args ...string) ([]byte, error) {
	return n.Command(ctx, args...).CombinedOutput()
}

// ReadFile reads a file as the node sees it (its private mounts included),
// through the holder's root.
func (n *Node) ReadFile(path string) ([]byte, error) {
	return os.ReadFile(n.HostPath(path))
}

// HostPath is the host path through which path inside the node can be read
// or written while the node runs (/proc/<holder>/root/...).
func (n *Node) HostPath(path string) string {
	return filepath.Join(fmt.Sprintf("/proc/%d/root", n.HolderPID()), path)
}

// LogPath returns the host path of one of the node's logs
// ("kubelet", "containerd", "holder").
func (n *Node) LogPath(name string) string { return filepath.Join(n.logDir(), name+".log") }

// LogTail returns the last lines of a node log, for test failure messages.
func (n *Node) LogTail(name string, lines int) string {
	b, err := os.ReadFile(n.LogPath(name))
	if err != nil {
		return err.Error()
	}
	return lastLines(string(b), lines)
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

var errNotRoot = errors.New("the e2e nodes need root (network and mount namespaces, mounts, cgroups); run the tests as root")
