package parity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/yaml"
)

// flatten writes v (a decoded JSON value: map[string]any, []any, string,
// float64, bool, nil) into r as dotted fields under prefix:
//   - maps become prefix.key (an empty map is recorded as "{}");
//   - lists whose elements are all objects with a "name" become
//     prefix[name] — containers, volumes, volumeMounts, env: their order
//     carries no meaning, and a difference then names the element;
//   - other lists become prefix[0], prefix[1]... (an empty list is "[]");
//   - scalars are recorded as JSON, so "true" (a string) and true differ.
func flatten(r Record, prefix string, v any) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			r[prefix] = "{}"
			return
		}
		for k, e := range x {
			flatten(r, join(prefix, k), e)
		}
	case []any:
		if len(x) == 0 {
			r[prefix] = "[]"
			return
		}
		if names, ok := elementNames(x); ok {
			for i, e := range x {
				key := fmt.Sprintf("%s[%s]", prefix, names[i])
				if _, dup := r[key]; dup {
					key = fmt.Sprintf("%s[%s#%d]", prefix, names[i], i)
				}
				flatten(r, key, e)
			}
			return
		}
		for i, e := range x {
			flatten(r, fmt.Sprintf("%s[%d]", prefix, i), e)
		}
	default:
		r[prefix] = jsonScalar(x)
	}
}

// jsonScalar renders a scalar as JSON without HTML escaping (placeholders
// such as "<node-ip>" stay readable).
func jsonScalar(x any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return fmt.Sprintf("%#v", x)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// elementNames returns the "name" of every element when all elements are
// objects with a string name.
func elementNames(l []any) ([]string, bool) {
	names := make([]string, len(l))
	for i, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		n, ok := m["name"].(string)
		if !ok {
			return nil, false
		}
		names[i] = n
	}
	return names, true
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// yamlToMap decodes one YAML (or JSON) document into a generic map.
func yamlToMap(data []byte) (map[string]any, error) {
	j, err := yaml.ToJSON(data)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// toGeneric round-trips a typed object through JSON into generic values, so
// flatten sees the fields the API types keep (and their canonical forms).
func toGeneric(obj any) (map[string]any, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// set renders a set of strings canonically (sorted, comma-separated; "" when
// empty).
func set(items []string) string {
	s := append([]string(nil), items...)
	sort.Strings(s)
	return strings.Join(s, ",")
}
