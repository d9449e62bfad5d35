package security

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The token commands (kubelark token create/delete, certs
// certificate-key) handle the two secrets a join needs: the token's
// secret half and the certificate key. Neither may reach a plan, an error
// or a dry run's output; only a live run's stdout shows what was asked
// for.

const knownKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// adminRoot is a --root holding an admin.conf with a real CA certificate
// (its pin goes into the join command) and no cluster behind it.
func adminRoot(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubernetes"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return scratchRoot(t, map[string]string{"etc/kubernetes/admin.conf": `apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    server: https://10.9.9.9:6443
    certificate-authority-data: ` + ca + `
contexts:
- name: admin@kubernetes
  context: {cluster: kubernetes, user: admin}
current-context: admin@kubernetes
users:
- name: admin
  user: {token: notused.notusednotused}
`})
}

// TestTokenCreateDryRunKeepsSecrets: the plan of a dry-run token create
// lists the Secret write with its server; neither the token nor the
// certificate key is in the plan or the output.
func TestTokenCreateDryRunKeepsSecrets(t *testing.T) {
	root := adminRoot(t)
	plan := filepath.Join(t.TempDir(), "plan.json")
	r := kubelark(t, "token", "create", knownToken, "--print-join-command", "--certificate-key", knownKey, "--dry-run", "--root", root, "--plan", plan)
	if r.Code != 0 {
		t.Fatalf("exit %d:\n%s", r.Code, r.Output())
	}
	out := neverShown(t, r, []string{knownSecret, knownKey, base64.StdEncoding.EncodeToString([]byte(knownSecret))}, plan)
	if !strings.Contains(r.Stdout, "kubelark join 10.9.9.9:6443 --token <redacted> --discovery-token-ca-cert-hash sha256:") || !strings.Contains(r.Stdout, "--control-plane --certificate-key <redacted>") {
		t.Errorf("the dry run's join command:\n%s", out)
	}
	b, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Actions []struct{ Op, Target, Server string }
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	for _, a := range p.Actions {
		if a.Op == "api.apply" && a.Target == "v1/Secret/kube-system/bootstrap-token-abcdef" && a.Server == "https://10.9.9.9:6443" {
			return
		}
	}
	t.Errorf("the plan does not list the token Secret's write with its server:\n%s", b)
}

// TestTokenCommandErrorsKeepSecrets: refused input never quotes the
// token or the key.
func TestTokenCommandErrorsKeepSecrets(t *testing.T) {
	root := adminRoot(t)
	const other = "qwertyuiop123456" // not the example token error messages give
	for _, tc := range []struct {
		args    []string
		secrets []string
	}{
		{[]string{"token", "create", knownToken, "--certificate-key", knownKey, "--root", root}, []string{knownSecret, knownKey}}, // key without --print-join-command
		{[]string{"token", "create", "ABCDEF." + strings.ToUpper(other), "--root", root}, []string{other}},                        // malformed token
		{[]string{"token", "create", knownToken, "--print-join-command", "--certificate-key", knownKey[:60]}, []string{knownSecret, knownKey[:60]}},
		{[]string{"token", "delete", "abcdef", knownToken, "--root", t.TempDir()}, []string{knownSecret}}, // no kubeconfig
		{[]string{"token", "delete", "abcdef." + other + "x"}, []string{other}},                           // malformed token
	} {
		r := kubelark(t, tc.args...)
		if r.Code == 0 {
			t.Errorf("%v succeeded; want a refusal", tc.args)
		}
		neverShown(t, r, tc.secrets)
	}
}
