package kubeadmconfig

import (
	"fmt"

	kubeproxyv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	sigsjson "sigs.k8s.io/json"
)

// componentConfig checks that a KubeletConfiguration or
// KubeProxyConfiguration decodes strictly into its upstream type (so a typo
// is named now, not when the kubelet refuses to start), then returns the
// document as written: the recipe merges the fields the user wrote over
// its own defaults, so the defaults of the typed decode must not leak in.
func componentConfig(d *document) (map[string]any, error) {
	var typed any
	switch d.meta.Kind {
	case "KubeletConfiguration":
		typed = &kubeletv1beta1.KubeletConfiguration{}
	case "KubeProxyConfiguration":
		typed = &kubeproxyv1alpha1.KubeProxyConfiguration{}
	default:
		return nil, fmt.Errorf("kubeadm config: %s: no component config type for kind %s", d.where(), d.meta.Kind)
	}
	if err := decodeStrict(d, typed); err != nil {
		return nil, err
	}
	var fields map[string]any
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(d.json, &fields); err != nil {
		return nil, fmt.Errorf("kubeadm config: %s: %v", d.where(), err)
	}
	return fields, nil
}
