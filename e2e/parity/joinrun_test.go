package parity

import (
	"strings"
	"testing"
)

// These check the join suite's own machinery without root: the
// normalization must hide only what differs by necessity, and the
// rendered configs must carry the inputs both tools get.

func TestNormalizeJoin(t *testing.T) {
	id := NodeIdentity{Name: "pjw2", IP: "10.83.0.12"}
	a := Artifacts{
		"cert /var/lib/kubelet/pki/kubelet-client-2026-12-01-10-37-21.pem": {"subject": "CN=system:node:pjw2,O=system:nodes"},
		"cert /var/lib/kubelet/pki/kubelet.crt":                            {"issuer": "CN=pjw2-ca@1764585441", "dns_sans": "pjw2"},
		"manifest /etc/kubernetes/manifests/etcd.yaml": {
			"spec.containers[etcd].command.--initial-cluster":  `"pjw2=https://10.83.0.12:2380,pjcp=https://10.83.0.10:2380"`,
			"spec.containers[etcd].command.--advertise-client": `"https://10.83.0.12:2379"`,
		},
		// Not the node: a longer name and another address stay.
		"raw /etc/x": {"content": "pjw22 10.83.0.120 pjcp"},
	}
	got := NormalizeJoin(a, id)
	want := map[string]map[string]string{
		"cert /var/lib/kubelet/pki/kubelet-client-<time>.pem": {"subject": "CN=system:node:<node-name>,O=system:nodes"},
		"cert /var/lib/kubelet/pki/kubelet.crt":               {"issuer": "CN=<node-name>-ca@<unix-time>", "dns_sans": "<node-name>"},
		"manifest /etc/kubernetes/manifests/etcd.yaml": {
			"spec.containers[etcd].command.--initial-cluster":  `"<node-name>=https://<node-ip>:2380,pjcp=https://10.83.0.10:2380"`,
			"spec.containers[etcd].command.--advertise-client": `"https://<node-ip>:2379"`,
		},
		"raw /etc/x": {"content": "pjw22 10.83.0.120 pjcp"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d artifacts, want %d:\n%s", len(got), len(want), got.Dump())
	}
	for id, fields := range want {
		for f, v := range fields {
			if got[id][f] != v {
				t.Errorf("%s | %s = %q, want %q", id, f, got[id][f], v)
			}
		}
	}
	// The order of --initial-cluster does not matter; its members do.
	b := NormalizeJoin(Artifacts{"m": {"x.command.--initial-cluster": `"pjcp=https://10.83.0.10:2380,pjw2=https://10.83.0.12:2380"`}}, id)
	c := NormalizeJoin(Artifacts{"m": {"x.command.--initial-cluster": `"pjcp=https://10.83.0.10:2380"`}}, id)
	if b["m"]["x.command.--initial-cluster"] != got["manifest /etc/kubernetes/manifests/etcd.yaml"]["spec.containers[etcd].command.--initial-cluster"] {
		t.Errorf("--initial-cluster in another order normalizes to %q", b["m"]["x.command.--initial-cluster"])
	}
	if c["m"]["x.command.--initial-cluster"] == b["m"]["x.command.--initial-cluster"] {
		t.Errorf("a missing etcd member is normalized away")
	}
}

func TestRenderJoinConfig(t *testing.T) {
	s := JoinSecrets{Endpoint: "10.83.0.10:6443", Token: "abcdef.0123456789abcdef", CAHash: "sha256:" + strings.Repeat("1", 64), CertificateKey: strings.Repeat("a", 64)}
	id := NodeIdentity{Name: "pjc2", IP: "10.83.0.14"}
	src := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: x:6443\n    token: zzzzzz.zzzzzzzzzzzzzzzz\ncontrolPlane:\n  localAPIEndpoint:\n    bindPort: 6443\n"
	out, err := RenderJoinConfig([]byte(src), id, "/run/containerd/containerd.sock", s)
	if err != nil {
		t.Fatal(err)
	}
	m, err := yamlToMap(out)
	if err != nil {
		t.Fatal(err)
	}
	r := Record{}
	flatten(r, "", m)
	for f, v := range map[string]string{
		"discovery.bootstrapToken.apiServerEndpoint":     `"10.83.0.10:6443"`,
		"discovery.bootstrapToken.token":                 `"abcdef.0123456789abcdef"`,
		"discovery.bootstrapToken.caCertHashes[0]":       `"` + s.CAHash + `"`,
		"nodeRegistration.name":                          `"pjc2"`,
		"nodeRegistration.criSocket":                     `"unix:///run/containerd/containerd.sock"`,
		"nodeRegistration.imagePullPolicy":               `"Never"`,
		"controlPlane.localAPIEndpoint.advertiseAddress": `"10.83.0.14"`,
		"controlPlane.localAPIEndpoint.bindPort":         `6443`,
		"controlPlane.certificateKey":                    `"` + s.CertificateKey + `"`,
	} {
		if r[f] != v {
			t.Errorf("%s = %s, want %s\n%s", f, r[f], v, out)
		}
	}
	if !strings.Contains(string(out), `"SystemVerification"`) || !strings.Contains(string(out), `"ImagePull"`) {
		t.Errorf("the control-plane join config does not ignore SystemVerification and ImagePull:\n%s", out)
	}
	if _, err := RenderJoinConfig([]byte("kind: InitConfiguration\n"), id, "/x", s); err == nil {
		t.Errorf("a config without a JoinConfiguration rendered")
	}
}

func TestParseKubeadmInit(t *testing.T) {
	out := "You can now join any number of control-plane nodes running the following command on each as root:\n\n" +
		"  kubeadm join 10.83.0.10:6443 --token abcdef.0123456789abcdef \\\n\t--discovery-token-ca-cert-hash sha256:0123 \\\n\t--control-plane --certificate-key ffee\n"
	s, err := ParseKubeadmInit(out)
	if err != nil {
		t.Fatal(err)
	}
	if s != (JoinSecrets{Endpoint: "10.83.0.10:6443", Token: "abcdef.0123456789abcdef", CAHash: "sha256:0123", CertificateKey: "ffee"}) {
		t.Errorf("parsed %+v", s)
	}
	if _, err := ParseKubeadmInit("kubeadm join 10.83.0.10:6443 --token a.b \\\n\t--discovery-token-ca-cert-hash sha256:0 \n"); err == nil {
		t.Errorf("a worker-only join command parsed as a control-plane one")
	}
}
