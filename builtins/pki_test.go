package builtins

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math"
	"math/big"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

const pki = "/etc/kubernetes/pki"

// caSrc makes the cluster CA and an apiserver-like leaf with ECDSA-P256
// (fast); tests that care about algorithms set them explicitly.
const caSrc = `
ca = gen_cert("ca", "/etc/kubernetes/pki/ca", "kubernetes", is_ca=True, algorithm="ECDSA-P256", validity="87600h")
`

const leafSrc = `
leaf = gen_cert("apiserver", "/etc/kubernetes/pki/apiserver", "kube-apiserver", ca="/etc/kubernetes/pki/ca",
    dns_names=["kubernetes", "kubernetes.default", "node1"], ips=["10.96.0.1", "10.0.0.10"],
    usages=["server"], algorithm="ECDSA-P256")
`

// readPEM returns the single PEM block of a file and checks its type.
func readPEM(t *testing.T, h *host.Fake, p, wantType string) (*pem.Block, fs.FileMode) {
	t.Helper()
	data, mode, ok := h.Get(p)
	if !ok {
		t.Fatalf("%s was not written", p)
	}
	b, rest := pem.Decode(data)
	if b == nil || b.Type != wantType || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("%s: want exactly one %q PEM block, got %+v", p, wantType, b)
	}
	return b, mode
}

func readCert(t *testing.T, h *host.Fake, p string) *x509.Certificate {
	t.Helper()
	b, mode := readPEM(t, h, p, "CERTIFICATE")
	if mode != 0o644 {
		t.Errorf("%s mode = %04o, want 0644", p, mode)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return c
}

func readKey(t *testing.T, h *host.Fake, p string) crypto.Signer {
	t.Helper()
	data, mode, ok := h.Get(p)
	if !ok {
		t.Fatalf("%s was not written", p)
	}
	if mode != 0o600 {
		t.Errorf("%s mode = %04o, want 0600", p, mode)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM", p)
	}
	var key crypto.Signer
	var err error
	switch b.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		t.Fatalf("%s: PEM type %q, want RSA PRIVATE KEY or EC PRIVATE KEY", p, b.Type)
	}
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return key
}

// checkKeyAlg asserts a key's type and size match an algorithm name and the
// PEM encoding kubeadm uses for it.
func checkKeyAlg(t *testing.T, h *host.Fake, p, alg string) crypto.Signer {
	t.Helper()
	key := readKey(t, h, p)
	data, _, _ := h.Get(p)
	switch alg {
	case "RSA-2048", "RSA-3072", "RSA-4096":
		k, ok := key.(*rsa.PrivateKey)
		if !ok || fmt.Sprintf("RSA-%d", k.N.BitLen()) != alg || !bytes.HasPrefix(data, []byte("-----BEGIN RSA PRIVATE KEY-----")) {
			t.Errorf("%s: got %T, want %s in PKCS#1", p, key, alg)
		}
	case "ECDSA-P256", "ECDSA-P384":
		want := map[string]elliptic.Curve{"ECDSA-P256": elliptic.P256(), "ECDSA-P384": elliptic.P384()}[alg]
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok || k.Curve != want || !bytes.HasPrefix(data, []byte("-----BEGIN EC PRIVATE KEY-----")) {
			t.Errorf("%s: got %T, want %s in SEC1", p, key, alg)
		}
	}
	return key
}

func checkSerial(t *testing.T, c *x509.Certificate) {
	t.Helper()
	if c.SerialNumber.Sign() <= 0 || c.SerialNumber.Cmp(big.NewInt(math.MaxInt64)) >= 0 {
		t.Errorf("serial %v outside [1, 2^63-1)", c.SerialNumber)
	}
}

func TestGenCertEveryAlgorithm(t *testing.T) {
	sigAlg := map[string]x509.SignatureAlgorithm{
		"RSA-2048": x509.SHA256WithRSA, "RSA-3072": x509.SHA256WithRSA, "RSA-4096": x509.SHA256WithRSA,
		"ECDSA-P256": x509.ECDSAWithSHA256, "ECDSA-P384": x509.ECDSAWithSHA384,
	}
	for _, alg := range keyAlgorithms {
		t.Run(alg, func(t *testing.T) {
			h := host.NewFake()
			start := h.Clock
			src := fmt.Sprintf(`
ca = gen_cert("ca", "/etc/kubernetes/pki/ca", "kubernetes", is_ca=True, algorithm=%[1]q, validity="87600h")
leaf = gen_cert("apiserver", "/etc/kubernetes/pki/apiserver", "kube-apiserver", ca="/etc/kubernetes/pki/ca",
    organization=["org-b", "org-a"], dns_names=["node1", "kubernetes"], ips=["10.96.0.1", "fd00::1"],
    usages=["client", "server", "server"], algorithm=%[1]q)
`, alg)
			g, plan := mustRunStar(t, h, src)
			for _, v := range []string{"ca", "leaf"} {
				if s := attr(t, g[v], "status"); s != starlark.String("created") {
					t.Errorf("%s status = %v, want created", v, s)
				}
				if e := attr(t, g[v], "external"); e != starlark.False {
					t.Errorf("%s external = %v", v, e)
				}
			}
			if c := attr(t, g["leaf"], "cert"); c != starlark.String(pki+"/apiserver.crt") {
				t.Errorf("leaf cert = %v", c)
			}
			if k := attr(t, g["leaf"], "key"); k != starlark.String(pki+"/apiserver.key") {
				t.Errorf("leaf key = %v", k)
			}

			ca := readCert(t, h, pki+"/ca.crt")
			caKey := checkKeyAlg(t, h, pki+"/ca.key", alg)
			checkSerial(t, ca)
			if ca.Subject.CommonName != "kubernetes" || len(ca.Subject.Organization) != 0 || ca.Issuer.String() != ca.Subject.String() {
				t.Errorf("CA subject %q issuer %q", ca.Subject, ca.Issuer)
			}
			if !ca.IsCA || !ca.BasicConstraintsValid || len(ca.SubjectKeyId) == 0 || len(ca.ExtKeyUsage) != 0 {
				t.Errorf("CA flags: IsCA=%v BCV=%v SKID=%x EKU=%v", ca.IsCA, ca.BasicConstraintsValid, ca.SubjectKeyId, ca.ExtKeyUsage)
			}
			if ca.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment|x509.KeyUsageCertSign {
				t.Errorf("CA KeyUsage = %b", ca.KeyUsage)
			}
			if !reflect.DeepEqual(ca.DNSNames, []string{"kubernetes"}) || len(ca.IPAddresses) != 0 {
				t.Errorf("CA SANs = %v %v, want DNS = CN", ca.DNSNames, ca.IPAddresses)
			}
			if err := ca.CheckSignatureFrom(ca); err != nil {
				t.Errorf("CA not self-signed: %v", err)
			}
			if !ca.NotBefore.Equal(start.Add(-5*time.Minute)) || !ca.NotAfter.Equal(start.Add(87600*time.Hour)) {
				t.Errorf("CA validity %v..%v, start %v", ca.NotBefore, ca.NotAfter, start)
			}
			if !publicKeyEqual(ca.PublicKey, caKey.Public()) {
				t.Error("ca.key does not match ca.crt")
			}
			if ca.SignatureAlgorithm != sigAlg[alg] {
				t.Errorf("CA signature %v, want %v", ca.SignatureAlgorithm, sigAlg[alg])
			}

			leaf := readCert(t, h, pki+"/apiserver.crt")
			leafKey := checkKeyAlg(t, h, pki+"/apiserver.key", alg)
			checkSerial(t, leaf)
			if leaf.SerialNumber.Cmp(ca.SerialNumber) == 0 {
				t.Error("CA and leaf share a serial")
			}
			// Several O values form one DER SET, which sorts them (kubeadm too).
			if leaf.Subject.CommonName != "kube-apiserver" || !reflect.DeepEqual(leaf.Subject.Organization, []string{"org-a", "org-b"}) {
				t.Errorf("leaf subject %q", leaf.Subject)
			}
			if leaf.Issuer.String() != ca.Subject.String() || !bytes.Equal(leaf.AuthorityKeyId, ca.SubjectKeyId) || len(leaf.SubjectKeyId) != 0 {
				t.Errorf("leaf issuer %q AKID %x (CA SKID %x) SKID %x", leaf.Issuer, leaf.AuthorityKeyId, ca.SubjectKeyId, leaf.SubjectKeyId)
			}
			if leaf.IsCA || !leaf.BasicConstraintsValid {
				t.Errorf("leaf IsCA=%v BCV=%v", leaf.IsCA, leaf.BasicConstraintsValid)
			}
			if leaf.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment {
				t.Errorf("leaf KeyUsage = %b (KeyEncipherment even for ECDSA)", leaf.KeyUsage)
			}
			if !reflect.DeepEqual(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) {
				t.Errorf("leaf EKU = %v, want [server client]", leaf.ExtKeyUsage)
			}
			if !reflect.DeepEqual(leaf.DNSNames, []string{"node1", "kubernetes"}) {
				t.Errorf("leaf DNS = %v, want as given", leaf.DNSNames)
			}
			if len(leaf.IPAddresses) != 2 || !leaf.IPAddresses[0].Equal(net.ParseIP("10.96.0.1")) || !leaf.IPAddresses[1].Equal(net.ParseIP("fd00::1")) {
				t.Errorf("leaf IPs = %v", leaf.IPAddresses)
			}
			if !leaf.NotBefore.Equal(start.Add(-5*time.Minute)) || !leaf.NotAfter.Equal(start.Add(8760*time.Hour)) {
				t.Errorf("leaf validity %v..%v, start %v", leaf.NotBefore, leaf.NotAfter, start)
			}
			if !publicKeyEqual(leaf.PublicKey, leafKey.Public()) {
				t.Error("apiserver.key does not match apiserver.crt")
			}
			if leaf.SignatureAlgorithm != sigAlg[alg] {
				t.Errorf("leaf signature %v, want %v", leaf.SignatureAlgorithm, sigAlg[alg])
			}
			roots := x509.NewCertPool()
			roots.AddCert(ca)
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: start, DNSName: "node1",
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
				t.Errorf("leaf does not verify: %v", err)
			}
			if fi, err := h.Stat(pki); err != nil || fi.Mode().Perm() != 0o755 {
				t.Errorf("pki dir: %v %v, want 0755", fi, err)
			}

			// Plan: key then cert for each, keys secret without digest.
			var got []string
			for _, a := range plan.Actions {
				got = append(got, fmt.Sprintf("%s %s %s %s secret=%v sha=%v", a.Op, a.Target, a.Result, a.Mode, a.Secret, a.SHA256 != ""))
			}
			want := []string{
				"file.write " + pki + "/ca.key created 0600 secret=true sha=false",
				"file.write " + pki + "/ca.crt created 0644 secret=false sha=true",
				"file.write " + pki + "/apiserver.key created 0600 secret=true sha=false",
				"file.write " + pki + "/apiserver.crt created 0644 secret=false sha=true",
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("actions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			sum := plan.Actions[3].Summary
			wantSum := map[string]any{
				"subject": "CN=kube-apiserver,O=org-a+O=org-b", "issuer": "CN=kubernetes",
				"dns_names": []string{"node1", "kubernetes"}, "ips": []string{"10.96.0.1", "fd00::1"},
				"usages": []string{"server", "client"}, "is_ca": false,
				"not_before": "2026-01-02T02:59:05Z", "not_after": "2027-01-02T03:04:05Z", "key_algorithm": alg,
			}
			if !reflect.DeepEqual(sum, wantSum) {
				t.Errorf("cert summary = %#v\nwant %#v", sum, wantSum)
			}
			if plan.Actions[1].Summary["is_ca"] != true || plan.Actions[0].Summary["key_algorithm"] != alg {
				t.Errorf("CA summaries %v %v", plan.Actions[0].Summary, plan.Actions[1].Summary)
			}
			assertNoKeyMaterial(t, h, plan, "")
		})
	}
}

func TestGenCertDefaultsAreKubeadms(t *testing.T) {
	h := host.NewFake()
	mustRunStar(t, h, `gen_cert("ca", "/etc/kubernetes/pki/ca", "kubernetes", is_ca=True)
gen_cert("leaf", "/etc/kubernetes/pki/leaf", "leaf", ca="/etc/kubernetes/pki/ca", usages=["server"])`)
	ca := readCert(t, h, pki+"/ca.crt")
	checkKeyAlg(t, h, pki+"/ca.key", "RSA-2048")
	// kubeadm: constants.CACertificateValidityPeriod (10 years) and
	// CertificateValidityPeriod (1 year).
	if !ca.NotAfter.Equal(h.Clock.Add(87600 * time.Hour)) {
		t.Errorf("default CA validity: NotAfter %v, want start + 87600h", ca.NotAfter)
	}
	if leaf := readCert(t, h, pki+"/leaf.crt"); !leaf.NotAfter.Equal(h.Clock.Add(8760 * time.Hour)) {
		t.Errorf("default leaf validity: NotAfter %v, want start + 8760h", leaf.NotAfter)
	}
}

// snapshot returns every file of h with its content.
func snapshot(h *host.Fake) map[string]string {
	out := map[string]string{}
	for _, p := range h.Paths() {
		d, m, _ := h.Get(p)
		out[p] = fmt.Sprintf("%04o:%s", m, d)
	}
	return out
}

func TestGenCertReuseUnchanged(t *testing.T) {
	h := host.NewFake()
	src := caSrc + leafSrc
	mustRunStar(t, h, src)
	before := snapshot(h)
	h.Clock = h.Clock.Add(time.Hour) // a later run
	g, plan := mustRunStar(t, h, src)
	if !reflect.DeepEqual(before, snapshot(h)) {
		t.Error("files changed on the second run")
	}
	for _, v := range []string{"ca", "leaf"} {
		if s := attr(t, g[v], "status"); s != starlark.String("unchanged") {
			t.Errorf("%s status = %v", v, s)
		}
	}
	if len(plan.Actions) != 4 {
		t.Fatalf("got %d actions, want 4", len(plan.Actions))
	}
	for _, a := range plan.Actions {
		if a.Result != "unchanged" || a.Op != "file.write" {
			t.Errorf("action %+v, want unchanged", a)
		}
		if strings.HasSuffix(a.Target, ".key") != a.Secret || (a.SHA256 == "") != a.Secret {
			t.Errorf("action %s secret=%v sha=%q", a.Target, a.Secret, a.SHA256)
		}
		if strings.HasSuffix(a.Target, ".crt") && (a.Summary["subject"] == nil || a.Mode != "0644") {
			t.Errorf("action %s summary %v mode %s", a.Target, a.Summary, a.Mode)
		}
	}
	// A subset of the existing SANs and a different key algorithm are fine.
	mustRunStar(t, h, caSrc+`
gen_cert("apiserver", "/etc/kubernetes/pki/apiserver", "kube-apiserver", ca="/etc/kubernetes/pki/ca",
    dns_names=["NODE1"], ips=["10.0.0.10"], usages=["server"])
`)
}

func TestGenCertLeafMismatch(t *testing.T) {
	h := host.NewFake()
	mustRunStar(t, h, caSrc+leafSrc)
	before := snapshot(h)
	_, _, err := runStar(t, h, caSrc+`
gen_cert("apiserver", "/etc/kubernetes/pki/apiserver", "kube-apiserver2", ca="/etc/kubernetes/pki/ca",
    organization=["system:masters"], dns_names=["kubernetes", "cp.example.com"], ips=["10.0.0.10", "10.0.0.100"],
    usages=["server", "client"], algorithm="ECDSA-P256")
`)
	if err == nil {
		t.Fatal("mismatching leaf accepted")
	}
	for _, want := range []string{
		"gen_cert: apiserver:",
		"apiserver.crt lacks IP SAN 10.0.0.100 required by the recipe",
		"apiserver.crt lacks DNS SAN cp.example.com required by the recipe",
		`apiserver.crt has CN "kube-apiserver", the recipe wants "kube-apiserver2"`,
		`apiserver.crt has organizations [], the recipe wants ["system:masters"]`,
		`apiserver.crt lacks usage "client" required by the recipe`,
		"remove /etc/kubernetes/pki/apiserver.{crt,key} to regenerate it",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "lacks IP SAN 10.0.0.10 ") || strings.Contains(err.Error(), "does not verify") {
		t.Errorf("error reports things that match: %v", err)
	}
	if !reflect.DeepEqual(before, snapshot(h)) {
		t.Error("files changed after a mismatch error")
	}
}

func TestGenCertLeafWrongCAOrKey(t *testing.T) {
	h := host.NewFake()
	mustRunStar(t, h, caSrc+leafSrc+`
gen_cert("other", "/tmp/other/ca", "other-ca", is_ca=True, algorithm="ECDSA-P256")
gen_cert("x", "/tmp/other/x", "x", ca="/tmp/other/ca", algorithm="ECDSA-P256")
`)
	orig, _, _ := h.Get(pki + "/apiserver.key")
	otherKey, _, _ := h.Get("/tmp/other/x.key")

	// The leaf's key replaced by another one.
	h.Put(pki+"/apiserver.key", otherKey, 0o600)
	_, _, err := runStar(t, h, caSrc+leafSrc)
	if err == nil || !strings.Contains(err.Error(), "apiserver.key does not match apiserver.crt") {
		t.Errorf("key mismatch: %v", err)
	}
	h.Put(pki+"/apiserver.key", orig, 0o600)

	// The CA replaced: the leaf no longer chains.
	for _, ext := range []string{".crt", ".key"} {
		d, _, _ := h.Get("/tmp/other/ca" + ext)
		h.Put(pki+"/ca"+ext, d, 0o600)
	}
	_, _, err = runStar(t, h, caSrc+leafSrc)
	if err == nil || !strings.Contains(err.Error(), "apiserver.crt does not verify against /etc/kubernetes/pki/ca.crt") {
		t.Errorf("foreign leaf: %v", err)
	}

	// An expired leaf does not verify either (and is not replaced).
	h2 := host.NewFake()
	mustRunStar(t, h2, caSrc+strings.Replace(leafSrc, `usages=["server"]`, `usages=["server"], validity="1h"`, 1))
	h2.Clock = h2.Clock.Add(2 * time.Hour)
	_, _, err = runStar(t, h2, caSrc+leafSrc)
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired leaf: %v", err)
	}
}

func TestGenCertExternalCA(t *testing.T) {
	h := host.NewFake()
	mustRunStar(t, h, caSrc+leafSrc)
	h.Remove(pki + "/ca.key")
	before := snapshot(h)
	g, env, out, err := runStarEnv(t, h, caSrc+leafSrc)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"ca", "leaf"} {
		if attr(t, g[v], "status") != starlark.String("unchanged") || attr(t, g[v], "external") != starlark.True {
			t.Errorf("%s = %v, want unchanged external", v, g[v])
		}
	}
	wantWarn := "Using existing ca certificate authority without its key (external CA mode)"
	if w := env.Warnings(); len(w) != 1 || w[0] != wantWarn {
		t.Errorf("warnings = %q", w)
	}
	if !strings.Contains(out.String(), "[WARNING] "+wantWarn) {
		t.Errorf("output lacks the warning:\n%s", out)
	}
	if !reflect.DeepEqual(before, snapshot(h)) {
		t.Error("files changed in external CA mode")
	}
	if n := len(env.Plan().Actions); n != 3 { // ca.crt, apiserver.key, apiserver.crt
		t.Errorf("got %d actions, want 3", n)
	}

	// A missing leaf cannot be generated without the CA key.
	h.Remove(pki + "/apiserver.crt")
	h.Remove(pki + "/apiserver.key")
	_, _, err = runStar(t, h, caSrc+leafSrc)
	if err == nil || !strings.Contains(err.Error(), "external CA mode") || !strings.Contains(err.Error(), "apiserver.crt is missing") {
		t.Errorf("missing leaf under external CA: %v", err)
	}
	if _, _, ok := h.Get(pki + "/apiserver.crt"); ok {
		t.Error("leaf generated without a CA key")
	}
}

func TestGenCertHalfPairs(t *testing.T) {
	cases := []struct {
		name, remove, want string
	}{
		{"ca key without cert", pki + "/ca.crt", "/etc/kubernetes/pki/ca.key exists but /etc/kubernetes/pki/ca.crt does not; remove the key"},
		{"leaf key without cert", pki + "/apiserver.crt", "/etc/kubernetes/pki/apiserver.key exists but /etc/kubernetes/pki/apiserver.crt does not"},
		{"leaf cert without key", pki + "/apiserver.key", "/etc/kubernetes/pki/apiserver.crt exists but its key /etc/kubernetes/pki/apiserver.key does not"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := host.NewFake()
			mustRunStar(t, h, caSrc+leafSrc)
			h.Remove(tc.remove)
			before := snapshot(h)
			_, _, err := runStar(t, h, caSrc+leafSrc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
			if !reflect.DeepEqual(before, snapshot(h)) {
				t.Error("files changed")
			}
		})
	}
}

func TestGenCertExistingCAChecks(t *testing.T) {
	h := host.NewFake()
	mustRunStar(t, h, caSrc+leafSrc+`gen_cert("other", "/tmp/other", "other", is_ca=True, algorithm="ECDSA-P256")`)
	// A leaf where the CA should be.
	leafCrt, _, _ := h.Get(pki + "/apiserver.crt")
	h2 := host.NewFake()
	h2.Put(pki+"/ca.crt", leafCrt, 0o644)
	_, _, err := runStar(t, h2, caSrc)
	if err == nil || !strings.Contains(err.Error(), "is not a CA certificate") {
		t.Errorf("leaf as CA: %v", err)
	}
	_, _, err = runStar(t, h2, leafSrc)
	if err == nil || !strings.Contains(err.Error(), "is not a CA certificate") {
		t.Errorf("leaf as signing CA: %v", err)
	}
	// A CA key that belongs to another CA.
	other, _, _ := h.Get("/tmp/other.key")
	h.Put(pki+"/ca.key", other, 0o600)
	_, _, err = runStar(t, h, caSrc)
	if err == nil || !strings.Contains(err.Error(), "/etc/kubernetes/pki/ca.key does not match /etc/kubernetes/pki/ca.crt") {
		t.Errorf("CA key mismatch: %v", err)
	}
	_, _, err = runStar(t, h, leafSrc)
	if err == nil || !strings.Contains(err.Error(), "CA key /etc/kubernetes/pki/ca.key does not match") {
		t.Errorf("CA key mismatch for a leaf: %v", err)
	}
	// Garbage.
	h.Put(pki+"/ca.key", []byte("not a key"), 0o600)
	_, _, err = runStar(t, h, caSrc)
	if err == nil || !strings.Contains(err.Error(), "ca.key is not a usable private key") {
		t.Errorf("garbage CA key: %v", err)
	}
	h.Put(pki+"/ca.crt", []byte("garbage"), 0o644)
	_, _, err = runStar(t, h, caSrc)
	if err == nil || !strings.Contains(err.Error(), "ca.crt is not a PEM certificate") {
		t.Errorf("garbage CA cert: %v", err)
	}
}

func TestGenCertBadArgs(t *testing.T) {
	cases := []struct{ src, want string }{
		{`gen_cert("ca", "/p/ca", "k", is_ca=True, algorithm="RSA-1024")`, `algorithm "RSA-1024" is not supported; use one of RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384`},
		{`gen_cert("ca", "/p/ca", "k", is_ca=True, validity="10y")`, `validity "10y" is not a duration`},
		{`gen_cert("ca", "/p/ca", "k", is_ca=True, validity="0s")`, `validity "0s" must be positive`},
		{`gen_cert("ca", "/p/ca", "k", is_ca=True, backdate="-5m")`, `backdate "-5m" must be positive`},
		{`gen_cert("x", "/p/x", "x", ca="/p/ca")`, "CA certificate /p/ca.crt not found; generate the CA first"},
		{`gen_cert("x", "/p/x", "x", ca="/p/ca", usages=["peer"])`, `usage "peer" is not supported`},
		{`gen_cert("x", "/p/x", "x", ca="/p/ca", ips=["node1"])`, `"node1" is not an IP address`},
		{`gen_cert("x", "/p/x", "x")`, "ca is missing"},
		{`gen_cert("x", "/p/x", "x", ca="/p/ca", is_ca=True)`, "intermediate CAs are not supported"},
		{`gen_cert("ca", "/p/ca", "k", is_ca=True, usages=["server"])`, "given for a CA"},
		{`gen_cert("x", "/p/x.crt", "x", ca="/p/ca")`, "must be the base path without .crt"},
		{`gen_cert("x", "p/x", "x", ca="/p/ca")`, "must be an absolute path"},
		{`gen_cert("x", "/p/x", "", ca="/p/ca")`, "cn is empty"},
		{`gen_cert("", "/p/x", "x", ca="/p/ca")`, "name is empty"},
		{`gen_cert("x", "/p/x", "x", ca="/p/ca", dns_names="a")`, "dns_names: got string, want list of strings"},
		{`gen_cert("x", "/p/x", "x", ca=1)`, "ca: got int, want string or None"},
		{`gen_cert("x", "/p/x", "x", ca="/p/ca", bogus=1)`, "unexpected keyword argument"},
		{`gen_key_pair("/p/sa.key", "/p/sa.pub", algorithm="DSA")`, `algorithm "DSA" is not supported`},
		{`gen_key_pair("/p/sa.key", "/p/sa.pub", pub_mode=0o1777)`, "is not a permission mode"},
		{`gen_key_pair("/p/sa.key", "/p/sa.key")`, "use two files"},
		{`ca_cert_hash("/p/ca.crt")`, "/p/ca.crt not found"},
	}
	for _, tc := range cases {
		h := host.NewFake()
		_, _, err := runStar(t, h, tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %q", tc.src, err, tc.want)
		}
		if len(h.Paths()) != 0 {
			t.Errorf("%s wrote %v", tc.src, h.Paths())
		}
	}
}

func TestGenKeyPair(t *testing.T) {
	for _, alg := range []string{"RSA-2048", "ECDSA-P384"} {
		t.Run(alg, func(t *testing.T) {
			h := host.NewFake()
			src := fmt.Sprintf(`r = gen_key_pair("/etc/kubernetes/pki/sa.key", "/etc/kubernetes/pki/sa.pub", algorithm=%q)`, alg)
			g, plan := mustRunStar(t, h, src)
			if s := attr(t, g["r"], "status"); s != starlark.String("created") {
				t.Errorf("status %v", s)
			}
			key := checkKeyAlg(t, h, pki+"/sa.key", alg)
			b, mode := readPEM(t, h, pki+"/sa.pub", "PUBLIC KEY")
			if mode != 0o600 {
				t.Errorf("sa.pub mode %04o, want 0600 like kubeadm", mode)
			}
			pub, err := x509.ParsePKIXPublicKey(b.Bytes)
			if err != nil || !publicKeyEqual(pub, key.Public()) {
				t.Errorf("sa.pub does not hold sa.key's public key: %v", err)
			}
			if len(plan.Actions) != 2 || !plan.Actions[0].Secret || plan.Actions[1].Secret || plan.Actions[1].SHA256 == "" {
				t.Errorf("actions %+v", plan.Actions)
			}
			assertNoKeyMaterial(t, h, plan, "")

			before := snapshot(h)
			g, plan = mustRunStar(t, h, src)
			if attr(t, g["r"], "status") != starlark.String("unchanged") || !reflect.DeepEqual(before, snapshot(h)) {
				t.Errorf("second run: %v", g["r"])
			}
			for _, a := range plan.Actions {
				if a.Result != "unchanged" {
					t.Errorf("second run action %+v", a)
				}
			}

			// sa.pub lost: derived from the existing key, with pub_mode.
			h.Remove(pki + "/sa.pub")
			mustRunStar(t, h, strings.Replace(src, ")", ", pub_mode=0o644)", 1))
			if d, _, _ := h.Get(pki + "/sa.key"); before[pki+"/sa.key"] != "0600:"+string(d) {
				t.Error("sa.key was replaced")
			}
			if _, m := readPEM(t, h, pki+"/sa.pub", "PUBLIC KEY"); m != 0o644 || before[pki+"/sa.pub"][5:] != string(must(h.Get(pki+"/sa.pub"))) {
				t.Errorf("rederived sa.pub differs or mode %04o", m)
			}
		})
	}
}

func must(d []byte, _ fs.FileMode, _ bool) []byte { return d }

func TestGenKeyPairErrors(t *testing.T) {
	src := `gen_key_pair("/etc/kubernetes/pki/sa.key", "/etc/kubernetes/pki/sa.pub", algorithm="ECDSA-P256")`
	h := host.NewFake()
	mustRunStar(t, h, src)
	h2 := host.NewFake()
	mustRunStar(t, h2, src)
	otherPub, _, _ := h2.Get(pki + "/sa.pub")

	h.Put(pki+"/sa.pub", otherPub, 0o600)
	if _, _, err := runStar(t, h, src); err == nil || !strings.Contains(err.Error(), "sa.pub does not contain the public key of /etc/kubernetes/pki/sa.key") {
		t.Errorf("mismatching pub: %v", err)
	}
	h.Remove(pki + "/sa.key")
	if _, _, err := runStar(t, h, src); err == nil || !strings.Contains(err.Error(), "sa.pub exists but /etc/kubernetes/pki/sa.key does not") {
		t.Errorf("pub without key: %v", err)
	}
	h.Put(pki+"/sa.key", []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), 0o600)
	if _, _, err := runStar(t, h, src); err == nil || !strings.Contains(err.Error(), "sa.key is not a usable private key") {
		t.Errorf("unparsable key: %v", err)
	}
}

// katCert is a P-256 CA made with openssl; its pin was computed with
// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum`,
// the command kubeadm's documentation gives for the join hash.
const katCert = `-----BEGIN CERTIFICATE-----
MIIBeTCCAR+gAwIBAgIUIgTWJV6L6ngTf/3sxkC8swaIgSMwCgYIKoZIzj0EAwIw
ETEPMA0GA1UEAwwGa2F0LWNhMCAXDTI2MTEyNDEwMzgxNloYDzIxMjYxMDMxMTAz
ODE2WjARMQ8wDQYDVQQDDAZrYXQtY2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AAST0baWiN/1VuK+5EuE7lu8b4DKmtj+KrbnMck/6YUr7NXRLfDpTgJoQJqv6kfW
EWo6mhTdqsHK0gsq0Uo9nPb3o1MwUTAdBgNVHQ4EFgQU77cgkuVQ13S3Qgw7Jg+F
Xi2vhTEwHwYDVR0jBBgwFoAU77cgkuVQ13S3Qgw7Jg+FXi2vhTEwDwYDVR0TAQH/
BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiAcVRxKN0b+6XilzgfTGzu8YN7MYMK6
BAqNss9d0GyHngIhAJ5VW8VpUYKp7+uzoKOxUivAUlIzlSfeKrhqfRz4HzKm
-----END CERTIFICATE-----
`

func TestCACertHash(t *testing.T) {
	h := host.NewFake()
	// A second certificate after the first must not change the pin.
	h.Put(pki+"/ca.crt", []byte(katCert+katCert), 0o644)
	g, _ := mustRunStar(t, h, `pin = ca_cert_hash("/etc/kubernetes/pki/ca.crt")`)
	if want := starlark.String("sha256:f0238cfeb005dc8199ff876499912ece76eb764b6c0c0ab2cdb79cad1892a652"); g["pin"] != want {
		t.Errorf("pin = %v, want %v", g["pin"], want)
	}
	h.Put("/x.crt", []byte("nope"), 0o644)
	if _, _, err := runStar(t, h, `ca_cert_hash("/x.crt")`); err == nil || !strings.Contains(err.Error(), "/x.crt is not a PEM certificate") {
		t.Errorf("garbage: %v", err)
	}
}

// assertNoKeyMaterial checks that no private key (nor token) leaked into
// the plan JSON or the printed output: every .key file, every kubeconfig
// client key, and secret if not empty.
func assertNoKeyMaterial(t *testing.T, h *host.Fake, plan *runtime.Plan, output string, secrets ...string) {
	t.Helper()
	js, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	hay := string(js) + "\n" + output
	if strings.Contains(hay, "PRIVATE KEY") {
		t.Error("a PEM private key header appears in the plan or output")
	}
	for _, p := range h.Paths() {
		data, _, _ := h.Get(p)
		for _, line := range strings.Split(string(data), "\n") {
			if len(line) >= 40 && !strings.HasPrefix(line, "-----") && strings.Contains(string(data), "PRIVATE KEY") && strings.Contains(hay, line) {
				t.Errorf("key material of %s appears in the plan or output", p)
				break
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(hay, s) {
			t.Errorf("secret %q appears in the plan or output", s)
		}
	}
}

func BenchmarkRSA2048KeyGen(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := generateKey("RSA-2048", cryptorand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkECDSAP256KeyGen(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := generateKey("ECDSA-P256", cryptorand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenCert measures one full gen_cert of an RSA-2048 leaf (unpack,
// read CA, keygen, sign, encode, write, record) through starlark.Call.
func BenchmarkGenCert(b *testing.B) {
	h := host.NewFake()
	env := runtime.NewEnv(b.Context(), h, nil, nil)
	thread := &starlark.Thread{Name: "bench"}
	env.Attach(thread)
	pre := testPredeclared()
	if _, err := starlark.ExecFile(thread, "ca.star", `gen_cert("ca", "/etc/kubernetes/pki/ca", "kubernetes", is_ca=True)`, pre); err != nil {
		b.Fatal(err)
	}
	fn := pre["gen_cert"]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		args := starlark.Tuple{starlark.String("apiserver"), starlark.String(fmt.Sprintf("/etc/kubernetes/pki/leaf%d", i)), starlark.String("kube-apiserver")}
		kwargs := []starlark.Tuple{
			{starlark.String("ca"), starlark.String("/etc/kubernetes/pki/ca")},
			{starlark.String("dns_names"), starlark.NewList([]starlark.Value{starlark.String("kubernetes")})},
			{starlark.String("ips"), starlark.NewList([]starlark.Value{starlark.String("10.96.0.1")})},
			{starlark.String("usages"), starlark.NewList([]starlark.Value{starlark.String("server")})},
		}
		if _, err := starlark.Call(thread, fn, args, kwargs); err != nil {
			b.Fatal(err)
		}
	}
}
