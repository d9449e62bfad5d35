package builtins

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kubelark/kubelark/runtime/host"
)

// TestRecordBuiltinAndSubject: the plan's builtin field is the builtin's
// name; what gen_cert made is its subject, for new and reused files alike.
func TestRecordBuiltinAndSubject(t *testing.T) {
	h := host.NewFake()
	src := caSrc + leafSrc + `kc = write_kubeconfig("/etc/kubernetes/admin.conf", "kubernetes", "https://10.0.0.10:6443", "/etc/kubernetes/pki/ca", "kubernetes-admin")
`
	for _, run := range []string{"first", "rerun"} {
		_, plan := mustRunStar(t, h, src)
		for _, a := range plan.Actions {
			want := map[string]string{"ca": "ca", "apiserver": "apiserver"}[strings.TrimSuffix(strings.TrimSuffix(
				strings.TrimPrefix(a.Target, "/etc/kubernetes/pki/"), ".crt"), ".key")]
			if strings.Contains(a.Builtin, ":") || a.Subject != want {
				t.Errorf("%s: %s: builtin=%q subject=%q, want subject %q", run, a.Target, a.Builtin, a.Subject, want)
			}
		}
	}
}

// TestPlanCarriesContentNeverSecrets: a non-secret file's plan entry holds
// its content (text as is, binary in base64); a secret file's holds neither
// content nor hash.
func TestPlanCarriesContentNeverSecrets(t *testing.T) {
	h := host.NewFake()
	_, plan := mustRunStar(t, h, caSrc+`
write_file("/var/lib/kubelet/kubeadm-flags.env", "KUBELET_KUBEADM_ARGS=\"--node-ip=10.0.0.10\"\n")
write_file("/var/lib/kubelet/blob", b"\xff\xfe")
write_file("/etc/kubernetes/secret.txt", "s3cret-value", secret=True)
write_kubeconfig("/etc/kubernetes/admin.conf", "kubernetes", "https://10.0.0.10:6443", "/etc/kubernetes/pki/ca", "kubernetes-admin")
`)
	byTarget := map[string]int{}
	for i, a := range plan.Actions {
		byTarget[a.Target] = i
	}
	get := func(p string) (content, b64, sha string, secret bool) {
		a := plan.Actions[byTarget[p]]
		return a.Content, a.ContentBase64, a.SHA256, a.Secret
	}
	if c, _, sha, _ := get("/var/lib/kubelet/kubeadm-flags.env"); c != "KUBELET_KUBEADM_ARGS=\"--node-ip=10.0.0.10\"\n" || sha == "" {
		t.Errorf("kubeadm-flags.env: content %q sha %q", c, sha)
	}
	if c, b64, _, _ := get("/var/lib/kubelet/blob"); c != "" || b64 != "//4=" {
		t.Errorf("binary file: content %q base64 %q", c, b64)
	}
	if c, _, _, _ := get("/etc/kubernetes/pki/ca.crt"); !strings.HasPrefix(c, "-----BEGIN CERTIFICATE-----") {
		t.Errorf("ca.crt content %q", c)
	}
	for _, p := range []string{"/etc/kubernetes/pki/ca.key", "/etc/kubernetes/secret.txt", "/etc/kubernetes/admin.conf"} {
		if c, b64, sha, secret := get(p); c != "" || b64 != "" || sha != "" || !secret {
			t.Errorf("%s: secret=%v content=%q base64=%q sha=%q", p, secret, c, b64, sha)
		}
	}
	data, _ := json.Marshal(plan)
	for _, leak := range []string{"PRIVATE KEY", "s3cret-value", "client-key-data"} {
		if strings.Contains(string(data), leak) {
			t.Errorf("plan JSON holds %q", leak)
		}
	}
}
