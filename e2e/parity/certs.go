package parity

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// certCollector reads certificates (*.crt), private keys (*.key) and public
// keys (*.pub) under the roots.
var certCollector = fileCollector{
	name: "certs",
	match: func(p string) bool {
		switch path.Ext(p) {
		case ".crt", ".key", ".pub":
			return true
		}
		return false
	},
	read: readCertOrKey,
}

func readCertOrKey(o *Output, p string, data []byte) (Artifacts, error) {
	switch path.Ext(p) {
	case ".crt":
		certs, err := parseCerts(data)
		if err != nil {
			return nil, err
		}
		r := Record{"count": strconv.Itoa(len(certs))}
		idx, err := o.certIndex()
		if err != nil {
			return nil, err
		}
		certFields(r, "", certs[0], idx)
		return Artifacts{"cert " + p: r}, nil
	case ".key":
		key, pemType, err := parsePrivateKey(data)
		if err != nil {
			return nil, err
		}
		r := Record{"pem_type": pemType, "algorithm": keyAlgorithm(key.Public())}
		// Does the certificate beside it hold this key's public half?
		if crt, err := o.ReadFile(strings.TrimSuffix(p, ".key") + ".crt"); err == nil {
			if certs, err := parseCerts(crt); err == nil {
				r["matches_crt"] = strconv.FormatBool(samePublicKey(certs[0].PublicKey, key.Public()))
			}
		}
		return Artifacts{"key " + p: r}, nil
	default: // .pub
		b, _ := pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("no PEM block")
		}
		pub, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, err
		}
		r := Record{"pem_type": b.Type, "algorithm": keyAlgorithm(pub)}
		if kd, err := o.ReadFile(strings.TrimSuffix(p, ".pub") + ".key"); err == nil {
			if key, _, err := parsePrivateKey(kd); err == nil {
				r["matches_key"] = strconv.FormatBool(samePublicKey(pub, key.Public()))
			}
		}
		return Artifacts{"pubkey " + p: r}, nil
	}
}

// certFields records the fields of c that matter to a cluster under prefix.
// idx resolves the signer to a certificate file of the same output.
func certFields(r Record, prefix string, c *x509.Certificate, idx map[string]*x509.Certificate) {
	f := func(name, v string) { r[join(prefix, name)] = v }
	f("subject", c.Subject.String())
	f("issuer", c.Issuer.String())
	f("dns_sans", set(c.DNSNames))
	var ips []string
	for _, ip := range c.IPAddresses {
		ips = append(ips, ip.String())
	}
	f("ip_sans", set(ips))
	if len(c.EmailAddresses) > 0 {
		f("email_sans", set(c.EmailAddresses))
	}
	if len(c.URIs) > 0 {
		var u []string
		for _, x := range c.URIs {
			u = append(u, x.String())
		}
		f("uri_sans", set(u))
	}
	f("key_usage", set(keyUsages(c.KeyUsage)))
	var eku []string
	for _, u := range c.ExtKeyUsage {
		n, ok := extKeyUsageNames[u]
		if !ok {
			n = fmt.Sprintf("ExtKeyUsage(%d)", u)
		}
		eku = append(eku, n)
	}
	f("ext_key_usage", set(eku))
	f("is_ca", strconv.FormatBool(c.IsCA))
	f("basic_constraints", fmt.Sprintf("valid=%t maxPathLen=%d maxPathLenZero=%t", c.BasicConstraintsValid, c.MaxPathLen, c.MaxPathLenZero))
	f("validity", c.NotAfter.Sub(c.NotBefore).String())
	f("key_algorithm", keyAlgorithm(c.PublicKey))
	f("signature_algorithm", c.SignatureAlgorithm.String())
	f("signed_by", signer(c, idx))
	f("subject_key_id", presence(len(c.SubjectKeyId) > 0))
	f("authority_key_id", presence(len(c.AuthorityKeyId) > 0))
	var crit []string
	for _, e := range c.Extensions {
		if e.Critical {
			crit = append(crit, e.Id.String())
		}
	}
	f("critical_extensions", set(crit))
}

func presence(b bool) string {
	if b {
		return "present"
	}
	return Absent
}

// signer names the certificate file of the output whose key signed c:
// "self" for a self-signed certificate, "none found" when no file does.
func signer(c *x509.Certificate, idx map[string]*x509.Certificate) string {
	if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
		return "self"
	}
	var found []string
	for p, ca := range idx {
		if ca.Equal(c) {
			continue
		}
		if bytes.Equal(c.RawIssuer, ca.RawSubject) && c.CheckSignatureFrom(ca) == nil {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		return "none found"
	}
	sort.Strings(found)
	return strings.Join(found, ",")
}

// certIndex parses every *.crt of the output once (node path -> first
// certificate).
func (o *Output) certIndex() (map[string]*x509.Certificate, error) {
	if o.certs != nil {
		return o.certs, nil
	}
	files, err := o.regularFiles()
	if err != nil {
		return nil, err
	}
	o.certs = map[string]*x509.Certificate{}
	for _, p := range files {
		if path.Ext(p) != ".crt" {
			continue
		}
		data, err := o.ReadFile(p)
		if err != nil {
			return nil, err
		}
		certs, err := parseCerts(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		o.certs[p] = certs[0]
	}
	return o.certs, nil
}

// fileHolding names the certificate file of the output whose content is the
// given PEM data ("inline: <subject>" when none is).
func fileHolding(data []byte, idx map[string]*x509.Certificate) string {
	certs, err := parseCerts(data)
	if err != nil {
		return "unparsable: " + err.Error()
	}
	var found []string
	for p, c := range idx {
		if c.Equal(certs[0]) {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		return "inline: " + certs[0].Subject.String()
	}
	sort.Strings(found)
	s := strings.Join(found, ",")
	if len(certs) > 1 {
		s += fmt.Sprintf(" (+%d more certificates)", len(certs)-1)
	}
	return s
}

func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q, want CERTIFICATE", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no certificate")
	}
	return out, nil
}

// parsePrivateKey parses a PEM private key in any of the encodings the two
// tools may use and returns it with its PEM type.
func parsePrivateKey(data []byte) (crypto.Signer, string, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, "", fmt.Errorf("no PEM block")
	}
	var key any
	var err error
	switch b.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	default:
		return nil, "", fmt.Errorf("PEM block %q is not a private key", b.Type)
	}
	if err != nil {
		return nil, "", err
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, "", fmt.Errorf("unsupported key type %T", key)
	}
	return s, b.Type, nil
}

// keyAlgorithm names a public key the way kubeadm's encryptionAlgorithm does.
func keyAlgorithm(pub any) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA-" + strings.ReplaceAll(k.Curve.Params().Name, "-", "")
	case ed25519.PublicKey:
		return "ED25519"
	}
	return fmt.Sprintf("%T", pub)
}

func samePublicKey(a, b any) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

func keyUsages(u x509.KeyUsage) []string {
	names := []string{"DigitalSignature", "ContentCommitment", "KeyEncipherment", "DataEncipherment", "KeyAgreement", "CertSign", "CRLSign", "EncipherOnly", "DecipherOnly"}
	var out []string
	for i, n := range names {
		if u&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

var extKeyUsageNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:             "Any",
	x509.ExtKeyUsageServerAuth:      "ServerAuth",
	x509.ExtKeyUsageClientAuth:      "ClientAuth",
	x509.ExtKeyUsageCodeSigning:     "CodeSigning",
	x509.ExtKeyUsageEmailProtection: "EmailProtection",
	x509.ExtKeyUsageTimeStamping:    "TimeStamping",
	x509.ExtKeyUsageOCSPSigning:     "OCSPSigning",
}
