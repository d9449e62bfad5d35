package kubeadmconfig

import (
	gojson "encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	sigsjson "sigs.k8s.io/json"
)

// decodeStrict decodes a document into v the way the API machinery does
// (case-sensitive keys, unknown and duplicate fields rejected) and turns
// decoder errors into messages that name the field by its full path, e.g.
// "InitConfiguration.nodeRegistration.nmae".
func decodeStrict(d *document, v any) error {
	strict, err := sigsjson.UnmarshalStrict(d.json, v)
	if err != nil {
		return decodeError(d, v, err)
	}
	if len(strict) > 0 {
		var msgs []string
		for _, e := range strict {
			msgs = append(msgs, strictMessage(d.meta.Kind, v, e))
		}
		if len(msgs) == 1 {
			return fmt.Errorf("kubeadm config: %s: %s", d.where(), msgs[0])
		}
		return fmt.Errorf("kubeadm config: %s:\n  - %s", d.where(), strings.Join(msgs, "\n  - "))
	}
	return nil
}

// strictMessage explains one unknown or duplicate field.
func strictMessage(kind string, v any, e error) string {
	var fe sigsjson.FieldError
	if !errors.As(e, &fe) {
		return e.Error()
	}
	path := fe.FieldPath()
	full := kind + "." + path
	if strings.HasPrefix(e.Error(), "duplicate field") {
		return fmt.Sprintf("%s: field given twice; keep one", full)
	}
	if hint, ok := movedFields[full]; ok {
		return fmt.Sprintf("%s: unknown field; it is a v1beta3 field: %s", full, hint)
	}
	parent, name := splitPath(path)
	msg := fmt.Sprintf("%s: unknown field", full)
	known := fieldNames(reflect.TypeOf(v), parent)
	if len(known) == 0 {
		return msg + " (check the spelling and the apiVersion)"
	}
	if s := nearest(name, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	if len(known) > maxListedFields {
		return msg + " (see the type's reference for its fields)"
	}
	where := kind
	if parent != "" {
		where += "." + parent
	}
	return msg + fmt.Sprintf(" (fields of %s: %s)", where, strings.Join(known, ", "))
}

// movedFields are v1beta3 fields that v1beta4 moved; a file half-migrated
// by hand gets told where they went.
var movedFields = map[string]string{
	"ClusterConfiguration.apiServer.timeoutForControlPlane": "use InitConfiguration.timeouts.controlPlaneComponentHealthCheck",
	"JoinConfiguration.discovery.timeout":                   "use JoinConfiguration.timeouts.discovery",
}

// maxListedFields keeps unknown-field messages readable: big types such as
// KubeletConfiguration get only the suggestion.
const maxListedFields = 25

var indexRE = regexp.MustCompile(`\[\d+\]`)

// splitPath splits "a.b[0].c" into ("a.b[0]", "c").
func splitPath(path string) (string, string) {
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[:i], path[i+1:]
	}
	return "", path
}

// fieldNames lists the json field names of the struct found at path
// (list indexes ignored) inside t, or nil when the path does not lead to a
// struct.
func fieldNames(t reflect.Type, path string) []string {
	t = deref(t)
	if path != "" {
		for _, seg := range strings.Split(indexRE.ReplaceAllString(path, ""), ".") {
			if t.Kind() == reflect.Map {
				t = deref(t.Elem()) // seg is a map key
				continue
			}
			if t.Kind() != reflect.Struct {
				return nil
			}
			f, ok := jsonField(t, seg)
			if !ok {
				return nil
			}
			t = deref(f.Type)
		}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	collectFields(t, &names)
	sort.Strings(names)
	return names
}

// deref strips pointers and slices to the element type.
func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	return t
}

func jsonName(f reflect.StructField) (name string, inline bool) {
	tag := f.Tag.Get("json")
	name, _, _ = strings.Cut(tag, ",")
	if name == "-" {
		return "", false
	}
	if name == "" && f.Anonymous {
		return "", true
	}
	if name == "" {
		name = f.Name
	}
	return name, false
}

func jsonField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		n, inline := jsonName(f)
		if inline {
			if sf, ok := jsonField(deref(f.Type), name); ok {
				return sf, true
			}
			continue
		}
		if n == name && f.IsExported() {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func collectFields(t reflect.Type, names *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		n, inline := jsonName(f)
		if inline {
			collectFields(deref(f.Type), names)
			continue
		}
		if n != "" {
			*names = append(*names, n)
		}
	}
}

// nearest returns the known name closest to name (same name in another
// case, or an edit distance of at most max(2, a third of its length)).
func nearest(name string, known []string) string {
	best, bestD := "", max(2, len(name)/3)+1
	for _, k := range known {
		if strings.EqualFold(k, name) {
			return k
		}
		if d := editDistance(strings.ToLower(name), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// decodeError explains a type mismatch ("bindPort: got string, want a
// number") with hints for common mistakes.
func decodeError(d *document, v any, err error) error {
	var te *gojson.UnmarshalTypeError
	if errors.As(err, &te) {
		path := cleanTypeErrorPath(reflect.TypeOf(v), te.Field)
		full := d.meta.Kind
		if path != "" {
			full += "." + path
		}
		msg := fmt.Sprintf("%s: got %s, want %s", full, jsonValueKind(te.Value), goTypeName(te.Type))
		_, last := splitPath(path)
		switch {
		case (last == "extraArgs" || last == "kubeletExtraArgs") && te.Value == "object":
			msg += "; in v1beta4 extra args are a list of {name, value} (a map is the old v1beta3 form: convert the file with `kubeadm config migrate`)"
		case te.Type.Kind() == reflect.String && te.Value != "object" && te.Value != "array":
			msg += "; quote the value"
		}
		return fmt.Errorf("kubeadm config: %s: %s", d.where(), msg)
	}
	return fmt.Errorf("kubeadm config: %s: %s: %v", d.where(), d.meta.Kind, err)
}

// cleanTypeErrorPath drops the Go names of embedded structs that the
// decoder puts in type-error paths ("apiServer.ControlPlaneComponent.
// extraArgs" -> "apiServer.extraArgs"). The decoder does not record list
// indexes there, so the path names the field without them.
func cleanTypeErrorPath(t reflect.Type, path string) string {
	if path == "" {
		return path
	}
	var out []string
	t = deref(t)
	for _, seg := range strings.Split(path, ".") {
		if t.Kind() != reflect.Struct {
			out = append(out, seg)
			continue
		}
		if f, ok := jsonField(t, seg); ok {
			out = append(out, seg)
			t = deref(f.Type)
			continue
		}
		if f, ok := t.FieldByName(seg); ok && f.Anonymous {
			t = deref(f.Type)
			continue
		}
		out = append(out, seg)
	}
	return strings.Join(out, ".")
}

func jsonValueKind(v string) string {
	if strings.HasPrefix(v, "number") {
		return "a number"
	}
	switch v {
	case "object":
		return "a mapping"
	case "array":
		return "a list"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	}
	return v
}

func goTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean (true/false)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}
