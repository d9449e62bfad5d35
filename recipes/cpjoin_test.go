package recipes_test

// Tests of a control-plane join (recipes/join.star with control_plane=true)
// on in-memory hosts: init on one fake machine with a control-plane
// endpoint and upload_certs, join from a second one sharing its cluster.

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubelark/kubelark/runtime/host"
)

const cpCertKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

// initCPCluster runs init with a control-plane endpoint and uploaded
// certificates, signs cluster-info, and returns the machine and CA pin.
func initCPCluster(t *testing.T) (*host.Fake, string) {
	t.Helper()
	cp := newFake()
	if _, out, err := runInit(t, cp, false, "", "token="+joinToken, "control_plane_endpoint="+joinServer,
		"upload_certs=true", "certificate_key="+cpCertKey); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	signClusterInfo(t, cp.Clients(), joinToken)
	ca, _, _ := cp.Get("/etc/kubernetes/pki/ca.crt")
	certs, err := certsOf(ca)
	if err != nil {
		t.Fatal(err)
	}
	return cp, pin(certs[0])
}

func cpJoinSet(hash, key string, extra ...string) []string {
	return joinSet(hash, append([]string{"control_plane=true", "certificate_key=" + key}, extra...)...)
}

// sharedFiles are the files kubeadm-certs carries for a stacked etcd.
var sharedFiles = []string{"ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.key", "sa.pub", "etcd/ca.crt", "etcd/ca.key"}

// TestJoinControlPlanePrepare: the shared files are downloaded byte for
// byte with kubeadm's modes, this node's certificates carry its own
// identity, admin.conf points at the endpoint, the others at this node,
// and the static Pods use this node's address.
func TestJoinControlPlanePrepare(t *testing.T) {
	cp, hash := initCPCluster(t)
	w := worker(cp)
	_, out, err := runJoin(t, w, false, cpJoinSet(hash, cpCertKey, "skip_phases=check-etcd,etcd-join,kubelet-wait-bootstrap,control-plane-join,wait-control-plane")...)
	if err != nil {
		t.Fatalf("join: %v\n%s", err, out)
	}
	if strings.Contains(out, cpCertKey) {
		t.Errorf("the certificate key is in the output")
	}
	for _, f := range sharedFiles {
		p := "/etc/kubernetes/pki/" + f
		want, _, _ := cp.Get(p)
		got, mode, ok := w.Get(p)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("%s: not the cluster's (present %v)", p, ok)
			continue
		}
		wantMode := 0o644
		if strings.HasSuffix(f, ".key") {
			wantMode = 0o600
		}
		if int(mode) != wantMode {
			t.Errorf("%s: mode %o, want %o", p, mode, wantMode)
		}
	}
	crt, _, _ := w.Get("/etc/kubernetes/pki/apiserver.crt")
	certs, err := certsOf(crt)
	if err != nil {
		t.Fatal(err)
	}
	c := certs[0]
	ips := map[string]bool{}
	for _, ip := range c.IPAddresses {
		ips[ip.String()] = true
	}
	if !ips["10.0.0.20"] || !ips["10.0.0.10"] || !ips["10.96.0.1"] || c.DNSNames[0] != "kubernetes" || !strings.Contains(strings.Join(c.DNSNames, ","), "node2") {
		t.Errorf("apiserver.crt SANs: %v %v", c.DNSNames, c.IPAddresses)
	}
	if srv := kubeconfigServer(t, w, "/etc/kubernetes/admin.conf"); srv != "https://"+joinServer {
		t.Errorf("admin.conf server = %s, want the control-plane endpoint", srv)
	}
	for _, f := range []string{"controller-manager.conf", "scheduler.conf"} {
		if srv := kubeconfigServer(t, w, "/etc/kubernetes/"+f); srv != "https://10.0.0.20:6443" {
			t.Errorf("%s server = %s, want this node's endpoint", f, srv)
		}
	}
	for _, f := range []string{"super-admin.conf", "manifests/etcd.yaml"} {
		if _, _, ok := w.Get("/etc/kubernetes/" + f); ok {
			t.Errorf("a control-plane join wrote %s", f)
		}
	}
	api, _, _ := w.Get("/etc/kubernetes/manifests/kube-apiserver.yaml")
	if !bytes.Contains(api, []byte("--advertise-address=10.0.0.20")) || !bytes.Contains(api, []byte("kube-apiserver.advertise-address.endpoint: 10.0.0.20:6443")) {
		t.Errorf("kube-apiserver.yaml does not use this node's address:\n%s", api)
	}
	// The same manifest as init's, but for the address.
	cpAPI, _, _ := cp.Get("/etc/kubernetes/manifests/kube-apiserver.yaml")
	if string(bytes.ReplaceAll(cpAPI, []byte("10.0.0.10"), []byte("10.0.0.20"))) != string(api) {
		t.Errorf("kube-apiserver.yaml differs from init's by more than the address:\n%s\nvs init's\n%s", api, cpAPI)
	}
	if srv := kubeconfigServer(t, w, "/etc/kubernetes/bootstrap-kubelet.conf"); srv != "https://10.0.0.20:6443" {
		t.Errorf("bootstrap-kubelet.conf server = %s, want this node's own API server", srv)
	}
	if env, _, _ := w.Get("/var/lib/kubelet/kubeadm-flags.env"); bytes.Contains(env, []byte("register-with-taints")) {
		t.Errorf("a control-plane kubelet registers without taints (mark-control-plane sets them): %s", env)
	}
}

func kubeconfigServer(t *testing.T, h *host.Fake, path string) string {
	t.Helper()
	b, _, ok := h.Get(path)
	if !ok {
		t.Errorf("%s is missing", path)
		return ""
	}
	kc, err := clientcmd.Load(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return kc.Clusters[kc.Contexts[kc.CurrentContext].Cluster].Server
}

// TestJoinControlPlaneWrongCertificateKey: a key that does not decrypt
// kubeadm-certs fails download-certs, says how to get the current key, and
// no certificate is written.
func TestJoinControlPlaneWrongCertificateKey(t *testing.T) {
	cp, hash := initCPCluster(t)
	w := worker(cp)
	wrong := strings.Repeat("ab", 32)
	_, out, err := runJoin(t, w, false, cpJoinSet(hash, wrong)...)
	if err == nil {
		t.Fatalf("join with a wrong certificate key succeeded\n%s", out)
	}
	for _, want := range []string{"download-certs: the certificate key does not decrypt kubeadm-certs", "--phases upload-certs --set upload_certs=true"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(out, wrong) {
		t.Errorf("the certificate key is in the error or output")
	}
	for _, p := range w.Paths() {
		if strings.HasPrefix(p, "/etc/kubernetes") || strings.HasPrefix(p, "/var/lib/kubelet") {
			t.Errorf("the failed join wrote %s", p)
		}
	}
}

// TestJoinControlPlaneWithoutKey: without a certificate key the shared
// files must be on the machine; preflight names the missing ones.
func TestJoinControlPlaneWithoutKey(t *testing.T) {
	cp, hash := initCPCluster(t)
	w := worker(cp)
	_, out, err := runJoin(t, w, false, joinSet(hash, "control_plane=true")...)
	if err == nil {
		t.Fatalf("join without key and files succeeded\n%s", out)
	}
	for _, want := range []string{"preflight: no certificate_key was given", "/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/sa.key", "/etc/kubernetes/pki/etcd/ca.crt"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
}

// TestJoinControlPlaneExistingDifferentKey: a shared key already on the
// machine that differs from the Secret's is refused, and nothing written.
func TestJoinControlPlaneExistingDifferentKey(t *testing.T) {
	cp, hash := initCPCluster(t)
	w := worker(cp)
	w.Put("/etc/kubernetes/pki/sa.key", []byte("-----BEGIN PRIVATE KEY-----\nother\n-----END PRIVATE KEY-----\n"), 0o600)
	_, out, err := runJoin(t, w, false, cpJoinSet(hash, cpCertKey)...)
	if err == nil || !strings.Contains(err.Error(), "/etc/kubernetes/pki/sa.key exists and differs from sa.key in kubeadm-certs") {
		t.Fatalf("want a refusal of the different sa.key, got %v\n%s", err, out)
	}
	if _, _, ok := w.Get("/etc/kubernetes/pki/ca.crt"); ok {
		t.Errorf("the refused download wrote ca.crt")
	}
}

// stackedEtcd gives cp's cluster a one-member etcd (node1) shared with w,
// and the etcd Pod whose annotation names its client URL.
func stackedEtcd(t *testing.T, cp, w *host.Fake) *host.FakeEtcd {
	t.Helper()
	e := host.NewFakeEtcd()
	e.AddVoter("node1", "https://10.0.0.10:2380", "https://10.0.0.10:2379")
	// node2's etcd starts once its manifest is written: its learner gets
	// its name when the member list is next read.
	e.OnList = func(f *host.FakeEtcd) {
		if _, _, ok := w.Get("/etc/kubernetes/manifests/etcd.yaml"); !ok {
			return
		}
		for _, m := range f.Members() {
			if m.Name == "" && len(m.PeerURLs) > 0 && m.PeerURLs[0] == "https://10.0.0.20:2380" {
				f.StartLearner(m.ID, "node2", "https://10.0.0.20:2379")
			}
		}
	}
	cp.FEtcd, w.FEtcd = e, e
	applyObject(t, cp, map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": "etcd-node1", "namespace": "kube-system",
			"labels":      map[string]any{"component": "etcd", "tier": "control-plane"},
			"annotations": map[string]any{"kubeadm.kubernetes.io/etcd.advertise-client-urls": "https://10.0.0.10:2379"},
		},
	})
	// The kubelet of node2 registers its Node (not Ready yet) before
	// mark-control-plane patches it.
	applyObject(t, cp, map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": "node2"}})
	return e
}

func applyObject(t *testing.T, cp *host.Fake, obj map[string]any) {
	t.Helper()
	c, err := cp.Clients().Anonymous("https://"+joinServer, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Apply(context.Background(), &unstructured.Unstructured{Object: obj}, true); err != nil {
		t.Fatal(err)
	}
}

// TestJoinControlPlane: the whole control-plane join on fakes: etcd gets a
// second voting member (added as a learner, promoted), this node's etcd
// manifest joins the existing cluster, and the Node is marked.
func TestJoinControlPlane(t *testing.T) {
	cp, hash := initCPCluster(t)
	w := worker(cp)
	e := stackedEtcd(t, cp, w)
	plan, out, err := runJoin(t, w, false, cpJoinSet(hash, cpCertKey)...)
	if err != nil {
		t.Fatalf("join: %v\n%s", err, out)
	}
	members := e.Members()
	if len(members) != 2 {
		t.Fatalf("etcd members: %+v", members)
	}
	for _, m := range members {
		if m.IsLearner {
			t.Errorf("etcd member %+v is still a learner", m)
		}
	}
	manifest, _, _ := w.Get("/etc/kubernetes/manifests/etcd.yaml")
	for _, want := range []string{"--initial-cluster=node1=https://10.0.0.10:2380,node2=https://10.0.0.20:2380", "--initial-cluster-state=existing",
		"--advertise-client-urls=https://10.0.0.20:2379", "--name=node2"} {
		if !bytes.Contains(manifest, []byte(want)) {
			t.Errorf("etcd.yaml lacks %s:\n%s", want, manifest)
		}
	}
	if fi, err := w.Stat("/var/lib/etcd"); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("/var/lib/etcd: %v %v, want a 0700 directory", fi, err)
	}
	var order []string
	for _, a := range plan.Actions {
		if strings.HasPrefix(a.Op, "etcd.") || a.Op == "api.patch" || a.Target == "/etc/kubernetes/manifests/etcd.yaml" {
			order = append(order, a.Op+" "+a.Target)
		}
	}
	if len(order) < 3 || !strings.HasPrefix(order[0], "etcd.member-add") || !strings.Contains(strings.Join(order, "|"), "etcd.member-promote") {
		t.Errorf("etcd actions out of order: %v", order)
	}
	c, err := cp.Clients().Anonymous("https://"+joinServer, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Get(context.Background(), "v1", "Node", "", "node2")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := n.GetLabels()["node-role.kubernetes.io/control-plane"]; !ok {
		t.Errorf("Node node2 is not labelled: %v", n.GetLabels())
	}
	taints, _, _ := unstructured.NestedSlice(n.Object, "spec", "taints")
	if len(taints) != 1 {
		t.Errorf("Node node2 taints = %v, want the control-plane taint", taints)
	}
}

// TestJoinControlPlaneNoQuorum: with one of two voting members down,
// check-etcd refuses before the kubelet or etcd is touched.
func TestJoinControlPlaneNoQuorum(t *testing.T) {
	cp, hash := initCPCluster(t)
	w := worker(cp)
	e := stackedEtcd(t, cp, w)
	id := e.AddVoter("node3", "https://10.0.0.30:2380", "https://10.0.0.30:2379")
	e.SetDown(id, true)
	applyObject(t, cp, map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": "etcd-node3", "namespace": "kube-system",
			"labels":      map[string]any{"component": "etcd", "tier": "control-plane"},
			"annotations": map[string]any{"kubeadm.kubernetes.io/etcd.advertise-client-urls": "https://10.0.0.30:2379"},
		},
	})
	plan, out, err := runJoin(t, w, false, cpJoinSet(hash, cpCertKey)...)
	if err == nil || !strings.Contains(err.Error(), "check-etcd: etcd has no quorum") {
		t.Fatalf("want a check-etcd quorum failure, got %v\n%s", err, out)
	}
	for _, a := range plan.Actions {
		if strings.HasPrefix(a.Op, "etcd.") || strings.HasPrefix(a.Op, "service.") || a.Target == "/etc/kubernetes/bootstrap-kubelet.conf" {
			t.Errorf("the failed join went on to %s %s", a.Op, a.Target)
		}
	}
	if len(e.Members()) != 2 {
		t.Errorf("a member was added to an etcd without quorum: %+v", e.Members())
	}
}

// TestJoinControlPlaneStaleEtcdPod: the mirror Pod of a node that left
// etcd (reset, Pod not yet collected) still advertises its endpoint;
// quorum is judged on the member list, so the join goes on, as kubeadm's.
func TestJoinControlPlaneStaleEtcdPod(t *testing.T) {
	cp, hash := initCPCluster(t)
	w := worker(cp)
	e := stackedEtcd(t, cp, w)
	applyObject(t, cp, map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": "etcd-gone", "namespace": "kube-system",
			"labels":      map[string]any{"component": "etcd", "tier": "control-plane"},
			"annotations": map[string]any{"kubeadm.kubernetes.io/etcd.advertise-client-urls": "https://10.0.0.99:2379"},
		},
	})
	if _, out, err := runJoin(t, w, false, cpJoinSet(hash, cpCertKey)...); err != nil {
		t.Fatalf("join with a stale etcd Pod: %v\n%s", err, out)
	}
	if n := len(e.Members()); n != 2 {
		t.Errorf("etcd has %d members, want 2", n)
	}
}

// TestGoldenJoinControlPlane: a dry-run control-plane join with no cluster
// to read plans every file write, the etcd member add and promote and the
// API writes with typed placeholders; the plan and output are golden.
func TestGoldenJoinControlPlane(t *testing.T) {
	f := newFake()
	f.FHostname, f.FIP = "node2", "10.0.0.20"
	plan, out, err := runJoin(t, host.NewDryRun(f), true, joinSet("sha256:"+strings.Repeat("ab", 32), "skip_phases=",
		"control_plane=true", "certificate_key="+cpCertKey)...)
	if err != nil {
		t.Fatalf("dry-run join: %v\n%s", err, out)
	}
	if strings.Contains(out, cpCertKey) || strings.Contains(string(maskPlan(t, plan)), cpCertKey) {
		t.Errorf("the certificate key is in the output or the plan")
	}
	compareGolden(t, filepath.Join(testdata, "golden", "join-controlplane.json"), maskPlan(t, plan))
	compareGolden(t, filepath.Join(testdata, "golden", "join-controlplane.out"), maskKeyDerived([]byte(out)))
	if len(f.Paths()) != len(newFake().Paths()) {
		t.Errorf("dry run wrote to the host")
	}
}

// TestJoinControlPlaneDryRunReadsCluster: a dry run against a reachable
// cluster reads kubeadm-config, kubeadm-certs and etcd for real, plans the
// learner's add and promote as actions, and changes nothing: no file, no
// etcd member.
func TestJoinControlPlaneDryRunReadsCluster(t *testing.T) {
	cp, hash := initCPCluster(t)
	w := worker(cp)
	e := stackedEtcd(t, cp, w)
	before := len(w.Paths())
	plan, out, err := runJoin(t, host.NewDryRun(w), true, cpJoinSet(hash, cpCertKey, "skip_phases=preflight")...)
	if err != nil {
		t.Fatalf("dry-run join: %v\n%s", err, out)
	}
	if strings.Contains(out, "placeholder") {
		t.Errorf("the dry run used placeholders against a reachable cluster:\n%s", out)
	}
	ops := map[string]bool{}
	for _, a := range plan.Actions {
		ops[a.Op] = true
	}
	for _, want := range []string{"etcd.member-add", "etcd.member-promote", "api.patch", "file.write"} {
		if !ops[want] {
			t.Errorf("the plan lacks a %s action", want)
		}
	}
	if len(e.Writes) != 0 || len(e.Members()) != 1 {
		t.Errorf("the dry run changed etcd: writes %v, members %+v", e.Writes, e.Members())
	}
	if len(w.Paths()) != before {
		t.Errorf("the dry run wrote to the host")
	}
}

// TestJoinControlPlaneExternalEtcd: with etcd.external in the cluster's
// configuration, the external etcd's client files come from kubeadm-certs
// to the configured paths, and no etcd member or manifest is made.
func TestJoinControlPlaneExternalEtcd(t *testing.T) {
	cp := newFake()
	files := map[string]string{
		"/etc/etcd/pki/ca.crt":                    "-----BEGIN CERTIFICATE-----\nexternal-ca\n-----END CERTIFICATE-----\n",
		"/etc/etcd/pki/apiserver-etcd-client.crt": "-----BEGIN CERTIFICATE-----\nexternal-client\n-----END CERTIFICATE-----\n",
		"/etc/etcd/pki/apiserver-etcd-client.key": "-----BEGIN RSA PRIVATE KEY-----\nexternal-key\n-----END RSA PRIVATE KEY-----\n",
	}
	for p, c := range files {
		cp.Put(p, []byte(c), 0o600)
	}
	if _, out, err := runInit(t, cp, false, "external-etcd.yaml", "token="+joinToken, "control_plane_endpoint="+joinServer,
		"upload_certs=true", "certificate_key="+cpCertKey); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	signClusterInfo(t, cp.Clients(), joinToken)
	ca, _, _ := cp.Get("/etc/kubernetes/pki/ca.crt")
	certs, err := certsOf(ca)
	if err != nil {
		t.Fatal(err)
	}
	w := worker(cp)
	applyObject(t, cp, map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": "node2"}})
	plan, out, err := runJoin(t, w, false, cpJoinSet(pin(certs[0]), cpCertKey)...)
	if err != nil {
		t.Fatalf("join: %v\n%s", err, out)
	}
	for p, c := range files {
		got, mode, ok := w.Get(p)
		want := 0o644
		if strings.HasSuffix(p, ".key") {
			want = 0o600
		}
		if !ok || string(got) != c || int(mode) != want {
			t.Errorf("%s: present %v, mode %o (want %o), content ok %v", p, ok, mode, want, string(got) == c)
		}
	}
	for _, p := range []string{"/etc/kubernetes/manifests/etcd.yaml", "/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/apiserver-etcd-client.crt"} {
		if _, _, ok := w.Get(p); ok {
			t.Errorf("an external-etcd join wrote %s", p)
		}
	}
	for _, a := range plan.Actions {
		if strings.HasPrefix(a.Op, "etcd.") {
			t.Errorf("an external-etcd join recorded %s %s", a.Op, a.Target)
		}
	}
	api, _, _ := w.Get("/etc/kubernetes/manifests/kube-apiserver.yaml")
	if !bytes.Contains(api, []byte("--etcd-servers=https://10.0.0.50:2379,https://10.0.0.51:2379")) || !bytes.Contains(api, []byte("--etcd-keyfile=/etc/etcd/pki/apiserver-etcd-client.key")) {
		t.Errorf("kube-apiserver.yaml does not use the external etcd:\n%s", api)
	}
}

// TestJoinControlPlaneCertsSecretGone: kubeadm-certs deleted with its 2h
// token: download-certs says so and how to upload again; nothing written.
func TestJoinControlPlaneCertsSecretGone(t *testing.T) {
	cp, hash := initCPCluster(t)
	c, err := cp.Clients().Anonymous("https://"+joinServer, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(context.Background(), "v1", "Secret", "kube-system", "kubeadm-certs"); err != nil {
		t.Fatal(err)
	}
	w := worker(cp)
	_, out, err := runJoin(t, w, false, cpJoinSet(hash, cpCertKey)...)
	if err == nil {
		t.Fatalf("join without kubeadm-certs succeeded\n%s", out)
	}
	for _, want := range []string{"download-certs: Secret kube-system/kubeadm-certs is not in the cluster", "2 hours", "--phases upload-certs --set upload_certs=true"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	for _, p := range w.Paths() {
		if strings.HasPrefix(p, "/etc/kubernetes") {
			t.Errorf("the failed join wrote %s", p)
		}
	}
}
