package runtime

import (
	"strings"
	"testing"
)

const kindsRecipe = `
cfg = params(
    token = param("", "bootstrap token", secret = True, kind = "token"),
    ttl = param("24h", "token lifetime", kind = "duration"),
    subnet = param("10.96.0.0/12", "service CIDR", kind = "cidrs"),
    endpoint = param("", "host[:port]", kind = "host_port"),
    addr = param("", "advertise IP", kind = "ip"),
    key = param("", "certificate key", secret = True, kind = "certificate_key"),
    tokens = param([], "extra tokens", secret = True, schema = {"token": "token", "ttl": "duration", "usages": "list"}),
)
info("ok")
`

func TestParamKindsAccept(t *testing.T) {
	mustRun(t, runFiles(t, map[string]string{"main.star": kindsRecipe}, Options{Set: []string{
		"token=abcdef.0123456789abcdef", "ttl=0", "subnet=10.96.0.0/12,fd00::/108", "endpoint=[fd00::1]:6443",
		"addr=fd00::1", "key=" + strings.Repeat("ab", 32), "tokens=[{token: bbcdef.0123456789abcdef, ttl: 2h, usages: [signing]}]",
	}}))
}

func TestParamKindsRefuse(t *testing.T) {
	for _, tc := range []struct {
		set    string
		want   []string
		secret string // must not appear
	}{
		{"token=abcdef.0123456789ABCDEX", []string{"parameter token: ", "(from --set token=...)", "not a bootstrap token", "leave it empty"}, "0123456789ABCDEX"},
		{"ttl=1y", []string{"parameter ttl: ", "(from --set ttl=...)", `"1y" is not a duration`}, ""},
		{"subnet=10.0.0.0/33", []string{"parameter subnet", "is not a CIDR"}, ""},
		{"endpoint=a_b:1", []string{"parameter endpoint", "must be an IP address or a lower-case RFC 1123 DNS name"}, ""},
		{"addr=10.0.0", []string{"parameter addr", "is not an IP address"}, ""},
		{"key=xyz", []string{"parameter key: ", "(from --set key=...)", "64 hex characters"}, "xyz"},
		{"tokens=abcdef.0123456789abcdef", []string{"parameter tokens", "entry 0 is a string, want a dict with the keys token, ttl, usages"}, "0123456789abcdef"},
		{"tokens=[{tokn: abcdef.0123456789abcdef}]", []string{"entry 0: unknown key \"tokn\"", "did you mean \"token\"", "allowed keys are token, ttl, usages"}, "0123456789abcdef"},
		{"tokens=[{token: abcdef.0123456789abcdeX}]", []string{"entry 0: key \"token\": not a bootstrap token", "not shown"}, "0123456789abcdeX"},
		{"tokens=[{ttl: forever1}]", []string{"key \"ttl\": <redacted> is not a duration", "not shown"}, "forever1"},
		{"tokens=[{usages: signing}]", []string{"key \"usages\" is a string, want a list"}, ""},
		{"tokens=[{token: 1}]", []string{"key \"token\" is an int, want a string"}, ""},
	} {
		r := runFiles(t, map[string]string{"main.star": kindsRecipe}, Options{Set: []string{tc.set}})
		wantErr(t, r.err, tc.want...)
		if r.err != nil && tc.secret != "" && strings.Contains(r.err.Error()+r.out, tc.secret) {
			t.Errorf("--set %s: the secret is in the error: %v", tc.set, r.err)
		}
		if strings.Contains(r.out, "ok") {
			t.Errorf("--set %s: the recipe went on after params()", tc.set)
		}
	}
}

func TestParamKindDeclErrors(t *testing.T) {
	for src, want := range map[string]string{
		`params(a = param("", "d", kind = "uuid"))`:                    `kind "uuid" is not one of certificate_key, cidrs, duration, host_port, ip, token`,
		`params(a = param(0, "d", kind = "duration"))`:                 `kind "duration" needs a string parameter`,
		`params(a = param("x", "d", kind = "duration"))`:               `default: "x" is not a duration`,
		`params(a = param("", "d", schema = {"k": "string"}))`:         "schema needs a dict parameter or a list of dicts",
		`params(a = param([], "d", schema = {"k": "float"}))`:          `schema key "k": "float" is neither a type`,
		`params(a = param([{"x": 1}], "d", schema = {"k": "string"}))`: `entry 0: unknown key "x"`,
		`params(a = param({}, "d", schema = {"k": 1}))`:                "schema: want a dict of key name -> type or kind name",
	} {
		r := runFiles(t, map[string]string{"main.star": src}, Options{})
		wantErr(t, r.err, want)
	}
}

// A dict parameter with a schema is checked as one dict.
func TestParamSchemaOnDict(t *testing.T) {
	src := `params(a = param({}, "d", schema = {"ttl": "duration", "count": "int"}))
info("ok")`
	mustRun(t, runFiles(t, map[string]string{"main.star": src}, Options{Set: []string{"a={ttl: 2h, count: 3}"}}))
	r := runFiles(t, map[string]string{"main.star": src}, Options{Set: []string{"a={ttl: 2h, m: 3}"}})
	wantErr(t, r.err, `parameter a: unknown key "m"`, "allowed keys are count, ttl", "(from --set a=...)")
	r = runFiles(t, map[string]string{"main.star": src}, Options{Set: []string{"a={ttl: 2h, count: x}"}})
	wantErr(t, r.err, `key "count": want an int, got string "x"`)
}
