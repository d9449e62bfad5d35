package builtins

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubelark/kubelark/runtime/cluster"
	"github.com/kubelark/kubelark/runtime/host"
)

// TestK8sClientTimeout: k8s_client(timeout=...) bounds how long each call
// retries a failing API server, instead of the factory's default minute
// (kubeadm's timeouts.kubernetesAPICall). The retries run on the host's
// (fake) clock, so the budget is measured without waiting for it.
func TestK8sClientTimeout(t *testing.T) {
	var hits atomic.Int64
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(503)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"ServiceUnavailable","code":503,"message":"not ready"}`))
	}))
	defer ts.Close()
	h := host.NewFake()
	a := newAPITest(t, h, cluster.NewLive(cluster.LiveOptions{Clock: h}))
	start := h.Now()
	_, err := a.exec(`k8s_get(k8s_client(anonymous=True, server="` + ts.URL + `", insecure=True, timeout="1500ms"), "v1", "ConfigMap", "x", namespace="default")`)
	took := h.Now().Sub(start)
	if err == nil || !strings.Contains(err.Error(), ts.URL) {
		t.Fatalf("want an error naming the server %s, got %v", ts.URL, err)
	}
	t.Logf("gave up after %s on the host clock, %d requests: %v", took, hits.Load(), err)
	// Backoff 500ms, then 1s: at 1.5s the next 2s wait exceeds the budget.
	if took != 1500*time.Millisecond || hits.Load() != 3 {
		t.Errorf("gave up after %s and %d requests; want 1.5s on the host clock and 3 requests", took, hits.Load())
	}
	for src, want := range map[string]string{
		`k8s_client(anonymous=True, server="https://x", insecure=True, timeout="soon")`: `timeout="soon"`,
		`k8s_client(anonymous=True, server="https://x", insecure=True, timeout="-1s")`:  "positive duration",
	} {
		if _, err := a.exec(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", src, err, want)
		}
	}
}
