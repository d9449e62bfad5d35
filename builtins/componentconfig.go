package builtins

import (
	"crypto/sha256"
	"fmt"
	"sort"

	"go.starlark.net/starlark"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubeproxyv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	kruntime "github.com/kubelark/kubelark/runtime"
)

// Component configs: the KubeletConfiguration written to
// /var/lib/kubelet/config.yaml and stored in the kubelet-config ConfigMap,
// and the KubeProxyConfiguration of the kube-proxy ConfigMap. kubeadm
// marshals its (kubeadm-defaulted, not scheme-defaulted) structs with its
// component-config codec (app/componentconfigs/configset.go Marshal), so
// every non-pointer field appears, zero or not. We do the same, so the
// files and ConfigMaps match kubeadm's.

func init() { families = append(families, registerComponentConfig) }

func registerComponentConfig(r *kruntime.Registry) {
	r.Add(&kruntime.Builtin{
		Name:      "component_config",
		Signature: "component_config(obj)",
		Doc: "Validates a KubeletConfiguration (kubelet.config.k8s.io/v1beta1) or KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) given as a dict and returns its YAML as kubeadm renders it: fields sorted, no defaulting, zero values of non-pointer fields present (`syncFrequency: 0s`).\n" +
			"Unknown or misspelt fields are errors naming the field.",
		Args:   []kruntime.Arg{{Name: "obj", Type: "dict", Doc: "the configuration with apiVersion and kind"}},
		DryRun: "Pure: nothing is written or recorded.",
		Fn:     componentConfigBuiltin,
	})
	r.Add(&kruntime.Builtin{
		Name:      "component_config_hash",
		Signature: "component_config_hash(data)",
		Doc: "Returns kubeadm's component-config checksum of a ConfigMap's data: \"sha256:\" + hex SHA-256 over the values concatenated in sorted key order " +
			"(app/componentconfigs/checksums.go). kubeadm stores it in the kubeadm.kubernetes.io/component-config.hash annotation.",
		Args:   []kruntime.Arg{{Name: "data", Type: "dict", Doc: "the ConfigMap data, string keys to string values"}},
		DryRun: "Pure.",
		Fn:     componentConfigHashBuiltin,
	})
}

// componentConfigKinds maps "apiVersion/kind" to a constructor of the
// typed struct and its group version.
var componentConfigKinds = map[string]struct {
	gv  schema.GroupVersion
	new func() runtime.Object
}{
	"kubelet.config.k8s.io/v1beta1/KubeletConfiguration": {
		kubeletv1beta1.SchemeGroupVersion, func() runtime.Object { return &kubeletv1beta1.KubeletConfiguration{} }},
	"kubeproxy.config.k8s.io/v1alpha1/KubeProxyConfiguration": {
		kubeproxyv1alpha1.SchemeGroupVersion, func() runtime.Object { return &kubeproxyv1alpha1.KubeProxyConfiguration{} }},
}

func componentConfigBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var obj starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "obj", &obj); err != nil {
		return nil, err
	}
	out, err := renderComponentConfig(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return starlark.String(out), nil
}

// renderComponentConfig decodes obj strictly and marshals it like kubeadm.
func renderComponentConfig(obj starlark.Value) ([]byte, error) {
	if err := requireObjectValue(obj, "KubeletConfiguration or KubeProxyConfiguration"); err != nil {
		return nil, fmt.Errorf("obj: %w", err)
	}
	apiVersion, kind := typeMetaOf(obj)
	k, ok := componentConfigKinds[apiVersion+"/"+kind]
	if !ok {
		return nil, fmt.Errorf(`obj has apiVersion %q and kind %q; supported are "kubelet.config.k8s.io/v1beta1" KubeletConfiguration and "kubeproxy.config.k8s.io/v1alpha1" KubeProxyConfiguration`, apiVersion, kind)
	}
	typed := k.new()
	if err := decodeKubeObject(obj, kind, typed); err != nil {
		return nil, err
	}
	return marshalKubeYAML(typed, k.gv)
}

func componentConfigHashBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var data *starlark.Dict
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "data", &data); err != nil {
		return nil, err
	}
	values := map[string]string{}
	for _, kv := range data.Items() {
		k, ok := starlark.AsString(kv[0])
		if !ok {
			return nil, fmt.Errorf("%s: data key %s is a %s; ConfigMap data keys are strings", b.Name(), kv[0], kv[0].Type())
		}
		v, ok := starlark.AsString(kv[1])
		if !ok {
			return nil, fmt.Errorf("%s: data[%q] is a %s; ConfigMap data values are strings (render objects with component_config or yaml.encode)", b.Name(), k, kv[1].Type())
		}
		values[k] = v
	}
	return starlark.String(configMapDataHash(values)), nil
}

// configMapDataHash is kubeadm's ChecksumForConfigMap for a ConfigMap
// without binaryData.
func configMapDataHash(data map[string]string) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(data[k]))
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil))
}
