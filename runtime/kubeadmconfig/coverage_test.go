package kubeadmconfig

import (
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// TestEveryFieldIsHandled is the "never silently ignore" guarantee: for
// every leaf field of every kubeadm kind, a document that sets only that
// field must either be rejected with an error naming the field, or reach
// the recipe. For the init recipe's documents "reach" means its mapping
// (stdlib/kubeadmconfig.star) sets a parameter whose source is that field
// or warns about the field (Reset: the reset recipe's reset_params); for
// Join documents the field must be in the document handed over. A field added
// to types.go but dropped on the way fails here.
func TestEveryFieldIsHandled(t *testing.T) {
	kinds := map[string]any{
		"InitConfiguration":    InitConfiguration{},
		"ClusterConfiguration": ClusterConfiguration{},
		"JoinConfiguration":    JoinConfiguration{},
		"ResetConfiguration":   ResetConfiguration{},
	}
	total := 0
	for kind, v := range kinds {
		for _, leaf := range leaves(reflect.TypeOf(v), nil) {
			total++
			path := kind + "." + leaf.path()
			doc := map[string]any{"apiVersion": kubeadmGV, "kind": kind}
			leaf.setIn(doc)
			b, err := yaml.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			var handled bool
			var got any
			if kind == "JoinConfiguration" {
				var cfg *Config
				cfg, err = Load(b)
				got = cfg
				if err == nil {
					handled = leaf.in(cfg.Docs[kind].(map[string]any))
				}
			} else {
				var r *mapped
				if kind == "ResetConfiguration" {
					r, err = loadMapped(b, "reset")
				} else {
					r, err = loadInit(b)
				}
				got = r
				if err == nil {
					for _, s := range r.Sources {
						handled = handled || s == path
					}
					for _, w := range r.Warnings {
						handled = handled || strings.HasPrefix(w, path)
					}
				}
			}
			if err != nil {
				handled = strings.Contains(err.Error(), path)
			}
			if !handled {
				t.Errorf("%s is neither mapped nor reported\ndocument:\n%s\nerr: %v\nresult: %+v", path, b, err, got)
			}
		}
	}
	if total < 90 {
		t.Errorf("only %d leaf fields found; the walk is broken", total)
	}
}

type leaf struct {
	segs  []string // json names; "[0]" marks a list element
	probe any
}

func (l leaf) path() string {
	return strings.ReplaceAll(strings.Join(l.segs, "."), ".[0]", "[0]")
}

// setIn writes the probe value into a nested document at the leaf's path.
func (l leaf) setIn(doc map[string]any) {
	var cur any = doc
	for i, s := range l.segs {
		last := i == len(l.segs)-1
		if s == "[0]" {
			continue
		}
		m := cur.(map[string]any)
		next := i + 1
		if last {
			m[s] = l.probe
			return
		}
		if l.segs[next] == "[0]" {
			if _, ok := m[s]; !ok {
				m[s] = []any{map[string]any{}}
			}
			cur = m[s].([]any)[0]
			continue
		}
		if _, ok := m[s]; !ok {
			m[s] = map[string]any{}
		}
		cur = m[s]
	}
}

// in reports whether the leaf is set in a document handed to a recipe.
func (l leaf) in(doc map[string]any) bool {
	var cur any = doc
	for _, s := range l.segs {
		switch c := cur.(type) {
		case []any:
			if len(c) == 0 {
				return false
			}
			cur = c[0]
		case map[string]any:
			cur = c[s]
		default:
			return false
		}
	}
	return cur != nil
}

var (
	argsType    = reflect.TypeOf([]Arg{})
	volumesType = reflect.TypeOf([]HostPathMount{})
	envsType    = reflect.TypeOf([]corev1.EnvVar{})
	taintsType  = reflect.TypeOf(&[]corev1.Taint{})
)

// leaves lists the leaf fields of t with a probe value each.
func leaves(t reflect.Type, prefix []string) []leaf {
	var out []leaf
	for t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
		t = t.Elem()
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, inline := jsonName(f)
		if inline {
			if f.Type == reflect.TypeOf(TypeMeta{}) {
				continue
			}
			out = append(out, leaves(f.Type, prefix)...)
			continue
		}
		segs := append(append([]string{}, prefix...), name)
		if p, ok := probeFor(f.Type); ok {
			out = append(out, leaf{segs: segs, probe: p})
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch ft.Kind() {
		case reflect.Struct:
			out = append(out, leaves(ft, segs)...)
		case reflect.Slice:
			out = append(out, leaves(ft.Elem(), append(segs, "[0]"))...)
		default:
			panic("no probe for " + strings.Join(segs, ".") + " of type " + f.Type.String())
		}
	}
	return out
}

func probeFor(t reflect.Type) (any, bool) {
	switch t {
	case argsType:
		return []any{map[string]any{"name": "probe", "value": "x"}}, true
	case volumesType:
		return []any{map[string]any{"name": "probe", "hostPath": "/probe", "mountPath": "/probe"}}, true
	case envsType:
		return []any{map[string]any{"name": "PROBE", "value": "x"}}, true
	case taintsType:
		return []any{map[string]any{"key": "probe", "effect": "NoSchedule"}}, true
	}
	base := t
	for base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	switch base.Kind() {
	case reflect.String:
		return "probe", true
	case reflect.Bool:
		return true, true
	case reflect.Int, reflect.Int32, reflect.Int64:
		return 1, true
	case reflect.Map:
		return map[string]any{"Probe": true}, true
	case reflect.Slice:
		if base.Elem().Kind() == reflect.String {
			return []any{"probe"}, true
		}
	}
	return nil, false
}

// TestTypesMirrorKubeadm checks that types.go has exactly kubeadm
// v1.36.3's v1beta4 fields (list generated from kubeadm's source, see the
// file's header).
func TestTypesMirrorKubeadm(t *testing.T) {
	b, err := os.ReadFile("testdata/kubeadm-v1beta4-fields.txt")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			want = append(want, l)
		}
	}
	var got []string
	for kind, v := range map[string]any{
		"InitConfiguration": InitConfiguration{}, "ClusterConfiguration": ClusterConfiguration{},
		"JoinConfiguration": JoinConfiguration{}, "ResetConfiguration": ResetConfiguration{},
	} {
		for _, l := range leaves(reflect.TypeOf(v), nil) {
			got = append(got, kind+"."+l.path())
		}
	}
	sort.Strings(got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("types.go differs from kubeadm v1beta4 (-kubeadm +ours):\n%s", d)
	}
}
