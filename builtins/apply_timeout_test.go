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
// (kubeadm's timeouts.kubernetesAPICall).
func TestK8sClientTimeout(t *testing.T) {
	var hits atomic.Int64
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(503)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"ServiceUnavailable","code":503,"message":"not ready"}`))
	}))
	defer ts.Close()
	a := newAPITest(t, host.NewFake(), cluster.NewLive(cluster.LiveOptions{}))
	start := time.Now()
	_, err := a.exec(`k8s_get(k8s_client(anonymous=True, server="` + ts.URL + `", insecure=True, timeout="1500ms"), "v1", "ConfigMap", "x", namespace="default")`)
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), ts.URL) {
		t.Fatalf("want an error naming the server %s, got %v", ts.URL, err)
	}
	t.Logf("gave up after %s, %d requests: %v", took, hits.Load(), err)
	if took > 15*time.Second || hits.Load() < 2 {
		t.Errorf("gave up after %s and %d requests; want about 1.5s with retries", took, hits.Load())
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
