package builtins

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubelark/kubelark/runtime"
)

// static_pod writes a static Pod manifest for the kubelet. What goes into
// the Pod (flags, volumes, probes) is recipe policy (stdlib
// controlplane.star / etcd.star); this builtin only guarantees the Pod is a
// valid core/v1 Pod and writes it the way kubeadm's WriteStaticPodToDisk
// does (app/util/staticpod/utils.go): the client-go YAML codec, file 0600,
// manifest directory created 0700.

func init() { families = append(families, registerStaticPod) }

func registerStaticPod(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "static_pod",
		Signature: "static_pod(path, pod)",
		Doc: "Writes a static Pod manifest (a core/v1 Pod given as a dict) as kubeadm does: YAML with `status: {}`, file mode 0600, missing directories created 0700.\n" +
			"The dict is decoded strictly: unknown or misspelt fields are errors naming the field. apiVersion v1, kind Pod, metadata.name, metadata.namespace and at least one container with a name and an image are required.\n" +
			"Returns struct(status) with status created, updated or unchanged.",
		Args: []runtime.Arg{
			{Name: "path", Type: "string", Doc: "manifest path, e.g. /etc/kubernetes/manifests/kube-apiserver.yaml"},
			{Name: "pod", Type: "dict", Doc: "the Pod, shaped like its YAML"},
		},
		DryRun: "The manifest is written to the overlay and recorded as file.write with the Pod's name, namespace, image and command.",
		Fn:     staticPodBuiltin,
	})
}

func staticPodBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var podV starlark.Value
	env, target, err := unpackPath(thread, b, args, kwargs, "path", "pod", &podV)
	if err != nil {
		return nil, err
	}
	pod, err := decodeStaticPod(podV)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", b.Name(), target, err)
	}
	data, err := marshalKubeYAML(pod, corev1.SchemeGroupVersion)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: encoding the Pod: %w", b.Name(), target, err)
	}
	c := pod.Spec.Containers[0]
	command := make([]string, 0, len(c.Command)+len(c.Args))
	for _, s := range append(append([]string(nil), c.Command...), c.Args...) {
		command = append(command, env.Redact(s))
	}
	res, err := WriteFile(thread, env, b.Name(), FileWrite{
		Path: target, Data: data, Mode: 0o600, DirMode: 0o700,
		Summary: map[string]any{"name": pod.Name, "namespace": pod.Namespace, "image": c.Image, "command": command},
	})
	if err != nil {
		return nil, err
	}
	return fileStatusResult(string(res)), nil
}

// decodeStaticPod decodes and checks what the kubelet needs to run a static
// Pod; the kubelet itself validates the rest when it reads the file.
func decodeStaticPod(v starlark.Value) (*corev1.Pod, error) {
	if err := requireObjectValue(v, "Pod"); err != nil {
		return nil, fmt.Errorf("pod: %w", err)
	}
	apiVersion, kind := typeMetaOf(v)
	if apiVersion != "v1" || kind != "Pod" {
		return nil, fmt.Errorf(`pod has apiVersion %q and kind %q; a static Pod needs "apiVersion": "v1" and "kind": "Pod"`, apiVersion, kind)
	}
	pod := &corev1.Pod{}
	if err := decodeKubeObject(v, "Pod", pod); err != nil {
		return nil, err
	}
	if pod.Name == "" {
		return nil, fmt.Errorf(`pod has no metadata.name; set "metadata": {"name": "kube-apiserver", ...}`)
	}
	if errs := validation.IsDNS1123Subdomain(pod.Name); len(errs) > 0 {
		return nil, fmt.Errorf("pod metadata.name %q is invalid: %s", pod.Name, strings.Join(errs, "; "))
	}
	if pod.Namespace == "" {
		return nil, fmt.Errorf(`pod %q has no metadata.namespace; set "namespace": "kube-system" as kubeadm does for control-plane Pods`, pod.Name)
	}
	if len(pod.Spec.Containers) == 0 {
		return nil, fmt.Errorf("pod %q has no spec.containers; add at least one container with a name and an image", pod.Name)
	}
	for i, c := range pod.Spec.Containers {
		if c.Name == "" {
			return nil, fmt.Errorf(`pod %q: spec.containers[%d] has no name; set "name" (kubeadm uses the component name)`, pod.Name, i)
		}
		if c.Image == "" {
			return nil, fmt.Errorf(`pod %q: container %q has no image; set "image", e.g. "registry.k8s.io/kube-apiserver:v1.36.3"`, pod.Name, c.Name)
		}
	}
	return pod, nil
}
