package builtins

// The certificate family: gen_cert (CAs and leaf certificates),
// gen_key_pair (the service-account key pair) and ca_cert_hash (the SPKI pin
// printed in join commands). Templates follow kubeadm v1.36 pkiutil
// (NewSelfSignedCACert, NewSignedCert); the reuse rules are stricter than
// kubeadm's: an existing file is never replaced, and one that does not match
// the recipe is an error that says what differs and how to fix it.

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"path"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
)

func init() { families = append(families, registerPKI) }

func registerPKI(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "gen_cert",
		Signature: `gen_cert(name, path, cn, ca=None, organization=[], dns_names=[], ips=[], usages=[], is_ca=False, algorithm="RSA-2048", validity=None, backdate="5m")`,
		Doc: `Ensures a certificate and its private key exist at path.crt (0644) and path.key (0600).
With is_ca=True it makes a self-signed CA (KeyUsage DigitalSignature, KeyEncipherment, CertSign; DNS SAN = cn).
Otherwise it makes a leaf signed by the CA at ca.crt/ca.key (KeyUsage DigitalSignature, KeyEncipherment;
ExtKeyUsage from usages). NotBefore = start - backdate, NotAfter = start + validity.
Existing files are reused only when they match: a CA must be a CA whose key matches; a leaf must verify
against the CA, match its key and carry the requested CN, organizations, SANs and usages. Anything else is
an error naming each difference. ca.crt without ca.key is external CA mode: the CA is used as is
(external=True) and its leaves must already exist.
Returns struct(status, cert, key, external): status "created" or "unchanged", cert/key the file paths.`,
		Args: []runtime.Arg{
			{Name: "name", Type: "string", Doc: `kubeadm certificate name used in messages ("apiserver")`},
			{Name: "path", Type: "string", Doc: `base path without extension ("/etc/kubernetes/pki/apiserver")`},
			{Name: "cn", Type: "string", Doc: "subject common name"},
			{Name: "ca", Type: "string or None", Doc: "base path of the signing CA; required for leaves, None for a CA"},
			{Name: "organization", Type: "list of string", Doc: "subject organizations (Kubernetes groups)"},
			{Name: "dns_names", Type: "list of string", Doc: "DNS SANs, written as given (sort and de-duplicate in the recipe)"},
			{Name: "ips", Type: "list of string", Doc: "IP SANs, written as given"},
			{Name: "usages", Type: "list of string", Doc: `"server" (ServerAuth) and/or "client" (ClientAuth); leaves only`},
			{Name: "is_ca", Type: "bool", Doc: "make a self-signed CA"},
			{Name: "algorithm", Type: "string", Doc: "RSA-2048, RSA-3072, RSA-4096, ECDSA-P256 or ECDSA-P384"},
			{Name: "validity", Type: "duration string or None", Doc: `NotAfter = start + validity; None = kubeadm's defaults, "87600h" (10 years) for a CA, "8760h" (1 year) for a leaf`},
			{Name: "backdate", Type: "duration string", Doc: "NotBefore = start - backdate"},
		},
		DryRun: "Keys and certificates are really generated, into the dry-run overlay (later builtins read them); the plan records the files with their summaries, never key material.",
		Fn:     genCert,
	})
	r.Add(&runtime.Builtin{
		Name:      "gen_key_pair",
		Signature: `gen_key_pair(key_path, pub_path, algorithm="RSA-2048", pub_mode=0o600)`,
		Doc: `Ensures a bare key pair (the service-account signing key sa.key/sa.pub).
An existing parseable private key is reused; the public key file is derived from it when missing and must
contain it when present. An unparsable key, or a public key file without its private key, is an error.
Returns struct(status): "created" when anything was written, else "unchanged".`,
		Args: []runtime.Arg{
			{Name: "key_path", Type: "string", Doc: "private key file (0600)"},
			{Name: "pub_path", Type: "string", Doc: "public key file, PEM PUBLIC KEY (PKIX)"},
			{Name: "algorithm", Type: "string", Doc: "RSA-2048, RSA-3072, RSA-4096, ECDSA-P256 or ECDSA-P384"},
			{Name: "pub_mode", Type: "int", Doc: "mode of the public key file (kubeadm writes sa.pub 0600)"},
		},
		DryRun: "The key is really generated into the dry-run overlay; the plan records both files, the private key as secret.",
		Fn:     genKeyPair,
	})
	r.Add(&runtime.Builtin{
		Name:      "ca_cert_hash",
		Signature: `ca_cert_hash(path)`,
		Doc:       `Returns "sha256:<hex>" of the DER SubjectPublicKeyInfo of the first certificate in path: the --discovery-token-ca-cert-hash pin of kubeadm join.`,
		Args:      []runtime.Arg{{Name: "path", Type: "string", Doc: "PEM certificate file (ca.crt)"}},
		DryRun:    "Reads through the dry-run overlay, so a CA generated earlier in the run is hashed.",
		Fn:        caCertHash,
	})
}

// certSpec is a validated gen_cert request.
type certSpec struct {
	name, base, cn, ca string
	orgs, dns          []string
	ips                []net.IP
	usages             []x509.ExtKeyUsage
	isCA               bool
	alg                string
	validity, backdate time.Duration
}

func (s *certSpec) crtPath() string { return s.base + ".crt" }
func (s *certSpec) keyPath() string { return s.base + ".key" }

func genCert(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var (
		name, base, cn            string
		caV, validityV            starlark.Value = starlark.None, starlark.None
		orgV, dnsV, ipsV, usagesV starlark.Value
		isCA                      bool
		alg, backdateS            = "RSA-2048", "5m"
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "path", &base, "cn", &cn,
		"ca?", &caV, "organization?", &orgV, "dns_names?", &dnsV, "ips?", &ipsV, "usages?", &usagesV,
		"is_ca?", &isCA, "algorithm?", &alg, "validity?", &validityV, "backdate?", &backdateS); err != nil {
		return nil, err
	}
	validityS, err := optString(b.Name(), "validity", validityV)
	if err != nil {
		return nil, err
	}
	if validityV == starlark.None {
		validityS = defaultValidity(isCA)
	}
	spec, err := parseCertSpec(b.Name(), name, base, cn, caV, orgV, dnsV, ipsV, usagesV, isCA, alg, validityS, backdateS)
	if err != nil {
		return nil, err
	}
	if spec.isCA {
		return ensureCA(thread, env, b.Name(), spec)
	}
	return ensureLeaf(thread, env, b.Name(), spec)
}

// kubeadm's default validities (constants.CACertificateValidityPeriod and
// CertificateValidityPeriod): a CA outlives the certificates it signs.
const (
	defaultCAValidity   = "87600h"
	defaultLeafValidity = "8760h"
)

// defaultValidity is gen_cert's validity when the recipe gives none.
func defaultValidity(isCA bool) string {
	if isCA {
		return defaultCAValidity
	}
	return defaultLeafValidity
}

// parseCertSpec validates every gen_cert argument before any file is read,
// so a recipe mistake is reported as such and not as a file problem.
func parseCertSpec(bn, name, base, cn string, caV, orgV, dnsV, ipsV, usagesV starlark.Value, isCA bool, alg, validityS, backdateS string) (*certSpec, error) {
	if name == "" {
		return nil, fmt.Errorf("%s: name is empty; give the kubeadm certificate name, e.g. \"apiserver\"", bn)
	}
	bn = bn + ": " + name // every later message names the certificate
	if err := checkBase(bn, "path", base); err != nil {
		return nil, err
	}
	if cn == "" {
		return nil, fmt.Errorf("%s: cn is empty; every certificate needs a subject common name", bn)
	}
	ca, err := optString(bn, "ca", caV)
	if err != nil {
		return nil, err
	}
	s := &certSpec{name: name, base: base, cn: cn, ca: ca, isCA: isCA, alg: alg}
	if isCA && ca != "" {
		return nil, fmt.Errorf("%s: is_ca=True with ca=%q: intermediate CAs are not supported; drop ca to make a self-signed CA", bn, ca)
	}
	if !isCA && ca == "" {
		return nil, fmt.Errorf("%s: ca is missing; a leaf certificate needs the base path of its CA (or pass is_ca=True for a CA)", bn)
	}
	if ca != "" {
		if err := checkBase(bn, "ca", ca); err != nil {
			return nil, err
		}
	}
	if s.orgs, err = Strings(bn+": organization", orgV); err != nil {
		return nil, err
	}
	if s.dns, err = Strings(bn+": dns_names", dnsV); err != nil {
		return nil, err
	}
	for _, d := range s.dns {
		if d == "" {
			return nil, fmt.Errorf("%s: dns_names contains an empty name", bn)
		}
	}
	ipStrs, err := Strings(bn+": ips", ipsV)
	if err != nil {
		return nil, err
	}
	if s.ips, err = parseIPs(bn, ipStrs); err != nil {
		return nil, err
	}
	usages, err := Strings(bn+": usages", usagesV)
	if err != nil {
		return nil, err
	}
	if s.usages, err = extKeyUsages(bn, usages); err != nil {
		return nil, err
	}
	if isCA && len(s.usages) > 0 {
		return nil, fmt.Errorf("%s: usages %v given for a CA; kubeadm CAs carry no extended key usage, so drop usages", bn, usages)
	}
	if err := checkAlgorithm(bn, alg); err != nil {
		return nil, err
	}
	if s.validity, err = parseDuration(bn, "validity", validityS, true); err != nil {
		return nil, err
	}
	if s.backdate, err = parseDuration(bn, "backdate", backdateS, false); err != nil {
		return nil, err
	}
	return s, nil
}

// checkBase validates a base path (no extension, absolute).
func checkBase(bn, arg, p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%s: %s %q must be an absolute path", bn, arg, p)
	}
	if ext := path.Ext(p); ext == ".crt" || ext == ".key" {
		return fmt.Errorf("%s: %s %q must be the base path without %s (\".crt\" and \".key\" are added)", bn, arg, p, ext)
	}
	return nil
}

// certResult is gen_cert's return value.
func certResult(status string, s *certSpec, external bool) starlark.Value {
	return Struct(map[string]starlark.Value{
		"status":   starlark.String(status),
		"cert":     starlark.String(s.crtPath()),
		"key":      starlark.String(s.keyPath()),
		"external": starlark.Bool(external),
	})
}

// ensureCA reuses or creates a self-signed CA.
func ensureCA(thread *starlark.Thread, env *runtime.Env, builtin string, s *certSpec) (starlark.Value, error) {
	bn := builtin + ": " + s.name // every message names the certificate
	crtData, crtOK, keyData, keyOK, err := readPair(env, bn, s)
	if err != nil {
		return nil, err
	}
	switch {
	case crtOK:
		caCert, err := parseCA(bn, s.crtPath(), crtData)
		if err != nil {
			return nil, err
		}
		warnValidity(env, s.crtPath(), caCert)
		if !keyOK {
			env.Warnf("Using existing %s certificate authority without its key (external CA mode)", s.name)
			recordExisting(thread, env, builtin, FileWrite{Path: s.crtPath(), Data: crtData, Summary: certSummary(caCert), Subject: s.name})
			return certResult("unchanged", s, true), nil
		}
		key, err := parseKeyFile(bn, s.keyPath(), keyData)
		if err != nil {
			return nil, err
		}
		if !publicKeyEqual(caCert.PublicKey, key.Public()) {
			return nil, fmt.Errorf("%s: %s does not match %s; restore the key that belongs to this CA, or remove %s.{crt,key} to make a new CA (every certificate it signed must then be regenerated)", bn, s.keyPath(), s.crtPath(), s.base)
		}
		env.Infof("Using existing %s certificate authority", s.name)
		recordExisting(thread, env, builtin, FileWrite{Path: s.keyPath(), Secret: true, Summary: map[string]any{"key_algorithm": keyAlgorithmOf(key.Public())}, Subject: s.name})
		recordExisting(thread, env, builtin, FileWrite{Path: s.crtPath(), Data: crtData, Summary: certSummary(caCert), Subject: s.name})
		return certResult("unchanged", s, false), nil
	case keyOK:
		return nil, fmt.Errorf("%s: %s exists but %s does not; remove the key to generate a new CA, or provide the certificate that belongs to it", bn, s.keyPath(), s.crtPath())
	}

	env.Infof("Generating %q certificate and key", s.name)
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: s.cn, Organization: s.orgs},
		DNSNames:              []string{s.cn},
		NotBefore:             env.Start.Add(-s.backdate).UTC(),
		NotAfter:              env.Start.Add(s.validity).UTC(),
		KeyUsage:              x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	key, cert, err := issueCert(env, s.alg, tmpl, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bn, err)
	}
	if err := writePair(thread, env, builtin, s, cert, key); err != nil {
		return nil, err
	}
	return certResult("created", s, false), nil
}

// ensureLeaf reuses or creates a certificate signed by the CA at s.ca.
func ensureLeaf(thread *starlark.Thread, env *runtime.Env, builtin string, s *certSpec) (starlark.Value, error) {
	bn := builtin + ": " + s.name // every message names the certificate
	caCert, caKey, err := loadCA(env, bn, s.ca)
	if err != nil {
		return nil, err
	}
	crtData, crtOK, keyData, keyOK, err := readPair(env, bn, s)
	if err != nil {
		return nil, err
	}
	external := caKey == nil
	switch {
	case crtOK && keyOK:
		certs, err := parseCertsPEM(crtData)
		if err != nil {
			return nil, fmt.Errorf("%s: %s is not a PEM certificate (%v); remove %s.{crt,key} to regenerate it", bn, s.crtPath(), err, s.base)
		}
		key, err := parseKeyFile(bn, s.keyPath(), keyData)
		if err != nil {
			return nil, err
		}
		if problems := leafProblems(s, certs, key, caCert, env.Start); len(problems) > 0 {
			fix := fmt.Sprintf("remove %s.{crt,key} to regenerate it, or fix the externally signed certificate", s.base)
			if external {
				fix = fmt.Sprintf("the CA key %s.key is absent (external CA mode), so have the external CA issue %s with these values", s.ca, s.crtPath())
			}
			return nil, fmt.Errorf("%s: %s; %s", bn, strings.Join(problems, "; "), fix)
		}
		env.Infof("Using existing %s certificate and key on disk", s.name)
		recordExisting(thread, env, builtin, FileWrite{Path: s.keyPath(), Secret: true, Summary: map[string]any{"key_algorithm": keyAlgorithmOf(key.Public())}, Subject: s.name})
		recordExisting(thread, env, builtin, FileWrite{Path: s.crtPath(), Data: crtData, Summary: certSummary(certs[0]), Subject: s.name})
		return certResult("unchanged", s, external), nil
	case crtOK:
		return nil, fmt.Errorf("%s: %s exists but its key %s does not; provide the key, or remove the certificate to regenerate the pair", bn, s.crtPath(), s.keyPath())
	case keyOK:
		return nil, fmt.Errorf("%s: %s exists but %s does not; remove the key to regenerate the pair, or provide the certificate that belongs to it", bn, s.keyPath(), s.crtPath())
	case external:
		return nil, fmt.Errorf("%s: %s is missing and cannot be generated: %s.crt has no %s.key (external CA mode), so the external CA must issue %s.{crt,key} before this run; or provide %s.key", bn, s.crtPath(), s.ca, s.ca, s.base, s.ca)
	}

	env.Infof("Generating %q certificate and key", s.name)
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: s.cn, Organization: s.orgs},
		DNSNames:              s.dns,
		IPAddresses:           s.ips,
		NotBefore:             env.Start.Add(-s.backdate).UTC(),
		NotAfter:              env.Start.Add(s.validity).UTC(),
		KeyUsage:              x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           s.usages,
		BasicConstraintsValid: true,
	}
	if len(s.dns) > 0 || len(s.ips) > 0 {
		env.Infof("%s serving cert is signed for DNS names %v and IPs %v", s.name, s.dns, s.ips)
	}
	key, cert, err := issueCert(env, s.alg, tmpl, caCert, caKey)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bn, err)
	}
	if err := writePair(thread, env, builtin, s, cert, key); err != nil {
		return nil, err
	}
	return certResult("created", s, false), nil
}

// issueCert makes a new key of algorithm alg (from the run's key pool), gives
// tmpl a random serial and signs it with parentKey as parent, or self-signs
// it with the new key when parent is nil (a CA). The certificate is
// re-parsed so Go's SubjectKeyId (CA) and AuthorityKeyId (from the parent)
// are filled in. Every certificate kubelark makes goes through here.
func issueCert(env *runtime.Env, alg string, tmpl, parent *x509.Certificate, parentKey crypto.Signer) (crypto.Signer, *x509.Certificate, error) {
	key, err := pooledKey(env, alg)
	if err != nil {
		return nil, nil, fmt.Errorf("generating %s key: %w", alg, err)
	}
	if tmpl.SerialNumber, err = randomSerial(env.Host.Rand()); err != nil {
		return nil, nil, err
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(env.Host.Rand(), tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, nil, fmt.Errorf("signing certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing the new certificate: %w", err)
	}
	return key, cert, nil
}

// readPair reads the certificate and key at s.base. After an interrupted
// write (see pending.go) both count as absent, so the pair is made again.
func readPair(env *runtime.Env, bn string, s *certSpec) (crtData []byte, crtOK bool, keyData []byte, keyOK bool, err error) {
	interrupted, err := pairInterrupted(env, bn, s.base)
	if err != nil || interrupted {
		return nil, false, nil, false, err
	}
	if crtData, crtOK, err = readOptional(env, s.crtPath()); err != nil {
		return nil, false, nil, false, fmt.Errorf("%s: reading %s: %w", bn, s.crtPath(), err)
	}
	if keyData, keyOK, err = readOptional(env, s.keyPath()); err != nil {
		return nil, false, nil, false, fmt.Errorf("%s: reading %s: %w", bn, s.keyPath(), err)
	}
	return crtData, crtOK, keyData, keyOK, nil
}

// writePair writes the key then the certificate, as kubeadm's
// WriteCertAndKey does, each as one recorded Action, between the pending
// marker's creation and removal (pending.go) so that a crash in between is
// recognised by the next run.
func writePair(thread *starlark.Thread, env *runtime.Env, builtin string, s *certSpec, cert *x509.Certificate, key crypto.Signer) error {
	bn := builtin + ": " + s.name
	keyPEM, err := encodeKeyPEM(key)
	if err != nil {
		return fmt.Errorf("%s: encoding key: %w", bn, err)
	}
	if err := beginPair(env, bn, s.base); err != nil {
		return err
	}
	if _, err := WriteFile(thread, env, builtin, FileWrite{Path: s.keyPath(), Data: keyPEM, Mode: 0o600, Secret: true,
		Summary: map[string]any{"key_algorithm": keyAlgorithmOf(key.Public())}, Subject: s.name}); err != nil {
		return err
	}
	if _, err := WriteFile(thread, env, builtin, FileWrite{Path: s.crtPath(), Data: encodeCertPEM(cert), Mode: 0o644, Summary: certSummary(cert), Subject: s.name}); err != nil {
		return err
	}
	return endPair(env, bn, s.base)
}

// loadCA reads the CA at base.crt/base.key. The key is nil when absent
// (external CA mode); when present it must match the certificate.
func loadCA(env *runtime.Env, bn, base string) (*x509.Certificate, crypto.Signer, error) {
	crt, key := base+".crt", base+".key"
	crtData, ok, err := readOptional(env, crt)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: reading CA certificate %s: %w", bn, crt, err)
	}
	if !ok {
		return nil, nil, fmt.Errorf("%s: CA certificate %s not found; generate the CA first (gen_cert(..., is_ca=True)) or provide it", bn, crt)
	}
	caCert, err := parseCA(bn, crt, crtData)
	if err != nil {
		return nil, nil, err
	}
	keyData, ok, err := readOptional(env, key)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: reading CA key %s: %w", bn, key, err)
	}
	if !ok {
		return caCert, nil, nil
	}
	caKey, err := parseKeyFile(bn, key, keyData)
	if err != nil {
		return nil, nil, err
	}
	if !publicKeyEqual(caCert.PublicKey, caKey.Public()) {
		return nil, nil, fmt.Errorf("%s: CA key %s does not match %s; restore the CA's own key, or remove it to use the CA in external CA mode", bn, key, crt)
	}
	return caCert, caKey, nil
}

// parseCA parses a CA certificate file and checks it is a CA.
func parseCA(bn, p string, data []byte) (*x509.Certificate, error) {
	certs, err := parseCertsPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %s is not a PEM certificate (%v); restore it or remove it to generate a new CA", bn, p, err)
	}
	if !certs[0].IsCA || !certs[0].BasicConstraintsValid {
		return nil, fmt.Errorf("%s: %s (subject %q) is not a CA certificate (BasicConstraints CA:TRUE missing); provide a CA certificate there", bn, p, certs[0].Subject.String())
	}
	return certs[0], nil
}

// parseKeyFile parses a private key file; the error names the file, never
// its content.
func parseKeyFile(bn, p string, data []byte) (crypto.Signer, error) {
	key, err := parseKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %s is not a usable private key (%v); restore it, or remove it (and its certificate) to regenerate the pair", bn, p, err)
	}
	return key, nil
}

// leafProblems lists every way an existing leaf differs from the spec: it
// must chain to the CA at start, match its key and carry what the recipe
// asks for. Extra SANs or usages are fine (an operator may add some).
func leafProblems(s *certSpec, certs []*x509.Certificate, key crypto.Signer, caCert *x509.Certificate, start time.Time) []string {
	c := certs[0]
	file := path.Base(s.crtPath())
	var out []string
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(caCert)
	for _, ic := range certs[1:] {
		inter.AddCert(ic)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: start,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		out = append(out, fmt.Sprintf("%s does not verify against %s.crt: %v", file, s.ca, err))
	}
	if !publicKeyEqual(c.PublicKey, key.Public()) {
		out = append(out, fmt.Sprintf("%s does not match %s", path.Base(s.keyPath()), file))
	}
	if c.Subject.CommonName != s.cn {
		out = append(out, fmt.Sprintf("%s has CN %q, the recipe wants %q", file, c.Subject.CommonName, s.cn))
	}
	if !sameSet(c.Subject.Organization, s.orgs) {
		out = append(out, fmt.Sprintf("%s has organizations %q, the recipe wants %q", file, c.Subject.Organization, s.orgs))
	}
	for _, d := range s.dns {
		found := false
		for _, have := range c.DNSNames {
			found = found || strings.EqualFold(have, d)
		}
		if !found {
			out = append(out, fmt.Sprintf("%s lacks DNS SAN %s required by the recipe", file, d))
		}
	}
	for _, ip := range s.ips {
		found := false
		for _, have := range c.IPAddresses {
			found = found || have.Equal(ip)
		}
		if !found {
			out = append(out, fmt.Sprintf("%s lacks IP SAN %s required by the recipe", file, ip))
		}
	}
	for _, u := range s.usages {
		found := false
		for _, have := range c.ExtKeyUsage {
			found = found || have == u || have == x509.ExtKeyUsageAny
		}
		if !found {
			out = append(out, fmt.Sprintf("%s lacks usage %q required by the recipe", file, usageWords([]x509.ExtKeyUsage{u})[0]))
		}
	}
	return out
}

// sameSet compares string lists ignoring order and duplicates.
func sameSet(a, b []string) bool {
	norm := func(l []string) string {
		m := map[string]bool{}
		for _, s := range l {
			m[s] = true
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return strings.Join(keys, "\x00")
	}
	return norm(a) == norm(b)
}

// warnValidity warns about a reused CA that is not valid at the run's start
// time, as kubeadm does (a leaf in that state fails verification instead).
func warnValidity(env *runtime.Env, p string, c *x509.Certificate) {
	switch {
	case env.Start.After(c.NotAfter):
		env.Warnf("%s expired at %s; renew it", p, c.NotAfter.UTC().Format(time.RFC3339))
	case env.Start.Before(c.NotBefore):
		env.Warnf("%s is not valid before %s; check the clock", p, c.NotBefore.UTC().Format(time.RFC3339))
	}
}

func genKeyPair(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var keyPath, pubPath string
	alg := "RSA-2048"
	pubMode := 0o600
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key_path", &keyPath, "pub_path", &pubPath,
		"algorithm?", &alg, "pub_mode?", &pubMode); err != nil {
		return nil, err
	}
	bn := b.Name()
	for arg, p := range map[string]string{"key_path": keyPath, "pub_path": pubPath} {
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("%s: %s %q must be an absolute path", bn, arg, p)
		}
	}
	if keyPath == pubPath {
		return nil, fmt.Errorf("%s: key_path and pub_path are both %q; use two files (sa.key, sa.pub)", bn, keyPath)
	}
	if pubMode < 0 || pubMode > 0o777 {
		return nil, fmt.Errorf("%s: pub_mode %#o is not a permission mode; use e.g. 0o600 or 0o644", bn, pubMode)
	}
	if err := checkAlgorithm(bn, alg); err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(path.Base(keyPath), path.Ext(keyPath))
	keyData, keyOK, err := readOptional(env, keyPath)
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s: %w", bn, keyPath, err)
	}
	pubData, pubOK, err := readOptional(env, pubPath)
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s: %w", bn, pubPath, err)
	}
	status := func(s string) starlark.Value { return Struct(map[string]starlark.Value{"status": starlark.String(s)}) }
	pubWrite := func(key crypto.Signer) error {
		pubPEM, err := encodePublicKeyPEM(key.Public())
		if err != nil {
			return fmt.Errorf("%s: encoding public key: %w", bn, err)
		}
		_, err = WriteFile(thread, env, bn, FileWrite{Path: pubPath, Data: pubPEM, Mode: fs.FileMode(pubMode),
			Summary: map[string]any{"key_algorithm": keyAlgorithmOf(key.Public())}})
		return err
	}

	if keyOK {
		key, err := parseKeyFile(bn, keyPath, keyData)
		if err != nil {
			return nil, err
		}
		env.Infof("Using the existing %q key", name)
		recordExisting(thread, env, bn, FileWrite{Path: keyPath, Secret: true, Summary: map[string]any{"key_algorithm": keyAlgorithmOf(key.Public())}})
		if !pubOK {
			if err := pubWrite(key); err != nil {
				return nil, err
			}
			return status("created"), nil
		}
		pubs, err := parsePublicKeysPEM(pubData)
		if err != nil {
			return nil, fmt.Errorf("%s: %s holds no public key (%v); remove it to derive it again from %s", bn, pubPath, err, keyPath)
		}
		for _, p := range pubs {
			if publicKeyEqual(p, key.Public()) {
				recordExisting(thread, env, bn, FileWrite{Path: pubPath, Data: pubData, Summary: map[string]any{"key_algorithm": keyAlgorithmOf(key.Public())}})
				return status("unchanged"), nil
			}
		}
		return nil, fmt.Errorf("%s: %s does not contain the public key of %s (service-account tokens would not verify); remove %s to derive it again from the key", bn, pubPath, keyPath, pubPath)
	}
	if pubOK {
		return nil, fmt.Errorf("%s: %s exists but %s does not; remove the public key to generate a new pair, or provide the private key", bn, pubPath, keyPath)
	}
	env.Infof("Generating %q key and public key", name)
	key, err := pooledKey(env, alg)
	if err != nil {
		return nil, fmt.Errorf("%s: generating %s key: %w", bn, alg, err)
	}
	keyPEM, err := encodeKeyPEM(key)
	if err != nil {
		return nil, fmt.Errorf("%s: encoding key: %w", bn, err)
	}
	if _, err := WriteFile(thread, env, bn, FileWrite{Path: keyPath, Data: keyPEM, Mode: 0o600, Secret: true,
		Summary: map[string]any{"key_algorithm": keyAlgorithmOf(key.Public())}}); err != nil {
		return nil, err
	}
	if err := pubWrite(key); err != nil {
		return nil, err
	}
	return status("created"), nil
}

func caCertHash(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var p string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &p); err != nil {
		return nil, err
	}
	data, ok, err := readOptional(env, p)
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s: %w", b.Name(), p, err)
	}
	if !ok {
		return nil, fmt.Errorf("%s: %s not found; generate the CA first or pass the path of ca.crt", b.Name(), p)
	}
	certs, err := parseCertsPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %s is not a PEM certificate: %v", b.Name(), p, err)
	}
	return starlark.String(spkiHash(certs[0])), nil
}

// spkiHash is kubeadm's pubkeypin.Hash: sha256 of the DER
// SubjectPublicKeyInfo, the value of --discovery-token-ca-cert-hash.
func spkiHash(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}
