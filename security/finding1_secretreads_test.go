package security

import (
	"path/filepath"
	"strings"
	"testing"
)

// Finding #1, "what is read is not secret": a fork could read the
// existing /etc/kubernetes/pki/ca.key (or /etc/shadow, or a kubeconfig's
// credentials) and print it with info(), put it in the plan with
// output(), or into a ConfigMap that the dry-run plan shows in full.
// read_file now returns the content of a secret file as a Secret.

const caKeyPath = "etc/kubernetes/pki/ca.key"

// readRun runs src under --root (a scratch root holding files) as a dry
// run with a plan file, and checks that the planted secret never shows.
func readRun(t *testing.T, files map[string]string, src string, secrets ...string) (result, string) {
	t.Helper()
	root := scratchRoot(t, files)
	plan := filepath.Join(t.TempDir(), "plan.json")
	r := kubelark(t, "run", recipe(t, src), "--root", root, "--dry-run", "--plan", plan)
	if len(secrets) == 0 {
		secrets = []string{keyBytes}
	}
	neverShown(t, r, secrets, plan)
	return r, plan
}

func TestFinding1ReadCAKeyPrintedWithInfo(t *testing.T) {
	r, _ := readRun(t, map[string]string{caKeyPath: plantedKey}, `k = read_file("/etc/kubernetes/pki/ca.key")
info(k)
info("the key: %s" % k)
print(k)
`)
	if r.Code != 0 || !strings.Contains(r.Stdout, "<redacted>") {
		t.Errorf("want a successful run printing <redacted>: exit %d\n%s", r.Code, r.Output())
	}
}

func TestFinding1ReadCAKeyPutInOutput(t *testing.T) {
	r, _ := readRun(t, map[string]string{caKeyPath: plantedKey}, `k = read_file("/etc/kubernetes/pki/ca.key")
output(k, reveal = True)
output("key:\n" + k, reveal = True)
`)
	if r.Code != 0 {
		t.Errorf("exit %d\n%s", r.Code, r.Output())
	}
}

func TestFinding1ReadCAKeyPutInConfigMap(t *testing.T) {
	r, _ := readRun(t, map[string]string{caKeyPath: plantedKey}, `k = read_file("/etc/kubernetes/pki/ca.key")
c = k8s_client(server = "https://127.0.0.1:6443", anonymous = True, insecure = True)
k8s_apply(c, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "loot", "namespace": "default"}, "data": {"ca.key": k}})
`)
	if r.Code == 0 || !strings.Contains(r.Stderr, "data.ca.key (a ConfigMap) is a secret") {
		t.Errorf("want k8s_apply to refuse the secret in a ConfigMap: exit %d\n%s", r.Code, r.Output())
	}
}

func TestFinding1ReadCAKeyPutInSecretAnnotation(t *testing.T) {
	r, _ := readRun(t, map[string]string{caKeyPath: plantedKey}, `k = read_file("/etc/kubernetes/pki/ca.key")
c = k8s_client(server = "https://127.0.0.1:6443", anonymous = True, insecure = True)
k8s_apply(c, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "loot", "namespace": "default", "annotations": {"k": k}}, "stringData": {"ok": k}})
`)
	if r.Code == 0 || !strings.Contains(r.Stderr, "metadata.annotations.k (a Secret) is a secret") {
		t.Errorf("want k8s_apply to refuse the secret in an annotation: exit %d\n%s", r.Code, r.Output())
	}
}

func TestFinding1ReadCAKeyInFailMessage(t *testing.T) {
	r, _ := readRun(t, map[string]string{caKeyPath: plantedKey}, `fail("stolen: " + read_file("/etc/kubernetes/pki/ca.key"))
`)
	if r.Code == 0 {
		t.Errorf("fail() must fail")
	}
}

func TestFinding1ReadCAKeyEncodedIntoText(t *testing.T) {
	r, _ := readRun(t, map[string]string{caKeyPath: plantedKey}, `k = read_file("/etc/kubernetes/pki/ca.key")
info(yaml.encode({"k": k}))
`)
	if r.Code == 0 || !strings.Contains(r.Stderr, "a secret cannot be converted to data") {
		t.Errorf("want yaml.encode to refuse a secret: exit %d\n%s", r.Code, r.Output())
	}
}

// A copy of a key written by the recipe is a secret file: the dry-run
// plan carries no content (nor hash) of it.
func TestFinding1ReadCAKeyCopiedIntoPlannedFile(t *testing.T) {
	r, _ := readRun(t, map[string]string{caKeyPath: plantedKey}, `write_file("/etc/kubernetes/copy-of-ca", read_file("/etc/kubernetes/pki/ca.key"), mode = 0o600)
`)
	if r.Code != 0 {
		t.Errorf("exit %d\n%s", r.Code, r.Output())
	}
}

func TestFinding1ReadKeyByContentWhateverItsName(t *testing.T) {
	readRun(t, map[string]string{"etc/kubernetes/innocent.txt": plantedKey}, `info(read_file("/etc/kubernetes/innocent.txt"))
`)
}

func TestFinding1ReadShadowPrinted(t *testing.T) {
	const hash = "$6$rounds=5000$SALTSALT$HASHEDPASSWORDBYTES"
	readRun(t, map[string]string{"etc/shadow": "root:" + hash + ":19000:0:99999:7:::\n"}, `if path_exists("/etc/shadow"):
    s = read_file("/etc/shadow")
    info(s)
    output(s)
`, "HASHEDPASSWORDBYTES")
}

func TestFinding1ReadKubeconfigTokenPrinted(t *testing.T) {
	const kubeconfigToken = "zq9bearertokenvalue42"
	conf := `apiVersion: v1
kind: Config
clusters:
- cluster: {server: "https://10.0.0.1:6443"}
  name: k
contexts:
- context: {cluster: k, user: admin}
  name: admin@k
current-context: admin@k
users:
- name: admin
  user:
    token: ` + kubeconfigToken + "\n"
	r, _ := readRun(t, map[string]string{"etc/kubernetes/admin.conf": conf}, `info(read_file("/etc/kubernetes/admin.conf"))
kc = read_kubeconfig("/etc/kubernetes/admin.conf")
info("server %s" % kc["clusters"][0]["cluster"]["server"])
info("user %s" % kc["users"][0]["user"])
output("token: " + kc["users"][0]["user"]["token"])
`, kubeconfigToken)
	if r.Code != 0 || !strings.Contains(r.Stdout, "server https://10.0.0.1:6443") {
		t.Errorf("the public parts of a kubeconfig stay readable: exit %d\n%s", r.Code, r.Output())
	}
}

// A secret written to an innocent-looking file and read back is still a
// secret: the filesystem (real or the dry-run overlay) does not launder it.
func TestFinding1SecretLaunderedThroughAFile(t *testing.T) {
	r, _ := readRun(t, nil, `t = parse_bootstrap_token("`+knownToken+`")
write_file("/etc/kubernetes/notes.txt", "token " + t.token + "\n", mode = 0o600)
fail("laundered: " + read_file("/etc/kubernetes/notes.txt"))
`, knownSecret)
	if r.Code == 0 {
		t.Errorf("fail() must fail")
	}
}

// A fork cannot copy a key it read into a file others can read.
func TestFinding1ReadCAKeyCopiedWorldReadable(t *testing.T) {
	r, _ := readRun(t, map[string]string{caKeyPath: plantedKey}, `write_file("/etc/kubernetes/pki/copy.txt", read_file("/etc/kubernetes/pki/ca.key"), mode = 0o644)
`)
	if r.Code == 0 || !strings.Contains(r.Stderr, "content is a secret and mode 0644 lets others read it") {
		t.Errorf("want write_file to refuse: exit %d\n%s", r.Code, r.Output())
	}
}
