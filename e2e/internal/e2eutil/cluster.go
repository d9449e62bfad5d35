package e2eutil

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubelark/kubelark/e2e/node"
)

// CNIConfPath is where InstallCNI writes each node's network configuration,
// in the node's private /etc/cni/net.d (containerd's conf_dir). kubelark
// never writes there: users bring their own CNI, and so does the test.
const CNIConfPath = "/etc/cni/net.d/10-kubelark-e2e.conflist"

// CNIConflist is the simplest real Pod network a user would install: Debian's
// containernetworking-plugins (in /usr/lib/cni, the nodes' containerd
// bin_dir) with a Linux bridge cni0 per node, host-local addresses from the
// node's own Pod CIDR (host-local needs a fixed subnet, so the file is per
// node), masquerading of traffic leaving the Pod network, and portmap for
// hostPort. Traffic between nodes' Pod CIDRs is routed by InstallCNI.
func CNIConflist(podCIDR string) string {
	return fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "kubelark-e2e",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": %q}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`, podCIDR)
}

// InstallCNI gives the registered nodes a working Pod network, as a user
// with a plain bridge CNI does after init and join: it waits until the
// controller-manager has allocated each Node a spec.podCIDR (init must set a
// Pod subnet), writes CNIConflist(podCIDR) into that node, and routes every
// other node's Pod CIDR via that node's address (all nodes share one test
// bridge, so one hop). The kubelet then reports the node Ready. Call it
// again with every node after a join, so the routes cover the new node.
//
// First it points each node's resolv.conf at the network's gateway instead
// of 127.0.0.1 (see SetNameserver): CoreDNS (dnsPolicy Default) forwards to
// the node's nameserver, and a loopback one is CoreDNS itself inside its Pod,
// which its loop plugin detects and exits on. Nothing answers DNS on the
// gateway, so lookups outside the cluster still fail at once, as before.
func InstallCNI(ctx context.Context, cs kubernetes.Interface, nw *node.Network, nodes ...*node.Node) error {
	for _, n := range nodes {
		if err := SetNameserver(n, nw.Gateway); err != nil {
			return err
		}
	}
	cidrs := map[string]string{}
	for _, n := range nodes {
		cidr, err := waitPodCIDR(ctx, cs, n.Name)
		if err != nil {
			return err
		}
		cidrs[n.Name] = cidr
	}
	for _, n := range nodes {
		p := n.HostPath(CNIConfPath)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
		body := CNIConflist(cidrs[n.Name])
		if old, err := os.ReadFile(p); err != nil || string(old) != body {
			if err := os.WriteFile(p+".tmp", []byte(body), 0o644); err != nil {
				return fmt.Errorf("node %s: write %s: %w", n.Name, CNIConfPath, err)
			}
			if err := os.Rename(p+".tmp", p); err != nil {
				return fmt.Errorf("node %s: write %s: %w", n.Name, CNIConfPath, err)
			}
		}
		for _, o := range nodes {
			if o == n {
				continue
			}
			if out, err := n.Exec(ctx, "ip", "route", "replace", cidrs[o.Name], "via", o.IP); err != nil {
				return fmt.Errorf("node %s: route %s via %s (node %s): %w: %s", n.Name, cidrs[o.Name], o.IP, o.Name, err, strings.TrimSpace(string(out)))
			}
		}
	}
	return nil
}

// SetNameserver rewrites the node's /etc/resolv.conf (the host file the
// node's holder bind-mounts, so the same inode changes inside the node) to
// use ip as its nameserver. The kubelet copies it into Pods with dnsPolicy
// Default when it creates them, so call it before such Pods start.
func SetNameserver(n *node.Node, ip string) error {
	p := filepath.Join(n.Dir, "etc", "resolv.conf")
	if err := os.WriteFile(p, []byte("nameserver "+ip+"\noptions timeout:1 attempts:1\n"), 0o644); err != nil {
		return fmt.Errorf("node %s: resolv.conf: %w", n.Name, err)
	}
	return nil
}

// waitPodCIDR waits for the Node's spec.podCIDR (IPv4).
func waitPodCIDR(ctx context.Context, cs kubernetes.Interface, name string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var last string
	for {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			for _, c := range append([]string{n.Spec.PodCIDR}, n.Spec.PodCIDRs...) {
				if ip, _, err := net.ParseCIDR(c); err == nil && ip.To4() != nil {
					return c, nil
				}
			}
			last = "no IPv4 spec.podCIDR yet (does init set a Pod subnet, so the controller-manager allocates node CIDRs?)"
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("Node %s: %s", name, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// WaitNodesReady waits until every named Node reports Ready.
func WaitNodesReady(ctx context.Context, cs kubernetes.Interface, names []string, every time.Duration) error {
	var last string
	for {
		last = ""
		for _, name := range names {
			n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				last = fmt.Sprintf("Node %s: %v", name, err)
				break
			}
			if !nodeReady(n) {
				last = fmt.Sprintf("Node %s not Ready: %s", name, readyMessage(n))
				break
			}
		}
		if last == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s (%w)", last, ctx.Err())
		case <-time.After(every):
		}
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func readyMessage(n *corev1.Node) string {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return fmt.Sprintf("%s: %s", c.Reason, c.Message)
		}
	}
	return "no Ready condition yet"
}

// WorkerImages are the tarballs of imgs (Prepare's list) a worker of a
// working cluster needs: the sandbox, the add-ons that may run on it
// (kube-proxy on every node, CoreDNS wherever it is scheduled) and the
// netcheck test image, but no control-plane image.
func WorkerImages(imgs []string) []string {
	want := map[string]bool{"pause.tar": true, "kube-proxy.tar": true, "coredns.tar": true, "netcheck.tar": true}
	var out []string
	for _, i := range imgs {
		if want[filepath.Base(i)] {
			out = append(out, i)
		}
	}
	return out
}

// KubeProxyConfig is the KubeProxyConfiguration document a working test
// cluster adds to its init configuration. conntrack.maxPerCore 0 leaves the
// conntrack table size as it is (kind does the same): nf_conntrack_max is
// global and read-only outside the host's network namespace, so kube-proxy's
// default (raise it to 32768 per CPU) fails there with "permission denied"
// and kube-proxy exits.
const KubeProxyConfig = `---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
conntrack:
  maxPerCore: 0
`

// WorkingInitConfig is InitConfig (which sets the Pod subnet InstallCNI
// needs) plus KubeProxyConfig.
func WorkingInitConfig(o ConfigOptions) string { return InitConfig(o) + KubeProxyConfig }
