package parity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// These tests check the comparison machinery without root or kubeadm: a
// parity suite whose comparators cannot see a difference would pass
// vacuously.

func writeTree(t *testing.T, files map[string]string, modes map[string]os.FileMode) *Output {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		hp := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(hp), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := modes[p]
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(hp, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(hp, mode); err != nil {
			t.Fatal(err)
		}
	}
	return &Output{Tool: "test", Root: root}
}

func collect(t *testing.T, o *Output) Artifacts {
	t.Helper()
	a, err := CollectAll(o, FileCollectors())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func fields(ds []Difference) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Artifact+" | "+d.Field+" | "+d.Kubeadm+" -> "+d.Kubelark)
	}
	return out
}

const podA = `apiVersion: v1
kind: Pod
metadata:
  name: kube-scheduler
  namespace: kube-system
spec:
  containers:
  - name: kube-scheduler
    image: registry.k8s.io/kube-scheduler:v1.36.3
    command:
    - kube-scheduler
    - --bind-address=127.0.0.1
    - --leader-elect=true
    env:
    - name: A
      value: "1"
    - name: B
      value: "2"
    resources:
      requests:
        cpu: 100m
  hostNetwork: true
  priority: 2000001000
status: {}
`

func TestManifestFlagsAreOrderInsensitiveButValuesCount(t *testing.T) {
	// Same flags and env in another order: no difference.
	reordered := strings.Replace(podA, "    - --bind-address=127.0.0.1\n    - --leader-elect=true\n", "    - --leader-elect=true\n    - --bind-address=127.0.0.1\n", 1)
	reordered = strings.Replace(reordered, "    - name: A\n      value: \"1\"\n    - name: B\n      value: \"2\"\n", "    - name: B\n      value: \"2\"\n    - name: A\n      value: \"1\"\n", 1)
	// A changed flag value, a missing flag, a changed quantity form that
	// means the same (0.1 = 100m) and a changed priority.
	changed := strings.Replace(podA, "--leader-elect=true", "--leader-elect=false", 1)
	changed = strings.Replace(changed, "    - --bind-address=127.0.0.1\n", "", 1)
	changed = strings.Replace(changed, "cpu: 100m", "cpu: \"0.1\"", 1)
	changed = strings.Replace(changed, "2000001000", "2000000000", 1)

	p := "etc/kubernetes/manifests/kube-scheduler.yaml"
	a := collect(t, writeTree(t, map[string]string{p: podA}, map[string]os.FileMode{p: 0o600}))
	b := collect(t, writeTree(t, map[string]string{p: reordered}, map[string]os.FileMode{p: 0o600}))
	if d := Compare("c", a, b); len(d) != 0 {
		t.Errorf("reordered flags/env should compare equal, got %v", fields(d))
	}
	c := collect(t, writeTree(t, map[string]string{p: changed}, map[string]os.FileMode{p: 0o644}))
	got := fields(Compare("c", a, c))
	want := []string{
		"file /etc/kubernetes/manifests/kube-scheduler.yaml | mode | 0600 -> 0644",
		`manifest /etc/kubernetes/manifests/kube-scheduler.yaml | spec.containers[kube-scheduler].command.--bind-address | "127.0.0.1" -> <absent>`,
		`manifest /etc/kubernetes/manifests/kube-scheduler.yaml | spec.containers[kube-scheduler].command.--leader-elect | "true" -> "false"`,
		"manifest /etc/kubernetes/manifests/kube-scheduler.yaml | spec.priority | 2000001000 -> 2000000000",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("differences:\n got  %q\n want %q", got, want)
	}
}

func TestManifestUnknownFieldIsAnError(t *testing.T) {
	p := "etc/kubernetes/manifests/x.yaml"
	o := writeTree(t, map[string]string{p: strings.Replace(podA, "hostNetwork: true", "hostNetwrk: true", 1)}, nil)
	if _, err := CollectAll(o, FileCollectors()); err == nil || !strings.Contains(err.Error(), "hostNetwrk") {
		t.Fatalf("want an error naming hostNetwrk, got %v", err)
	}
}

func TestKubeletFilesAndStrayFiles(t *testing.T) {
	a := collect(t, writeTree(t, map[string]string{
		"var/lib/kubelet/kubeadm-flags.env": `KUBELET_KUBEADM_ARGS="--hostname-override=cp1 --node-ip=10.0.0.10"` + "\n",
		"var/lib/kubelet/config.yaml":       "kind: KubeletConfiguration\nmaxPods: 110\nclusterDNS:\n- 10.96.0.10\n",
	}, nil))
	b := collect(t, writeTree(t, map[string]string{
		"var/lib/kubelet/kubeadm-flags.env": `KUBELET_KUBEADM_ARGS="--node-ip=10.0.0.10 --hostname-override=cp2"` + "\n",
		"var/lib/kubelet/config.yaml":       "kind: KubeletConfiguration\nmaxPods: \"110\"\nclusterDNS:\n- 10.96.0.10\n",
		"etc/stray.conf":                    "x",
	}, nil))
	got := fields(Compare("c", a, b))
	want := []string{
		"file /etc/stray.conf | exists | <absent> -> present",
		`kubelet-config /var/lib/kubelet/config.yaml | maxPods | 110 -> "110"`,
		"kubelet-env /var/lib/kubelet/kubeadm-flags.env | KUBELET_KUBEADM_ARGS.--hostname-override | cp1 -> cp2",
		"raw /etc/stray.conf | exists | <absent> -> present",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("differences:\n got  %q\n want %q", got, want)
	}
}

func TestCertificatesAndKubeconfigs(t *testing.T) {
	now := time.Now()
	mk := func(cn string, sans []string, validity time.Duration, groups ...string) (caPEM, leafPEM, keyPEM string) {
		caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubernetes"}, DNSNames: []string{"kubernetes"},
			NotBefore: now, NotAfter: now.Add(87600 * time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
		caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, caKey.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		ca, _ := x509.ParseCertificate(caDER)
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn, Organization: groups},
			NotBefore: now, NotAfter: now.Add(validity), BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		for _, s := range sans {
			if ip := net.ParseIP(s); ip != nil {
				lt.IPAddresses = append(lt.IPAddresses, ip)
			} else {
				lt.DNSNames = append(lt.DNSNames, s)
			}
		}
		leafDER, err := x509.CreateCertificate(rand.Reader, lt, ca, key.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		kd, _ := x509.MarshalECPrivateKey(key)
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
			string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})),
			string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}))
	}
	kubeconfig := func(ca, cert, key, server string) string {
		b64 := func(s string) string { return encodeB64(s) }
		return "apiVersion: v1\nkind: Config\nclusters:\n- name: kubernetes\n  cluster:\n    server: " + server +
			"\n    certificate-authority-data: " + b64(ca) +
			"\ncontexts:\n- name: admin@kubernetes\n  context: {cluster: kubernetes, user: admin}\ncurrent-context: admin@kubernetes\nusers:\n- name: admin\n  user:\n    client-certificate-data: " + b64(cert) +
			"\n    client-key-data: " + b64(key) + "\n"
	}
	tree := func(cn string, sans []string, validity time.Duration, server string, groups ...string) *Output {
		ca, leaf, key := mk(cn, sans, validity, groups...)
		return writeTree(t, map[string]string{
			"etc/kubernetes/pki/ca.crt":        ca,
			"etc/kubernetes/pki/apiserver.crt": leaf,
			"etc/kubernetes/pki/apiserver.key": key,
			"etc/kubernetes/admin.conf":        kubeconfig(ca, leaf, key, server),
		}, map[string]os.FileMode{"etc/kubernetes/pki/apiserver.key": 0o600, "etc/kubernetes/admin.conf": 0o600})
	}
	a := collect(t, tree("kube-apiserver", []string{"b.example", "a.example", "10.0.0.1"}, 8760*time.Hour, "https://10.0.0.10:6443", "g1"))
	// Fresh keys, SANs in another order, validity 12h longer: equal.
	b := collect(t, tree("kube-apiserver", []string{"10.0.0.1", "a.example", "b.example"}, 8772*time.Hour, "https://10.0.0.10:6443", "g1"))
	if d := Compare("c", a, b); len(d) != 0 {
		t.Errorf("want no differences, got %v", fields(d))
	}
	// A missing SAN, two days more validity, another server and group.
	c := collect(t, tree("kube-apiserver", []string{"a.example", "10.0.0.1"}, 8808*time.Hour, "https://cp:6443", "g2"))
	got := fields(Compare("c", a, c))
	for _, w := range []string{
		"cert /etc/kubernetes/pki/apiserver.crt | dns_sans | a.example,b.example -> a.example",
		"cert /etc/kubernetes/pki/apiserver.crt | validity | 8760h0m0s -> 8808h0m0s",
		"kubeconfig /etc/kubernetes/admin.conf | cluster[kubernetes].server | https://10.0.0.10:6443 -> https://cp:6443",
		"kubeconfig /etc/kubernetes/admin.conf | user[admin].client_cert.groups | g1 -> g2",
	} {
		if !contains(got, w) {
			t.Errorf("missing difference %q in %q", w, got)
		}
	}
	if a["kubeconfig /etc/kubernetes/admin.conf"]["cluster[kubernetes].ca"] != "/etc/kubernetes/pki/ca.crt" {
		t.Errorf("kubeconfig CA not resolved to ca.crt: %v", a["kubeconfig /etc/kubernetes/admin.conf"])
	}
	if r := a["cert /etc/kubernetes/pki/apiserver.crt"]; r["signed_by"] != "/etc/kubernetes/pki/ca.crt" || r["key_algorithm"] != "ECDSA-P256" {
		t.Errorf("cert record: %v", r)
	}
	if r := a["key /etc/kubernetes/pki/apiserver.key"]; r["matches_crt"] != "true" || r["pem_type"] != "EC PRIVATE KEY" {
		t.Errorf("key record: %v", r)
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestAllowList(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "differences.md")
	write := func(s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("# x\n- not | in | section — ignored\n## Differences\n\n" +
		"- * | manifest /etc/kubernetes/manifests/* | spec.containers[*].image — reason one\n" +
		"- defaults | file /var/lib/etcd | mode — reason two\n" +
		"- other | file /x | mode — never ran\n## Next\n- a | b | c — outside\n")
	l, err := LoadAllowList(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) != 3 {
		t.Fatalf("entries: %v", l.Entries)
	}
	diffs := []Difference{
		{Config: "defaults", Artifact: "manifest /etc/kubernetes/manifests/etcd.yaml", Field: "spec.containers[etcd].image"},
		{Config: "defaults", Artifact: "manifest /etc/kubernetes/manifests/etcd.yaml", Field: "spec.containers[etcd].imagePullPolicy"},
	}
	un := l.Check("defaults", diffs)
	if len(un) != 1 || un[0].Field != "spec.containers[etcd].imagePullPolicy" {
		t.Errorf("unexpected: %v", un)
	}
	stale := l.Stale()
	if len(stale) != 1 || stale[0].Config != "defaults" {
		t.Errorf("stale: %v (the entry of a config that did not run is not judged)", stale)
	}

	write("## Differences\n- a | b | c\n")
	if _, err := LoadAllowList(p); err == nil || !strings.Contains(err.Error(), "reason") {
		t.Errorf("a bullet without a reason must be an error, got %v", err)
	}
	write("# nothing\n")
	if _, err := LoadAllowList(p); err == nil {
		t.Error("a file without the section must be an error")
	}
}

func TestValidityTolerance(t *testing.T) {
	if !equalValue("x.validity", "8760h5m0s", "8760h0m0s") || equalValue("validity", "8760h", "8810h") || equalValue("other", "1h", "1h0m0s") {
		t.Error("validity tolerance is ±24h and only for validity fields")
	}
}

func TestLoadConfigWorkflow(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.yaml": "# parity-env: HTTPS_PROXY=http://p:1\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n---\nkind: ClusterConfiguration\n",
		"b.yaml": "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ncontrolPlane: {}\n",
		"c.yaml": "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n",
	}
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := LoadConfigs(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Name+"="+c.Workflow+strings.Join(c.Env, ","))
	}
	want := []string{"a=initHTTPS_PROXY=http://p:1", "b=join-control-plane", "c=join-worker"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func encodeB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
