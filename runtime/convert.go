package runtime

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// ToGo and FromGo convert between Starlark and plain Go data, for params,
// yaml, the plan and every builtin that hands data to Kubernetes decoders or
// YAML/JSON encoders. Rules: ints stay ints, dict keys must be strings, maps
// become dicts with sorted keys so iteration order is deterministic.

// ToGo converts a Starlark value into nil, bool, int64, float64, string,
// []any or map[string]any. A Secret is refused: data goes to encoders, the
// plan and the API, and a secret must not leave its type on the way (see
// ToGoSecrets for the one builtin that may take secrets out).
func ToGo(v starlark.Value) (any, error) { return (&converter{}).toGo(v, "") }

// ToGoSecrets is ToGo for data that may carry secrets into a place made for
// them (the data of a Kubernetes Secret): each Secret becomes its real
// string, and paths lists where they were (".data.token-secret"), so the
// caller can refuse a secret anywhere else.
func ToGoSecrets(v starlark.Value) (out any, paths []string, err error) {
	c := &converter{reveal: true}
	out, err = c.toGo(v, "")
	return out, c.paths, err
}

// converter walks a Starlark value; reveal lets Secrets through (recording
// their paths) instead of refusing them.
type converter struct {
	reveal bool
	paths  []string
}

func (c *converter) toGo(v starlark.Value, at string) (any, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.Bool:
		return bool(v), nil
	case starlark.Int:
		i, ok := v.Int64()
		if !ok {
			return nil, fmt.Errorf("integer %s out of range", v)
		}
		return i, nil
	case starlark.Float:
		return float64(v), nil
	case starlark.String:
		return string(v), nil
	case *Secret:
		if !c.reveal {
			return nil, fmt.Errorf("a secret cannot be converted to data (it would be encoded or sent in clear); secrets go only into write_file content or the data/stringData of a v1 Secret")
		}
		c.paths = append(c.paths, at)
		return v.Reveal(), nil
	case *starlark.List:
		out := make([]any, v.Len())
		for i := 0; i < v.Len(); i++ {
			elem := fmt.Sprintf("[%d]", i)
			x, err := c.toGo(v.Index(i), at+elem)
			if err != nil {
				return nil, pathErr(elem, err)
			}
			out[i] = x
		}
		return out, nil
	case starlark.Tuple:
		out := make([]any, len(v))
		for i, e := range v {
			elem := fmt.Sprintf("[%d]", i)
			x, err := c.toGo(e, at+elem)
			if err != nil {
				return nil, pathErr(elem, err)
			}
			out[i] = x
		}
		return out, nil
	case *starlark.Dict:
		out := make(map[string]any, v.Len())
		for _, item := range v.Items() {
			k, ok := item[0].(starlark.String)
			if !ok {
				return nil, fmt.Errorf("dict key %s: got %s, want string", item[0], item[0].Type())
			}
			x, err := c.toGo(item[1], at+"."+string(k))
			if err != nil {
				return nil, pathErr("."+string(k), err)
			}
			out[string(k)] = x
		}
		return out, nil
	case *starlarkstruct.Struct:
		d := starlark.StringDict{}
		v.ToStringDict(d)
		out := make(map[string]any, len(d))
		for k, e := range d {
			x, err := c.toGo(e, at+"."+k)
			if err != nil {
				return nil, pathErr("."+string(k), err)
			}
			out[k] = x
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot convert %s to data", v.Type())
}

// pathErr prefixes a conversion error with the path element where it
// happened, so nested errors read ".a.b[2]: cannot convert ...".
func pathErr(elem string, err error) error {
	s := err.Error()
	if len(s) > 0 && (s[0] == '.' || s[0] == '[') {
		return fmt.Errorf("%s%s", elem, s)
	}
	return fmt.Errorf("%s: %s", elem, s)
}

// FromGo converts decoded YAML/JSON data into Starlark values.
func FromGo(v any) (starlark.Value, error) {
	switch v := v.(type) {
	case nil:
		return starlark.None, nil
	case bool:
		return starlark.Bool(v), nil
	case int:
		return starlark.MakeInt(v), nil
	case int32:
		return starlark.MakeInt64(int64(v)), nil
	case int64:
		return starlark.MakeInt64(v), nil
	case uint64:
		return starlark.MakeUint64(v), nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return starlark.MakeInt64(int64(v)), nil
		}
		return starlark.Float(v), nil
	case json.Number:
		n, err := numberValue(v)
		if err != nil {
			return nil, err
		}
		return FromGo(n)
	case string:
		return starlark.String(v), nil
	case []string:
		l := make([]starlark.Value, len(v))
		for i, s := range v {
			l[i] = starlark.String(s)
		}
		return starlark.NewList(l), nil
	case []any:
		l := make([]starlark.Value, len(v))
		for i, e := range v {
			x, err := FromGo(e)
			if err != nil {
				return nil, err
			}
			l[i] = x
		}
		return starlark.NewList(l), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := starlark.NewDict(len(v))
		for _, k := range keys {
			x, err := FromGo(v[k])
			if err != nil {
				return nil, err
			}
			if err := d.SetKey(starlark.String(k), x); err != nil {
				return nil, err
			}
		}
		return d, nil
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, s := range v {
			m[k] = s
		}
		return FromGo(m)
	}
	return nil, fmt.Errorf("cannot convert Go %T to Starlark", v)
}

// numberValue turns a JSON number into int64 when it is integral, else
// float64, so YAML `port: 6443` is an int and not 6443.0.
func numberValue(n json.Number) (any, error) {
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := n.Float64()
	if err != nil {
		return nil, fmt.Errorf("number %s out of range", n)
	}
	return f, nil
}

// normalizeNumbers replaces every json.Number in v (as produced by a
// decoder with UseNumber) with int64 or float64.
func normalizeNumbers(v any) (any, error) {
	switch v := v.(type) {
	case json.Number:
		return numberValue(v)
	case []any:
		for i, e := range v {
			x, err := normalizeNumbers(e)
			if err != nil {
				return nil, err
			}
			v[i] = x
		}
	case map[string]any:
		for k, e := range v {
			x, err := normalizeNumbers(e)
			if err != nil {
				return nil, err
			}
			v[k] = x
		}
	}
	return v, nil
}
