package kubeadmconfig

import (
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"
)

// setArgs maps a v1beta4 extraArgs list to a flag -> value map.
//
// v1beta4 made extraArgs a list so a flag may repeat; kubeadm then passes
// every occurrence. kubelark keeps extra args as a map (what --set and
// --values can express and what the stdlib merges over its defaults), so a
// repeated flag is an error that says how to rewrite it rather than a
// silent "last one wins".
func (m *mapper) setArgs(param string, args []Arg, field string) {
	if args == nil {
		return
	}
	out := map[string]any{}
	first := map[string]int{}
	ok := true
	for i, a := range args {
		f := fmt.Sprintf("%s[%d].name", field, i)
		switch {
		case a.Name == "":
			m.errorf(f, "argument has no name; give the flag name without dashes, e.g. {name: v, value: \"2\"}")
			ok = false
			continue
		case strings.HasPrefix(a.Name, "-"):
			m.errorf(f, "%q: write the flag name without leading dashes (%q)", a.Name, strings.TrimLeft(a.Name, "-"))
			ok = false
			continue
		}
		if j, dup := first[a.Name]; dup {
			m.errorf(f, "flag %q is given twice (%s[%d] and [%d]); kubelark keeps extra args as a map flag -> value, so give each flag once (join list values with commas where the flag allows it), or fork the stdlib manifest to repeat a flag",
				a.Name, field, j, i)
			ok = false
			continue
		}
		first[a.Name] = i
		out[a.Name] = a.Value
	}
	if ok {
		m.set(param, out, field)
	}
}

var hostPathTypes = map[corev1.HostPathType]bool{
	corev1.HostPathUnset: true, corev1.HostPathDirectoryOrCreate: true, corev1.HostPathDirectory: true,
	corev1.HostPathFileOrCreate: true, corev1.HostPathFile: true, corev1.HostPathSocket: true,
	corev1.HostPathCharDev: true, corev1.HostPathBlockDev: true,
}

// setVolumes maps extraVolumes to a list of dicts with all five keys
// (name, hostPath, mountPath, readOnly, pathType), so recipes see one shape.
func (m *mapper) setVolumes(param string, vols []HostPathMount, field string) {
	if vols == nil {
		return
	}
	out := make([]any, 0, len(vols))
	ok := true
	names := map[string]int{}
	for i, v := range vols {
		f := fmt.Sprintf("%s[%d]", field, i)
		bad := func(sub, format string, args ...any) {
			m.errorf(f+"."+sub, format, args...)
			ok = false
		}
		if errs := validation.IsDNS1123Label(v.Name); len(errs) > 0 {
			bad("name", "%q is not a valid volume name: %s", v.Name, strings.Join(errs, "; "))
		} else if j, dup := names[v.Name]; dup {
			bad("name", "%q is also the name of %s[%d]; volume names must be unique", v.Name, field, j)
		}
		names[v.Name] = i
		if msg := checkAbsPath(v.HostPath); msg != "" {
			bad("hostPath", "%s", msg)
		}
		if msg := checkAbsPath(v.MountPath); msg != "" {
			bad("mountPath", "%s", msg)
		}
		if !hostPathTypes[v.PathType] {
			bad("pathType", "%q is not a hostPath type; use one of DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice", v.PathType)
		}
		out = append(out, map[string]any{
			"name": v.Name, "hostPath": v.HostPath, "mountPath": v.MountPath,
			"readOnly": v.ReadOnly, "pathType": string(v.PathType),
		})
	}
	if ok {
		m.set(param, out, field)
	}
}

// setEnvs maps extraEnvs to a list of core/v1 EnvVar dicts. A static Pod
// cannot read ConfigMaps or Secrets (the kubelet has no API objects for it
// at start), so only value, fieldRef and resourceFieldRef are allowed.
func (m *mapper) setEnvs(param string, envs []corev1.EnvVar, field string) {
	if envs == nil {
		return
	}
	out := make([]any, 0, len(envs))
	ok := true
	for i, e := range envs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if e.Name == "" {
			m.errorf(f+".name", "environment variable has no name")
			ok = false
		}
		if vf := e.ValueFrom; vf != nil {
			switch {
			case e.Value != "":
				m.errorf(f, "value and valueFrom are mutually exclusive; keep one")
				ok = false
			case vf.ConfigMapKeyRef != nil || vf.SecretKeyRef != nil || vf.FileKeyRef != nil:
				m.errorf(f+".valueFrom", "a static Pod cannot read ConfigMaps, Secrets or files through valueFrom; use value, fieldRef or resourceFieldRef")
				ok = false
			case vf.FieldRef == nil && vf.ResourceFieldRef == nil:
				m.errorf(f+".valueFrom", "is empty; give fieldRef or resourceFieldRef, or use value")
				ok = false
			}
		}
		v, err := toPlain(e)
		if err != nil {
			m.errorf(f, "cannot convert: %v", err)
			ok = false
			continue
		}
		out = append(out, v)
	}
	if ok {
		m.set(param, out, field)
	}
}

var taintEffects = map[corev1.TaintEffect]bool{
	corev1.TaintEffectNoSchedule: true, corev1.TaintEffectPreferNoSchedule: true, corev1.TaintEffectNoExecute: true,
}

// setTaints maps nodeRegistration.taints. Absent leaves the parameter unset
// (the recipe's default: the control-plane taint); an explicit empty list
// means "no taints" and is kept as [].
func (m *mapper) setTaints(param string, taints *[]corev1.Taint, field string) {
	if taints == nil {
		return
	}
	out := make([]any, 0, len(*taints))
	ok := true
	seen := map[string]int{}
	for i, t := range *taints {
		f := fmt.Sprintf("%s[%d]", field, i)
		if errs := validation.IsQualifiedName(t.Key); len(errs) > 0 {
			m.errorf(f+".key", "%q is not a valid taint key: %s", t.Key, strings.Join(errs, "; "))
			ok = false
		}
		if t.Value != "" {
			if errs := validation.IsValidLabelValue(t.Value); len(errs) > 0 {
				m.errorf(f+".value", "%q is not a valid taint value: %s", t.Value, strings.Join(errs, "; "))
				ok = false
			}
		}
		if !taintEffects[t.Effect] {
			m.errorf(f+".effect", "%q is not a taint effect; use NoSchedule, PreferNoSchedule or NoExecute", t.Effect)
			ok = false
		}
		if t.TimeAdded != nil {
			m.errorf(f+".timeAdded", "is set by the node lifecycle controller, not at registration; remove it")
			ok = false
		}
		k := t.Key + ":" + string(t.Effect)
		if j, dup := seen[k]; dup {
			m.errorf(f, "taint %s repeats %s[%d]; a key may appear once per effect", k, field, j)
			ok = false
		}
		seen[k] = i
		d := map[string]any{"key": t.Key, "effect": string(t.Effect)}
		if t.Value != "" {
			d["value"] = t.Value
		}
		out = append(out, d)
	}
	if ok {
		m.set(param, out, field)
	}
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
