package builtins

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"

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
	if attr(t, r, "kubeconfig") != starlark.String("KC") || attr(t, r, "signature") != starlark.String("SIG") || attr(t, r, "reachable") != starlark.True ||
		attr(t, r, "status") != starlark.String("signed") {
		t.Errorf("cluster_info = %v", r)
	}
	m := g["missing"]
	// The unsigned kubeconfig is returned, marked unsigned: the recipe
	// must not trust it, but may pin its CA before sending a token.
	if attr(t, m, "status") != starlark.String("unsigned") || attr(t, m, "signature") != starlark.None ||
		!strings.Contains(string(attr(t, m, "error").(starlark.String)), `no signature "jws-kubeconfig-zzzzzz"`) {
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
	if attr(t, g["r"], "kubeconfig") != starlark.None || attr(t, g["r"], "status") != starlark.String("not_found") ||
		!strings.Contains(string(attr(t, g["r"], "error").(starlark.String)), "not found") {
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
		`kubeconfig_decode("apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: https://a, certificate-authority: /ca.crt}\n")`: "certificate-authority /ca.crt does not exist",
		`kubeconfig_decode("apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: https://a, certificate-authority: ca.crt}\n")`:  "is a relative path and the kubeconfig is not a local file",
		`kubeconfig_decode("apiVersion: v1\nkind: Config\n")`: "defines no cluster",
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

// TestKubeconfigDecodeInlinesFiles: a CA file and a token file are read
// (relative to base_dir) and inlined, as kubeadm's file discovery embeds
// them; the token comes back a Secret; client certificates are named.
func TestKubeconfigDecodeInlinesFiles(t *testing.T) {
	f := host.NewFake()
	f.Put("/etc/kubernetes/disc/ca.crt", []byte("CA PEM\n"), 0o644)
	f.Put("/etc/kubernetes/disc/token", []byte("abcdef.0123456789abcdef\n"), 0o600)
	g, _ := mustRunStar(t, f, `d = kubeconfig_decode("""apiVersion: v1
kind: Config
clusters:
- name: k
  cluster: {server: "https://10.0.0.10:6443", certificate-authority: ca.crt}
users:
- name: u
  user: {tokenFile: /etc/kubernetes/disc/token}
contexts:
- name: c
  context: {cluster: k, user: u}
current-context: c
""", base_dir = "/etc/kubernetes/disc")
c = kubeconfig_decode("""apiVersion: v1
kind: Config
clusters:
- name: k
  cluster: {server: "https://10.0.0.10:6443", insecure-skip-tls-verify: true}
users:
- name: u
  user: {client-certificate: /x.crt, client-key: /x.key}
contexts:
- name: c
  context: {cluster: k, user: u}
current-context: c
""")
`)
	d := g["d"]
	if attr(t, d, "ca_pem") != starlark.String("CA PEM\n") || attr(t, d, "credentials") != starlark.String("token") ||
		attr(t, d, "token").(*runtime.Secret).Reveal() != "abcdef.0123456789abcdef" {
		t.Errorf("decoded %v", d)
	}
	c := g["c"]
	if attr(t, c, "credentials") != starlark.String("client_certificate") || attr(t, c, "insecure") != starlark.True ||
		attr(t, c, "ca_pem") != starlark.String("") || attr(t, c, "has_credentials") != starlark.True {
		t.Errorf("decoded %v", c)
	}
	if _, _, err := runStar(t, f, `kubeconfig_decode("apiVersion: v1\nkind: Config\nclusters:\n- name: k\n  cluster: {server: https://a}\nusers:\n- name: u\n  user: {tokenFile: /nope}\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\ncurrent-context: c\n", what = "discovery_file /f")`); err == nil ||
		!strings.Contains(err.Error(), "discovery_file /f: tokenFile /nope does not exist") {
		t.Errorf("err = %v", err)
	}
}

// TestClusterInfoStatuses: each failure the recipe words differently is
// told apart, and 401 and TLS errors end the wait at once.
func TestClusterInfoStatuses(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := map[string]int{"Bearer bad.token": 401, "Bearer forbidden.token": 403}[r.Header.Get("Authorization")]
		if code == 0 {
			code = 404
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","code":%d,"reason":%q}`, code,
			map[int]string{401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}[code])
	}))
	defer ts.Close()
	f := host.NewFake()
	f.FLive = true
	f.FClients = cluster.NewLive(cluster.LiveOptions{Clock: f})
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}))
	other, _, err := certutil.GenerateSelfSignedCertKey("other", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Put("/ca.crt", []byte(ca), 0o644)
	f.Put("/other.crt", other, 0o644)
	src := fmt.Sprintf(`
unauth = cluster_info(k8s_client(token = "bad.token", server = %[1]q, ca = "/ca.crt"), timeout = "1h")
forbidden = cluster_info(k8s_client(token = "forbidden.token", server = %[1]q, ca = "/ca.crt"), timeout = "1h", forbidden_ok = True)
tls = cluster_info(k8s_client(anonymous = True, server = %[1]q, ca = "/other.crt"), timeout = "1h")
missing = cluster_info(k8s_client(anonymous = True, server = %[1]q, ca = "/ca.crt"), timeout = "2s")
refused = cluster_info(k8s_client(anonymous = True, server = "https://127.0.0.1:1", insecure = True, timeout = "1s"), timeout = "2s")
`, ts.URL)
	g, _ := mustRunStar(t, f, src)
	for name, want := range map[string]string{"unauth": "unauthorized", "forbidden": "forbidden", "tls": "tls", "missing": "not_found", "refused": "unreachable"} {
		if got := attr(t, g[name], "status"); got != starlark.String(want) {
			t.Errorf("%s: status %v, want %s (%v)", name, got, want, g[name])
		}
	}
	if attr(t, g["refused"], "reachable") != starlark.False || attr(t, g["missing"], "reachable") != starlark.True {
		t.Errorf("reachable: refused %v, missing %v", g["refused"], g["missing"])
	}
	if strings.Contains(string(attr(t, g["unauth"], "error").(starlark.String)), "bad.token") {
		t.Errorf("the error shows the token: %v", g["unauth"])
	}
}

// TestHTTPSGet: the body comes back a Secret; http://, a status other
// than 200 and a server the system bundle does not trust are refused by
// name.
func TestHTTPSGet(t *testing.T) {
	f := host.NewFake()
	f.FHTTP = func(ctx context.Context, url string, tlsCfg *tls.Config) (host.HTTPResponse, error) {
		if tlsCfg != nil {
			t.Errorf("https_get passed a TLS config; want the system defaults")
		}
		if strings.HasSuffix(url, "/missing") {
			return host.HTTPResponse{Status: 404}, nil
		}
		return host.HTTPResponse{Status: 200, Body: []byte("apiVersion: v1\nkind: Config\n")}, nil
	}
	g, plan := mustRunStar(t, f, `kc = https_get("https://example.test/join.conf", what = "discovery_file")`)
	if s, ok := g["kc"].(*runtime.Secret); !ok || s.Reveal() != "apiVersion: v1\nkind: Config\n" {
		t.Errorf("https_get = %v", g["kc"])
	}
	if a := plan.Actions[len(plan.Actions)-1]; a.Op != "http.get" || a.Target != "https://example.test/join.conf" {
		t.Errorf("action %+v", a)
	}
	for src, want := range map[string]string{
		`https_get("http://example.test/join.conf", what = "discovery_file")`: `discovery_file "http://example.test/join.conf" is not an https:// URL`,
		`https_get("https://example.test/missing", what = "discovery_file")`:  "answered HTTP 404, want 200",
	} {
		if _, _, err := runStar(t, f, src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", src, err, want)
		}
	}
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "x") }))
	defer ts.Close()
	live := host.NewFake()
	live.FHTTP = host.NewLive(host.LiveOptions{}).HTTPGet
	if _, _, err := runStar(t, live, fmt.Sprintf(`https_get(%q, what = "discovery_file")`, ts.URL)); err == nil ||
		!strings.Contains(err.Error(), "does not verify against this machine's system CA bundle") {
		t.Errorf("untrusted server: err = %v", err)
	}
}
