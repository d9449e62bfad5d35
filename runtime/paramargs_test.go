package runtime

import (
	"strings"
	"testing"
)

const argsRecipe = `
P = params(
    endpoint = param("", "API server host:port", positional = 0),
    token = param("", "bootstrap token", secret = True, flag = "token"),
)
info("endpoint=%r" % P.endpoint)
`

// An argument after the recipe name is --set of its parameter.
func TestPositionalParam(t *testing.T) {
	r := mustRun(t, runFiles(t, map[string]string{"main.star": argsRecipe}, Options{Args: []string{"10.0.0.1:6443"}, Flags: []FlagValue{flag("token", "abcdef.0123456789abcdef")}}))
	if !strings.Contains(r.out, `endpoint="10.0.0.1:6443"`) {
		t.Errorf("output:\n%s", r.out)
	}
}

func TestPositionalParamErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		opts  Options
		want  string
	}{
		{"extra argument", map[string]string{"main.star": argsRecipe}, Options{Args: []string{"a:1", "b"}},
			`takes at most 1 argument(s) after its name (endpoint), got also "b"`},
		{"no positional parameters", map[string]string{"main.star": `P = params(x = param("", "x"))`}, Options{Args: []string{"a"}},
			`takes no arguments after its name, got "a"`},
		{"argument and --set", map[string]string{"main.star": argsRecipe}, Options{Args: []string{"a:1"}, Set: []string{"endpoint=b:2"}},
			"argument 1 (endpoint) and --set endpoint=... both set parameter endpoint"},
		{"two parameters at one index", map[string]string{"main.star": `P = params(a = param("", "a", positional = 0), b = param("", "b", positional = 0))`}, Options{},
			"parameters a and b both declare positional = 0"},
		{"gap", map[string]string{"main.star": `P = params(a = param("", "a", positional = 1))`}, Options{},
			"no parameter declares positional = 0"},
		{"dict parameter", map[string]string{"main.star": `P = params(a = param({}, "a", positional = 0))`}, Options{},
			"only string, int and list parameters can be arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runFiles(t, tc.files, tc.opts)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", r.err, tc.want)
			}
		})
	}
}
