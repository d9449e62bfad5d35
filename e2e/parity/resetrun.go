package parity

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// resetArgs is each tool's reset, as a user runs it on the node: without
// a prompt, with the node's CRI socket named (kubeadm would detect it;
// naming it keeps both on the same input), kubelark reaching the node's
// kubelet through its service command.
func resetArgs(tools Tools, tool string, n *node.Node) []string {
	if tool == "kubelark" {
		return []string{tools.Kubelark, "reset", "--force", "--cri-socket", "unix://" + node.ContainerdSocket,
			"--service-command", n.ServiceCommand()}
	}
	return []string{tools.Kubeadm, "reset", "--force", "--cri-socket", "unix://" + node.ContainerdSocket}
}

// resetNode runs tool's reset on the joined node n, checks that it left no
// container, pod sandbox or mount below /var/lib/kubelet on the node, and
// copies what is left of the roots into out (nothing excluded: every file
// left is compared).
func resetNode(ctx context.Context, tools Tools, tool string, n *node.Node, out *Output) error {
	args := resetArgs(tools, tool, n)
	cmd := n.Command(ctx, args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	err := cmd.Run()
	out.Log = log.String()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, out.Log)
	}
	if err := checkNodeClean(ctx, n); err != nil {
		return fmt.Errorf("after %s reset: %w\n%s", tool, err, out.Log)
	}
	return copyRoots(ctx, n, out, nil)
}

// checkNodeClean fails when n's containerd still has a container or pod
// sandbox (in the CRI's namespace k8s.io), or a mount point is left below /var/lib/kubelet in n's mount
// namespace (the directory itself is the node's private tmpfs and stays).
func checkNodeClean(ctx context.Context, n *node.Node) error {
	// A pod sandbox is a (pause) container to containerd: one list has both.
	out, err := n.Exec(ctx, "ctr", "-n", "k8s.io", "-a", node.ContainerdSocket, "containers", "ls", "-q")
	if err != nil {
		return fmt.Errorf("list %s's containers: %w: %s", n.Name, err, out)
	}
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		return fmt.Errorf("%s still has %d containers or pod sandboxes: %v", n.Name, len(ids), ids)
	}
	mounts, err := n.Exec(ctx, "cat", "/proc/self/mounts")
	if err != nil {
		return fmt.Errorf("mounts of %s: %w", n.Name, err)
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], "/var/lib/kubelet/") {
			return fmt.Errorf("%s still has a mount below /var/lib/kubelet: %s", n.Name, line)
		}
	}
	return nil
}

// checkEtcdOnly waits until the etcd of cp lists cp as its only member: a
// control-plane node's reset removed its own member.
func checkEtcdOnly(ctx context.Context, cp *node.Node) error {
	c, err := e2eutil.EtcdHTTPClient(cp, 15*time.Second)
	if err != nil {
		return err
	}
	var list struct {
		Members []struct {
			Name string `json:"name"`
		} `json:"members"`
	}
	if err := e2eutil.EtcdCall(ctx, c, "POST", "https://"+cp.IP+":2379/v3/cluster/member/list", "{}", &list); err != nil {
		return err
	}
	if len(list.Members) != 1 || list.Members[0].Name != cp.Name {
		return fmt.Errorf("etcd members after the reset are %+v, want only %s", list.Members, cp.Name)
	}
	return nil
}
