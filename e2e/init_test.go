package e2e

import (
	"context"
	"testing"
	"time"
)

// TestKubeadmInit proves the harness with kubeadm itself: `kubeadm init` on a
// fresh node starts the kubelet through the node's systemctl stand-in (which
// forwards to node-svc), then the four static Pods run and the API server
// answers /readyz.
func TestKubeadmInit(t *testing.T) {
	nw := newNetwork(t)
	n := newNode(t, nw, "cp1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cfg := writeInitConfig(t, n)

	start := time.Now()
	run(ctx, t, n, "kubeadm", "init", "--config", cfg, "--v=1")
	t.Logf("kubeadm init took %s", time.Since(start).Round(time.Millisecond))

	cs := clientFor(t, n, "/etc/kubernetes/admin.conf")
	waitReadyz(ctx, t, cs)
	t.Logf("API server ready %s after kubeadm init started", time.Since(start).Round(time.Millisecond))
	waitControlPlanePods(ctx, t, cs, n.Name)
	t.Logf("control-plane Pods ready %s after kubeadm init started", time.Since(start).Round(time.Millisecond))
}

// TestKubelarkInitLocal runs the kubelark binary's init recipe on a fresh
// node with the same configuration; kubelark starts the kubelet itself
// through --service-command.
func TestKubelarkInitLocal(t *testing.T) {
	kubelark := buildKubelark(t)
	nw := newNetwork(t)
	n := newNode(t, nw, "cp1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cfg := writeInitConfig(t, n)

	start := time.Now()
	run(ctx, t, n, kubelark, "run", "init", "--config", cfg, "--service-command", n.ServiceCommand())
	t.Logf("kubelark init took %s", time.Since(start).Round(time.Millisecond))

	cs := clientFor(t, n, "/etc/kubernetes/admin.conf")
	waitReadyz(ctx, t, cs)
	t.Logf("API server ready %s after kubelark init started", time.Since(start).Round(time.Millisecond))
	waitControlPlanePods(ctx, t, cs, n.Name)
	t.Logf("control-plane Pods ready %s after kubelark init started", time.Since(start).Round(time.Millisecond))
}
