package builtins

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubelark/kubelark/runtime/host"
)

const adminSrc = `
kc = write_kubeconfig("/etc/kubernetes/admin.conf", "kubernetes", "https://10.0.0.10:6443", "/etc/kubernetes/pki/ca",
    "kubernetes-admin", organization=["kubeadm:cluster-admins"], algorithm=ALG)
`

func loadKubeconfig(t *testing.T, h *host.Fake, p string) *clientcmdapi.Config {
	t.Helper()
	data, mode, ok := h.Get(p)
	if !ok {
		t.Fatalf("%s was not written", p)
	}
	if mode != 0o600 {
		t.Errorf("%s mode %04o, want 0600", p, mode)
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return cfg
}

// checkLayout asserts kubeadm's layout: one cluster, one user, one context
// "<user>@<cluster>" that is current, the CA embedded as ca.crt's PEM.
func checkLayout(t *testing.T, h *host.Fake, cfg *clientcmdapi.Config, cluster, server, user string) *clientcmdapi.AuthInfo {
	t.Helper()
	ctxName := user + "@" + cluster
	if cfg.CurrentContext != ctxName || len(cfg.Contexts) != 1 || cfg.Contexts[ctxName] == nil ||
		cfg.Contexts[ctxName].Cluster != cluster || cfg.Contexts[ctxName].AuthInfo != user {
		t.Errorf("contexts %v current %q, want only %q", cfg.Contexts, cfg.CurrentContext, ctxName)
	}
	if len(cfg.Clusters) != 1 || cfg.Clusters[cluster] == nil || cfg.Clusters[cluster].Server != server {
		t.Fatalf("clusters %v, want only %q at %s", cfg.Clusters, cluster, server)
	}
	caPEM, _, _ := h.Get(pki + "/ca.crt")
	if !bytes.Equal(cfg.Clusters[cluster].CertificateAuthorityData, caPEM) {
		t.Error("certificate-authority-data is not ca.crt")
	}
	if len(cfg.AuthInfos) != 1 || cfg.AuthInfos[user] == nil {
		t.Fatalf("users %v, want only %q", cfg.AuthInfos, user)
	}
	return cfg.AuthInfos[user]
}

func TestWriteKubeconfigClientCert(t *testing.T) {
	for _, alg := range []string{"RSA-2048", "ECDSA-P384"} {
		t.Run(alg, func(t *testing.T) {
			h := host.NewFake()
			mustRunStar(t, h, caSrc)
			h.Clock = h.Clock.Add(10 * time.Minute) // the kubeconfig run starts later than the CA's
			g, env, out, err := runStarEnv(t, h, strings.ReplaceAll(adminSrc, "ALG", `"`+alg+`"`))
			if err != nil {
				t.Fatal(err)
			}
			if s := attr(t, g["kc"], "status"); s != starlark.String("created") {
				t.Errorf("status %v", s)
			}
			cfg := loadKubeconfig(t, h, "/etc/kubernetes/admin.conf")
			u := checkLayout(t, h, cfg, "kubernetes", "https://10.0.0.10:6443", "kubernetes-admin")
			if u.Token != "" || u.ClientCertificate != "" || u.ClientKey != "" {
				t.Errorf("user %+v has more than embedded cert data", u)
			}
			certs, err := parseCertsPEM(u.ClientCertificateData)
			if err != nil || len(certs) != 1 {
				t.Fatalf("client-certificate-data: %v", err)
			}
			c := certs[0]
			ca := readCert(t, h, pki+"/ca.crt")
			if c.Subject.CommonName != "kubernetes-admin" || !reflect.DeepEqual(c.Subject.Organization, []string{"kubeadm:cluster-admins"}) {
				t.Errorf("client subject %q", c.Subject)
			}
			if !reflect.DeepEqual(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) ||
				c.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment || c.IsCA || !c.BasicConstraintsValid {
				t.Errorf("client usages %v %b IsCA=%v", c.ExtKeyUsage, c.KeyUsage, c.IsCA)
			}
			if !c.NotBefore.Equal(ca.NotBefore) || !c.NotAfter.Equal(h.Clock.Add(8760*time.Hour)) {
				t.Errorf("client validity %v..%v; CA NotBefore %v, start %v", c.NotBefore, c.NotAfter, ca.NotBefore, h.Clock)
			}
			checkSerial(t, c)
			roots := x509.NewCertPool()
			roots.AddCert(ca)
			if _, err := c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: h.Clock, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("client cert does not verify against ca.crt: %v", err)
			}
			key, err := parseKeyPEM(u.ClientKeyData)
			if err != nil || !publicKeyEqual(key.Public(), c.PublicKey) || keyAlgorithmOf(key.Public()) != alg {
				t.Errorf("client key: %v, alg %s", err, keyAlgorithmOf(c.PublicKey))
			}

			plan := env.Plan()
			if len(plan.Actions) != 1 {
				t.Fatalf("actions %+v", plan.Actions)
			}
			a := plan.Actions[0]
			wantSum := map[string]any{"server": "https://10.0.0.10:6443", "user": "kubernetes-admin", "cluster": "kubernetes",
				"auth": "client-certificate", "client_subject": "CN=kubernetes-admin,O=kubeadm:cluster-admins"}
			if a.Op != "file.write" || a.Result != "created" || a.Mode != "0600" || !a.Secret || a.SHA256 != "" || !reflect.DeepEqual(a.Summary, wantSum) {
				t.Errorf("action %+v", a)
			}
			if !strings.Contains(out.String(), `[kubelark] Writing "admin.conf" kubeconfig file`) {
				t.Errorf("output:\n%s", out)
			}
			keyB64 := base64.StdEncoding.EncodeToString(u.ClientKeyData)
			assertNoKeyMaterial(t, h, plan, out.String(), keyB64[:40], keyB64[len(keyB64)/2:len(keyB64)/2+40])
		})
	}
}

func TestWriteKubeconfigReuse(t *testing.T) {
	h := host.NewFake()
	src := caSrc + strings.ReplaceAll(adminSrc, "ALG", `"ECDSA-P256"`)
	mustRunStar(t, h, src)
	before := snapshot(h)
	g, env, out, err := runStarEnv(t, h, src)
	if err != nil {
		t.Fatal(err)
	}
	if attr(t, g["kc"], "status") != starlark.String("unchanged") || !reflect.DeepEqual(before, snapshot(h)) {
		t.Errorf("second run: %v", g["kc"])
	}
	a := env.Plan().Actions[len(env.Plan().Actions)-1]
	if a.Target != "/etc/kubernetes/admin.conf" || a.Result != "unchanged" || !a.Secret || a.Mode != "0600" ||
		a.Summary["auth"] != "client-certificate" || a.Summary["client_subject"] != "CN=kubernetes-admin,O=kubeadm:cluster-admins" ||
		a.Summary["server"] != "https://10.0.0.10:6443" || a.Summary["user"] != "kubernetes-admin" {
		t.Errorf("reuse action %+v", a)
	}
	if !strings.Contains(out.String(), `Using existing kubeconfig file: "/etc/kubernetes/admin.conf"`) {
		t.Errorf("output:\n%s", out)
	}

	// Another server: a warning, the file is kept.
	_, env, _, err = runStarEnv(t, h, strings.Replace(src, "https://10.0.0.10:6443", "https://cp.example.com:6443", 1))
	if err != nil {
		t.Fatal(err)
	}
	if w := env.Warnings(); len(w) != 1 || !strings.Contains(w[0], "exists with server https://10.0.0.10:6443, the recipe wants https://cp.example.com:6443") {
		t.Errorf("warnings %q", w)
	}
	if !reflect.DeepEqual(before, snapshot(h)) {
		t.Error("file changed on server mismatch")
	}

	// Another CA: an error with a fix, nothing written.
	_, _, err = runStar(t, h, `
gen_cert("other", "/tmp/other/ca", "other-ca", is_ca=True, algorithm="ECDSA-P256")
write_kubeconfig("/etc/kubernetes/admin.conf", "kubernetes", "https://10.0.0.10:6443", "/tmp/other/ca", "kubernetes-admin")
`)
	if err == nil || !strings.Contains(err.Error(), `write_kubeconfig: /etc/kubernetes/admin.conf: exists but trusts a different CA ("CN=kubernetes") than /tmp/other/ca.crt ("CN=other-ca"); remove /etc/kubernetes/admin.conf to regenerate it`) {
		t.Errorf("CA mismatch: %v", err)
	}
	if d, _, _ := h.Get("/etc/kubernetes/admin.conf"); before["/etc/kubernetes/admin.conf"] != "0600:"+string(d) {
		t.Error("admin.conf changed on CA mismatch")
	}

	// Unparsable or incomplete files are errors too.
	for content, want := range map[string]string{
		"{{{ not yaml": "exists but is not a kubeconfig",
		"apiVersion: v1\nkind: Config\ncurrent-context: nope\n": `has no current context (current-context "nope")`,
	} {
		h.Put("/etc/kubernetes/admin.conf", []byte(content), 0o600)
		if _, _, err := runStar(t, h, src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", content, err, want)
		}
	}
}

func TestWriteKubeconfigToken(t *testing.T) {
	h := host.NewFake()
	mustRunStar(t, h, caSrc)
	const tok = "abcdef.0123456789abcdef"
	src := `
kc = write_kubeconfig("/etc/kubernetes/bootstrap-kubelet.conf", "kubernetes", "https://10.0.0.10:6443",
    "/etc/kubernetes/pki/ca", "tls-bootstrap-token-user", token=TOKEN)
`
	g, env, out, err := runStarEnv(t, h, strings.ReplaceAll(src, "TOKEN", `"`+tok+`"`))
	if err != nil {
		t.Fatal(err)
	}
	if attr(t, g["kc"], "status") != starlark.String("created") {
		t.Errorf("status %v", g["kc"])
	}
	cfg := loadKubeconfig(t, h, "/etc/kubernetes/bootstrap-kubelet.conf")
	u := checkLayout(t, h, cfg, "kubernetes", "https://10.0.0.10:6443", "tls-bootstrap-token-user")
	if u.Token != tok || len(u.ClientCertificateData) != 0 || len(u.ClientKeyData) != 0 {
		t.Errorf("token user %+v", u)
	}
	a := env.Plan().Actions[0]
	if a.Summary["auth"] != "token" || a.Summary["client_subject"] != nil || !a.Secret {
		t.Errorf("action %+v", a)
	}
	js, _ := json.Marshal(env.Plan())
	if strings.Contains(string(js), "0123456789abcdef") {
		t.Error("token secret in the plan")
	}
	if strings.Contains(out.String(), "0123456789abcdef") {
		t.Errorf("token secret printed:\n%s", out)
	}

	// A new token rewrites the file: it holds nothing generated.
	g, _, _, err = runStarEnv(t, h, strings.ReplaceAll(src, "TOKEN", `"abcdef.fedcba9876543210"`))
	if err != nil || attr(t, g["kc"], "status") != starlark.String("updated") {
		t.Errorf("new token: %v %v", err, g["kc"])
	}
	if loadKubeconfig(t, h, "/etc/kubernetes/bootstrap-kubelet.conf").AuthInfos["tls-bootstrap-token-user"].Token != "abcdef.fedcba9876543210" {
		t.Error("token not rewritten")
	}
	g, _, _, err = runStarEnv(t, h, strings.ReplaceAll(src, "TOKEN", `"abcdef.fedcba9876543210"`))
	if err != nil || attr(t, g["kc"], "status") != starlark.String("unchanged") {
		t.Errorf("same token: %v %v", err, g["kc"])
	}
	// Only ca.crt is needed for a token kubeconfig.
	h.Remove(pki + "/ca.key")
	if _, _, _, err := runStarEnv(t, h, strings.ReplaceAll(src, "TOKEN", `"abcdef.fedcba9876543210"`)); err != nil {
		t.Errorf("token kubeconfig without ca.key: %v", err)
	}
}

func TestWriteKubeconfigExternalCA(t *testing.T) {
	h := host.NewFake()
	src := caSrc + strings.ReplaceAll(adminSrc, "ALG", `"ECDSA-P256"`)
	mustRunStar(t, h, src)
	h.Remove(pki + "/ca.key")
	g, _ := mustRunStar(t, h, src)
	if attr(t, g["kc"], "status") != starlark.String("unchanged") {
		t.Errorf("existing kubeconfig under external CA: %v", g["kc"])
	}
	h.Remove("/etc/kubernetes/admin.conf")
	_, _, err := runStar(t, h, src)
	if err == nil || !strings.Contains(err.Error(), "/etc/kubernetes/pki/ca.key is absent (external CA mode); provide admin.conf") {
		t.Errorf("missing kubeconfig under external CA: %v", err)
	}
}

func TestWriteKubeconfigClientCertFile(t *testing.T) {
	h := host.NewFake()
	mustRunStar(t, h, caSrc+`
gen_cert("kubelet-client", "/tmp/kc", "system:node:node1", ca="/etc/kubernetes/pki/ca", organization=["system:nodes"], usages=["client"], algorithm="ECDSA-P256")
write_kubeconfig("/etc/kubernetes/kubelet.conf", "kubernetes", "https://10.0.0.10:6443", "/etc/kubernetes/pki/ca", "system:node:node1",
    organization=["system:nodes"], algorithm="ECDSA-P256")
`)
	crt, _, _ := h.Get("/tmp/kc.crt")
	key, _, _ := h.Get("/tmp/kc.key")
	const pem = "/var/lib/kubelet/pki/kubelet-client-current.pem"
	h.Put(pem, append(crt, key...), 0o600)
	src := `
kc = write_kubeconfig("/etc/kubernetes/kubelet.conf", "kubernetes", "https://10.0.0.10:6443", "/etc/kubernetes/pki/ca", "system:node:node1",
    client_cert="/var/lib/kubelet/pki/kubelet-client-current.pem", client_key="/var/lib/kubelet/pki/kubelet-client-current.pem")
`
	g, env, _, err := runStarEnv(t, h, src)
	if err != nil {
		t.Fatal(err)
	}
	if attr(t, g["kc"], "status") != starlark.String("updated") {
		t.Errorf("status %v", g["kc"])
	}
	u := checkLayout(t, h, loadKubeconfig(t, h, "/etc/kubernetes/kubelet.conf"), "kubernetes", "https://10.0.0.10:6443", "system:node:node1")
	if u.ClientCertificate != pem || u.ClientKey != pem || len(u.ClientCertificateData) != 0 || len(u.ClientKeyData) != 0 {
		t.Errorf("user %+v, want file references", u)
	}
	if s := env.Plan().Actions[0].Summary; s["client_subject"] != "CN=system:node:node1,O=system:nodes" || s["client_certificate_file"] != pem {
		t.Errorf("summary %v", s)
	}
	h.Remove(pem)
	if _, _, err := runStar(t, h, src); err == nil || !strings.Contains(err.Error(), "client_cert "+pem+" not found") {
		t.Errorf("missing client cert: %v", err)
	}
}

func TestWriteKubeconfigBadArgs(t *testing.T) {
	const pre = `write_kubeconfig("/etc/kubernetes/a.conf", "kubernetes", `
	cases := []struct{ src, want string }{
		{pre + `"10.0.0.1:6443", "/etc/kubernetes/pki/ca", "u")`, `server "10.0.0.1:6443" is not an https URL`},
		{pre + `"http://10.0.0.1:6443", "/etc/kubernetes/pki/ca", "u")`, "is not an https URL"},
		{pre + `"https://10.0.0.1:6443", "/etc/kubernetes/pki/ca", "")`, "user is empty"},
		{`write_kubeconfig("/etc/kubernetes/a.conf", "", "https://h:6443", "/etc/kubernetes/pki/ca", "u")`, "cluster_name is empty"},
		{`write_kubeconfig("a.conf", "k", "https://h:6443", "/etc/kubernetes/pki/ca", "u")`, "must be an absolute path"},
		{pre + `"https://h:6443", "/etc/kubernetes/pki/ca.crt", "u")`, "must be the base path without .crt"},
		{pre + `"https://h:6443", "/etc/kubernetes/pki/ca", "u", algorithm="RSA-512")`, `algorithm "RSA-512" is not supported`},
		{pre + `"https://h:6443", "/etc/kubernetes/pki/ca", "u", validity="1 year")`, `validity "1 year" is not a duration`},
		{pre + `"https://h:6443", "/etc/kubernetes/pki/ca", "u", client_cert="/x.pem")`, "client_cert and client_key go together"},
		{pre + `"https://h:6443", "/etc/kubernetes/pki/ca", "u", token="abcdef.0123456789abcdef", client_cert="/x", client_key="/x")`, "token and client_cert are both given"},
		{pre + `"https://h:6443", "/etc/kubernetes/pki/ca", "u")`, "CA certificate /etc/kubernetes/pki/ca.crt not found"},
	}
	for _, tc := range cases {
		h := host.NewFake()
		_, _, err := runStar(t, h, tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %q", tc.src, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "0123456789abcdef") {
			t.Errorf("error quotes the token: %v", err)
		}
		if len(h.Paths()) != 0 {
			t.Errorf("%s wrote %v", tc.src, h.Paths())
		}
	}
}
