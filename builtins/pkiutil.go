package builtins

// Shared helpers of the certificate family (pki.go) and the kubeconfig
// family (kubeconfig.go): key generation per algorithm, PEM encoding and
// decoding, reading optional files through the host, and recording files
// that were found and reused. Everything goes through runtime.Env: files via
// env.Host, time via env.Start, randomness via env.Host.Rand().

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/big"
	"net"
	"strings"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"

	"github.com/kubelark/kubelark/runtime"
)

// keyAlgorithms are the values kubeadm accepts for
// ClusterConfiguration.encryptionAlgorithm, in its documentation order.
var keyAlgorithms = []string{"RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", "ECDSA-P384"}

// checkAlgorithm validates an algorithm argument before any work is done,
// so a typo fails fast instead of after other files were written.
func checkAlgorithm(builtin, alg string) error {
	for _, a := range keyAlgorithms {
		if a == alg {
			return nil
		}
	}
	return fmt.Errorf("%s: algorithm %q is not supported; use one of %s", builtin, alg, strings.Join(keyAlgorithms, ", "))
}

// generateKey makes a private key like kubeadm's pkiutil.GeneratePrivateKey.
// Since Go 1.26 the crypto packages ignore the reader and always use the
// system CSPRNG; r is passed anyway so a GODEBUG=cryptocustomrand=1 test
// build stays deterministic.
func generateKey(alg string, r io.Reader) (crypto.Signer, error) {
	switch alg {
	case "RSA-2048":
		return rsa.GenerateKey(r, 2048)
	case "RSA-3072":
		return rsa.GenerateKey(r, 3072)
	case "RSA-4096":
		return rsa.GenerateKey(r, 4096)
	case "ECDSA-P256":
		return ecdsa.GenerateKey(elliptic.P256(), r)
	case "ECDSA-P384":
		return ecdsa.GenerateKey(elliptic.P384(), r)
	}
	return nil, fmt.Errorf("algorithm %q is not supported; use one of %s", alg, strings.Join(keyAlgorithms, ", "))
}

// keyAlgorithmOf names a public key the way the algorithm argument does
// ("RSA-2048", "ECDSA-P256"), for plan summaries and messages.
func keyAlgorithmOf(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA-" + strings.ReplaceAll(k.Curve.Params().Name, "-", "")
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

// encodeKeyPEM encodes a private key as kubeadm does: RSA as PKCS#1
// "RSA PRIVATE KEY", ECDSA as SEC1 "EC PRIVATE KEY".
func encodeKeyPEM(key crypto.Signer) ([]byte, error) {
	return keyutil.MarshalPrivateKeyToPEM(key)
}

// encodePublicKeyPEM encodes a public key as PKIX "PUBLIC KEY" (sa.pub).
func encodePublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// encodeCertPEM encodes one certificate as a "CERTIFICATE" block.
func encodeCertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: certutil.CertificateBlockType, Bytes: c.Raw})
}

// parseKeyPEM parses a PEM private key (PKCS#1, SEC1 or PKCS#8). The error
// never quotes the data: it is key material.
func parseKeyPEM(data []byte) (crypto.Signer, error) {
	k, err := keyutil.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T cannot sign", k)
	}
	return s, nil
}

// parseCertsPEM parses every certificate of a PEM file; the first is the
// certificate itself, the rest its chain.
func parseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	certs, err := certutil.ParseCertsPEM(data)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate found")
	}
	return certs, nil
}

// publicKeyEqual reports whether two public keys are the same key.
func publicKeyEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// readOptional reads path through the host; a missing file is (nil, false,
// nil) so callers can tell "absent" from "unreadable".
func readOptional(env *runtime.Env, path string) ([]byte, bool, error) {
	data, err := env.Host.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// randomSerial returns a serial in [1, 2^63-1) as kubeadm's pkiutil does
// (cryptorand.Int(max int64 - 1) + 1).
func randomSerial(r io.Reader) (*big.Int, error) {
	n, err := rand.Int(r, new(big.Int).SetInt64(math.MaxInt64-1))
	if err != nil {
		return nil, fmt.Errorf("generating a certificate serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

// parseDuration parses a Go duration argument ("8760h", "5m"); positive
// requires > 0, otherwise >= 0 is accepted.
func parseDuration(builtin, arg, s string, positive bool) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %s %q is not a duration; write it like \"8760h\" or \"5m\"", builtin, arg, s)
	}
	if d < 0 || (positive && d == 0) {
		return 0, fmt.Errorf("%s: %s %q must be positive", builtin, arg, s)
	}
	return d, nil
}

// usageNames maps the recipe's usage words to extended key usages, in the
// order kubeadm lists them (server before client).
var usageNames = []struct {
	name string
	eku  x509.ExtKeyUsage
}{{"server", x509.ExtKeyUsageServerAuth}, {"client", x509.ExtKeyUsageClientAuth}}

// extKeyUsages validates usage words and returns them in canonical order
// without duplicates.
func extKeyUsages(builtin string, usages []string) ([]x509.ExtKeyUsage, error) {
	want := map[string]bool{}
	for _, u := range usages {
		known := false
		for _, n := range usageNames {
			known = known || n.name == u
		}
		if !known {
			return nil, fmt.Errorf("%s: usage %q is not supported; use \"server\" and/or \"client\"", builtin, u)
		}
		want[u] = true
	}
	var out []x509.ExtKeyUsage
	for _, n := range usageNames {
		if want[n.name] {
			out = append(out, n.eku)
		}
	}
	return out, nil
}

// usageWords names a certificate's extended key usages for summaries.
func usageWords(ekus []x509.ExtKeyUsage) []string {
	out := []string{}
	for _, e := range ekus {
		name := fmt.Sprintf("eku-%d", e)
		switch e {
		case x509.ExtKeyUsageServerAuth:
			name = "server"
		case x509.ExtKeyUsageClientAuth:
			name = "client"
		case x509.ExtKeyUsageAny:
			name = "any"
		}
		out = append(out, name)
	}
	return out
}

// certSummary describes a certificate for the plan: everything a reviewer
// needs to compare it with kubeadm's, nothing secret.
func certSummary(c *x509.Certificate) map[string]any {
	dns := append([]string{}, c.DNSNames...)
	ips := []string{}
	for _, ip := range c.IPAddresses {
		ips = append(ips, ip.String())
	}
	return map[string]any{
		"subject":       c.Subject.String(),
		"issuer":        c.Issuer.String(),
		"dns_names":     dns,
		"ips":           ips,
		"usages":        usageWords(c.ExtKeyUsage),
		"is_ca":         c.IsCA,
		"not_before":    c.NotBefore.UTC().Format(time.RFC3339),
		"not_after":     c.NotAfter.UTC().Format(time.RFC3339),
		"key_algorithm": keyAlgorithmOf(c.PublicKey),
	}
}

// parseIPs validates IP SAN arguments.
func parseIPs(builtin string, ips []string) ([]net.IP, error) {
	out := make([]net.IP, 0, len(ips))
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("%s: ips: %q is not an IP address; put DNS names in dns_names", builtin, s)
		}
		out = append(out, ip)
	}
	return out, nil
}

// parsePublicKeysPEM returns every public key of a PEM file (public or
// private key blocks), e.g. the keys of sa.pub.
func parsePublicKeysPEM(data []byte) ([]crypto.PublicKey, error) {
	keys, err := keyutil.ParsePublicKeysPEM(data)
	if err != nil {
		return nil, err
	}
	out := make([]crypto.PublicKey, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out, nil
}
