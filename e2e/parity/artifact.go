// Package parity compares what kubelark writes with what kubeadm v1.36.3
// writes for the same kubeadm v1beta4 configuration, semantically: both
// outputs are read by collectors into normalized records, and every field
// that differs must be listed, with its reason, in
// testdata/parity/differences.md.
//
// The model:
//   - an Output is what one tool produced for one config: a directory
//     holding copies of /etc/kubernetes, /var/lib/kubelet and /var/lib/etcd
//     (file suite, TestParity), or the API objects of the control plane it
//     created on a real node (API suite, TestParityAPI);
//   - a Collector reads an Output into Artifacts: records keyed by an
//     artifact id such as "cert /etc/kubernetes/pki/ca.crt" or, for the API
//     half, "api v1/ConfigMap/kube-system/kubeadm-config";
//   - a Record maps field names to canonical strings, so a comparison is a
//     set of (artifact, field, kubeadm value, kubelark value) differences;
//   - a Workflow (init today; join worker / join control-plane later) says
//     how each tool is run for a config and which collectors read the result.
package parity

import (
	"crypto/x509"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Absent is the value a Difference shows for a field or artifact one side
// does not have.
const Absent = "<absent>"

// Record holds one artifact's normalized fields: field name -> canonical
// value. Nested structures are flattened into dotted field names (see
// flatten), so a difference names the exact field.
type Record map[string]string

// Artifacts are records keyed by artifact id ("<kind> <name>").
type Artifacts map[string]Record

// Add merges b into a; an artifact id produced twice is a collector bug.
func (a Artifacts) Add(b Artifacts) error {
	for id, r := range b {
		if _, dup := a[id]; dup {
			return fmt.Errorf("artifact %q is produced by two collectors", id)
		}
		a[id] = r
	}
	return nil
}

// Dump renders the artifacts as sorted "id | field = value" lines.
func (a Artifacts) Dump() string {
	var b strings.Builder
	for _, id := range keys(a) {
		for _, f := range keys(a[id]) {
			fmt.Fprintf(&b, "%s | %s = %s\n", id, f, a[id][f])
		}
	}
	return b.String()
}

// Output is what one tool produced for one config.
type Output struct {
	// Tool is "kubeadm" or "kubelark".
	Tool string
	// Root is a directory holding etc/kubernetes, var/lib/kubelet and
	// var/lib/etcd as the tool left them (paths in artifact ids are these
	// paths made absolute again: "/etc/kubernetes/...").
	Root string
	// Log is the tool's output, shown when a run fails.
	Log string
	// API is what the API suite read back from the control plane the tool
	// created (nil for the file suite).
	API *APIState

	certs map[string]*x509.Certificate // certIndex cache
}

// Collector reads one kind of artifact from an Output.
type Collector interface {
	// Name is a short label used in error messages ("certs", "manifests").
	Name() string
	// Collect returns the normalized artifacts it found in o.
	Collect(o *Output) (Artifacts, error)
}

// CollectAll runs every collector on o and merges their artifacts.
func CollectAll(o *Output, cs []Collector) (Artifacts, error) {
	all := Artifacts{}
	for _, c := range cs {
		a, err := c.Collect(o)
		if err != nil {
			return nil, fmt.Errorf("%s collector on %s output: %w", c.Name(), o.Tool, err)
		}
		if err := all.Add(a); err != nil {
			return nil, fmt.Errorf("%s collector on %s output: %w", c.Name(), o.Tool, err)
		}
	}
	return all, nil
}

// Difference is one field whose normalized values differ.
type Difference struct {
	Config   string // config name (file name without .yaml)
	Artifact string // artifact id
	Field    string // field name; "exists" when the whole artifact is missing on one side
	Kubeadm  string
	Kubelark string
}

func (d Difference) String() string {
	return fmt.Sprintf("%s | %s | %s\n      kubeadm:  %s\n      kubelark: %s", d.Config, d.Artifact, d.Field, d.Kubeadm, d.Kubelark)
}

// Compare returns every difference between the kubeadm artifacts and the
// kubelark artifacts, sorted by artifact and field.
func Compare(config string, kubeadm, kubelark Artifacts) []Difference {
	var out []Difference
	for _, id := range unionKeys(kubeadm, kubelark) {
		a, inA := kubeadm[id]
		b, inB := kubelark[id]
		if !inA || !inB {
			d := Difference{Config: config, Artifact: id, Field: "exists", Kubeadm: "present", Kubelark: "present"}
			if !inA {
				d.Kubeadm = Absent
			}
			if !inB {
				d.Kubelark = Absent
			}
			out = append(out, d)
			continue
		}
		for _, f := range unionKeys(a, b) {
			va, okA := a[f]
			vb, okB := b[f]
			if !okA {
				va = Absent
			}
			if !okB {
				vb = Absent
			}
			if okA && okB && equalValue(f, va, vb) {
				continue
			}
			out = append(out, Difference{Config: config, Artifact: id, Field: f, Kubeadm: va, Kubelark: vb})
		}
	}
	return out
}

// validityTolerance is how far two validity periods may differ: the tools
// run at different moments and round differently (kubeadm backdates
// NotBefore by 5 minutes and measures NotAfter from its start time).
const validityTolerance = 24 * time.Hour

// equalValue compares two canonical values; fields named "validity" hold
// durations compared with validityTolerance.
func equalValue(field, a, b string) bool {
	if a == b {
		return true
	}
	if field == "validity" || strings.HasSuffix(field, ".validity") {
		da, errA := time.ParseDuration(a)
		db, errB := time.ParseDuration(b)
		if errA == nil && errB == nil {
			d := da - db
			if d < 0 {
				d = -d
			}
			return d <= validityTolerance
		}
	}
	return false
}

func unionKeys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
