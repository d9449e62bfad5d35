package builtins

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kubeproxyv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	sigsjson "sigs.k8s.io/json"

	klruntime "github.com/kubelark/kubelark/runtime"
)

// Typed Kubernetes objects that builtins render to files. Recipes build
// them as plain dicts; a builtin decodes the dict strictly into the typed
// struct (so a misspelt field fails with its full path instead of being
// dropped) and encodes it with the same codec kubeadm uses, so the files
// are byte-for-byte what kubeadm would write for the same object.

// kubeObjScheme knows the types builtins write: core/v1 (static Pods) and
// the two component configs kubeadm manages. No defaulting functions are
// registered, and encoding never defaults anyway: kubeadm writes objects
// undefaulted, and so do we.
var (
	kubeObjScheme = runtime.NewScheme()
	kubeObjCodecs = serializer.NewCodecFactory(kubeObjScheme)
)

func init() {
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, kubeletv1beta1.AddToScheme, kubeproxyv1alpha1.AddToScheme} {
		if err := add(kubeObjScheme); err != nil {
			panic(fmt.Sprintf("builtins: registering API types: %v", err)) // programming error, at start-up
		}
	}
}

// marshalKubeYAML encodes obj as YAML for gv exactly like kubeadm's
// MarshalToYamlForCodecs (cmd/kubeadm/app/util/marshal.go): apiVersion
// and kind set, fields sorted, zero values of non-pointer fields kept,
// `status: {}` for Pods and no creationTimestamp.
func marshalKubeYAML(obj runtime.Object, gv schema.GroupVersion) ([]byte, error) {
	info, ok := runtime.SerializerInfoForMediaType(kubeObjCodecs.SupportedMediaTypes(), runtime.ContentTypeYAML)
	if !ok {
		return nil, fmt.Errorf("internal error: no YAML serializer")
	}
	return runtime.Encode(kubeObjCodecs.EncoderForVersion(info.Serializer, gv), obj)
}

// decodeKubeObject converts a Starlark dict (or struct) into JSON and
// decodes it into into, case-sensitively and refusing unknown and duplicate
// fields like the API server's strict field validation. The returned error
// names every offending field with its path (spec.containers[0].imagee)
// and how to fix it; it does not carry the builtin name or the target,
// which the caller adds.
func decodeKubeObject(v starlark.Value, kind string, into any) error {
	if err := requireObjectValue(v, kind); err != nil {
		return err
	}
	// The object becomes a file on this node (a static Pod manifest, a
	// component config), as write_file content would: a secret in it
	// (a token in a command) is written as is; the plan's summary is
	// redacted textually, every secret being registered where it is made.
	obj, _, err := klruntime.ToGoSecrets(v)
	if err != nil {
		return fmt.Errorf("%s is not plain data: %w", kind, err)
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("%s cannot be encoded as JSON: %w", kind, err)
	}
	strictErrs, err := sigsjson.UnmarshalStrict(data, into, sigsjson.DisallowUnknownFields, sigsjson.DisallowDuplicateFields)
	if err != nil {
		return fmt.Errorf("%s: %s; check the field's type in the %s API reference", kind, strings.TrimPrefix(err.Error(), "json: "), kind)
	}
	if len(strictErrs) > 0 {
		msgs := make([]string, len(strictErrs))
		for i, e := range strictErrs {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("%s: %s; check the spelling (field names are case-sensitive) against the %s API reference", kind, strings.Join(msgs, ", "), kind)
	}
	return nil
}

// requireObjectValue accepts the values a Kubernetes object may be given
// as: a dict, or a struct.
func requireObjectValue(v starlark.Value, kind string) error {
	if _, ok := v.(*starlark.Dict); ok {
		return nil
	}
	if _, ok := v.(starlark.HasAttrs); ok && v.Type() == "struct" {
		return nil
	}
	return fmt.Errorf("got %s, want a dict shaped like the %s YAML", v.Type(), kind)
}

// typeMetaOf reads apiVersion and kind from a dict before decoding, so a
// wrong kind is reported as such rather than as a pile of unknown fields.
func typeMetaOf(v starlark.Value) (apiVersion, kind string) {
	get := func(key string) string {
		var x starlark.Value
		switch o := v.(type) {
		case *starlark.Dict:
			x, _, _ = o.Get(starlark.String(key))
		case starlark.HasAttrs:
			x, _ = o.Attr(key)
		}
		s, _ := starlark.AsString(x)
		return s
	}
	return get("apiVersion"), get("kind")
}
