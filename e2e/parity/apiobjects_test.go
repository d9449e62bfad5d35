package parity

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// These tests check the API collector without nodes: placeholders, parsed
// ConfigMap values, token and uploaded-certificate handling, and that real
// differences are still seen.

const testCertKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0"

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func encrypt(t *testing.T, key, plain string) string {
	t.Helper()
	k, _ := hex.DecodeString(key)
	block, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, gcm.NonceSize())
	return base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(plain), nil))
}

// apiState builds a cluster with the given node identity, CA and token IDs.
func apiState(t *testing.T, node NodeIdentity, caPEM string, tokenID, uploadID string, proxyConf string) *APIState {
	t.Helper()
	kubeconfig := "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: " + b64(caPEM) + "\n    server: https://" + node.IP + ":6443\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\nusers: null\n"
	proxyData := map[string]any{"config.conf": proxyConf, "kubeconfig.conf": "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://" + node.IP + ":6443\n  name: default\n"}
	h := sha256.New()
	for _, k := range []string{"config.conf", "kubeconfig.conf"} {
		h.Write([]byte(proxyData[k].(string)))
	}
	return &APIState{
		Node:           node,
		PKI:            map[string][]byte{"/etc/kubernetes/pki/ca.crt": []byte(caPEM), "/etc/kubernetes/pki/ca.key": []byte("KEY " + node.Name)},
		CertificateKey: testCertKey,
		Objects: []map[string]any{
			{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "cluster-info", "namespace": "kube-public", "uid": node.Name, "resourceVersion": "7", "creationTimestamp": "2026-01-01T00:00:00Z"},
				"data": map[string]any{"kubeconfig": kubeconfig, "jws-kubeconfig-" + tokenID: testJWS(tokenID, tokenID+"0123456789", kubeconfig)}},
			{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "kube-proxy", "namespace": "kube-system", "labels": map[string]any{"app": "kube-proxy"},
				"annotations": map[string]any{ComponentConfigHashAnnotation: "sha256:" + hex.EncodeToString(h.Sum(nil))}}, "data": proxyData},
			{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "coredns", "namespace": "kube-system"},
				"data": map[string]any{"Corefile": ".:53 {\n    errors\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n    }\n}\n"}},
			{"apiVersion": "v1", "kind": "Secret", "type": BootstrapTokenType, "metadata": map[string]any{"name": "bootstrap-token-" + tokenID, "namespace": "kube-system", "creationTimestamp": "2026-01-01T00:00:01Z"},
				"data": map[string]any{"token-id": b64(tokenID), "token-secret": b64(tokenID + "0123456789"), "expiration": b64("2026-01-02T00:00:00Z"), "usage-bootstrap-signing": b64("true"), "description": b64("default")}},
			{"apiVersion": "v1", "kind": "Secret", "type": BootstrapTokenType, "metadata": map[string]any{"name": "bootstrap-token-" + uploadID, "namespace": "kube-system", "creationTimestamp": "2026-01-01T00:00:00Z"},
				"data": map[string]any{"token-id": b64(uploadID), "token-secret": b64(uploadID + "abcdefghij"), "expiration": b64("2026-01-01T02:00:00Z"), "description": b64("Proxy for managing TTL for the kubeadm-certs secret")}},
			{"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": map[string]any{"name": "kubeadm-certs", "namespace": "kube-system",
				"ownerReferences": []any{map[string]any{"apiVersion": "v1", "kind": "Secret", "name": "bootstrap-token-" + uploadID, "uid": "u-" + node.Name, "controller": true}}},
				"data": map[string]any{"ca.crt": encrypt(t, testCertKey, caPEM), "ca.key": encrypt(t, testCertKey, "KEY "+node.Name), "external-etcd.crt": ""}},
			{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": node.Name, "labels": map[string]any{"kubernetes.io/hostname": node.Name, "node-role.kubernetes.io/control-plane": ""}},
				"spec": map[string]any{"taints": []any{
					map[string]any{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
					map[string]any{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule", "timeAdded": "2026-01-01T00:00:00Z"},
				}}, "status": map[string]any{"phase": "x"}},
		},
	}
}

func collectAPI(t *testing.T, s *APIState) Artifacts {
	t.Helper()
	a, err := CollectAll(&Output{Tool: "test", API: s}, APICollectors())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAPICollectorNormalizesWhatMustDiffer(t *testing.T) {
	caA, caB := testCA(t, "kubernetes"), testCA(t, "kubernetes")
	conf := "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nbindAddress: 0.0.0.0\n"
	sa := apiState(t, NodeIdentity{"pk1", "10.78.0.11"}, caA, "abc123", "up0001", conf)
	a := collectAPI(t, sa)
	b := collectAPI(t, apiState(t, NodeIdentity{"pl1", "10.78.0.12"}, caB, "zzz999", "up9999", conf))
	if d := Compare("x", a, b); len(d) != 0 {
		t.Fatalf("two clusters differing only in node, CA, token IDs and secrets compare different:\n%v", fields(d))
	}
	want := map[string]string{
		"api v1/ConfigMap/kube-public/cluster-info | data[kubeconfig].clusters[].cluster.certificate-authority-data": "\"cert /etc/kubernetes/pki/ca.crt\"",
		"api v1/ConfigMap/kube-public/cluster-info | data[kubeconfig].clusters[].cluster.server":                     "\"https://<node-ip>:6443\"",
		"api v1/ConfigMap/kube-system/kube-proxy | metadata.annotations.kubeadm.kubernetes.io/component-config.hash": "\"<valid sha256 of the data>\"",
		"api v1/ConfigMap/kube-system/kube-proxy | data[config.conf].bindAddress":                                    "\"0.0.0.0\"",
		"api v1/ConfigMap/kube-system/coredns | data[Corefile].line003":                                              "\"    kubernetes cluster.local in-addr.arpa ip6.arpa {\"",
		"api v1/Secret/kube-system/bootstrap-token-<generated-1> | data[expiration]":                                 "RFC 3339, ttl 2h0m0s",
		"api v1/Secret/kube-system/bootstrap-token-<generated-2> | data[expiration]":                                 "RFC 3339, ttl 24h0m0s",
		"api v1/Secret/kube-system/bootstrap-token-<generated-2> | data[token-secret]":                               "<16 characters [a-z0-9]>",
		"api v1/Secret/kube-system/bootstrap-token-<generated-2> | data[token-id]":                                   "\"<generated-2>\"",
		"api v1/Secret/kube-system/kubeadm-certs | data[ca.key]":                                                     "encrypted copy of /etc/kubernetes/pki/ca.key",
		"api v1/Secret/kube-system/kubeadm-certs | data[external-etcd.crt]":                                          `""`,
		"api v1/Secret/kube-system/kubeadm-certs | metadata.ownerReferences[bootstrap-token-<generated-1>].kind":     "\"Secret\"",
		"api v1/Node/<node-name> | metadata.labels.kubernetes.io/hostname":                                           "\"<node-name>\"",
		"api v1/Node/<node-name> | spec.taints[0].key":                                                               "\"node-role.kubernetes.io/control-plane\"",
	}
	for k, v := range want {
		id, f, _ := strings.Cut(k, " | ")
		if got := a[id][f]; got != v {
			t.Errorf("%s: got %q, want %q", k, got, v)
		}
	}
	if got := a["api v1/ConfigMap/kube-public/cluster-info"]["data[jws-kubeconfig-<generated-2>]"]; got != "<valid JWS of data[kubeconfig] by bootstrap-token-<generated-2>>" {
		t.Errorf("the JWS of a generated token: %q (fields %v)", got, keys(a["api v1/ConfigMap/kube-public/cluster-info"]))
	}
	// Collecting twice gives the same records (the objects are not changed).
	if d := Compare("x", a, collectAPI(t, sa)); len(d) != 0 {
		t.Errorf("a second collection differs: %v", fields(d))
	}
	for id, r := range a {
		for f, v := range r {
			for _, leak := range []string{"abc123", "up0001", "pk1", "10.78.0.11", "uid", "resourceVersion", "creationTimestamp", "status", "not-ready", "KEY "} {
				if strings.Contains(id+f+v, leak) {
					t.Errorf("%s | %s = %s: %q survived normalization", id, f, v, leak)
				}
			}
		}
	}
}

func TestAPICollectorSeesDifferences(t *testing.T) {
	ca := testCA(t, "kubernetes")
	other := testCA(t, "other")
	conf := "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nbindAddress: 0.0.0.0\n"
	a := apiState(t, NodeIdentity{"pk1", "10.78.0.11"}, ca, "abc123", "up0001", conf)
	b := apiState(t, NodeIdentity{"pl1", "10.78.0.12"}, ca, "zzz999", "up9999", strings.Replace(conf, "0.0.0.0", "1.2.3.4", 1))
	// kubelark's copy: a wrong hash, a wrong uploaded file, a TTL of 1h,
	// an extra taint, a missing Corefile line, a CA not on the node.
	b.Objects[1]["metadata"].(map[string]any)["annotations"].(map[string]any)[ComponentConfigHashAnnotation] = "sha256:00"
	b.Objects[5]["data"].(map[string]any)["ca.key"] = encrypt(t, testCertKey, "something else")
	b.Objects[4]["data"].(map[string]any)["expiration"] = b64("2026-01-01T01:00:00Z")
	node := b.Objects[6]["spec"].(map[string]any)
	node["taints"] = append(node["taints"].([]any), map[string]any{"key": "extra", "effect": "NoExecute"})
	b.Objects[2]["data"].(map[string]any)["Corefile"] = ".:53 {\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n    }\n}\n"
	b.PKI["/etc/kubernetes/pki/ca.crt"] = []byte(other)
	b.Objects[0]["data"].(map[string]any)["jws-kubeconfig-zzz999"] = testJWS("zzz999", "wrongsecret00000", "x")
	got := fields(Compare("x", collectAPI(t, a), collectAPI(t, b)))
	sort.Strings(got)
	wantSub := []string{
		"api v1/ConfigMap/kube-public/cluster-info | data[kubeconfig].clusters[].cluster.certificate-authority-data",
		"api v1/ConfigMap/kube-public/cluster-info | data[jws-kubeconfig-<generated-2>]",
		"api v1/ConfigMap/kube-system/coredns | data[Corefile].line002",
		"api v1/ConfigMap/kube-system/kube-proxy | data[config.conf].bindAddress",
		"api v1/ConfigMap/kube-system/kube-proxy | metadata.annotations.kubeadm.kubernetes.io/component-config.hash",
		"api v1/Node/<node-name> | spec.taints[1].key",
		"api v1/Secret/kube-system/bootstrap-token-<generated-1> | data[expiration]",
		"api v1/Secret/kube-system/kubeadm-certs | data[ca.key]",
	}
	for _, w := range wantSub {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, w+" |")
		}
		if !found {
			t.Errorf("difference %q not seen; got:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

func TestRenderNodeConfig(t *testing.T) {
	src := `# comment
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
certificateKey: abc
bootstrapTokens:
- token: abcdef.0123456789abcdef
- description: generated
nodeRegistration:
  ignorePreflightErrors: [Swap]
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: x
`
	out, key, ids, err := RenderNodeConfig([]byte(src), NodeIdentity{"pk1", "10.78.0.11"}, "/run/c.sock")
	if err != nil {
		t.Fatal(err)
	}
	if key != "abc" || !reflect.DeepEqual(ids, []string{"abcdef"}) {
		t.Errorf("certificate key %q, token ids %v", key, ids)
	}
	var docs []map[string]any
	for _, d := range docSep.Split(string(out), -1) {
		m, err := yamlToMap([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, m)
	}
	if len(docs) != 3 || docs[2]["kind"] != "KubeletConfiguration" || docs[2]["cgroupDriver"] != "cgroupfs" {
		t.Fatalf("want Init, Cluster and an added KubeletConfiguration:\n%s", out)
	}
	nr := docs[0]["nodeRegistration"].(map[string]any)
	if nr["name"] != "pk1" || nr["criSocket"] != "unix:///run/c.sock" || nr["imagePullPolicy"] != "Never" ||
		!reflect.DeepEqual(nr["ignorePreflightErrors"], []any{"Swap", "SystemVerification"}) ||
		docs[0]["localAPIEndpoint"].(map[string]any)["advertiseAddress"] != "10.78.0.11" || docs[1]["clusterName"] != "x" {
		t.Errorf("rendered:\n%s", out)
	}
	if _, _, _, err := RenderNodeConfig([]byte("kind: ClusterConfiguration\n"), NodeIdentity{"a", "1.2.3.4"}, "/s"); err == nil {
		t.Error("a config without InitConfiguration must be rejected")
	}
}

// testCA returns a fresh self-signed CA certificate (PEM).
func testCA(t *testing.T, cn string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func testJWS(id, secret, payload string) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","kid":"` + id + `"}`))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(h + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))))
	return h + ".." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
