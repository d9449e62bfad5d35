package runtime

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"go.starlark.net/starlark"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// decodeYAML decodes one YAML document into plain Go data with integers
// kept as int64. Duplicate keys are an error (a values file that sets a key
// twice is a mistake, not a merge).
func decodeYAML(data []byte) (any, error) {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return normalizeNumbers(v)
}

// splitYAML returns the non-empty documents of a multi-document stream.
func splitYAML(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		docs = append(docs, doc)
	}
}

// stripComments drops whole-line comments, so a document holding only
// comments counts as empty (as kubectl and kubeadm treat it).
func stripComments(doc []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] == '#' {
			continue
		}
		out = append(out, line...)
		out = append(out, '\n')
	}
	return out
}

var yamlAPI = []*Builtin{
	{
		Name:      "yaml.encode",
		Signature: "yaml.encode(value)",
		Doc:       "Encodes value (dicts, lists, strings, numbers, bools, None, structs) as YAML with sorted keys, as Kubernetes tools print objects.",
		Args:      []Arg{{Name: "value", Type: "any", Doc: "data to encode; dict keys must be strings"}},
		DryRun:    "pure; same as a live run",
		Fn:        yamlEncode,
	},
	{
		Name:      "yaml.decode",
		Signature: "yaml.decode(s)",
		Doc:       "Decodes one YAML document into dicts, lists and scalars (integers stay ints). A stream with several documents is an error: use yaml.decode_all.",
		Args:      []Arg{{Name: "s", Type: "string", Doc: "YAML text"}},
		DryRun:    "pure; same as a live run",
		Fn:        yamlDecode,
	},
	{
		Name:      "yaml.decode_all",
		Signature: "yaml.decode_all(s)",
		Doc:       "Decodes a multi-document YAML stream (documents separated by ---) into a list; empty documents are skipped.",
		Args:      []Arg{{Name: "s", Type: "string", Doc: "YAML text"}},
		DryRun:    "pure; same as a live run",
		Fn:        yamlDecodeAll,
	},
}

func yamlEncode(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	g, err := ToGo(v)
	if err != nil {
		return nil, fmt.Errorf("%s: value%s", b.Name(), errSuffix(err))
	}
	out, err := yaml.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return starlark.String(out), nil
}

// errSuffix renders a conversion error whose text starts with a path
// element (".key: ..." or "[3]: ...") right after the argument name.
func errSuffix(err error) string {
	s := err.Error()
	if len(s) > 0 && (s[0] == '.' || s[0] == '[') {
		return s
	}
	return ": " + s
}

func yamlDecode(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := refuseSecretText(b, args); err != nil {
		return nil, err
	}
	var s string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	docs, err := splitYAML([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	switch len(docs) {
	case 0:
		return starlark.None, nil
	case 1:
	default:
		return nil, fmt.Errorf("%s: the text holds %d YAML documents; use yaml.decode_all for a multi-document stream", b.Name(), len(docs))
	}
	g, err := decodeYAML(docs[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return FromGo(g)
}

func yamlDecodeAll(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := refuseSecretText(b, args); err != nil {
		return nil, err
	}
	var s string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	docs, err := splitYAML([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	out := make([]starlark.Value, 0, len(docs))
	for i, d := range docs {
		g, err := decodeYAML(d)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", b.Name(), i+1, err)
		}
		v, err := FromGo(g)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", b.Name(), i+1, err)
		}
		out = append(out, v)
	}
	return starlark.NewList(out), nil
}

// refuseSecretText explains why a Secret is no text to decode: the
// decoded values would be plain strings, the secret laundered.
func refuseSecretText(b *starlark.Builtin, args starlark.Tuple) error {
	if len(args) > 0 {
		if _, ok := args[0].(*Secret); ok {
			return fmt.Errorf("%s: the text is a secret (a key, or a kubeconfig with credentials) and decoding it would expose it; read a kubeconfig with read_kubeconfig(path), whose credentials stay secrets", b.Name())
		}
	}
	return nil
}
