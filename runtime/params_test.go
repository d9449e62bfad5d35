package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// paramsRecipe's config mapping hands the test's "Values" document
// through (see configDocs), so layering tests need no kubeadm file.
const paramsRecipe = `
def _config(docs):
    d = docs.get("Values", {})
    return struct(params = d.get("params", {}), sources = d.get("sources", {}), warnings = d.get("warnings", []), errors = d.get("errors", []))

cfg = params(
    config = _config,
    bind_port = param(6443, "API server port"),
    pod_subnet = param("", "pod CIDR"),
    cert_sans = param([], "extra SANs"),
    extra_args = param({}, "flags"),
    upload_certs = param(False, "upload certs"),
    taints = param(None, "node taints", type = "list"),
    algo = param("RSA-2048", "key algorithm", choices = ["RSA-2048", "ECDSA-P256"]),
    token = param("", "bootstrap token", secret = True),
    token_ttl = param("24h", "token lifetime"),
    ignore_preflight_errors = param([], "checks to ignore"),
    skip_phases = param([], "phases to skip"),
)
info("port=%r subnet=%r sans=%r args=%r upload=%r taints=%r algo=%r" % (
    cfg.bind_port, cfg.pod_subnet, cfg.cert_sans, cfg.extra_args, cfg.upload_certs, cfg.taints, cfg.algo))
`

func TestParamsDefaults(t *testing.T) {
	r := mustRun(t, runFiles(t, map[string]string{"main.star": paramsRecipe}, Options{}))
	want := `port=6443 subnet="" sans=[] args={} upload=False taints=None algo="RSA-2048"`
	if !strings.Contains(r.out, want) {
		t.Errorf("output:\n%s\nwant %s", r.out, want)
	}
}

func TestParamsLayers(t *testing.T) {
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte("bind_port: 7000\npod_subnet: 10.1.0.0/16\ncert_sans: [a.example]\ntaints: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, runFiles(t, map[string]string{"main.star": paramsRecipe}, Options{
		ConfigDocs: configDocs(map[string]any{
			"bind_port": int32(6000), "pod_subnet": "10.0.0.0/16", "extra_args": map[string]string{"v": "2"},
			"upload_certs": true,
		}, map[string]string{"bind_port": "InitConfiguration.localAPIEndpoint.bindPort"}),
		ValuesFile: values,
		Set:        []string{"bind_port=8000", "cert_sans=b.example, c.example", "algo=ECDSA-P256", "token=abcdef.0123456789abcdef"},
	}))
	want := `port=8000 subnet="10.1.0.0/16" sans=["b.example", "c.example"] args={"v": "2"} upload=True taints=[] algo="ECDSA-P256"`
	if !strings.Contains(r.out, want) {
		t.Errorf("output:\n%s\nwant %s", r.out, want)
	}
	wantParams := map[string]any{
		"bind_port": int64(8000), "pod_subnet": "10.1.0.0/16", "cert_sans": []any{"b.example", "c.example"},
		"extra_args": map[string]any{"v": "2"}, "upload_certs": true, "taints": []any{}, "algo": "ECDSA-P256",
		"token": Redacted, "token_ttl": "24h", "ignore_preflight_errors": []any{}, "skip_phases": []any{},
	}
	if d := cmp.Diff(wantParams, r.plan.Params); d != "" {
		t.Errorf("plan params (-want +got):\n%s", d)
	}
	data, err := MarshalPlan(r.plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "0123456789abcdef") {
		t.Errorf("token leaked into plan:\n%s", data)
	}
}

func TestParamsSetTypes(t *testing.T) {
	for _, tc := range []struct {
		set  string
		want string
	}{
		{"extra_args={a: 1, b: x}", `args={"a": 1, "b": "x"}`},
		{"extra_args=a=1,b=x=y", `args={"a": "1", "b": "x=y"}`},
		{"cert_sans=[x, 2]", `sans=["x", 2]`},
		{"cert_sans=", `sans=[]`},
		{"upload_certs=TRUE", `upload=True`},
		{"bind_port= 42", `port=42`},
	} {
		r := mustRun(t, runFiles(t, map[string]string{"main.star": paramsRecipe}, Options{Set: []string{tc.set}}))
		if !strings.Contains(r.out, tc.want) {
			t.Errorf("--set %s: output\n%s\nwant %s", tc.set, r.out, tc.want)
		}
	}
}

func TestParamsErrors(t *testing.T) {
	values := func(content string) string {
		p := filepath.Join(t.TempDir(), "v.yaml")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		opts Options
		want []string
	}{
		{"set int", Options{Set: []string{"bind_port=abc"}}, []string{`--set bind_port=abc: parameter bind_port is an int: "abc" is not an integer`}},
		{"set bool", Options{Set: []string{"upload_certs=yes"}}, []string{"parameter upload_certs is a bool", `"yes" is not true or false`}},
		{"set choice", Options{Set: []string{"algo=DSA"}}, []string{`"DSA" is not one of ["RSA-2048","ECDSA-P256"]`}},
		{"set no equals", Options{Set: []string{"bind_port"}}, []string{"want key=value"}},
		{"set unknown", Options{Set: []string{"bind_prot=1"}}, []string{`unknown parameter "bind_prot" (did you mean "bind_port"?)`, "declares: algo, bind_port"}},
		{"set unknown far", Options{Set: []string{"zzz=1"}}, []string{`unknown parameter "zzz"; recipe`}},
		{"set bad dict", Options{Set: []string{"extra_args=novalue"}}, []string{"want k=v,k2=v2"}},
		{"values type", Options{ValuesFile: values("bind_port: '6443'\n")}, []string{"v.yaml: bind_port: parameter bind_port is an int, got string \"6443\""}},
		{"values string", Options{ValuesFile: values("pod_subnet: 10\n")}, []string{"parameter pod_subnet is a string, got int 10 (quote it in YAML)"}},
		{"values unknown", Options{ValuesFile: values("pod_subnets: x\n")}, []string{`unknown parameter "pod_subnets" (did you mean "pod_subnet"?)`}},
		{"values not map", Options{ValuesFile: values("- a\n")}, []string{"want a YAML map", "got list"}},
		{"values null", Options{ValuesFile: values("bind_port: null\n")}, []string{"bind_port cannot be null"}},
		{"values dup", Options{ValuesFile: values("bind_port: 1\nbind_port: 2\n")}, []string{"not valid YAML"}},
		{"values missing", Options{ValuesFile: "/nonexistent/v.yaml"}, []string{"--values /nonexistent/v.yaml", "no such file"}},
		{"config undeclared", Options{
			ConfigDocs: configDocs(map[string]any{"service_subnet": "10.96.0.0/12"},
				map[string]string{"service_subnet": "ClusterConfiguration.networking.serviceSubnet"}),
		}, []string{"kubeadm field ClusterConfiguration.networking.serviceSubnet sets parameter service_subnet, which recipe", "does not declare"}},
		{"config type", Options{
			ConfigDocs: configDocs(map[string]any{"bind_port": "x"},
				map[string]string{"bind_port": "InitConfiguration.localAPIEndpoint.bindPort"}),
		}, []string{"--config: kubeadm field InitConfiguration.localAPIEndpoint.bindPort: parameter bind_port is an int, got string"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runFiles(t, map[string]string{"main.star": paramsRecipe}, tc.opts)
			wantErr(t, r.err, tc.want...)
		})
	}
}

func TestParamDeclarationErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`params(a = param(None, "x"))`, "default is None, so type= is required"},
		{`params(a = param(1.5, "x"))`, "float parameters are not supported"},
		{`params(a = param(1, ""))`, "doc is empty"},
		{`params(a = param(1, "x", type = "string"))`, `default 1 is an int but type="string"`},
		{`params(a = param(1, "x", type = "number"))`, `type "number" is not one of`},
		{`params(a = param("c", "x", choices = ["a", "b"]))`, `default "c" is not among the choices`},
		{`params(a = 1)`, "a: got int, want param(default, doc, ...)"},
		{`params(a = param(1, "a"))` + "\n" + `params(b = param(1, "b"))`, "params: called twice"},
		{`load("m.star", "x")`, "only the main recipe"},
	} {
		r := runFiles(t, map[string]string{"main.star": tc.src, "m.star": `x = params()`}, Options{})
		wantErr(t, r.err, tc.want)
	}
}

func TestUnconsumedInputs(t *testing.T) {
	r := runFiles(t, map[string]string{"main.star": `info("no params")`}, Options{Set: []string{"a=1"}})
	wantErr(t, r.err, "--set a=1: recipe", "declares no parameters")
	r = runFiles(t, map[string]string{"main.star": `info("no phases")`}, Options{Phases: []string{"x"}})
	wantErr(t, r.err, "declares no phases")
}

func TestParamsStructFrozen(t *testing.T) {
	r := runFiles(t, map[string]string{"main.star": `
cfg = params(d = param({"a": 1}, "a dict"))
cfg.d["b"] = 2
`}, Options{})
	wantErr(t, r.err, "frozen", "main.star:3")
}

// TestSecretParams: only parameters declared secret=True are redacted, and
// every string inside them is registered (so printing it elsewhere is
// redacted too); a key file path stays readable.
func TestSecretParams(t *testing.T) {
	r := runFiles(t, map[string]string{"main.star": `
def _config(docs):
    return struct(params = docs["Values"]["params"], sources = docs["Values"]["sources"])

p = params(
    config = _config,
    token = param("", "a token", secret = True),
    tokens = param([], "more tokens", secret = True),
    etcd_external_key = param("", "a key file path"),
)
info("token is " + p.token + ", second is " + p.tokens[0]["token"])
`}, Options{Set: []string{"token=abcdef.0123456789abcdef", "etcd_external_key=/etc/etcd/client.key"},
		ConfigDocs: configDocs(map[string]any{"tokens": []any{map[string]any{"token": "ghijkl.0123456789ghijkl"}}}, nil)})
	if r.err != nil {
		t.Fatal(r.err)
	}
	got := r.plan.Params
	if got["token"] != Redacted || got["tokens"] != Redacted || got["etcd_external_key"] != "/etc/etcd/client.key" {
		t.Errorf("params in plan = %v", got)
	}
	if strings.Contains(r.out, "0123456789") || !strings.Contains(r.out, "token is "+Redacted+", second is "+Redacted) {
		t.Errorf("output:\n%s", r.out)
	}
}

func TestNearest(t *testing.T) {
	names := []string{"name", "bind_port", "pod_subnet", "service_subnet"}
	for in, want := range map[string]string{"nmae": "name", "bind_prot": "bind_port", "podsubnet": "pod_subnet", "xyz": "", "Service_Subnet": "service_subnet"} {
		if got := nearest(in, names); got != want {
			t.Errorf("nearest(%q) = %q, want %q", in, got, want)
		}
	}
}

// configDocs wraps parameter values in the "Values" document the test
// recipes' config mappings pass through; a parameter without a source gets
// "Values.<name>".
func configDocs(params map[string]any, sources map[string]string) map[string]any {
	src := map[string]any{}
	for name := range params {
		src[name] = "Values." + name
	}
	for name, s := range sources {
		src[name] = s
	}
	return map[string]any{"Values": map[string]any{"params": params, "sources": src}}
}

// TestConfigDocsReachMapping: the documents reach the recipe's mapping as
// a frozen dict shaped like the YAML; its warnings are printed, its
// problems are one input error without a backtrace, and a failure inside
// the mapping is the recipe's bug and keeps its backtrace.
func TestConfigDocsReachMapping(t *testing.T) {
	recipe := func(body string) map[string]string {
		return map[string]string{"main.star": "def _config(docs):\n" + body + `
p = params(config = _config, name = param("", "a name"), port = param(1, "a port"))
info("name=%s port=%d" % (p.name, p.port))
`}
	}
	docs := map[string]any{"ClusterConfiguration": map[string]any{"clusterName": "prod", "port": int64(7)}}
	r := mustRun(t, runFiles(t, recipe(`    c = docs["ClusterConfiguration"]
    return struct(params = {"name": c["clusterName"], "port": c["port"]},
                  sources = {"name": "ClusterConfiguration.clusterName", "port": "ClusterConfiguration.port"},
                  warnings = ["ClusterConfiguration.x: has no effect"])
`), Options{ConfigDocs: docs}))
	if !strings.Contains(r.out, "name=prod port=7") || !strings.Contains(r.out, "[WARNING] --config: ClusterConfiguration.x: has no effect") {
		t.Errorf("output:\n%s", r.out)
	}

	r = runFiles(t, recipe(`    docs["ClusterConfiguration"]["clusterName"] = "x"
`), Options{ConfigDocs: docs})
	wantErr(t, r.err, "frozen")

	r = runFiles(t, recipe(`    return struct(params = {}, sources = {}, errors = ["ClusterConfiguration.a is not supported: do b", "ClusterConfiguration.c: bad"])
`), Options{ConfigDocs: docs, ConfigFile: "c.yaml"})
	wantErr(t, r.err, "--config c.yaml: kubeadm config has 2 problems:\n  - ClusterConfiguration.a is not supported: do b\n  - ClusterConfiguration.c: bad")
	if strings.Contains(r.err.Error(), "Traceback") {
		t.Errorf("a problem of the user's file has a backtrace: %v", r.err)
	}

	r = runFiles(t, recipe(`    return struct(params = {"name": "x"}, sources = {})
`), Options{ConfigDocs: docs})
	wantErr(t, r.err, "config mapping _config sets parameter name without naming the kubeadm field it came from")

	r = runFiles(t, recipe(`    return {"name": "x"}
`), Options{ConfigDocs: docs})
	wantErr(t, r.err, "config mapping _config returned dict; want a struct with params, sources")

	r = runFiles(t, map[string]string{"main.star": `p = params(name = param("", "a name"))`}, Options{ConfigDocs: docs, ConfigFile: "c.yaml"})
	wantErr(t, r.err, "--config c.yaml: recipe", "does not read kubeadm configs: its params() has no config = mapping function")

	r = runFiles(t, map[string]string{"main.star": `p = params(config = "init", name = param("", "a name"))`}, Options{})
	wantErr(t, r.err, "params: config: got string, want the function that maps kubeadm config documents onto parameters")
}

func TestConfigWarningsAndSecrets(t *testing.T) {
	r := mustRun(t, runFiles(t, map[string]string{"main.star": `
def _config(docs):
    return struct(params = {"token": docs["InitConfiguration"]["bootstrapTokens"][0]["token"]},
                  sources = {"token": "InitConfiguration.bootstrapTokens[0].token"})

cfg = params(config = _config, token = param("", "bootstrap token", secret = True))
output("kubeadm join --token " + cfg.token)
`}, Options{
		ConfigDocs:     map[string]any{"InitConfiguration": map[string]any{"bootstrapTokens": []any{map[string]any{"token": "abcdef.0123456789abcdef"}}}},
		ConfigSecrets:  []string{"abcdef.0123456789abcdef"},
		ConfigWarnings: []string{"InitConfiguration.timeouts.discovery has no effect"},
	}))
	if strings.Contains(r.out, "0123456789abcdef") || !strings.Contains(r.out, "kubeadm join --token <redacted>") {
		t.Errorf("secret from --config not redacted:\n%s", r.out)
	}
	if !strings.Contains(r.out, "[WARNING] --config: InitConfiguration.timeouts.discovery has no effect") || !strings.Contains(r.out, "; 1 warning") {
		t.Errorf("config warning not printed:\n%s", r.out)
	}
}

func TestInputErrorsHaveNoBacktrace(t *testing.T) {
	r := runFiles(t, map[string]string{"main.star": paramsRecipe}, Options{Set: []string{"bind_port=x"}})
	wantErr(t, r.err, "--set bind_port=x")
	if strings.Contains(r.err.Error(), "Traceback") || strings.Contains(r.out, "[summary]") {
		t.Errorf("error %q / output %q", r.err, r.out)
	}
}
