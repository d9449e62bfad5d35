package runtime

import (
	"strings"
	"testing"
)

func TestYAMLModule(t *testing.T) {
	r := mustRun(t, runFiles(t, map[string]string{"main.star": `
doc = yaml.decode("port: 6443\nratio: 0.5\nnames: [a, b]\nnested: {z: 1, a: null}\n")
info("port=%r ratio=%r names=%r nested=%r" % (doc["port"], doc["ratio"], doc["names"], doc["nested"]))
info("enc=" + repr(yaml.encode({"z": 1, "a": {"x": [1, "two"], "b": None}, "s": struct(k = True)})))
all = yaml.decode_all("a: 1\n---\n# only a comment\n---\nb: 2\n")
info("all=%r" % all)
info("empty=%r" % yaml.decode(""))
`}, Options{}))
	for _, want := range []string{
		`port=6443 ratio=0.5 names=["a", "b"] nested={"a": None, "z": 1}`,
		`enc="a:\n  b: null\n  x:\n  - 1\n  - two\ns:\n  k: true\nz: 1\n"`,
		`all=[{"a": 1}, {"b": 2}]`,
		`empty=None`,
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %s:\n%s", want, r.out)
		}
	}
}

func TestYAMLErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`yaml.decode("a: 1\n---\nb: 2\n")`, "holds 2 YAML documents; use yaml.decode_all"},
		{`yaml.decode("a: [1\n")`, "yaml.decode: "},
		{`yaml.encode({1: 2})`, "yaml.encode: value: dict key 1: got int, want string"},
		{`yaml.encode({"a": {"b": lambda: 1}})`, "yaml.encode: value.a.b: cannot convert function to data"},
		{`yaml.decode_all("a: 1\n---\nb: [\n")`, "yaml.decode_all: document 2"},
	} {
		r := runFiles(t, map[string]string{"main.star": tc.src}, Options{})
		wantErr(t, r.err, tc.want)
	}
}
