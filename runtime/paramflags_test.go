package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const flagsRecipe = `
P = params(
    pod_subnet = param("", "pod CIDR", flag = "pod-network-cidr"),
    bind_port = param(6443, "API server port", flag = "apiserver-bind-port"),
    upload_certs = param(False, "upload certs", flag = "upload-certs"),
    token = param("", "bootstrap token", secret = True, flag = "token"),
    ignore_preflight_errors = param([], "checks to ignore", flag = "ignore-preflight-errors", merge = True),
    cert_sans = param([], "extra SANs", flag = "apiserver-cert-extra-sans"),
)
info("subnet=%r port=%r upload=%r ignore=%r sans=%r" % (P.pod_subnet, P.bind_port, P.upload_certs, P.ignore_preflight_errors, P.cert_sans))
`

func flag(name string, values ...string) FlagValue { return FlagValue{Name: name, Values: values} }

func TestParamFlags(t *testing.T) {
	r := mustRun(t, runFiles(t, map[string]string{"main.star": flagsRecipe}, Options{Flags: []FlagValue{
		flag("pod-network-cidr", "10.244.0.0/16"),
		flag("apiserver-bind-port", "7000"),
		flag("upload-certs", "true"),
		flag("apiserver-cert-extra-sans", "a.example,b.example", "c.example"),
	}}))
	want := `subnet="10.244.0.0/16" port=7000 upload=True ignore=[] sans=["a.example", "b.example", "c.example"]`
	if !strings.Contains(r.out, want) {
		t.Errorf("output:\n%s\nwant %s", r.out, want)
	}
}

// A flag is the same as --set: it overrides the lower layers (--config,
// --values), and a merge flag adds to the list they give, as kubeadm
// unions --ignore-preflight-errors with nodeRegistration.ignorePreflightErrors.
// (--values stands in for --config here: both are below the flags.)
func TestParamFlagPrecedence(t *testing.T) {
	values := filepath.Join(t.TempDir(), "v.yaml")
	if err := os.WriteFile(values, []byte("pod_subnet: 10.1.0.0/16\nignore_preflight_errors: [Swap, NumCPU]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, runFiles(t, map[string]string{"main.star": flagsRecipe}, Options{
		ValuesFile: values,
		Flags:      []FlagValue{flag("pod-network-cidr", "10.244.0.0/16"), flag("ignore-preflight-errors", "Mem,Swap")},
	}))
	if want := `subnet="10.244.0.0/16" port=6443 upload=False ignore=["Swap", "NumCPU", "Mem"]`; !strings.Contains(r.out, want) {
		t.Errorf("output:\n%s\nwant %s", r.out, want)
	}
}

func TestParamFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want []string
	}{
		{"type", Options{Flags: []FlagValue{flag("apiserver-bind-port", "x")}}, []string{`--apiserver-bind-port x: parameter bind_port is an int: "x" is not an integer`}},
		{"set and flag", Options{Set: []string{"pod_subnet=a"}, Flags: []FlagValue{flag("pod-network-cidr", "b")}}, []string{"--pod-network-cidr and --set pod_subnet=... both set parameter pod_subnet; give it once"}},
		{"unknown", Options{Flags: []FlagValue{flag("pod-network-cdr", "b")}}, []string{`--pod-network-cdr: recipe`, `declares no parameter with this flag (did you mean "pod-network-cidr"?)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runFiles(t, map[string]string{"main.star": flagsRecipe}, tc.opts)
			wantErr(t, r.err, tc.want...)
		})
	}
	// A secret's value never appears in an error.
	src := `params(token = param(0, "a secret number", secret = True, flag = "token"))`
	r := runFiles(t, map[string]string{"main.star": src}, Options{Flags: []FlagValue{flag("token", "s3cr3t")}})
	wantErr(t, r.err, "--token "+Redacted+": parameter token is an int: the value does not parse")
	if strings.Contains(r.err.Error(), "s3cr3t") {
		t.Errorf("secret in error: %v", r.err)
	}
}

func TestParamFlagDeclarationErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`params(a = param(1, "x", flag = "--a"))`, `flag "--a" is not a flag name; write lower-case words joined by '-', without the leading --`},
		{`params(a = param(1, "x", flag = "Pod_CIDR"))`, "is not a flag name"},
		{`params(a = param("", "x", merge = True))`, "merge = True needs a list parameter with a flag"},
		{`params(a = param(1, "x", flag = "f"), b = param(2, "y", flag = "f"))`, `parameters a and b both declare flag = "f"; give each parameter its own flag`},
	} {
		r := runFiles(t, map[string]string{"main.star": tc.src}, Options{})
		wantErr(t, r.err, tc.want)
	}
}
