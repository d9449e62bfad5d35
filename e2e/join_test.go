package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubelark/kubelark/e2e/node"
)

// joinConfig is a worker's kubeadm JoinConfiguration (bootstrap-token
// discovery with the CA pin; images are never pulled). The kubelet
// configuration comes from the cluster's kubelet-config ConfigMap, which
// init uploaded from initConfig's KubeletConfiguration.
const joinConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: %[1]s
    token: %[2]s
    caCertHashes:
    - %[3]s
nodeRegistration:
  name: %[4]s
  criSocket: unix://%[5]s
  ignorePreflightErrors:
  - SystemVerification
  imagePullPolicy: Never
`

// joinParams parses `kubeadm token create --print-join-command` output.
func joinParams(t *testing.T, out string) (endpoint, token, hash string) {
	t.Helper()
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		switch f[i] {
		case "join":
			endpoint = f[i+1]
		case "--token":
			token = f[i+1]
		case "--discovery-token-ca-cert-hash":
			hash = f[i+1]
		}
	}
	if endpoint == "" || token == "" || hash == "" {
		t.Fatalf("cannot parse join command from %q", out)
	}
	return endpoint, token, hash
}

// TestKubeadmJoin proves the multi-node harness with kubeadm: a worker on a
// second node joins the control plane of the first over the test bridge,
// its kubelet performs the TLS bootstrap (CSR approved and signed by the
// controller-manager) and the Node registers.
func TestKubeadmJoin(t *testing.T) {
	nw := newNetwork(t)
	cp := newNode(t, nw, "cp1")
	w := newWorker(t, nw, "w1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	run(ctx, t, cp, "kubeadm", "init", "--config", writeInitConfig(t, cp))
	cs := clientFor(t, cp, "/etc/kubernetes/admin.conf")
	waitReadyz(ctx, t, cs)
	endpoint, token, hash := joinParams(t, run(ctx, t, cp, "kubeadm", "token", "create", "--print-join-command"))

	cfg := filepath.Join(w.Dir, "kubeadm-join.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(joinConfig, endpoint, token, hash, w.Name, node.ContainerdSocket)), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run(ctx, t, w, "kubeadm", "join", "--config", cfg)
	t.Logf("kubeadm join took %s", time.Since(start).Round(time.Millisecond))

	// The kubelet's own credentials: kubelet.conf pointing at the rotated client certificate.
	kc, err := w.ReadFile("/etc/kubernetes/kubelet.conf")
	if err != nil || !strings.Contains(string(kc), "/var/lib/kubelet/pki/kubelet-client-current.pem") {
		t.Errorf("worker kubelet.conf after join: %v\n%s", err, kc)
	}
	if _, err := w.ReadFile("/etc/kubernetes/bootstrap-kubelet.conf"); err == nil {
		t.Errorf("bootstrap-kubelet.conf still present after join")
	}
	for {
		_, err := cs.CoreV1().Nodes().Get(ctx, w.Name, metav1.GetOptions{})
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Node %s not registered: %v", w.Name, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
	t.Logf("Node %s registered %s after kubeadm join started", w.Name, time.Since(start).Round(time.Millisecond))
	csrs, err := cs.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	signed := false
	for _, c := range csrs.Items {
		if c.Spec.SignerName == "kubernetes.io/kube-apiserver-client-kubelet" && strings.HasPrefix(c.Spec.Username, "system:bootstrap:") && len(c.Status.Certificate) > 0 {
			signed = true
		}
	}
	if !signed {
		t.Errorf("no signed kubelet client CSR from a bootstrap token among %d CSRs", len(csrs.Items))
	}
}
