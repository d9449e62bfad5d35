package cluster

import (
	"encoding/json"
	"fmt"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes/scheme"
)

// applyPatch applies a patch locally, as the API server would, for the
// dry-run overlay. Strategic merge patches need the Go type's patch
// metadata: built-in kinds use client-go's scheme, other kinds (custom
// resources) fall back to a JSON merge patch, as the API server does for
// them.
func applyPatch(cur *unstructured.Unstructured, pt types.PatchType, data []byte) (*unstructured.Unstructured, error) {
	orig, err := json.Marshal(cur.Object)
	if err != nil {
		return nil, err
	}
	var patched []byte
	switch pt {
	case types.JSONPatchType:
		p, err := jsonpatch.DecodePatch(data)
		if err != nil {
			return nil, fmt.Errorf("invalid JSON patch: %w", err)
		}
		patched, err = p.Apply(orig)
		if err != nil {
			return nil, fmt.Errorf("applying JSON patch: %w", err)
		}
	case types.MergePatchType:
		patched, err = jsonpatch.MergePatch(orig, data)
		if err != nil {
			return nil, fmt.Errorf("applying merge patch: %w", err)
		}
	case types.StrategicMergePatchType:
		typed, err := scheme.Scheme.New(cur.GroupVersionKind())
		if err != nil {
			patched, err = jsonpatch.MergePatch(orig, data)
		} else {
			patched, err = strategicpatch.StrategicMergePatch(orig, data, typed)
		}
		if err != nil {
			return nil, fmt.Errorf("applying strategic merge patch: %w", err)
		}
	default:
		return nil, fmt.Errorf("unsupported patch type %q", pt)
	}
	out := &unstructured.Unstructured{}
	if err := out.UnmarshalJSON(patched); err != nil {
		return nil, fmt.Errorf("patched object is invalid: %w", err)
	}
	return out, nil
}
