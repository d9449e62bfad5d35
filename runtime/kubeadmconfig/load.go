// Package kubeadmconfig turns the content of a kubeadm `--config` file
// (kubeadm.k8s.io/v1beta4, plus KubeletConfiguration and
// KubeProxyConfiguration documents) into recipe parameter values.
//
// The rule is that nothing is silently dropped: every field the user wrote
// either becomes a parameter (and Result.Sources says which field it came
// from), or is an error that names the field and says what to do instead,
// or, for the few fields that can have no effect in kubelark, a warning.
// Everything is validated before any recipe runs, so a bad config never
// writes a file. The mapping table lives in docs/contracts.md ("Config
// mapping").
package kubeadmconfig

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Result is what a config file means for a recipe.
type Result struct {
	// Params holds parameter values with plain Go types: string, int64,
	// bool, []any of strings, map[string]any, []any of map[string]any.
	Params map[string]any
	// Sources maps each parameter to the kubeadm field it came from, e.g.
	// "ClusterConfiguration.networking.podSubnet".
	Sources map[string]string
	// Warnings are things the user should read but that do not stop a run
	// (a scheme added to criSocket, a field that has no effect in kubelark).
	Warnings []string
	// Kinds lists the document kinds in file order.
	Kinds []string
	// Secrets holds the secret values read from the file (bootstrap tokens,
	// certificate keys), so the runtime can register them for redaction.
	Secrets []string
}

// Group versions this package reads.
const (
	kubeadmGV    = "kubeadm.k8s.io/v1beta4"
	kubeletGV    = "kubelet.config.k8s.io/v1beta1"
	kubeProxyGV  = "kubeproxy.config.k8s.io/v1alpha1"
	kubeadmGroup = "kubeadm.k8s.io"
)

// kindVersions says which apiVersion each known kind must have.
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
// naming the document, field and fix for anything it cannot map; all
// validation problems are reported together.
func Load(data []byte) (res *Result, err error) {
	// A bug here must surface as an error, never as a crash of the CLI.
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("kubeadm config: internal error while reading the file (please report it): %v", r)
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

	m := newMapper()
	for _, d := range docs {
		m.res.Kinds = append(m.res.Kinds, d.meta.Kind)
		m.kind = d.meta.Kind
		if err := decodeAndMap(m, d); err != nil {
			return nil, err
		}
	}
	if seen["InitConfiguration"] != nil || seen["ClusterConfiguration"] != nil {
		m.kind = "InitConfiguration"
		m.defaultTokenDescription()
	}
	if len(m.errs) > 0 {
		return nil, m.err()
	}
	return m.res, nil
}

// decodeAndMap decodes one document strictly into its type and maps it.
func decodeAndMap(m *mapper, d *document) error {
	switch d.meta.Kind {
	case "InitConfiguration":
		var c InitConfiguration
		if err := decodeStrict(d, &c); err != nil {
			return err
		}
		m.mapInit(&c)
	case "ClusterConfiguration":
		var c ClusterConfiguration
		if err := decodeStrict(d, &c); err != nil {
			return err
		}
		m.mapCluster(&c)
	case "JoinConfiguration":
		var c JoinConfiguration
		if err := decodeStrict(d, &c); err != nil {
			return err
		}
		m.mapJoin(&c)
	case "ResetConfiguration":
		var c ResetConfiguration
		if err := decodeStrict(d, &c); err != nil {
			return err
		}
		m.mapReset(&c)
	case "KubeletConfiguration", "KubeProxyConfiguration":
		return mapComponentConfig(m, d)
	}
	return nil
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
