package parity

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
)

// APIState is what the API suite read back from the control plane one tool
// created on a real node.
type APIState struct {
	// Node is the node the tool initialised; its name and address are
	// replaced by <node-name> and <node-ip> everywhere.
	Node NodeIdentity
	// Objects are the objects read back (every item with apiVersion and
	// kind), see readObjects for which.
	Objects []map[string]any
	// PKI holds every file under /etc/kubernetes/pki on the node (node path
	// -> content): certificates embedded in objects are named by the file
	// holding them, and the uploaded certificates are checked against them.
	PKI map[string][]byte
	// CertificateKey is the config's certificateKey ("" when generated):
	// with it the kubeadm-certs Secret is decrypted and checked.
	CertificateKey string
	// ConfigTokenIDs are the IDs of the bootstrap tokens the config sets;
	// any other token ID is generated and replaced by a placeholder.
	ConfigTokenIDs []string
}

// APICollectors are the collectors of the API suite.
func APICollectors() []Collector { return []Collector{apiCollector{}} }

// apiCollector turns the objects of an APIState into one record per
// object, with id "api <apiVersion>/<Kind>/[<namespace>/]<name>":
//   - server-set metadata (uid, resourceVersion, creationTimestamp,
//     generation, managedFields, ownerReferences' uids) and status are
//     dropped: they differ between any two clusters;
//   - ConfigMap values are parsed: component configs and kubeconfigs
//     (anything with apiVersion/kind) field by field, other multi-line text
//     (the Corefile) line by line, certificates by the node file holding
//     them; the component-config hash annotation is checked against the
//     data instead of being compared (it covers the node address);
//   - Secret values: bootstrap token fields except the secret (its shape
//     only) and the expiration (as a TTL from the creation time); the
//     kubeadm-certs values decrypted with the certificate key and named by
//     the node file they hold; anything else by size only;
//   - the Node: labels, and taints other than node.kubernetes.io/* (those
//     are set by the node lifecycle controller as the node's conditions
//     change, at its own pace);
//   - generated bootstrap token IDs, the node name and address become
//     placeholders in ids, field names and values.
type apiCollector struct{}

func (apiCollector) Name() string { return "api objects" }

func (apiCollector) Collect(o *Output) (Artifacts, error) {
	if o.API == nil {
		return Artifacts{}, nil
	}
	n, err := newNormalizer(o.API)
	if err != nil {
		return nil, err
	}
	out := Artifacts{}
	for _, obj := range o.API.Objects {
		id, r, err := n.object(obj)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", objectName(obj), err)
		}
		id = n.replace(id)
		nr := Record{}
		for f, v := range r {
			nr[n.replace(f)] = n.replace(v)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("two objects normalize to %q", id)
		}
		out[id] = nr
	}
	return out, nil
}

// ComponentConfigHashAnnotation is kubeadm's checksum of a component-config
// ConfigMap's data (kubeadm-facts §5.2).
const ComponentConfigHashAnnotation = "kubeadm.kubernetes.io/component-config.hash"

// BootstrapTokenType is the Secret type of bootstrap tokens.
const BootstrapTokenType = "bootstrap.kubernetes.io/token"

type normalizer struct {
	s        *APIState
	certs    map[string]*x509.Certificate // PKI path -> first certificate
	tokenIDs map[string]string            // generated token ID -> placeholder
	secrets  map[string]string            // token ID -> token secret (JWS checks)
	nameRE   *regexp.Regexp
	ipRE     *regexp.Regexp
}

var (
	tokenRefRE  = regexp.MustCompile(`(bootstrap-token-|jws-kubeconfig-)([a-z0-9]{6})\b`)
	timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$`)
	tokenSecret = regexp.MustCompile(`^[a-z0-9]{16}$`)
)

func newNormalizer(s *APIState) (*normalizer, error) {
	n := &normalizer{s: s, certs: map[string]*x509.Certificate{}, tokenIDs: map[string]string{}, secrets: map[string]string{}}
	if s.Node.Name == "" || s.Node.IP == "" {
		return nil, fmt.Errorf("API state without node name or address")
	}
	n.nameRE = regexp.MustCompile(`\b` + regexp.QuoteMeta(s.Node.Name) + `\b`)
	n.ipRE = regexp.MustCompile(`\b` + regexp.QuoteMeta(s.Node.IP) + `\b`)
	for p, data := range s.PKI {
		if path.Ext(p) != ".crt" {
			continue
		}
		certs, err := parseCerts(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		n.certs[p] = certs[0]
	}
	// Generated token IDs are numbered in the order of what tells the
	// tokens apart (description, usages, groups), so the same token gets
	// the same placeholder in both clusters.
	configured := map[string]bool{}
	for _, id := range s.ConfigTokenIDs {
		configured[id] = true
	}
	type tok struct{ id, sig string }
	var gen []tok
	for _, obj := range s.Objects {
		if obj["kind"] != "Secret" || obj["type"] != BootstrapTokenType {
			continue
		}
		data := decodeData(obj)
		id := string(data["token-id"])
		n.secrets[id] = string(data["token-secret"])
		if id == "" || configured[id] {
			continue
		}
		var sig []string
		for _, k := range keys(data) {
			if k != "token-id" && k != "token-secret" && k != "expiration" {
				sig = append(sig, k+"="+string(data[k]))
			}
		}
		gen = append(gen, tok{id, strings.Join(sig, ";")})
	}
	sort.SliceStable(gen, func(i, j int) bool { return gen[i].sig < gen[j].sig })
	for i, t := range gen {
		n.tokenIDs[t.id] = fmt.Sprintf("<generated-%d>", i+1)
	}
	return n, nil
}

// replace puts the placeholders in.
func (n *normalizer) replace(s string) string {
	s = tokenRefRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := tokenRefRE.FindStringSubmatch(m)
		if p, ok := n.tokenIDs[sub[2]]; ok {
			return sub[1] + p
		}
		return m
	})
	s = n.nameRE.ReplaceAllString(s, "<node-name>")
	return n.ipRE.ReplaceAllString(s, "<node-ip>")
}

func objectName(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	s := fmt.Sprintf("%v/%v/", obj["apiVersion"], obj["kind"])
	if ns != "" {
		s += ns + "/"
	}
	return s + name
}

func (n *normalizer) object(obj map[string]any) (string, Record, error) {
	id := "api " + objectName(obj)
	md, _ := obj["metadata"].(map[string]any)
	r := Record{}
	if obj["kind"] == "Node" {
		flatten(r, "metadata.labels", anyOr(md["labels"], map[string]any{}))
		var taints []any
		spec, _ := obj["spec"].(map[string]any)
		list, _ := spec["taints"].([]any)
		for _, t := range list {
			tm, ok := t.(map[string]any)
			if !ok {
				taints = append(taints, t)
				continue
			}
			if k, _ := tm["key"].(string); strings.HasPrefix(k, "node.kubernetes.io/") {
				continue
			}
			c := map[string]any{}
			for k, v := range tm {
				if k != "timeAdded" {
					c[k] = v
				}
			}
			taints = append(taints, c)
		}
		flatten(r, "spec.taints", anyOr(taints, []any{}))
		return id, r, nil
	}
	m := map[string]any{}
	for k, v := range obj {
		switch k {
		case "status", "metadata", "data", "binaryData", "stringData":
		default:
			m[k] = v
		}
	}
	meta := cleanMetadata(md)
	m["metadata"] = meta
	switch obj["kind"] {
	case "ConfigMap":
		if ann, ok := meta["annotations"].(map[string]any); ok {
			if h, ok := ann[ComponentConfigHashAnnotation].(string); ok {
				ann[ComponentConfigHashAnnotation] = checkHash(obj, h)
			}
		}
		data, _ := obj["data"].(map[string]any)
		for k, v := range data {
			s, _ := v.(string)
			if id, ok := strings.CutPrefix(k, "jws-kubeconfig-"); ok {
				kc, _ := data["kubeconfig"].(string)
				r["data["+k+"]"] = n.checkJWS(id, s, kc)
				continue
			}
			n.dataValue(r, "data["+k+"]", s)
		}
		bin, _ := obj["binaryData"].(map[string]any)
		for k, v := range bin {
			s, _ := v.(string)
			r["binaryData["+k+"]"] = fmt.Sprintf("<%d bytes>", base64.StdEncoding.DecodedLen(len(s)))
		}
	case "Secret":
		if err := n.secretData(r, obj, md); err != nil {
			return "", nil, err
		}
	}
	flatten(r, "", n.transform(m, ""))
	return id, r, nil
}

func anyOr(v any, dflt any) any {
	switch x := v.(type) {
	case nil:
		return dflt
	case []any:
		if x == nil {
			return dflt
		}
	}
	return v
}

// cleanMetadata keeps what a tool sets: name, namespace, labels,
// annotations, owner references (without the owner's uid), finalizers.
func cleanMetadata(md map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"name", "generateName", "namespace", "labels", "annotations", "finalizers"} {
		if v, ok := md[k]; ok {
			if mv, ok := v.(map[string]any); ok {
				// A copy: the caller replaces values (the hash annotation)
				// and the object is normalized again by the next snapshot.
				c := make(map[string]any, len(mv))
				for kk, vv := range mv {
					c[kk] = vv
				}
				v = c
			}
			out[k] = v
		}
	}
	if refs, ok := md["ownerReferences"].([]any); ok {
		var clean []any
		for _, ref := range refs {
			if rm, ok := ref.(map[string]any); ok {
				c := map[string]any{}
				for k, v := range rm {
					if k != "uid" {
						c[k] = v
					}
				}
				clean = append(clean, c)
			}
		}
		out["ownerReferences"] = clean
	}
	return out
}

// checkHash verifies kubeadm's component-config hash (sha256 over the data
// values in key order, then the binaryData values in key order).
func checkHash(obj map[string]any, got string) string {
	h := sha256.New()
	data, _ := obj["data"].(map[string]any)
	for _, k := range keys(data) {
		s, _ := data[k].(string)
		h.Write([]byte(s))
	}
	bin, _ := obj["binaryData"].(map[string]any)
	for _, k := range keys(bin) {
		s, _ := bin[k].(string)
		b, _ := base64.StdEncoding.DecodeString(s)
		h.Write(b)
	}
	want := "sha256:" + hex.EncodeToString(h.Sum(nil))
	if got == want {
		return "<valid sha256 of the data>"
	}
	return fmt.Sprintf("<not the sha256 of the data: %s, data hashes to %s>", got, want)
}

// dataValue records one ConfigMap value.
func (n *normalizer) dataValue(r Record, pre, s string) {
	if strings.Contains(s, "-----BEGIN CERTIFICATE-----") {
		r[pre] = n.pemIdentity([]byte(s))
		return
	}
	if m, err := yamlToMap([]byte(s)); err == nil && m != nil && (m["apiVersion"] != nil || m["kind"] != nil) {
		flatten(r, pre, n.transform(m, ""))
		return
	}
	if strings.Contains(strings.TrimRight(s, "\n"), "\n") {
		for i, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
			r[fmt.Sprintf("%s.line%03d", pre, i+1)] = jsonString(strings.TrimRight(l, " \t"))
		}
		return
	}
	r[pre] = jsonString(n.str("", s))
}

func jsonString(s string) string { return jsonScalar(s) }

// transform normalizes every string of a decoded object: embedded
// certificates (PEM or base64 kubeconfig data) become the node file that
// holds them, timestamps a placeholder.
func (n *normalizer) transform(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = n.transform(e, k)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = n.transform(e, key)
		}
		return out
	case string:
		return n.str(key, x)
	}
	return v
}

func (n *normalizer) str(key, s string) string {
	switch key {
	case "certificate-authority-data", "client-certificate-data":
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return "<not base64: " + err.Error() + ">"
		}
		return n.pemIdentity(b)
	case "client-key-data", "token":
		return "<secret present>"
	}
	if strings.Contains(s, "-----BEGIN CERTIFICATE-----") {
		return n.pemIdentity([]byte(s))
	}
	if timestampRE.MatchString(s) {
		return "<timestamp>"
	}
	return s
}

// pemIdentity names the node files holding the certificates of data.
func (n *normalizer) pemIdentity(data []byte) string {
	certs, err := parseCerts(data)
	if err != nil {
		return "<unparsable certificates: " + err.Error() + ">"
	}
	var parts []string
	for _, c := range certs {
		var found []string
		for p, f := range n.certs {
			if f.Equal(c) {
				found = append(found, p)
			}
		}
		sort.Strings(found)
		if len(found) == 0 {
			parts = append(parts, "cert not on the node: "+c.Subject.String())
			continue
		}
		parts = append(parts, "cert "+strings.Join(found, "|"))
	}
	return strings.Join(parts, " + ")
}

func decodeData(obj map[string]any) map[string][]byte {
	out := map[string][]byte{}
	data, _ := obj["data"].(map[string]any)
	for k, v := range data {
		s, _ := v.(string)
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			b = []byte("<not base64>")
		}
		out[k] = b
	}
	return out
}

// secretData records a Secret's values without revealing any secret.
func (n *normalizer) secretData(r Record, obj, md map[string]any) error {
	data := decodeData(obj)
	if sd, ok := obj["stringData"].(map[string]any); ok && len(sd) > 0 {
		r["stringData"] = "<present>"
	}
	name, _ := md["name"].(string)
	switch {
	case obj["type"] == BootstrapTokenType:
		for k, b := range data {
			pre := "data[" + k + "]"
			switch k {
			case "token-secret":
				if tokenSecret.Match(b) {
					r[pre] = "<16 characters [a-z0-9]>"
				} else {
					r[pre] = fmt.Sprintf("<malformed: %d bytes>", len(b))
				}
			case "expiration":
				r[pre] = ttl(string(b), md["creationTimestamp"])
			case "token-id":
				id := string(b)
				if p, ok := n.tokenIDs[id]; ok {
					id = p
				}
				r[pre] = jsonString(id)
			default:
				r[pre] = jsonString(string(b))
			}
		}
	case name == "kubeadm-certs":
		for k, b := range data {
			r["data["+k+"]"] = n.uploadedCert(b)
		}
	default:
		for k, b := range data {
			if bytes.Contains(b, []byte("-----BEGIN CERTIFICATE-----")) {
				r["data["+k+"]"] = n.pemIdentity(b)
			} else {
				r["data["+k+"]"] = fmt.Sprintf("<%d bytes>", len(b))
			}
		}
	}
	return nil
}

// ttl renders a token's expiration as its lifetime from the Secret's
// creation, rounded to the minute (the tools compute the expiration a
// moment before the API server stamps the creation).
func ttl(expiration string, created any) string {
	exp, err := time.Parse(time.RFC3339, expiration)
	if err != nil {
		return fmt.Sprintf("<not RFC 3339: %q>", expiration)
	}
	cs, _ := created.(string)
	c, err := time.Parse(time.RFC3339, cs)
	if err != nil {
		return "<expiration without creationTimestamp>"
	}
	return "RFC 3339, ttl " + exp.Sub(c).Round(time.Minute).String()
}

// uploadedCert decrypts one value of kubeadm-certs (AES-256-GCM, nonce
// prepended) with the config's certificate key and names the node file it
// is a copy of.
func (n *normalizer) uploadedCert(b []byte) string {
	if len(b) == 0 {
		return `""`
	}
	if n.s.CertificateKey == "" {
		return "<encrypted with a generated key>"
	}
	key, err := hex.DecodeString(n.s.CertificateKey)
	if err != nil {
		return "<certificateKey is not hex>"
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	if len(b) < gcm.NonceSize() {
		return fmt.Sprintf("<%d bytes: shorter than a nonce>", len(b))
	}
	plain, err := gcm.Open(nil, b[:gcm.NonceSize()], b[gcm.NonceSize():], nil)
	if err != nil {
		return "<not decryptable with the certificate key: " + err.Error() + ">"
	}
	var found []string
	for p, data := range n.s.PKI {
		if bytes.Equal(data, plain) {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		return fmt.Sprintf("<encrypted content of no file under /etc/kubernetes/pki (%d bytes)>", len(plain))
	}
	sort.Strings(found)
	return "encrypted copy of " + strings.Join(found, "|")
}

// checkJWS verifies a cluster-info signature written by the
// controller-manager's bootstrap signer: a detached JWS (HS256, kid = token
// ID) of the kubeconfig, keyed with the token secret (kubeadm-facts §5.3).
// It is recorded as valid or not: the value itself depends on the secret.
func (n *normalizer) checkJWS(id, sig, kubeconfig string) string {
	secret, ok := n.secrets[id]
	if !ok {
		return "<JWS of a token that does not exist: bootstrap-token-" + id + ">"
	}
	parts := strings.Split(sig, ".")
	if len(parts) != 3 || parts[1] != "" {
		return "<not a detached JWS>"
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	var hdr struct{ Alg, Kid string }
	if err != nil || json.Unmarshal(hb, &hdr) != nil || hdr.Alg != "HS256" || hdr.Kid != id {
		return fmt.Sprintf("<JWS header %q is not HS256 with kid %s>", hb, id)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(kubeconfig))))
	if base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) != parts[2] {
		return "<JWS does not verify with the secret of bootstrap-token-" + id + ">"
	}
	return "<valid JWS of data[kubeconfig] by bootstrap-token-" + id + ">"
}
