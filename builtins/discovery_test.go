package builtins

import (
	"context"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/cluster"
	"github.com/kubelark/kubelark/runtime/host"
)

// clusterInfoFake is a fake machine whose in-memory cluster holds
// kube-public/cluster-info with data.
func clusterInfoFake(t *testing.T, data map[string]any) *host.Fake {
	t.Helper()
	f := host.NewFake()
	f.FClients = cluster.NewDryRun(nil)
	if data == nil {
		return f
	}
	c, err := f.FClients.Anonymous("https://10.0.0.10:6443", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "cluster-info", "namespace": "kube-public"}, "data": data}}
	if _, _, err := c.Apply(context.Background(), cm, false); err != nil {
		t.Fatal(err)
	}
	return f
}

const anonClient = `c = k8s_client(anonymous = True, server = "https://10.0.0.10:6443", insecure = True)
`

func TestClusterInfoWaitsForSignature(t *testing.T) {
	f := clusterInfoFake(t, map[string]any{"kubeconfig": "KC", "jws-kubeconfig-abcdef": "SIG"})
	g, plan := mustRunStar(t, f, anonClient+`r = cluster_info(c, token_id = "abcdef")
missing = cluster_info(c, token_id = "zzzzzz", timeout = "10s", interval = "1s")
`)
	r := g["r"]
	if attr(t, r, "kubeconfig") != starlark.String("KC") || attr(t, r, "signature") != starlark.String("SIG") || attr(t, r, "reachable") != starlark.True {
		t.Errorf("cluster_info = %v", r)
	}
	m := g["missing"]
	if attr(t, m, "kubeconfig") != starlark.None || !strings.Contains(string(attr(t, m, "error").(starlark.String)), `no signature "jws-kubeconfig-zzzzzz"`) {
		t.Errorf("cluster_info without the signature = %v", m)
	}
	last := plan.Actions[len(plan.Actions)-1]
	// The in-memory cluster is a dry-run overlay: what it holds cannot
	// change while the run waits, so it is read once.
	if last.Op != "api.get" || last.Result != "absent" || last.Summary["attempts"] != 1 {
		t.Errorf("action %+v; want api.get absent after one read", last)
	}
}

func TestClusterInfoAbsent(t *testing.T) {
	g, _ := mustRunStar(t, clusterInfoFake(t, nil), anonClient+`r = cluster_info(c, timeout = "2s")
`)
	if attr(t, g["r"], "kubeconfig") != starlark.None || !strings.Contains(string(attr(t, g["r"], "error").(starlark.String)), "not found") {
		t.Errorf("cluster_info = %v", g["r"])
	}
}

func TestKubeconfigEncodeDecode(t *testing.T) {
	f := host.NewFake()
	g, _ := mustRunStar(t, f, `kc = kubeconfig_encode("kubernetes", "https://10.0.0.10:6443", "PEM", "tls-bootstrap-token-user", "abcdef.0123456789abcdef")
d = kubeconfig_decode(kc)
`)
	kc := g["kc"].(*runtime.Secret).Reveal()
	cfg, err := clientcmd.Load([]byte(kc))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != "tls-bootstrap-token-user@kubernetes" || cfg.AuthInfos["tls-bootstrap-token-user"].Token != "abcdef.0123456789abcdef" {
		t.Errorf("kubeconfig:\n%s", kc)
	}
	d := g["d"]
	if attr(t, d, "server") != starlark.String("https://10.0.0.10:6443") || attr(t, d, "ca_pem") != starlark.String("PEM") ||
		attr(t, d, "token").(*runtime.Secret).Reveal() != "abcdef.0123456789abcdef" || attr(t, d, "has_credentials") != starlark.True {
		t.Errorf("decoded %v", d)
	}
}

func TestKubeconfigDecodeErrors(t *testing.T) {
	for src, want := range map[string]string{
		`kubeconfig_decode("{", what = "discovery_file x")`: "discovery_file x is not a kubeconfig",
		`kubeconfig_decode("apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: https://a, certificate-authority: /ca.crt}\n")`:            "embed it as certificate-authority-data",
		`kubeconfig_decode("apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: https://a}\n- name: b\n  cluster: {server: https://b}\n")`: "2 clusters and no current context",
	} {
		if _, _, err := runStar(t, host.NewFake(), src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", src, err, want)
		}
	}
}

func TestCACertHashes(t *testing.T) {
	f := host.NewFake()
	mustRunStar(t, f, `gen_cert("ca", "/pki/ca", "kubernetes", is_ca = True)
gen_cert("front-proxy-ca", "/pki/fp", "front-proxy-ca", is_ca = True)
pins = ca_cert_hashes(read_file("/pki/ca.crt") + read_file("/pki/fp.crt"))
if pins != [ca_cert_hash("/pki/ca.crt"), ca_cert_hash("/pki/fp.crt")]:
    fail("pins %r" % pins)
`)
	if _, _, err := runStar(t, f, `ca_cert_hashes("nope")`); err == nil || !strings.Contains(err.Error(), "not PEM certificates") {
		t.Errorf("err = %v", err)
	}
}

func TestWaitFile(t *testing.T) {
	f := host.NewFake()
	f.FLive = true
	f.Put("/etc/kubernetes/kubelet.conf", []byte("x"), 0o600)
	if _, _, err := runStar(t, f, `wait_file(["/etc/kubernetes/kubelet.conf", "/var/lib/kubelet/pki/kubelet-client-current.pem"], timeout = "3s", name = "the TLS bootstrap")`); err == nil ||
		!strings.Contains(err.Error(), "the TLS bootstrap did not appear within 3s (/var/lib/kubelet/pki/kubelet-client-current.pem is missing)") {
		t.Errorf("err = %v", err)
	}
	f.Put("/var/lib/kubelet/pki/kubelet-client-current.pem", []byte("x"), 0o600)
	g, _ := mustRunStar(t, f, `r = wait_file(["/etc/kubernetes/kubelet.conf", "/var/lib/kubelet/pki/kubelet-client-current.pem"])`)
	if g["r"] != starlark.String("present") {
		t.Errorf("wait_file = %v", g["r"])
	}
}
