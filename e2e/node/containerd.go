package node

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// containerdConfig is the node's containerd 1.6 configuration. Root (content,
// snapshots) is on disk in the node directory; state, the sockets and the
// shim sockets are in the node's private tmpfs on /run/containerd.
// restrict_oom_score_adj: runc cannot lower oom_score_adj without
// CAP_SYS_RESOURCE, and every sandbox would fail ("can't get final child's
// PID from pipe: EOF"). SystemdCgroup=false: no systemd here; the kubelet
// uses cgroupDriver cgroupfs.
const containerdConfig = `version = 2
root = %[1]q
state = "/run/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = %[2]q

[ttrpc]
  address = "/run/containerd/containerd.sock.ttrpc"

[debug]
  address = "/run/containerd/debug.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = %[3]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[4]q
  restrict_oom_score_adj = true
  # Pod network namespaces under the state dir (the node's private
  # /run/containerd), not the host's /run/netns, where their mount points
  # would be left behind as empty files when the node's mount namespace ends.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
`

// SandboxImage is the pause image the node's containerd uses.
const SandboxImage = "registry.k8s.io/pause:3.10.2"

// startContainerd starts the node's containerd inside the node's namespaces,
// in its own session (not a child of the holder, which reaps nothing), and
// waits until it answers.
func (n *Node) startContainerd(ctx context.Context) error {
	dir := filepath.Join(n.Dir, "containerd")
	cfg := filepath.Join(dir, "config.toml")
	body := fmt.Sprintf(containerdConfig, filepath.Join(dir, "root"), ContainerdSocket, filepath.Join(dir, "opt"), SandboxImage)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		return err
	}
	lf, err := os.Create(n.LogPath("containerd"))
	if err != nil {
		return err
	}
	defer lf.Close()
	cmd := exec.Command("nsenter", "-t", strconv.Itoa(n.HolderPID()), "-m", "-n", "-u", "--", "containerd", "--config", cfg)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), "PATH="+n.path())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("node %s: start containerd: %w", n.Name, err)
	}
	n.ctrd = cmd
	n.ctrdCh = make(chan struct{})
	go func() { cmd.Wait(); close(n.ctrdCh) }()
	if err := os.WriteFile(filepath.Join(n.Dir, "containerd.pid"), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		return err
	}
	for {
		if _, err := os.Stat(n.HostPath(ContainerdSocket)); err == nil {
			if _, err := n.Exec(ctx, "ctr", "-a", ContainerdSocket, "version"); err == nil {
				return nil
			}
		}
		select {
		case <-n.ctrdCh:
			return fmt.Errorf("node %s: containerd exited during start-up; log %s:\n%s", n.Name, n.LogPath("containerd"), n.LogTail("containerd", 20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Since(start) > 30*time.Second {
			return fmt.Errorf("node %s: containerd not answering on %s after 30s; log %s:\n%s", n.Name, ContainerdSocket, n.LogPath("containerd"), n.LogTail("containerd", 20))
		}
	}
}
