package recipes_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io/fs"
	"net"
	"slices"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubelark/kubelark/runtime/host"
)

// wantCert is one row of kubeadm-facts §1.1.
type wantCert struct {
	base   string // under /etc/kubernetes/pki
	cn     string
	org    []string
	issuer string // base of the signing CA; "" = self-signed CA
	usages []x509.ExtKeyUsage
	dns    []string
	ips    []string
}

// kubeadmCerts is the certificate table for the test node (node1,
// 10.0.0.10, default networking).
var kubeadmCerts = []wantCert{
	{base: "ca", cn: "kubernetes", dns: []string{"kubernetes"}},
	{base: "apiserver", cn: "kube-apiserver", issuer: "ca", usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		dns: []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "node1"},
		ips: []string{"10.96.0.1", "10.0.0.10"}},
	{base: "apiserver-kubelet-client", cn: "kube-apiserver-kubelet-client", issuer: "ca", usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
	{base: "front-proxy-ca", cn: "front-proxy-ca", dns: []string{"front-proxy-ca"}},
	{base: "front-proxy-client", cn: "front-proxy-client", issuer: "front-proxy-ca", usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
	{base: "etcd/ca", cn: "etcd-ca", dns: []string{"etcd-ca"}},
	{base: "etcd/server", cn: "node1", issuer: "etcd/ca", usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		dns: []string{"localhost", "node1"}, ips: []string{"10.0.0.10", "127.0.0.1", "::1"}},
	{base: "etcd/peer", cn: "node1", issuer: "etcd/ca", usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		dns: []string{"localhost", "node1"}, ips: []string{"10.0.0.10", "127.0.0.1", "::1"}},
	{base: "etcd/healthcheck-client", cn: "kube-etcd-healthcheck-client", issuer: "etcd/ca", usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
	{base: "apiserver-etcd-client", cn: "kube-apiserver-etcd-client", issuer: "etcd/ca", usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
}

// wantKubeconfig is one row of kubeadm-facts §2.
type wantKubeconfig struct {
	file, user, server string
	org                []string
}

var kubeadmKubeconfigs = []wantKubeconfig{
	{"admin.conf", "kubernetes-admin", "https://10.0.0.10:6443", []string{"kubeadm:cluster-admins"}},
	{"super-admin.conf", "kubernetes-super-admin", "https://10.0.0.10:6443", []string{"system:masters"}},
	{"kubelet.conf", "system:node:node1", "https://10.0.0.10:6443", []string{"system:nodes"}},
	{"controller-manager.conf", "system:kube-controller-manager", "https://10.0.0.10:6443", nil},
	{"scheduler.conf", "system:kube-scheduler", "https://10.0.0.10:6443", nil},
}

// initOnFake runs init (not dry) on a fresh fake host and returns it.
func initOnFake(t *testing.T, values string, set ...string) *host.Fake {
	t.Helper()
	f := newFake()
	if _, out, err := runInit(t, f, false, values, set...); err != nil {
		t.Fatalf("init failed: %v\n%s", err, out)
	}
	return f
}

func readCert(t *testing.T, f *host.Fake, path string) *x509.Certificate {
	t.Helper()
	data, _, ok := f.Get(path)
	if !ok {
		t.Fatalf("%s was not written", path)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s: no CERTIFICATE PEM block", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// TestCertificatesMatchKubeadm parses every certificate init writes and
// checks it against kubeadm's table: subject, issuer chain, SANs (order
// included), key usages, validity and key type.
func TestCertificatesMatchKubeadm(t *testing.T) {
	for _, algo := range []string{"RSA-2048", "ECDSA-P256"} {
		t.Run(algo, func(t *testing.T) {
			f := initOnFake(t, "", "encryption_algorithm="+algo)
			start := f.Clock
			pool := map[string]*x509.Certificate{}
			for _, w := range kubeadmCerts {
				c := readCert(t, f, "/etc/kubernetes/pki/"+w.base+".crt")
				pool[w.base] = c
				checkCert(t, w, c, algo, start)
				if w.issuer != "" {
					verifyChain(t, w.base, c, pool[w.issuer], w.usages)
				}
			}
			checkKubeconfigs(t, f, pool["ca"], start, algo)
		})
	}
}

func checkCert(t *testing.T, w wantCert, c *x509.Certificate, algo string, start time.Time) {
	t.Helper()
	isCA := w.issuer == ""
	if c.Subject.CommonName != w.cn || !slices.Equal(c.Subject.Organization, w.org) {
		t.Errorf("%s: subject CN=%q O=%v, want CN=%q O=%v", w.base, c.Subject.CommonName, c.Subject.Organization, w.cn, w.org)
	}
	if !slices.Equal(c.DNSNames, w.dns) {
		t.Errorf("%s: DNS SANs %v, want %v", w.base, c.DNSNames, w.dns)
	}
	var ips []string
	for _, ip := range c.IPAddresses {
		ips = append(ips, ip.String())
	}
	if !slices.Equal(ips, w.ips) {
		t.Errorf("%s: IP SANs %v, want %v", w.base, ips, w.ips)
	}
	wantKU := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	if isCA {
		wantKU |= x509.KeyUsageCertSign
	}
	if c.KeyUsage != wantKU {
		t.Errorf("%s: KeyUsage %b, want %b", w.base, c.KeyUsage, wantKU)
	}
	if !slices.Equal(c.ExtKeyUsage, w.usages) {
		t.Errorf("%s: ExtKeyUsage %v, want %v", w.base, c.ExtKeyUsage, w.usages)
	}
	if !c.BasicConstraintsValid || c.IsCA != isCA {
		t.Errorf("%s: BasicConstraintsValid=%v IsCA=%v, want true/%v", w.base, c.BasicConstraintsValid, c.IsCA, isCA)
	}
	validity := 8760 * time.Hour
	if isCA {
		validity = 87600 * time.Hour
	}
	if !c.NotBefore.Equal(start.Add(-5*time.Minute)) || !c.NotAfter.Equal(start.Add(validity)) {
		t.Errorf("%s: valid %s..%s, want %s..%s", w.base, c.NotBefore, c.NotAfter, start.Add(-5*time.Minute), start.Add(validity))
	}
	checkKeyType(t, w.base, c, algo)
}

func checkKeyType(t *testing.T, what string, c *x509.Certificate, algo string) {
	t.Helper()
	switch algo {
	case "RSA-2048":
		k, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok || k.N.BitLen() != 2048 || c.SignatureAlgorithm != x509.SHA256WithRSA {
			t.Errorf("%s: key %T, signature %s; want RSA 2048 / SHA256-RSA", what, c.PublicKey, c.SignatureAlgorithm)
		}
	case "ECDSA-P256":
		k, ok := c.PublicKey.(*ecdsa.PublicKey)
		if !ok || k.Curve != elliptic.P256() || c.SignatureAlgorithm != x509.ECDSAWithSHA256 {
			t.Errorf("%s: key %T, signature %s; want ECDSA P-256 / ECDSA-SHA256", what, c.PublicKey, c.SignatureAlgorithm)
		}
	}
}

func verifyChain(t *testing.T, what string, c, ca *x509.Certificate, usages []x509.ExtKeyUsage) {
	t.Helper()
	if ca == nil {
		t.Fatalf("%s: issuer not parsed yet (table order)", what)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if len(usages) == 0 {
		usages = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: c.NotBefore.Add(time.Hour), KeyUsages: usages}); err != nil {
		t.Errorf("%s does not verify against %s: %v", what, ca.Subject.CommonName, err)
	}
	if c.Issuer.String() != ca.Subject.String() {
		t.Errorf("%s: issuer %s, want %s", what, c.Issuer, ca.Subject)
	}
}

// checkKubeconfigs verifies each kubeconfig's layout and client
// certificate: CN/O, signed by ca.crt, NotBefore copied from the CA.
func checkKubeconfigs(t *testing.T, f *host.Fake, ca *x509.Certificate, start time.Time, algo string) {
	t.Helper()
	for _, w := range kubeadmKubeconfigs {
		path := "/etc/kubernetes/" + w.file
		data, mode, ok := f.Get(path)
		if !ok {
			t.Errorf("%s not written", path)
			continue
		}
		if mode != 0o600 {
			t.Errorf("%s: mode %o, want 600", path, mode)
		}
		cfg, err := clientcmd.Load(data)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		ctxName := w.user + "@kubernetes"
		ctx := cfg.Contexts[ctxName]
		if cfg.CurrentContext != ctxName || ctx == nil || ctx.Cluster != "kubernetes" || ctx.AuthInfo != w.user {
			t.Errorf("%s: current-context %q, contexts %v; want %q -> cluster kubernetes, user %q", path, cfg.CurrentContext, cfg.Contexts, ctxName, w.user)
			continue
		}
		cl := cfg.Clusters["kubernetes"]
		if cl == nil || cl.Server != w.server {
			t.Errorf("%s: cluster %+v, want server %s", path, cl, w.server)
			continue
		}
		if block, _ := pem.Decode(cl.CertificateAuthorityData); block == nil || !slices.Equal(block.Bytes, ca.Raw) {
			t.Errorf("%s: certificate-authority-data is not ca.crt", path)
		}
		user := cfg.AuthInfos[w.user]
		if user == nil || len(user.ClientKeyData) == 0 {
			t.Errorf("%s: user %q has no embedded client key", path, w.user)
			continue
		}
		block, _ := pem.Decode(user.ClientCertificateData)
		if block == nil {
			t.Errorf("%s: no client certificate", path)
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if c.Subject.CommonName != w.user || !slices.Equal(c.Subject.Organization, w.org) {
			t.Errorf("%s: client CN=%q O=%v, want CN=%q O=%v", path, c.Subject.CommonName, c.Subject.Organization, w.user, w.org)
		}
		verifyChain(t, path, c, ca, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
		if !c.NotBefore.Equal(ca.NotBefore) || !c.NotAfter.Equal(start.Add(8760*time.Hour)) {
			t.Errorf("%s: client cert valid %s..%s, want %s..%s", path, c.NotBefore, c.NotAfter, ca.NotBefore, start.Add(8760*time.Hour))
		}
		checkKeyType(t, path, c, algo)
	}
}

// TestFilesAndModes checks that init writes kubeadm's 22 PKI files, 5
// kubeconfigs, 4 manifests and 3 kubelet files with kubeadm's modes.
func TestFilesAndModes(t *testing.T) {
	f := initOnFake(t, "")
	want := map[string]fs.FileMode{
		"/etc/kubernetes/pki/sa.key": 0o600,
		"/etc/kubernetes/pki/sa.pub": 0o600, // kubeadm writes it with WriteKey
	}
	for _, c := range kubeadmCerts {
		want["/etc/kubernetes/pki/"+c.base+".crt"] = 0o644
		want["/etc/kubernetes/pki/"+c.base+".key"] = 0o600
	}
	if len(want) != 22 {
		t.Fatalf("test table has %d PKI files, kubeadm has 22", len(want))
	}
	for _, k := range kubeadmKubeconfigs {
		want["/etc/kubernetes/"+k.file] = 0o600
	}
	for _, m := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"} {
		want["/etc/kubernetes/manifests/"+m+".yaml"] = 0o600
	}
	for _, k := range []string{"kubeadm-flags.env", "instance-config.yaml", "config.yaml"} {
		want["/var/lib/kubelet/"+k] = 0o644
	}
	if len(want) != 34 {
		t.Fatalf("want table has %d files, expected 22+5+4+3", len(want))
	}
	for path, mode := range want {
		_, got, ok := f.Get(path)
		if !ok {
			t.Errorf("%s not written", path)
		} else if got != mode {
			t.Errorf("%s: mode %o, want %o", path, got, mode)
		}
	}
	for dir, mode := range map[string]fs.FileMode{"/etc/kubernetes/manifests": 0o700, "/var/lib/etcd": 0o700, "/var/lib/kubelet": 0o700, "/etc/kubernetes/pki": 0o755} {
		fi, err := f.Stat(dir)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want a directory with mode %o", dir, fi, err, mode)
		}
	}
	// sa.pub is the public half of sa.key.
	keyPEM, _, _ := f.Get("/etc/kubernetes/pki/sa.key")
	pubPEM, _, _ := f.Get("/etc/kubernetes/pki/sa.pub")
	kb, _ := pem.Decode(keyPEM)
	pb, _ := pem.Decode(pubPEM)
	if kb == nil || kb.Type != "RSA PRIVATE KEY" || pb == nil || pb.Type != "PUBLIC KEY" {
		t.Fatalf("sa.key/sa.pub PEM types wrong")
	}
	key, err := x509.ParsePKCS1PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(pb.Bytes)
	if err != nil || !key.PublicKey.Equal(pub) {
		t.Errorf("sa.pub does not match sa.key (%v)", err)
	}
}

// TestAPIServerSANsWithEndpoint checks the SAN rules that depend on the
// configuration (kubeadm-facts §1.2 example "dry2").
func TestAPIServerSANsWithEndpoint(t *testing.T) {
	f := newFake()
	_, out, err := runInit(t, f, false, "cpe-sans.yaml")
	if err != nil {
		t.Fatalf("init failed: %v\n%s", err, out)
	}
	c := readCert(t, f, "/etc/kubernetes/pki/apiserver.crt")
	wantDNS := []string{"*.wild.example.com", "cp.example.com", "cp1", "extra.example.com", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	if !slices.Equal(c.DNSNames, wantDNS) {
		t.Errorf("DNS SANs %v, want %v", c.DNSNames, wantDNS)
	}
	wantIPs := []net.IP{net.ParseIP("10.96.0.1"), net.ParseIP("10.0.0.10"), net.ParseIP("10.0.0.100")}
	if len(c.IPAddresses) != len(wantIPs) {
		t.Fatalf("IP SANs %v, want %v", c.IPAddresses, wantIPs)
	}
	for i := range wantIPs {
		if !c.IPAddresses[i].Equal(wantIPs[i]) {
			t.Errorf("IP SANs %v, want %v", c.IPAddresses, wantIPs)
		}
	}
	// admin.conf and super-admin.conf use the endpoint (with bind_port
	// appended); kubelet.conf stays local.
	for file, server := range map[string]string{"admin.conf": "https://cp.example.com:6443", "super-admin.conf": "https://cp.example.com:6443", "kubelet.conf": "https://10.0.0.10:6443", "scheduler.conf": "https://10.0.0.10:6443"} {
		data, _, _ := f.Get("/etc/kubernetes/" + file)
		cfg, err := clientcmd.Load(data)
		if err != nil || cfg.Clusters["kubernetes"] == nil || cfg.Clusters["kubernetes"].Server != server {
			t.Errorf("%s: server not %s (%v)", file, server, err)
		}
	}
	if !regexpMatch(`'not_a_valid_name' was not added to the 'apiserver' SAN`, out) {
		t.Errorf("no warning for the invalid SAN in:\n%s", out)
	}
}
