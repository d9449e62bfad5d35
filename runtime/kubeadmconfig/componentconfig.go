package kubeadmconfig

import (
	"fmt"

	kubeproxyv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	sigsjson "sigs.k8s.io/json"
)

// componentParams names the parameter each component config document fills.
var componentParams = map[string]string{
	"KubeletConfiguration":   "kubelet_config",
	"KubeProxyConfiguration": "kube_proxy_config",
}

// mapComponentConfig checks that a KubeletConfiguration or
// KubeProxyConfiguration decodes strictly into its upstream type (so a typo
// is named now, not when the kubelet refuses to start), then passes the
// fields the user wrote, as written, to the recipe. apiVersion and kind are
// dropped: the parameter holds the fields to merge over the stdlib's
// defaults, and the stdlib sets the type.
func mapComponentConfig(m *mapper, d *document) error {
	var typed any
	switch d.meta.Kind {
	case "KubeletConfiguration":
		typed = &kubeletv1beta1.KubeletConfiguration{}
	case "KubeProxyConfiguration":
		typed = &kubeproxyv1alpha1.KubeProxyConfiguration{}
	default:
		return fmt.Errorf("kubeadm config: %s: no component config type for kind %s", d.where(), d.meta.Kind)
	}
	if err := decodeStrict(d, typed); err != nil {
		return err
	}
	var fields map[string]any
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(d.json, &fields); err != nil {
		return fmt.Errorf("kubeadm config: %s: %v", d.where(), err)
	}
	delete(fields, "apiVersion")
	delete(fields, "kind")
	param := componentParams[d.meta.Kind]
	m.res.Params[param] = fields
	m.res.Sources[param] = d.meta.Kind
	return nil
}
