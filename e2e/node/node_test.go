package node

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubelark/kubelark/e2e/internal/images"
)

// TestNodeLifecycle brings a node up without Kubernetes: containerd answers,
// an image imports, a container runs (proving the oom_score_adj setting),
// node-svc starts, restarts and stops a stand-in kubelet, and teardown
// leaves no process, namespace, cgroup or directory behind.
func TestNodeLifecycle(t *testing.T) {
	if err := CheckHost(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tmp := t.TempDir()

	// A stand-in kubelet that records its arguments and sleeps.
	fake := "#!/bin/sh\necho \"$@\" > /var/lib/kubelet/args\nexec sleep 1000\n"
	if err := os.WriteFile(filepath.Join(tmp, "kubelet"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	pause := filepath.Join(tmp, "pause")
	if out, err := exec.Command("go", "build", "-o", pause, "../cmd/pause").CombinedOutput(); err != nil {
		t.Fatalf("build pause: %v\n%s", err, out)
	}
	img := filepath.Join(tmp, "pause.tar")
	if err := images.Write(img, images.Image{Ref: SandboxImage, Files: []images.File{{Src: pause, Dest: "/pause", Mode: 0o755}}, Entrypoint: []string{"/pause"}}); err != nil {
		t.Fatal(err)
	}

	nw, err := NewNetwork(ctx, "10.77.9", tlog{t})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close(context.Background()) })
	n, err := nw.New(ctx, Config{Name: "lc1", BinDir: tmp, Images: []string{img}, Log: tlog{t}})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			n.Close(context.Background())
		}
	})

	if out, err := n.Exec(ctx, "hostname"); err != nil || strings.TrimSpace(string(out)) != "lc1" {
		t.Errorf("hostname in node = %q, %v; want lc1", out, err)
	}
	if out, err := n.Exec(ctx, "ip", "-4", "-o", "addr", "show", "eth0"); err != nil || !strings.Contains(string(out), "10.77.9.11/24") {
		t.Errorf("eth0 in node: %s %v", out, err)
	}
	// Private mounts: a file written in the node is not visible on the host.
	if _, err := n.Exec(ctx, "sh", "-c", "echo x > /etc/kubernetes/lc1-marker"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/etc/kubernetes/lc1-marker"); err == nil {
		t.Error("/etc/kubernetes/lc1-marker leaked to the host")
	}
	if b, err := n.ReadFile("/etc/kubernetes/lc1-marker"); err != nil || string(b) != "x\n" {
		t.Errorf("ReadFile through the holder: %q %v", b, err)
	}
	// A container runs under runc (fails without restrict_oom_score_adj on this VM kind).
	if out, err := n.Exec(ctx, "ctr", "-a", ContainerdSocket, "-n", "k8s.io", "run", "-d", SandboxImage, "lc1-pause"); err != nil {
		t.Fatalf("ctr run: %v\n%s\ncontainerd log:\n%s", err, out, n.LogTail("containerd", 30))
	}

	svc := func(action string) string {
		out, err := exec.CommandContext(ctx, n.ServiceScript(), action, "kubelet").CombinedOutput()
		if err != nil && action != "is-active" {
			t.Fatalf("node-svc %s: %v\n%s", action, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := svc("is-active"); got != "inactive" {
		t.Errorf("is-active before start = %q", got)
	}
	svc("start")
	waitFor(t, "stand-in kubelet args", func() bool { _, err := n.ReadFile("/var/lib/kubelet/args"); return err == nil })
	args, _ := n.ReadFile("/var/lib/kubelet/args")
	if !strings.Contains(string(args), "--cgroup-root=/kle2e-lc1") || !strings.Contains(string(args), "--config=/var/lib/kubelet/config.yaml") {
		t.Errorf("kubelet args = %s", args)
	}
	first, _ := os.ReadFile(filepath.Join(n.Dir, "kubelet.child.pid"))
	svc("restart")
	waitFor(t, "restarted kubelet", func() bool {
		b, _ := os.ReadFile(filepath.Join(n.Dir, "kubelet.child.pid"))
		return len(b) > 0 && string(b) != string(first)
	})
	if got := svc("is-active"); got != "active" {
		t.Errorf("is-active after restart = %q", got)
	}
	if out, err := exec.Command(n.ServiceScript(), "restart", "containerd").CombinedOutput(); err == nil {
		t.Errorf("node-svc restart containerd succeeded (%s); want an error: only the kubelet is managed", out)
	}

	holder := n.HolderPID()
	mntNS, _ := os.Readlink("/proc/" + itoa(holder) + "/ns/mnt")
	closed = true
	if err := n.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := nw.Close(ctx); err != nil {
		t.Errorf("network Close: %v", err)
	}
	// Nothing left: processes in the node's mount namespace, namespaces, cgroups, directory.
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if m, err := os.Readlink("/proc/" + e.Name() + "/ns/mnt"); err == nil && m == mntNS && alive(atoi(e.Name())) {
			cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			t.Errorf("process %s (%s) still in the node's mount namespace", e.Name(), strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	for _, p := range []string{"/run/netns/kle2e-lc1", "/run/netns/kle2e-br9", n.Dir} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s still exists", p)
		}
	}
	mnts, _ := cgroupMounts()
	for _, m := range mnts {
		if _, err := os.Stat(filepath.Join(m, "kle2e-lc1")); err == nil {
			t.Errorf("cgroup %s/kle2e-lc1 still exists", m)
		}
	}
}

type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
