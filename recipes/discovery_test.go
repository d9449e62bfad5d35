package recipes_test

// File and HTTPS discovery, and the token-discovery failures that need a
// server answering in a particular way (expired token, Forbidden,
// connection refused): kubeadm-facts §7.2-7.3.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubelark/kubelark/runtime/host"
)

// discoveryConf is a kubeconfig for server with the given CA (nil: none,
// insecure-skip-tls-verify) and user.
func discoveryConf(t *testing.T, server string, ca []byte, user *clientcmdapi.AuthInfo) []byte {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["k"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca, InsecureSkipTLSVerify: ca == nil}
	if user == nil {
		user = &clientcmdapi.AuthInfo{}
	}
	cfg.AuthInfos["u"] = user
	cfg.Contexts["c"] = &clientcmdapi.Context{Cluster: "k", AuthInfo: "u"}
	cfg.CurrentContext = "c"
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bootstrapConf is the worker's bootstrap-kubelet.conf: server, CA, token.
func bootstrapConf(t *testing.T, w *host.Fake) (string, []byte, string) {
	t.Helper()
	bk, _, ok := w.Get("/etc/kubernetes/bootstrap-kubelet.conf")
	if !ok {
		t.Fatal("no bootstrap-kubelet.conf")
	}
	kc, err := clientcmd.Load(bk)
	if err != nil {
		t.Fatal(err)
	}
	ctx := kc.Contexts[kc.CurrentContext]
	return kc.Clusters[ctx.Cluster].Server, kc.Clusters[ctx.Cluster].CertificateAuthorityData, kc.AuthInfos[ctx.AuthInfo].Token
}

// TestFileDiscoveryTakesCAFromClusterInfo: a file without a CA (and
// skipping verification) gets the CA of cluster-info, with a warning; a
// file:// URL is a path; a tokenFile next to the file is inlined and is
// the TLS bootstrap credential when no token is given.
func TestFileDiscoveryTakesCAFromClusterInfo(t *testing.T) {
	cp, _ := initCluster(t, false)
	cpCA, _, _ := cp.Get("/etc/kubernetes/pki/ca.crt")
	w := worker(cp)
	w.Put("/etc/kubernetes/disc/join.conf", discoveryConf(t, "https://"+joinServer, nil, &clientcmdapi.AuthInfo{TokenFile: "token"}), 0o600)
	w.Put("/etc/kubernetes/disc/token", []byte(joinToken+"\n"), 0o600)
	_, out, err := runJoin(t, w, false, "discovery_file=file:///etc/kubernetes/disc/join.conf", "skip_phases=kubelet-wait-bootstrap")
	if err != nil {
		t.Fatalf("join: %v\n%s", err, out)
	}
	for _, want := range []string{"skips TLS verification and has no CA", "Taking the cluster CA from kube-public/cluster-info"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q:\n%s", want, out)
		}
	}
	server, ca, token := bootstrapConf(t, w)
	if server != "https://"+joinServer || !bytes.Equal(ca, cpCA) || token != joinToken {
		t.Errorf("bootstrap-kubelet.conf: server %s, CA is the cluster's %v, token from the tokenFile %v", server, bytes.Equal(ca, cpCA), token == joinToken)
	}
	if got, _, _ := w.Get("/etc/kubernetes/pki/ca.crt"); !bytes.Equal(got, cpCA) {
		t.Errorf("ca.crt is not the CA from cluster-info")
	}
	if strings.Contains(out, "0123456789abcdef") {
		t.Errorf("the output shows the token secret")
	}
}

// TestFileDiscoveryRefusals: each bad discovery file is refused by name
// before anything is written.
func TestFileDiscoveryRefusals(t *testing.T) {
	cp, _ := initCluster(t, false)
	cpCA, _, _ := cp.Get("/etc/kubernetes/pki/ca.crt")
	for _, tc := range []struct {
		name, file string
		conf       []byte
		set        []string
		want       string
	}{
		{"Relative", "", nil, []string{"discovery_file=join.conf"}, "is not an absolute path, a file:// URL or an https:// URL"},
		{"PlainHTTP", "", nil, []string{"discovery_file=http://10.0.0.10/join.conf"}, "plain http is refused"},
		{"Missing", "", nil, []string{"discovery_file=/etc/kubernetes/nope.conf"}, "discovery_file /etc/kubernetes/nope.conf does not exist"},
		{"NoCA", "/etc/kubernetes/d.conf", discoveryConf(t, "https://"+joinServer, nil, nil), nil, ""},
		{"ClientCertOnly", "/etc/kubernetes/d.conf", discoveryConf(t, "https://"+joinServer, cpCA, &clientcmdapi.AuthInfo{ClientCertificate: "/x.crt", ClientKey: "/x.key"}), nil,
			"authenticates with client_certificate credentials"},
		{"NoServer", "/etc/kubernetes/d.conf", discoveryConf(t, "", cpCA, nil), []string{"tls_bootstrap_token=" + joinToken}, "has no server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := worker(cp)
			set := tc.set
			if tc.file != "" {
				conf := tc.conf
				if tc.name == "NoCA" {
					// Neither a CA nor insecure-skip-tls-verify.
					conf = bytes.Replace(conf, []byte("insecure-skip-tls-verify: true"), nil, 1)
					tc.want = "carries no CA"
					set = []string{"tls_bootstrap_token=" + joinToken}
				}
				w.Put(tc.file, conf, 0o600)
				set = append(set, "discovery_file="+tc.file)
			}
			plan, out, err := runJoin(t, w, false, append(set, "skip_phases=kubelet-wait-bootstrap")...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q\n%s", err, tc.want, out)
			}
			for _, a := range plan.Actions {
				if strings.HasPrefix(a.Op, "file.") || strings.HasPrefix(a.Op, "service.") {
					t.Errorf("a refused discovery file recorded %s %s", a.Op, a.Target)
				}
			}
		})
	}
}

// TestHTTPSDiscovery: discovery_file = https://... is downloaded through
// the host (system CA bundle: no TLS config of its own) and proceeds as a
// file; a failed download names the URL.
func TestHTTPSDiscovery(t *testing.T) {
	cp, _ := initCluster(t, false)
	cpCA, _, _ := cp.Get("/etc/kubernetes/pki/ca.crt")
	conf := discoveryConf(t, "https://"+joinServer, cpCA, &clientcmdapi.AuthInfo{Token: joinToken})
	w := worker(cp)
	var got []string
	w.FHTTP = func(ctx context.Context, url string, tlsCfg *tls.Config) (host.HTTPResponse, error) {
		got = append(got, url)
		if tlsCfg != nil {
			t.Errorf("the download has its own TLS config; want the system CA bundle")
		}
		if url != "https://config.example/join.conf" {
			return host.HTTPResponse{Status: 404}, nil
		}
		return host.HTTPResponse{Status: 200, Body: conf}, nil
	}
	plan, out, err := runJoin(t, w, false, "discovery_file=https://config.example/join.conf", "skip_phases=kubelet-wait-bootstrap")
	if err != nil {
		t.Fatalf("join: %v\n%s", err, out)
	}
	if len(got) != 1 {
		t.Errorf("downloads %v, want one", got)
	}
	if server, ca, token := bootstrapConf(t, w); server != "https://"+joinServer || !bytes.Equal(ca, cpCA) || token != joinToken {
		t.Errorf("bootstrap-kubelet.conf from the downloaded file: server %s, CA ok %v, token ok %v", server, bytes.Equal(ca, cpCA), token == joinToken)
	}
	if strings.Contains(string(maskPlan(t, plan)), "0123456789abcdef") || strings.Contains(out, "0123456789abcdef") {
		t.Errorf("the token of the downloaded file is in the plan or the output")
	}
	w2 := worker(cp)
	w2.FHTTP = w.FHTTP
	if _, out, err := runJoin(t, w2, false, "discovery_file=https://config.example/other.conf", "skip_phases=kubelet-wait-bootstrap"); err == nil ||
		!strings.Contains(err.Error(), "downloading discovery_file https://config.example/other.conf: the server answered HTTP 404") {
		t.Errorf("err = %v\n%s", err, out)
	}
}

// discoveryServer answers cluster-info as status(authorization header)
// says: 0 = the ConfigMap (kubeconfig for the server itself, signed for
// signedFor when not ""), else that HTTP status.
func discoveryServer(t *testing.T, signedFor string, status func(auth string) int) *httptest.Server {
	t.Helper()
	var ts *httptest.Server
	ts = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		code := status(r.Header.Get("Authorization"))
		if r.URL.Path != "/api/v1/namespaces/kube-public/configmaps/cluster-info" {
			code = 404
		}
		if code != 0 {
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","code":%d,"reason":%q}`, code, http.StatusText(code))
			return
		}
		ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
		kc := string(discoveryConf(t, ts.URL, ca, nil))
		data := map[string]any{"kubeconfig": kc}
		if signedFor != "" {
			data["jws-kubeconfig-"+signedFor] = "not-checked-here"
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "cluster-info", "namespace": "kube-public"}, "data": data})
	}))
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts
}

// TestDiscoveryAnswers: the failures and acceptances that depend on how
// the server answers.
func TestDiscoveryAnswers(t *testing.T) {
	t.Run("ExpiredToken", func(t *testing.T) {
		// cluster-info without a signature for the token, and 401 for the
		// token itself: what an expired (deleted) token looks like.
		ts := discoveryServer(t, "", func(auth string) int {
			if auth != "" {
				return 401
			}
			return 0
		})
		ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
		_, out, err := runJoin(t, liveWorker(), false, "api_server_endpoint="+strings.TrimPrefix(ts.URL, "https://"), "token="+joinToken,
			"ca_cert_hash="+pinOf(t, ca), "timeout_discovery=2s", "skip_phases=preflight")
		for _, want := range []string{`no signature for token id "abcdef"`, "refuses that token (401 Unauthorized)", "wrong or expired", "kubelark token create --print-join-command"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want %q\n%s", err, want, out)
			}
		}
	})
	t.Run("WrongTokenUnpinnedServerNeverSeesIt", func(t *testing.T) {
		// With a CA pin that does not match, the token is not sent.
		var sawToken bool
		ts := discoveryServer(t, "", func(auth string) int {
			if auth != "" {
				sawToken = true
				return 401
			}
			return 0
		})
		_, _, err := runJoin(t, liveWorker(), false, "api_server_endpoint="+strings.TrimPrefix(ts.URL, "https://"), "token="+joinToken,
			"ca_cert_hash=sha256:"+strings.Repeat("0", 64), "timeout_discovery=2s", "skip_phases=preflight")
		if err == nil || !strings.Contains(err.Error(), "may be wrong or expired") || strings.Contains(err.Error(), "401") {
			t.Errorf("err = %v", err)
		}
		if sawToken {
			t.Errorf("the token was sent to a server whose CA matches no pin")
		}
	})
	t.Run("ConnectionRefused", func(t *testing.T) {
		_, _, err := runJoin(t, liveWorker(), false, "api_server_endpoint=127.0.0.1:1", "token="+joinToken,
			"ca_cert_hash=sha256:"+strings.Repeat("0", 64), "timeout_discovery=2s", "timeout_kubernetes_api_call=1s", "skip_phases=preflight")
		if err == nil || !strings.Contains(err.Error(), "cannot reach the API server at https://127.0.0.1:1") ||
			!strings.Contains(err.Error(), "nothing listens at 127.0.0.1:1 (connection refused)") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("FileForbiddenAccepted", func(t *testing.T) {
		ts := discoveryServer(t, "", func(string) int { return 403 })
		ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
		w := liveWorker()
		w.Put("/etc/kubernetes/d.conf", discoveryConf(t, ts.URL, ca, nil), 0o600)
		_, out, err := runJoin(t, w, false, "discovery_file=/etc/kubernetes/d.conf", "tls_bootstrap_token="+joinToken,
			"timeout_discovery=30s", "timeout_kubernetes_api_call=2s", "skip_phases=preflight")
		// Discovery accepted the file; kubelet-start then finds no kubelet-config.
		if !strings.Contains(out, "is not readable (Forbidden), but TLS verified; using the file as it is") || err == nil || !strings.Contains(err.Error(), "kubelet-start") {
			t.Errorf("err = %v\n%s", err, out)
		}
	})
	t.Run("FileTokenRefused", func(t *testing.T) {
		ts := discoveryServer(t, "", func(auth string) int {
			if auth != "" {
				return 401
			}
			return 0
		})
		ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
		w := liveWorker()
		w.Put("/etc/kubernetes/d.conf", discoveryConf(t, ts.URL, ca, &clientcmdapi.AuthInfo{Token: joinToken}), 0o600)
		_, _, err := runJoin(t, w, false, "discovery_file=/etc/kubernetes/d.conf", "timeout_discovery=30s", "skip_phases=preflight")
		if err == nil || !strings.Contains(err.Error(), "refuses the file's token (401 Unauthorized)") {
			t.Errorf("err = %v", err)
		}
		if _, _, ok := w.Get("/etc/kubernetes/bootstrap-kubelet.conf"); ok {
			t.Errorf("bootstrap-kubelet.conf written after a failed discovery")
		}
	})
	t.Run("FileServerDiffers", func(t *testing.T) {
		ts := discoveryServer(t, "", func(string) int { return 0 })
		ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
		other := ts.URL + "/" // the same server, written differently
		w := liveWorker()
		w.Put("/etc/kubernetes/d.conf", discoveryConf(t, other, ca, nil), 0o600)
		_, out, _ := runJoin(t, w, false, "discovery_file=/etc/kubernetes/d.conf", "tls_bootstrap_token="+joinToken,
			"timeout_discovery=30s", "timeout_kubernetes_api_call=2s", "skip_phases=preflight")
		if !strings.Contains(out, "the API server "+other+" in use differs from "+ts.URL) {
			t.Errorf("no warning of the different server:\n%s", out)
		}
	})
	t.Run("FileWrongCA", func(t *testing.T) {
		ts := discoveryServer(t, "", func(string) int { return 0 })
		cp, _ := initCluster(t, false)
		otherCA, _, _ := cp.Get("/etc/kubernetes/pki/ca.crt")
		w := liveWorker()
		w.Put("/etc/kubernetes/d.conf", discoveryConf(t, ts.URL, otherCA, nil), 0o600)
		_, _, err := runJoin(t, w, false, "discovery_file=/etc/kubernetes/d.conf", "tls_bootstrap_token="+joinToken,
			"timeout_discovery=1h", "skip_phases=preflight")
		if err == nil || !strings.Contains(err.Error(), "does not present a certificate signed by the file's CA") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestFileDiscoveryDryRunWithoutCluster: a dry run with a discovery file
// and no cluster behind it plans with the file's server and CA, and
// placeholders for what only the cluster says; nothing is written.
func TestFileDiscoveryDryRunWithoutCluster(t *testing.T) {
	cp, _ := initCluster(t, false)
	cpCA, _, _ := cp.Get("/etc/kubernetes/pki/ca.crt")
	w := newFake()
	w.FHostname, w.FIP = "node2", "10.0.0.20"
	w.Put("/etc/kubernetes/d.conf", discoveryConf(t, "https://"+joinServer, cpCA, nil), 0o600)
	plan, out, err := runJoin(t, w, true, "discovery_file=/etc/kubernetes/d.conf", "tls_bootstrap_token="+joinToken)
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "planning with the file as it is and placeholders for the kubelet configuration") {
		t.Errorf("the dry run does not say it plans with placeholders:\n%s", out)
	}
	writes := map[string]bool{}
	for _, a := range plan.Actions {
		if a.Op == "file.write" {
			writes[a.Target] = true
		}
	}
	for _, want := range []string{"/etc/kubernetes/bootstrap-kubelet.conf", "/etc/kubernetes/pki/ca.crt", "/var/lib/kubelet/config.yaml"} {
		if !writes[want] {
			t.Errorf("the plan does not write %s (writes %v)", want, writes)
		}
	}
	if _, _, ok := w.Get("/etc/kubernetes/bootstrap-kubelet.conf"); ok {
		t.Errorf("the dry run wrote bootstrap-kubelet.conf")
	}
}
