package recipes_test

// Tests of recipes/join.star on in-memory hosts: a cluster made by the init
// recipe on one fake machine (its API objects live in that fake's
// in-memory cluster), joined from a second fake machine that shares the
// cluster. The controller-manager's bootstrapsigner is played by the test
// (signCluster).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/cluster-bootstrap/token/jws"

	"github.com/kubelark/kubelark/builtins"
	"github.com/kubelark/kubelark/recipes"
	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/cluster"
	"github.com/kubelark/kubelark/runtime/host"
	"github.com/kubelark/kubelark/stdlib"
)

const (
	joinToken  = "abcdef.0123456789abcdef"
	joinServer = "10.0.0.10:6443"
)

// runJoin runs the embedded join recipe on h.
func runJoin(t *testing.T, h host.Host, dryRun bool, set ...string) (*runtime.Plan, string, error) {
	t.Helper()
	var out bytes.Buffer
	plan, err := runtime.Run(context.Background(), runtime.Options{
		Recipe: "join", RecipeFS: recipes.FS, StdlibFS: stdlib.FS, Set: set, DryRun: dryRun,
		Host: h, Registry: builtins.Registry(), Out: &out,
	})
	return plan, out.String(), err
}

// initCluster runs init on a fresh fake machine and signs cluster-info for
// the init token (when sign), as the bootstrapsigner would. It returns the
// machine and the CA pin init printed.
func initCluster(t *testing.T, sign bool) (*host.Fake, string) {
	t.Helper()
	cp := newFake()
	if _, out, err := runInit(t, cp, false, "", "token="+joinToken); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	if sign {
		signClusterInfo(t, cp.Clients(), joinToken)
	}
	ca, _, _ := cp.Get("/etc/kubernetes/pki/ca.crt")
	certs, err := certsOf(ca)
	if err != nil {
		t.Fatal(err)
	}
	return cp, pin(certs[0])
}

func signClusterInfo(t *testing.T, f cluster.Factory, token string) {
	t.Helper()
	c, err := f.Anonymous("https://"+joinServer, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ci, err := c.Get(ctx, "v1", "ConfigMap", "kube-public", "cluster-info")
	if err != nil {
		t.Fatal(err)
	}
	id, secret, _ := strings.Cut(token, ".")
	kc, _, _ := unstructured.NestedString(ci.Object, "data", "kubeconfig")
	sig, err := jws.ComputeDetachedSignature(kc, id, secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(ci.Object, sig, "data", "jws-kubeconfig-"+id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Apply(ctx, ci, true); err != nil {
		t.Fatal(err)
	}
}

// worker is a second fake machine, node2, attached to cp's cluster.
func worker(cp *host.Fake) *host.Fake {
	w := newFake()
	w.FHostname, w.FIP = "node2", "10.0.0.20"
	w.FClients = cp.Clients()
	return w
}

func joinSet(hash string, extra ...string) []string {
	return append([]string{"api_server_endpoint=" + joinServer, "token=" + joinToken, "ca_cert_hash=" + hash,
		"skip_phases=kubelet-wait-bootstrap", "timeout_discovery=5s"}, extra...)
}

// TestJoinWorker: discovery verifies cluster-info and pins the CA; the
// kubelet's files are written from what the cluster says.
func TestJoinWorker(t *testing.T) {
	cp, hash := initCluster(t, true)
	w := worker(cp)
	plan, out, err := runJoin(t, w, false, joinSet(hash)...)
	if err != nil {
		t.Fatalf("join: %v\n%s", err, out)
	}
	if strings.Contains(out, "0123456789abcdef") || strings.Contains(string(maskPlan(t, plan)), "0123456789abcdef") {
		t.Errorf("the token secret is in the output or the plan")
	}
	cpCA, _, _ := cp.Get("/etc/kubernetes/pki/ca.crt")
	if ca, _, ok := w.Get("/etc/kubernetes/pki/ca.crt"); !ok || !bytes.Equal(ca, cpCA) {
		t.Errorf("the worker's ca.crt is not the cluster CA")
	}
	bk, mode, ok := w.Get("/etc/kubernetes/bootstrap-kubelet.conf")
	if !ok || mode != 0o600 {
		t.Fatalf("bootstrap-kubelet.conf: present %v mode %o", ok, mode)
	}
	kc, err := clientcmd.Load(bk)
	if err != nil {
		t.Fatal(err)
	}
	ctx := kc.Contexts[kc.CurrentContext]
	if kc.CurrentContext != "tls-bootstrap-token-user@kubernetes" || kc.AuthInfos["tls-bootstrap-token-user"].Token != joinToken ||
		kc.Clusters[ctx.Cluster].Server != "https://"+joinServer || !bytes.Equal(kc.Clusters[ctx.Cluster].CertificateAuthorityData, cpCA) {
		t.Errorf("bootstrap-kubelet.conf:\n%s", bk)
	}
	cfgYAML, _, _ := w.Get("/var/lib/kubelet/config.yaml")
	cpCfg, _, _ := cp.Get("/var/lib/kubelet/config.yaml")
	if !bytes.Equal(cfgYAML, cpCfg) {
		t.Errorf("the worker's config.yaml is not the cluster's kubelet-config (with the same CRI endpoint):\n%s\nvs\n%s", cfgYAML, cpCfg)
	}
	if env, _, _ := w.Get("/var/lib/kubelet/kubeadm-flags.env"); string(env) != "KUBELET_KUBEADM_ARGS=\"\"\n" {
		t.Errorf("kubeadm-flags.env = %q", env)
	}
	ops := map[string]bool{}
	for _, a := range plan.Actions {
		ops[a.Op+" "+a.Target] = true
	}
	for _, want := range []string{"api.get v1/ConfigMap/kube-public/cluster-info", "service.restart kubelet", "file.write /etc/kubernetes/bootstrap-kubelet.conf"} {
		if !ops[want] {
			t.Errorf("the plan lacks %s", want)
		}
	}
}

// TestJoinFailures: each discovery failure names its step, says what was
// found and what to do, and nothing is written.
func TestJoinFailures(t *testing.T) {
	wrongPin := "sha256:" + strings.Repeat("0", 64)
	for _, tc := range []struct {
		name  string
		sign  bool
		set   func(hash string) []string
		wants func(hash string) []string
		setup func(cp *host.Fake)
	}{
		{name: "WrongToken", sign: true,
			set: func(h string) []string { return joinSet(h, "token=zzzzzz.0123456789abcdef") },
			wants: func(string) []string {
				return []string{`no signature for token id "zzzzzz"`, "may be wrong or expired", "kubeadm token create"}
			}},
		{name: "Unsigned", sign: false,
			set:   func(h string) []string { return joinSet(h) },
			wants: func(string) []string { return []string{`no signature for token id "abcdef" after 5s`} }},
		{name: "WrongSecret", sign: true,
			set:   func(h string) []string { return joinSet(h, "token=abcdef.zzzzzzzzzzzzzzzz") },
			wants: func(string) []string { return []string{"JWS signature", "does not verify"} }},
		{name: "WrongCAHash", sign: true,
			set: func(h string) []string { return joinSet(wrongPin) },
			wants: func(h string) []string {
				return []string{"does not match any given ca_cert_hash", "found " + h, wrongPin}
			}},
		{name: "NoPin", sign: true,
			set:   func(h string) []string { return joinSet("") },
			wants: func(string) []string { return []string{"needs the CA pin"} }},
		{name: "ReadyNodeExists", sign: true,
			set:   func(h string) []string { return joinSet(h) },
			wants: func(string) []string { return []string{`a Node with name "node2" and status "Ready" already exists`} },
			setup: func(cp *host.Fake) { readyNode(t, cp.Clients(), "node2") }},
		{name: "ControlPlaneWithoutEndpoint", sign: true,
			set: func(h string) []string { return joinSet(h, "control_plane=true") },
			wants: func(string) []string {
				return []string{"preflight: this cluster has no controlPlaneEndpoint", "--control-plane-endpoint"}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp, hash := initCluster(t, tc.sign)
			if tc.setup != nil {
				tc.setup(cp)
			}
			w := worker(cp)
			plan, out, err := runJoin(t, w, false, tc.set(hash)...)
			if err == nil {
				t.Fatalf("join succeeded; want a failure\n%s", out)
			}
			for _, want := range tc.wants(hash) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q: %v", want, err)
				}
			}
			if plan != nil {
				for _, a := range plan.Actions {
					if strings.HasPrefix(a.Op, "file.") || strings.HasPrefix(a.Op, "service.") {
						t.Errorf("the failed join recorded %s %s", a.Op, a.Target)
					}
				}
			}
			for _, p := range []string{"/etc/kubernetes/bootstrap-kubelet.conf", "/etc/kubernetes/pki/ca.crt", "/var/lib/kubelet/config.yaml"} {
				if _, _, ok := w.Get(p); ok {
					t.Errorf("the failed join wrote %s", p)
				}
			}
		})
	}
}

// TestJoinDiscoveryTokenOnly: the TLS bootstrap token defaults to the
// discovery token (a JoinConfiguration gives only
// discovery.bootstrapToken.token).
func TestJoinDiscoveryTokenOnly(t *testing.T) {
	cp, hash := initCluster(t, true)
	w := worker(cp)
	if _, out, err := runJoin(t, w, false, "api_server_endpoint="+joinServer, "discovery_token="+joinToken, "ca_cert_hash="+hash,
		"skip_phases=kubelet-wait-bootstrap"); err != nil {
		t.Fatalf("join: %v\n%s", err, out)
	}
	if bk, _, _ := w.Get("/etc/kubernetes/bootstrap-kubelet.conf"); !strings.Contains(string(bk), "token: "+joinToken) {
		t.Errorf("bootstrap-kubelet.conf lacks the discovery token:\n%s", bk)
	}
}

// TestJoinKubeletExtraArgs: the worker's extra kubelet flags (a dict, as
// --set gives them, or kubeadm's name/value list) land in kubeadm-flags.env.
func TestJoinKubeletExtraArgs(t *testing.T) {
	cp, hash := initCluster(t, true)
	w := worker(cp)
	if _, out, err := runJoin(t, w, false, joinSet(hash, `kubelet_extra_args={"node-labels": "pool=a", "v": 2}`)...); err != nil {
		t.Fatalf("join: %v\n%s", err, out)
	}
	if env, _, _ := w.Get("/var/lib/kubelet/kubeadm-flags.env"); string(env) != "KUBELET_KUBEADM_ARGS=\"--node-labels=pool=a --v=2\"\n" {
		t.Errorf("kubeadm-flags.env = %q", env)
	}
}

// TestJoinUnsafeSkipCAVerification warns loudly, naming the pin found.
func TestJoinUnsafeSkipCAVerification(t *testing.T) {
	cp, hash := initCluster(t, true)
	_, out, err := runJoin(t, worker(cp), false, "api_server_endpoint="+joinServer, "token="+joinToken,
		"unsafe_skip_ca_verification=true", "skip_phases=kubelet-wait-bootstrap")
	if err != nil {
		t.Fatalf("join: %v\n%s", err, out)
	}
	if !strings.Contains(out, "CA pinning is OFF") || !strings.Contains(out, hash) {
		t.Errorf("no loud warning with the found pin:\n%s", out)
	}
}

// TestJoinDryRunReadsCluster: a dry run against a reachable cluster
// discovers for real and writes nothing.
func TestJoinDryRunReadsCluster(t *testing.T) {
	cp, hash := initCluster(t, true)
	w := worker(cp)
	_, out, err := runJoin(t, host.NewDryRun(w), true, joinSet(hash, "skip_phases=preflight")...)
	if err != nil {
		t.Fatalf("dry-run join: %v\n%s", err, out)
	}
	if !strings.Contains(out, "matches a pinned hash") || strings.Contains(out, "placeholder") {
		t.Errorf("the dry run did not discover the reachable cluster:\n%s", out)
	}
	if _, _, ok := w.Get("/etc/kubernetes/bootstrap-kubelet.conf"); ok {
		t.Errorf("the dry run wrote bootstrap-kubelet.conf")
	}
}

// TestGoldenJoin: a dry-run worker join with no cluster to read plans with
// typed placeholders; the plan and output are golden.
func TestGoldenJoin(t *testing.T) {
	f := newFake()
	f.FHostname = "node2"
	plan, out, err := runJoin(t, host.NewDryRun(f), true, joinSet("sha256:"+strings.Repeat("ab", 32), "skip_phases=")...)
	if err != nil {
		t.Fatalf("dry-run join: %v\n%s", err, out)
	}
	compareGolden(t, filepath.Join(testdata, "golden", "join-worker.json"), maskPlan(t, plan))
	compareGolden(t, filepath.Join(testdata, "golden", "join-worker.out"), maskKeyDerived([]byte(out)))
	if _, _, ok := f.Get("/etc/kubernetes/bootstrap-kubelet.conf"); ok {
		t.Errorf("dry run wrote to the host")
	}
}

func certsOf(pemBytes []byte) ([]*x509.Certificate, error) { return certutil.ParseCertsPEM(pemBytes) }

// pin is kubeadm's CA pin of a certificate.
func pin(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// readyNode registers a Ready Node of that name in the cluster.
func readyNode(t *testing.T, f cluster.Factory, name string) {
	t.Helper()
	c, err := f.Anonymous("https://"+joinServer, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	n := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": name},
		"status": map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": "True"}}},
	}}
	if _, _, err := c.Apply(context.Background(), n, true); err != nil {
		t.Fatal(err)
	}
}

// TestJoinFileDiscovery: the cluster and CA come from a kubeconfig file;
// the TLS bootstrap token from tls_bootstrap_token.
func TestJoinFileDiscovery(t *testing.T) {
	cp, _ := initCluster(t, false)
	w := worker(cp)
	admin, _, _ := cp.Get("/etc/kubernetes/admin.conf")
	w.Put("/etc/kubernetes/discovery.conf", admin, 0o600)
	_, out, err := runJoin(t, w, false, "discovery_file=/etc/kubernetes/discovery.conf", "tls_bootstrap_token="+joinToken,
		"skip_phases=kubelet-wait-bootstrap")
	if err != nil {
		t.Fatalf("join: %v\n%s", err, out)
	}
	bk, _, _ := w.Get("/etc/kubernetes/bootstrap-kubelet.conf")
	kc, err := clientcmd.Load(bk)
	if err != nil || kc.AuthInfos["tls-bootstrap-token-user"].Token != joinToken {
		t.Errorf("bootstrap-kubelet.conf (%v):\n%s", err, bk)
	}
	// Without a token anywhere: a clear refusal.
	w2 := worker(cp)
	w2.Put("/etc/kubernetes/discovery.conf", admin, 0o600)
	if _, _, err := runJoin(t, w2, false, "discovery_file=/etc/kubernetes/discovery.conf", "skip_phases=kubelet-wait-bootstrap"); err == nil ||
		!strings.Contains(err.Error(), "has no token, and no tls_bootstrap_token") {
		t.Errorf("err = %v", err)
	}
}
