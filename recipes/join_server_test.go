package recipes_test

// Discovery against a real TLS server (httptest) serving cluster-info, for
// the failures an in-memory cluster cannot produce: cluster-info altered
// between the two reads, a CA in cluster-info that is not the server's,
// and no server at all.

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/cluster-bootstrap/token/jws"

	"github.com/kubelark/kubelark/runtime/cluster"
	"github.com/kubelark/kubelark/runtime/host"
)

// clusterInfoServer serves kube-public/cluster-info whose kubeconfig names
// the server and carries caPEM (nil: the server's own certificate), signed
// for joinToken. answer may rewrite the kubeconfig of the n-th read (1-based).
func clusterInfoServer(t *testing.T, caPEM []byte, answer func(n int, kubeconfig string) string) (*httptest.Server, []byte) {
	t.Helper()
	var mu sync.Mutex
	reads := 0
	var kubeconfig string
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/namespaces/kube-public/configmaps/cluster-info" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		reads++
		kc := kubeconfig
		if answer != nil {
			kc = answer(reads, kc)
		}
		mu.Unlock()
		id, secret, _ := strings.Cut(joinToken, ".")
		sig, err := jws.ComputeDetachedSignature(kubeconfig, id, secret)
		if err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "cluster-info", "namespace": "kube-public"},
			"data":     map[string]any{"kubeconfig": kc, "jws-kubeconfig-" + id: sig}})
	}))
	ts.StartTLS()
	t.Cleanup(ts.Close)
	serverCA := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if caPEM == nil {
		caPEM = serverCA
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[""] = &clientcmdapi.Cluster{Server: ts.URL, CertificateAuthorityData: caPEM}
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig = string(b)
	return ts, caPEM
}

// liveWorker is a fake machine whose API clients are real ones on its clock.
func liveWorker() *host.Fake {
	w := newFake()
	w.FHostname = "node2"
	w.FClients = cluster.NewLive(cluster.LiveOptions{Clock: w})
	return w
}

func pinOf(t *testing.T, caPEM []byte) string {
	t.Helper()
	certs, err := certutil.ParseCertsPEM(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pin(certs[0])
}

func TestJoinDiscoveryAgainstServer(t *testing.T) {
	otherCA, _, err := certutil.GenerateSelfSignedCertKey("not-the-server", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		ca       []byte
		answer   func(n int, kc string) string
		endpoint string // "" = the server
		want     string
	}{
		{name: "Verified", want: ""},
		{name: "ChangedBetweenReads", answer: func(n int, kc string) string {
			if n > 1 {
				return kc + "# altered\n"
			}
			return kc
		}, want: "cluster-info changed between the unverified read and the verified one"},
		{name: "CANotTheServers", ca: otherCA, want: "reading cluster-info again over TLS verified with the pinned CA failed"},
		{name: "Unreachable", endpoint: "127.0.0.1:1", want: "cannot reach the API server at https://127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, caPEM := clusterInfoServer(t, tc.ca, tc.answer)
			endpoint := strings.TrimPrefix(ts.URL, "https://")
			if tc.endpoint != "" {
				endpoint = tc.endpoint
			}
			w := liveWorker()
			_, out, err := runJoin(t, w, false, "api_server_endpoint="+endpoint, "token="+joinToken, "ca_cert_hash="+pinOf(t, caPEM),
				"timeout_discovery=3s", "timeout_kubernetes_api_call=2s", "skip_phases=preflight")
			if tc.want == "" {
				// Discovery passed; the bootstrap client then finds no kubelet-config.
				if err == nil || !strings.Contains(out, "Cluster-info verified") {
					t.Fatalf("discovery did not verify: %v\n%s", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q\n%s", err, tc.want, out)
			}
			if _, _, ok := w.Get("/etc/kubernetes/bootstrap-kubelet.conf"); ok {
				t.Errorf("bootstrap-kubelet.conf written after a failed discovery")
			}
		})
	}
}
