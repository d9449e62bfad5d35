package kubeadmconfig

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// checkArgs validates a v1beta4 extraArgs list: every flag has a name,
// written without dashes. Whether a flag may repeat is the recipe's
// business (kubelark's recipes keep extra args as a map).
func (c *checker) checkArgs(args []Arg, field string) {
	for i, a := range args {
		f := fmt.Sprintf("%s[%d].name", field, i)
		switch {
		case a.Name == "":
			c.errorf(f, "argument has no name; give the flag name without dashes, e.g. {name: v, value: \"2\"}")
		case strings.HasPrefix(a.Name, "-"):
			c.errorf(f, "%q: write the flag name without leading dashes (%q)", a.Name, strings.TrimLeft(a.Name, "-"))
		}
	}
}

var hostPathTypes = map[corev1.HostPathType]bool{
	corev1.HostPathUnset: true, corev1.HostPathDirectoryOrCreate: true, corev1.HostPathDirectory: true,
	corev1.HostPathFileOrCreate: true, corev1.HostPathFile: true, corev1.HostPathSocket: true,
	corev1.HostPathCharDev: true, corev1.HostPathBlockDev: true,
}

// checkVolumes validates extraVolumes: unique DNS-label names, absolute
// paths, a known hostPath type.
func (c *checker) checkVolumes(vols []HostPathMount, field string) {
	names := map[string]int{}
	for i, v := range vols {
		f := fmt.Sprintf("%s[%d]", field, i)
		bad := func(sub, format string, args ...any) { c.errorf(f+"."+sub, format, args...) }
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
	}
}

// checkEnvs validates extraEnvs. A static Pod cannot read ConfigMaps or
// Secrets (the kubelet has no API objects for it at start), so only value,
// fieldRef and resourceFieldRef are allowed.
func (c *checker) checkEnvs(envs []corev1.EnvVar, field string) {
	for i, e := range envs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if e.Name == "" {
			c.errorf(f+".name", "environment variable has no name")
		}
		if vf := e.ValueFrom; vf != nil {
			switch {
			case e.Value != "":
				c.errorf(f, "value and valueFrom are mutually exclusive; keep one")
			case vf.ConfigMapKeyRef != nil || vf.SecretKeyRef != nil || vf.FileKeyRef != nil:
				c.errorf(f+".valueFrom", "a static Pod cannot read ConfigMaps, Secrets or files through valueFrom; use value, fieldRef or resourceFieldRef")
			case vf.FieldRef == nil && vf.ResourceFieldRef == nil:
				c.errorf(f+".valueFrom", "is empty; give fieldRef or resourceFieldRef, or use value")
			}
		}
	}
}

var taintEffects = map[corev1.TaintEffect]bool{
	corev1.TaintEffectNoSchedule: true, corev1.TaintEffectPreferNoSchedule: true, corev1.TaintEffectNoExecute: true,
}

// checkTaints validates nodeRegistration.taints (absent and [] differ:
// the document keeps taints: null for absent).
func (c *checker) checkTaints(taints *[]corev1.Taint, field string) {
	if taints == nil {
		return
	}
	seen := map[string]int{}
	for i, t := range *taints {
		f := fmt.Sprintf("%s[%d]", field, i)
		if errs := validation.IsQualifiedName(t.Key); len(errs) > 0 {
			c.errorf(f+".key", "%q is not a valid taint key: %s", t.Key, strings.Join(errs, "; "))
		}
		if t.Value != "" {
			if errs := validation.IsValidLabelValue(t.Value); len(errs) > 0 {
				c.errorf(f+".value", "%q is not a valid taint value: %s", t.Value, strings.Join(errs, "; "))
			}
		}
		if !taintEffects[t.Effect] {
			c.errorf(f+".effect", "%q is not a taint effect; use NoSchedule, PreferNoSchedule or NoExecute", t.Effect)
		}
		if t.TimeAdded != nil {
			c.errorf(f+".timeAdded", "is set by the node lifecycle controller, not at registration; remove it")
		}
		k := t.Key + ":" + string(t.Effect)
		if j, dup := seen[k]; dup {
			c.errorf(f, "taint %s repeats %s[%d]; a key may appear once per effect", k, field, j)
		}
		seen[k] = i
	}
}
