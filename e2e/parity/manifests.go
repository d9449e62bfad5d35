package parity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// manifestCollector reads the static Pod manifests. Each is decoded strictly
// as a core/v1 Pod (a field the API does not know is an error, not a silent
// drop), re-encoded so defaults and quantities take their canonical form, and
// flattened: every field of the Pod is compared. Containers, volumes, mounts
// and env are keyed by name; a container's command and args become a map of
// flags ("command.--authorization-mode"), because kubeadm's flag order
// carries no meaning (each component parses its flags into one set).
var manifestCollector = fileCollector{
	name: "manifests",
	match: func(p string) bool {
		return path.Dir(p) == "/etc/kubernetes/manifests"
	},
	read: readManifest,
}

func readManifest(_ *Output, p string, data []byte) (Artifacts, error) {
	j, err := yaml.ToJSON(data)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	var pod corev1.Pod
	if err := dec.Decode(&pod); err != nil {
		return nil, fmt.Errorf("decoding as core/v1 Pod: %w", err)
	}
	m, err := toGeneric(&pod)
	if err != nil {
		return nil, err
	}
	spec, _ := m["spec"].(map[string]any)
	for _, kind := range []string{"initContainers", "containers"} {
		cs, _ := spec[kind].([]any)
		for _, c := range cs {
			cm, ok := c.(map[string]any)
			if !ok {
				continue
			}
			for _, field := range []string{"command", "args"} {
				if l, ok := cm[field].([]any); ok {
					cm[field] = flagMap(l, field == "command")
				}
			}
		}
	}
	r := Record{}
	flatten(r, "", m)
	return Artifacts{"manifest " + p: r}, nil
}

// flagMap turns a command line into a map: "--name=value" -> {"--name":
// value}, a bare "--flag" -> {"--flag": ""}; anything else keeps its place
// ("arg0" is the binary when binary is true). A repeated flag gets "#2",
// "#3"... so no value is lost.
func flagMap(argv []any, binary bool) map[string]any {
	out := map[string]any{}
	put := func(k string, v any) {
		key := k
		for n := 2; ; n++ {
			if _, dup := out[key]; !dup {
				break
			}
			key = fmt.Sprintf("%s#%d", k, n)
		}
		out[key] = v
	}
	for i, a := range argv {
		s, _ := a.(string)
		switch {
		case i == 0 && binary:
			put("arg0", s)
		case strings.HasPrefix(s, "-"):
			name, value, _ := strings.Cut(s, "=")
			put(name, value)
		default:
			put(fmt.Sprintf("arg%d", i), s)
		}
	}
	return out
}
