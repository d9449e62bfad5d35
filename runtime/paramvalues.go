package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/kubelark/kubelark/internal/truncate"
	"github.com/kubelark/kubelark/runtime/host"
)

// resolveParams layers the parameter values: default <- --config (as
// the recipe's config mapping made it) <- --values <- --set and the
// recipe's own flags (paramflags.go). Each value is checked against the
// declared type where it enters, so the error names the layer the operator
// must fix.
func (s *runState) resolveParams(config *ConfigMapping) (map[string]any, error) {
	o := s.opts
	vals := make(map[string]any, len(s.decls))
	src := map[string]string{} // where each value came from, for checkKinds
	for name, d := range s.decls {
		vals[name] = d.goDef
	}
	if err := s.indexFlags(); err != nil {
		return nil, err
	}
	if err := s.indexPositional(); err != nil {
		return nil, err
	}
	if s.describe {
		// Describing lists the declarations; no input is read.
		return vals, nil
	}

	// --config: values the recipe's mapping made of the kubeadm documents.
	// The mapping is the recipe's own, so a parameter it sets but the
	// recipe does not declare is a bug of the fork, named with the field
	// so the user can also work around it by removing the field.
	if config != nil {
		for _, name := range sortedKeys(config.Params) {
			field := config.Sources[name]
			d, ok := s.decls[name]
			if !ok {
				return nil, fmt.Errorf("--config: kubeadm field %s sets parameter %s, which recipe %s does not declare; remove the field from the config or declare %s in the recipe's params()", field, name, o.Recipe, name)
			}
			v, err := canonical(config.Params[name])
			if err == nil {
				v, err = coerce(name, d, v)
			}
			if err != nil {
				return nil, fmt.Errorf("--config: kubeadm field %s: %v", field, err)
			}
			vals[name] = v
			src[name] = "--config field " + field
		}
	}

	// --values FILE: a YAML map of parameter values.
	if o.ValuesFile != "" {
		data, err := host.ReadInputFile(o.ValuesFile, host.MaxInputFileSize)
		if err != nil {
			return nil, fmt.Errorf("--values %s: %w", o.ValuesFile, unwrapPathError(err))
		}
		doc, err := decodeYAML(data)
		if err != nil {
			return nil, fmt.Errorf("--values %s: not valid YAML: %v", o.ValuesFile, err)
		}
		m, ok := doc.(map[string]any)
		if doc != nil && !ok {
			return nil, fmt.Errorf("--values %s: want a YAML map of parameter: value, got %s", o.ValuesFile, KindOf(doc))
		}
		for _, name := range sortedKeys(m) {
			d, ok := s.decls[name]
			if !ok {
				return nil, fmt.Errorf("--values %s: %s", o.ValuesFile, s.unknownParam(name))
			}
			v, err := coerce(name, d, m[name])
			if err != nil {
				return nil, fmt.Errorf("--values %s: %s: %v", o.ValuesFile, name, err)
			}
			vals[name] = v
			src[name] = "--values " + o.ValuesFile
		}
	}

	// --set key=value, in order: a later --set of the same key wins.
	for _, kv := range o.Set {
		name, raw, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--set %s: want key=value, e.g. --set pod_subnet=10.244.0.0/16", kv)
		}
		d, ok := s.decls[name]
		if !ok {
			// Only the key: the value of a mistyped key may be a secret.
			return nil, fmt.Errorf("--set %s=...: %s", name, s.unknownParam(name))
		}
		v, err := parseSet(d, raw)
		if err == nil && d.choices != nil && !inChoices(d, v) {
			err = fmt.Errorf("%s is not one of %s", show(v), show(d.choices))
		}
		if err != nil {
			shown := kv
			if d.secret { // parse errors quote the value
				shown, err = name+"="+Redacted, fmt.Errorf("the value does not parse (not shown: the parameter is secret)")
			}
			return nil, fmt.Errorf("--set %s: parameter %s is %s %s: %v", shown, name, article(d.typ), d.typ, err)
		}
		vals[name] = v
		src[name] = "--set " + name + "=..."
	}

	if err := s.applyFlags(vals); err != nil {
		return nil, err
	}
	if err := s.applyArgs(vals, src); err != nil {
		return nil, err
	}
	if err := s.checkKinds(vals, src); err != nil {
		return nil, err
	}
	return vals, nil
}

// unknownParam describes a key the recipe does not declare.
func (s *runState) unknownParam(name string) string {
	names := s.declaredNames()
	msg := fmt.Sprintf("unknown parameter %q%s", name, didYouMean(name, names))
	if len(names) == 0 {
		return msg + fmt.Sprintf("; recipe %s declares no parameters", s.opts.Recipe)
	}
	return msg + fmt.Sprintf("; recipe %s declares: %s", s.opts.Recipe, strings.Join(names, ", "))
}

// canonical turns any Go value (ints of every width, []string, structs
// with json tags...) into the plain data YAML decoding produces, so the
// config package may hand over natural Go types.
func canonical(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return normalizeNumbers(out)
}

// coerce checks a data value (from YAML or a kubeadm config) against the
// declaration. null is accepted only for parameters whose default is None
// (None there means "derive it", e.g. taints).
func coerce(name string, d *paramDecl, v any) (any, error) {
	if v == nil {
		if d.goDef == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("parameter %s cannot be null (it is %s %s, default %s)", name, article(d.typ), d.typ, show(d.goDef))
	}
	if err := checkType(d, v); err != nil {
		return nil, fmt.Errorf("parameter %s is %s %s, got %s", name, article(d.typ), d.typ, err)
	}
	if d.choices != nil && !inChoices(d, v) {
		return nil, fmt.Errorf("parameter %s: %s is not one of %s", name, show(v), show(d.choices))
	}
	return v, nil
}

// checkType reports v's kind and value when it does not fit d.typ.
func checkType(d *paramDecl, v any) error {
	ok := false
	switch d.typ {
	case "string":
		_, ok = v.(string)
	case "int":
		_, ok = v.(int64)
	case "bool":
		_, ok = v.(bool)
	case "list":
		_, ok = v.([]any)
	case "dict":
		_, ok = v.(map[string]any)
	}
	if ok {
		return nil
	}
	hint := ""
	if d.typ == "string" {
		hint = " (quote it in YAML)"
	}
	return fmt.Errorf("%s %s%s", KindOf(v), show(v), hint)
}

func inChoices(d *paramDecl, v any) bool {
	for _, c := range d.choices {
		if reflect.DeepEqual(c, v) {
			return true
		}
	}
	return false
}

// parseSet parses the value of --set key=value for the declared type:
// list = comma-separated strings or a YAML/JSON flow list ("[...]"),
// dict = k=v,k2=v2 or a YAML/JSON flow map ("{...}"), bool = true/false,
// int = decimal.
func parseSet(d *paramDecl, raw string) (any, error) {
	switch d.typ {
	case "string":
		return raw, nil
	case "int":
		i, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", raw)
		}
		return i, nil
	case "bool":
		switch strings.ToLower(strings.TrimSpace(raw)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not true or false", raw)
	case "list":
		t := strings.TrimSpace(raw)
		if t == "" {
			return []any{}, nil
		}
		if strings.HasPrefix(t, "[") {
			v, err := decodeYAML([]byte(t))
			l, ok := v.([]any)
			if err != nil || !ok {
				return nil, fmt.Errorf("%q is not a YAML/JSON list", raw)
			}
			return l, nil
		}
		var out []any
		for _, item := range strings.Split(t, ",") {
			out = append(out, strings.TrimSpace(item))
		}
		return out, nil
	case "dict":
		t := strings.TrimSpace(raw)
		if t == "" {
			return map[string]any{}, nil
		}
		if strings.HasPrefix(t, "{") {
			v, err := decodeYAML([]byte(t))
			m, ok := v.(map[string]any)
			if err != nil || !ok {
				return nil, fmt.Errorf("%q is not a YAML/JSON map", raw)
			}
			return m, nil
		}
		out := map[string]any{}
		for _, item := range strings.Split(t, ",") {
			k, v, ok := strings.Cut(item, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				return nil, fmt.Errorf("%q: want k=v,k2=v2 or a YAML flow map such as {k: v}", item)
			}
			out[k] = strings.TrimSpace(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown parameter type %q", d.typ)
}

// KindOf names the kind of a plain data value (as ToGo produces and YAML
// decodes) for error messages, in Starlark's words: string, int, float,
// bool, list, dict, null.
func KindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case int64:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// show renders a data value compactly (JSON) for messages.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return truncate.Value(fmt.Sprint(v))
	}
	return truncate.Value(string(b))
}

func article(typ string) string {
	if typ == "int" {
		return "an"
	}
	return "a"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
