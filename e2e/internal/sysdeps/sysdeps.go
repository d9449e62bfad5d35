// Package sysdeps installs the host programs the e2e nodes need (Debian's
// containerd and runc, iproute2, util-linux, haproxy as the HA test's load
// balancer, the CNI plugins, and iptables, whose nft binary and libraries go
// into the kube-proxy image), so a fresh CI machine can run the suite. It is
// idempotent: nothing happens when every program is present.
package sysdeps

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// Programs maps each required program to the Debian package providing it.
var Programs = map[string]string{
	"containerd": "containerd",
	"ctr":        "containerd",
	"runc":       "runc",
	"ip":         "iproute2",
	"nsenter":    "util-linux",
	"unshare":    "util-linux",
	"setsid":     "util-linux",
	"mount":      "mount",
	// The load balancer in front of the HA test's control-plane nodes, as
	// the Kubernetes HA guide sets one up; the tests run its binary inside
	// a node's namespaces (the package's own service is not used).
	"haproxy": "haproxy",
	// kube-proxy's iptables mode runs iptables-restore & co.: the image
	// carries Debian's nft-based binary with its libraries (images.Ensure).
	"xtables-nft-multi": "iptables",
	"ldd":               "libc-bin",
}

// Files maps files outside PATH to the Debian package providing them: the
// CNI plugins the nodes' containerd runs from /usr/lib/cni (Debian's
// location) when a test installs a bridge network (e2eutil.InstallCNI).
var Files = map[string]string{
	"/usr/lib/cni/bridge":     "containernetworking-plugins",
	"/usr/lib/cni/host-local": "containernetworking-plugins",
	"/usr/lib/cni/loopback":   "containernetworking-plugins",
	"/usr/lib/cni/portmap":    "containernetworking-plugins",
}

// Missing returns the Debian packages whose programs are not in PATH.
func Missing() []string {
	seen := map[string]bool{}
	var pkgs []string
	for prog, pkg := range Programs {
		if _, err := exec.LookPath(prog); err != nil && !seen[pkg] {
			seen[pkg] = true
			pkgs = append(pkgs, pkg)
		}
	}
	for f, pkg := range Files {
		if _, err := os.Stat(f); err != nil && !seen[pkg] {
			seen[pkg] = true
			pkgs = append(pkgs, pkg)
		}
	}
	return pkgs
}

// Ensure installs the missing packages with apt-get. It must run as root.
func Ensure(ctx context.Context, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	pkgs := Missing()
	if len(pkgs) == 0 {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("e2e: programs of packages %s are missing and installing them needs root; run as root or `apt-get install %s`", strings.Join(pkgs, ", "), strings.Join(pkgs, " "))
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("e2e: packages %s are missing and apt-get is not available; install them by hand", strings.Join(pkgs, ", "))
	}
	fmt.Fprintf(log, "installing %s with apt-get\n", strings.Join(pkgs, " "))
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	for _, args := range [][]string{
		{"update"},
		append([]string{"install", "-y", "--no-install-recommends"}, pkgs...),
	} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = env
		cmd.Stdout = log
		cmd.Stderr = log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %s: %w", strings.Join(args, " "), err)
		}
	}
	if still := Missing(); len(still) > 0 {
		return fmt.Errorf("e2e: after apt-get install, programs of %s are still missing from PATH", strings.Join(still, ", "))
	}
	return nil
}
