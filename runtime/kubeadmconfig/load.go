// Package kubeadmconfig reads the content of a kubeadm `--config` file
// (kubeadm.k8s.io/v1beta4, plus KubeletConfiguration and
// KubeProxyConfiguration documents) for a recipe: it is the mechanism half
// of the config mapping.
//
// Load decodes every document strictly (an unknown field is named, with a
// suggestion), validates the values the way kubeadm v1.36 validates them
// (CIDRs, durations, tokens, paths, ...), applies the few normalizations
// kubeadm itself applies while loading (a "unix://" before a bare
// criSocket, a "v" before kubernetesVersion, lower-case certSANs), and
// hands the documents over as plain data shaped like their YAML. Which
// document field sets which recipe parameter is policy: each recipe maps
// the documents itself (params(config = ...), e.g.
// stdlib/kubeadmconfig.star's init_params), so a fork that renames a
// parameter keeps --config support. A file kubeadm rejects is rejected
// here, before any recipe code runs. docs/contracts.md ("Config mapping")
// has the whole contract.
package kubeadmconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Config is a validated kubeadm config file, ready for a recipe's mapping.
type Config struct {
	// Docs holds each document by kind, as plain data shaped like its YAML
	// (string, int64, float64, bool, []any, map[string]any; apiVersion
	// and kind included). kubeadm documents are re-encoded from their
	// typed decode, so fields left out stay out (taints: null marks an
	// absent taint list, which differs from []); component configs are
	// kept as written.
	Docs map[string]any
	// Kinds lists the document kinds in file order.
	Kinds []string
	// Warnings are things the user should read but that do not stop a run
	// (a scheme added to criSocket, a validity above kubeadm's default).
	Warnings []string
	// Secrets holds the secret values read from the file (bootstrap tokens
	// and their secret halves, certificate keys), so the runtime can
	// register them for redaction before the recipe sees them.
	Secrets []string
}

// Group versions this package reads.
const (
	kubeadmGV    = "kubeadm.k8s.io/v1beta4"
	kubeletGV    = "kubelet.config.k8s.io/v1beta1"
	kubeProxyGV  = "kubeproxy.config.k8s.io/v1alpha1"
	kubeadmGroup = "kubeadm.k8s.io"
)

// kindVersions says which apiVersion each known kind must have. It is the
// one list of kinds in kubelark: the kinds this package can decode. Which
// of them a recipe reads is the recipe's mapping's business (the init
// recipe ignores a JoinConfiguration with a warning, as kubeadm does).
var kindVersions = map[string]string{
	"InitConfiguration":      kubeadmGV,
	"ClusterConfiguration":   kubeadmGV,
	"JoinConfiguration":      kubeadmGV,
	"ResetConfiguration":     kubeadmGV,
	"KubeletConfiguration":   kubeletGV,
	"KubeProxyConfiguration": kubeProxyGV,
}

// oldKubeadmVersions are kubeadm API versions a v1.36 kubeadm no longer
// reads, with the kubeadm release that can still migrate them.
var oldKubeadmVersions = map[string]string{
	"kubeadm.k8s.io/v1alpha1": "v1.11",
	"kubeadm.k8s.io/v1alpha2": "v1.12",
	"kubeadm.k8s.io/v1alpha3": "v1.14",
	"kubeadm.k8s.io/v1beta1":  "v1.15",
	"kubeadm.k8s.io/v1beta2":  "v1.22",
}

// document is one YAML document of the file.
type document struct {
	index int    // 1-based
	line  int    // line of the file where the document starts (1-based)
	json  []byte // the document converted to JSON
	meta  TypeMeta
}

func (d *document) where() string {
	return fmt.Sprintf("document %d (line %d)", d.index, d.line)
}

// Load decodes and validates a kubeadm config file. It returns an error
// naming the document, field and fix for anything kubeadm would reject;
// all validation problems are reported together.
func Load(data []byte) (cfg *Config, err error) {
	// A bug here must surface as an error, never as a crash of the CLI.
	defer func() {
		if r := recover(); r != nil {
			cfg, err = nil, fmt.Errorf("kubeadm config: internal error while reading the file (please report it): %v", r)
		}
	}()
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("kubeadm config: the file holds no document; give at least one of %s", knownKinds())
	}
	seen := map[string]*document{}
	for _, d := range docs {
		if err := checkTypeMeta(d); err != nil {
			return nil, err
		}
		if first, dup := seen[d.meta.Kind]; dup {
			return nil, fmt.Errorf("kubeadm config: kind %s appears twice, in %s and in %s; merge them into one document",
				d.meta.Kind, first.where(), d.where())
		}
		seen[d.meta.Kind] = d
	}

	c := &checker{}
	cfg = &Config{Docs: map[string]any{}}
	for _, d := range docs {
		c.kind = d.meta.Kind
		doc, err := decodeAndCheck(c, d)
		if err != nil {
			return nil, err
		}
		cfg.Kinds = append(cfg.Kinds, d.meta.Kind)
		cfg.Docs[d.meta.Kind] = doc
	}
	if len(c.errs) > 0 {
		return nil, c.err()
	}
	cfg.Warnings, cfg.Secrets = c.warnings, c.secrets
	return cfg, nil
}

// decodeAndCheck decodes one document strictly into its type, validates
// it, and returns it as plain data.
func decodeAndCheck(c *checker, d *document) (map[string]any, error) {
	var typed any
	switch d.meta.Kind {
	case "InitConfiguration":
		ic := &InitConfiguration{}
		if err := decodeStrict(d, ic); err != nil {
			return nil, err
		}
		c.checkInit(ic)
		typed = ic
	case "ClusterConfiguration":
		cc := &ClusterConfiguration{}
		if err := decodeStrict(d, cc); err != nil {
			return nil, err
		}
		c.checkCluster(cc)
		typed = cc
	case "JoinConfiguration":
		jc := &JoinConfiguration{}
		if err := decodeStrict(d, jc); err != nil {
			return nil, err
		}
		c.checkJoin(jc)
		typed = jc
	case "ResetConfiguration":
		rc := &ResetConfiguration{}
		if err := decodeStrict(d, rc); err != nil {
			return nil, err
		}
		c.checkReset(rc)
		typed = rc
	default: // KubeletConfiguration, KubeProxyConfiguration
		return componentConfig(d)
	}
	plain, err := toPlain(typed)
	if err != nil {
		return nil, fmt.Errorf("kubeadm config: %s: %s: cannot re-encode the document: %v", d.where(), d.meta.Kind, err)
	}
	return plain.(map[string]any), nil
}

// toPlain converts a typed value to map[string]any / []any / string /
// int64 / float64 / bool through its JSON form, as the recipe sees it.
func toPlain(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkTypeMeta rejects documents whose apiVersion/kind kubelark cannot read,
// with the fix for each case.
func checkTypeMeta(d *document) error {
	gv, kind := d.meta.APIVersion, d.meta.Kind
	if gv == "" || kind == "" {
		return fmt.Errorf("kubeadm config: %s: apiVersion and kind are required (got apiVersion %q, kind %q); e.g. apiVersion: %s, kind: InitConfiguration",
			d.where(), gv, kind, kubeadmGV)
	}
	if gv == "kubeadm.k8s.io/v1beta3" {
		return fmt.Errorf("kubeadm config: %s: %s %s is the old v1beta3 API; kubelark reads only %s: convert the file with `kubeadm config migrate --old-config OLD --new-config NEW`",
			d.where(), gv, kind, kubeadmGV)
	}
	if rel, old := oldKubeadmVersions[gv]; old {
		return fmt.Errorf("kubeadm config: %s: %s %s is an API removed long ago; migrate it with kubeadm %s (`kubeadm config migrate`), then with a current kubeadm to %s",
			d.where(), gv, kind, rel, kubeadmGV)
	}
	if gv == kubeadmGV && kind == "UpgradeConfiguration" {
		return fmt.Errorf("kubeadm config: %s: UpgradeConfiguration is not supported: kubelark has no upgrade workflow; remove this document", d.where())
	}
	want, known := kindVersions[kind]
	if !known {
		if strings.HasPrefix(gv, kubeadmGroup+"/") && gv != kubeadmGV {
			return fmt.Errorf("kubeadm config: %s: unknown apiVersion %q; kubelark reads %s (kubeadm v1.36)", d.where(), gv, kubeadmGV)
		}
		return fmt.Errorf("kubeadm config: %s: unknown kind %q (apiVersion %q); known kinds: %s", d.where(), kind, gv, knownKinds())
	}
	if gv != want {
		hint := ""
		if strings.HasPrefix(gv, kubeadmGroup+"/") {
			hint = "; convert the file with `kubeadm config migrate`"
		}
		return fmt.Errorf("kubeadm config: %s: %s must have apiVersion %s, not %q%s", d.where(), kind, want, gv, hint)
	}
	return nil
}

func knownKinds() string {
	var ks []string
	for k, v := range kindVersions {
		ks = append(ks, v+" "+k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// splitDocuments cuts the file at "---" lines the way kubeadm's YAML reader
// does ("---" optionally followed by a comment), converts each document to
// JSON (rejecting duplicate keys) and reads its TypeMeta. Empty documents
// are skipped. YAML errors carry line numbers of the whole file.
func splitDocuments(data []byte) ([]*document, error) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	var docs []*document
	var cur bytes.Buffer
	start := 1
	flush := func() error {
		d, err := parseDocument(cur.Bytes(), start, len(docs)+1)
		if err != nil {
			return err
		}
		if d != nil {
			docs = append(docs, d)
		}
		cur.Reset()
		return nil
	}
	for i, line := range lines {
		if isSeparator(line) {
			if err := flush(); err != nil {
				return nil, err
			}
			start = i + 2
			continue
		}
		cur.Write(line)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return docs, nil
}

func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := strings.TrimSpace(string(line[3:]))
	return rest == "" || strings.HasPrefix(rest, "#")
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// parseDocument converts one document; nil for an empty one.
func parseDocument(b []byte, start, index int) (*document, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	j, err := yaml.YAMLToJSONStrict(b)
	if err != nil {
		// Line numbers from the YAML parser count from the start of the
		// document; make them count from the start of the file.
		msg := yamlLineRE.ReplaceAllStringFunc(err.Error(), func(s string) string {
			n, _ := strconv.Atoi(s[len("line "):])
			return fmt.Sprintf("line %d", n+start-1)
		})
		msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
		return nil, fmt.Errorf("kubeadm config: document %d (line %d) is not valid YAML: %s", index, start, msg)
	}
	j = bytes.TrimSpace(j)
	if string(j) == "null" {
		return nil, nil // only comments
	}
	if len(j) == 0 || j[0] != '{' {
		return nil, fmt.Errorf("kubeadm config: document %d (line %d) is not a YAML mapping; each document must be an object with apiVersion and kind", index, start)
	}
	d := &document{index: index, line: start, json: j}
	// Non-strict read of the type only; the strict decode comes later.
	var meta TypeMeta
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(j, &meta); err != nil {
		return nil, fmt.Errorf("kubeadm config: %s: apiVersion and kind must be strings: %v", d.where(), err)
	}
	d.meta = meta
	return d, nil
}
