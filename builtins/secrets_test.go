package builtins

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/cluster"
	"github.com/kubelark/kubelark/runtime/host"
)

// revealed returns the real bytes of the global name, which must be a
// runtime.Secret: the builtin under test returned its value typed secret.
func (r *starRun) revealed(t *testing.T, name string) string {
	t.Helper()
	s, ok := r.globals[name].(*runtime.Secret)
	if !ok {
		t.Fatalf("global %s = %v (%s), want a secret", name, r.globals[name], r.globals[name].Type())
	}
	return s.Reveal()
}

func TestIsSecretFile(t *testing.T) {
	for _, tc := range []struct {
		path, content string
		want          bool
	}{
		{"/etc/kubernetes/pki/ca.key", "anything", true},
		{"/etc/kubernetes/pki/sa.key", "", true},
		{"/etc/shadow", "root:x", true},
		{"/etc/gshadow-", "", true},
		{"/etc/ssh/ssh_host_ed25519_key", "", true},
		{"/root/.ssh/id_rsa", "", true},
		{"/etc/kubernetes/notes.txt", "-----BEGIN EC PRIVATE KEY-----\nx\n", true},
		{"/etc/kubernetes/admin.conf", adminConf, true},
		{"/etc/kubernetes/kubelet.conf", "apiVersion: v1\nkind: Config\nusers:\n- user:\n    client-key-data: AAAA\n", true},
		{"/etc/kubernetes/x.json", `{"kind":"Config","users":[{"user":{"token":"t"}}]}`, true},
		{"/etc/kubernetes/pki/ca.crt", "-----BEGIN CERTIFICATE-----\nx\n", false},
		{"/etc/kubernetes/pki/sa.pub", "-----BEGIN PUBLIC KEY-----\nx\n", false},
		{"/etc/kubernetes/bootstrap.conf", "kind: Config\nusers:\n- user:\n    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n", false},
		{"/etc/os-release", "ID=debian\n", false},
		{"/etc/kubernetes/manifests/etcd.yaml", "kind: Pod\nspec:\n  containers:\n  - command: [--key-file=/etc/kubernetes/pki/etcd/server.key]\n", false},
	} {
		if got := IsSecretFile(tc.path, []byte(tc.content)); got != tc.want {
			t.Errorf("IsSecretFile(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestReadFileOfSecretFileIsSecret(t *testing.T) {
	h := host.NewFake()
	for p, c := range map[string]string{"/etc/kubernetes/pki/ca.key": "KEYBYTES-0123456789", "/etc/kubernetes/pki/ca.crt": "cert"} {
		if _, err := h.WriteFile(p, []byte(c), 0o600, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := mustExecStar(t, h, `
key = read_file("/etc/kubernetes/pki/ca.key")
crt = read_file("/etc/kubernetes/pki/ca.crt")
`)
	if run.revealed(t, "key") != "KEYBYTES-0123456789" || run.str(t, "crt") != "cert" {
		t.Errorf("key %v, crt %v", run.globals["key"], run.globals["crt"])
	}
	if got := run.env.Redact("x KEYBYTES-0123456789"); got != "x <redacted>" {
		t.Errorf("a secret read is registered for the textual redaction too: %q", got)
	}
}

func TestReadKubeconfigKeepsCredentialsSecret(t *testing.T) {
	h := host.NewFake()
	if _, err := h.WriteFile("/etc/kubernetes/admin.conf", []byte(adminConf), 0o600, 0o755); err != nil {
		t.Fatal(err)
	}
	run := mustExecStar(t, h, `
kc = read_kubeconfig("/etc/kubernetes/admin.conf")
server = kc["clusters"][0]["cluster"]["server"]
token = kc["users"][0]["user"]["token"]
name = kc["users"][0]["name"]
`)
	if run.str(t, "server") != "https://cp.example:6443" || run.str(t, "name") != "kubernetes-admin" {
		t.Errorf("public parts: server %v name %v", run.globals["server"], run.globals["name"])
	}
	if run.revealed(t, "token") != "abcdef.0123456789abcdef" {
		t.Errorf("token %v", run.globals["token"])
	}
}

func TestK8sApplySecretsOnlyIntoSecretData(t *testing.T) {
	h := host.NewFake()
	a := newAPITest(t, h, cluster.NewDryRun(nil))
	g := a.mustExec(t, `
t = parse_bootstrap_token("abcdef.0123456789abcdef")
c = k8s_client(server = "https://10.0.0.10:6443", anonymous = True, insecure = True)
k8s_apply(c, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "kube-system"},
              "data": {"token-secret": base64.encode(t.secret)}, "stringData": {"a.b": t.token}})
got = k8s_get(c, "v1", "Secret", "s", namespace = "kube-system")
kind = type(got["data"]["token-secret"])
`)
	if g["kind"] != starlark.String("secret") {
		t.Errorf("k8s_get of a Secret gives data values of type %v, want secret", g["kind"])
	}
	plan, _ := json.Marshal(a.env.Plan())
	if bytes.Contains(plan, []byte("0123456789abcdef")) || bytes.Contains(plan, []byte("MDEyMzQ1Njc4OWFiY2RlZg")) {
		t.Errorf("the plan has the secret: %s", plan)
	}
	for _, bad := range []string{
		`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m", "namespace": "default"}, "data": {"k": t.secret}}`,
		`{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "m", "namespace": "default", "labels": {"k": t.secret}}}`,
		`{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": t.token, "namespace": "default"}}`,
	} {
		_, err := a.exec(`
t = parse_bootstrap_token("abcdef.0123456789abcdef")
c = k8s_client(server = "https://10.0.0.10:6443", anonymous = True, insecure = True)
k8s_apply(c, ` + bad + `)`)
		if err == nil || !strings.Contains(err.Error(), "is a secret; a secret goes only into the data or stringData of a v1 Secret") || strings.Contains(err.Error(), "0123456789abcdef") {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}
