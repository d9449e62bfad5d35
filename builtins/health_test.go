package builtins

import (
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime/cluster"
	"github.com/kubelark/kubelark/runtime/host"
)

// healthServer answers failures with failBody/failCode first, then 200 body.
func healthServer(t *testing.T, failures int64, failCode int, failBody, body string) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= failures {
			w.WriteHeader(failCode)
			_, _ = w.Write([]byte(failBody))
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts, &n
}

// netFake is liveFake with the real network, to probe httptest servers.
func netFake() *host.Fake {
	f := liveFake("")
	f.FHTTP = host.NewLive(host.LiveOptions{}).HTTPGet
	return f
}

func caOf(ts *httptest.Server) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}))
}

func TestWaitHealthySuccess(t *testing.T) {
	ts, n := healthServer(t, 3, 500, "[-]etcd failed", "ok")
	f := netFake()
	if _, err := f.WriteFile("/etc/kubernetes/pki/ca.crt", []byte(caOf(ts)), 0o644, 0o755); err != nil {
		t.Fatal(err)
	}
	a := newAPITest(t, f, cluster.NewDryRun(nil))
	g := a.mustExec(t, `r = wait_healthy("`+ts.URL+`/livez", ca="/etc/kubernetes/pki/ca.crt", name="kube-apiserver")`)
	if g["r"] != starlark.String("healthy") {
		t.Errorf("result %v", g["r"])
	}
	if n.Load() != 4 {
		t.Errorf("%d requests, want 4", n.Load())
	}
	acts := a.env.Plan().Actions
	if len(acts) != 1 || acts[0].Op != "wait" || acts[0].Result != "performed" || acts[0].Summary["name"] != "kube-apiserver" {
		t.Errorf("actions %+v", acts)
	}
	if !strings.Contains(a.out.String(), "kube-apiserver is healthy after 1.5s") {
		t.Errorf("output:\n%s", a.out.String())
	}
}

func TestWaitHealthyTimeoutReportsLastError(t *testing.T) {
	ts, _ := healthServer(t, 1<<40, 500, "[-]etcd failed: reason withheld", "ok")
	a := newAPITest(t, netFake(), nil)
	a.env.PushPhase("wait-control-plane")
	_, err := a.exec(`wait_healthy("` + ts.URL + `/livez", ca="""` + caOf(ts) + `""", name="kube-apiserver", timeout="25s", interval="1s")`)
	if err == nil {
		t.Fatal("want a timeout")
	}
	for _, want := range []string{"kube-apiserver at " + ts.URL + "/livez is not healthy after 25s", "last error: HTTP 500: [-]etcd failed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	out := a.out.String()
	if c := strings.Count(out, "[wait-control-plane] still waiting for kube-apiserver at "+ts.URL+"/livez: HTTP 500"); c != 2 {
		t.Errorf("want 2 progress lines (at 10s and 20s), got %d:\n%s", c, out)
	}
	if len(a.env.Plan().Actions) != 0 {
		t.Error("a failed wait must not be recorded as performed")
	}
}

func TestWaitHealthyBody(t *testing.T) {
	ts, _ := healthServer(t, 0, 0, "", "not ok")
	a := newAPITest(t, netFake(), nil)
	_, err := a.exec(`wait_healthy("` + ts.URL + `/healthz", insecure=True, timeout="2s")`)
	if err == nil || !strings.Contains(err.Error(), `HTTP 200 with body "not ok", want "ok"`) {
		t.Errorf("body mismatch: %v", err)
	}
	a.mustExec(t, `wait_healthy("`+ts.URL+`/healthz", insecure=True, expect_body=None)`)
	// Without the CA the TLS handshake fails; that is reported, not hidden.
	_, err = a.exec(`wait_healthy("` + ts.URL + `/healthz", timeout="1s")`)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("unverified server: %v", err)
	}
}

func TestWaitHealthyNotLive(t *testing.T) {
	ts, n := healthServer(t, 0, 0, "", "ok")
	a := newAPITest(t, host.NewFake(), nil)
	g := a.mustExec(t, `r = wait_healthy("`+ts.URL+`/healthz", name="kubelet")`)
	if g["r"] != starlark.String("recorded") || n.Load() != 0 {
		t.Errorf("result %v after %d requests", g["r"], n.Load())
	}
	acts := a.env.Plan().Actions
	if len(acts) != 1 || acts[0].Result != "recorded" || acts[0].Target != ts.URL+"/healthz" {
		t.Errorf("actions %+v", acts)
	}
	for src, want := range map[string]string{
		`wait_healthy("localhost:10248")`:                             "want an http:// or https:// URL",
		`wait_healthy("https://x", client_cert="/a")`:                 "go together",
		`wait_healthy("https://x", timeout="soon")`:                   "is not a duration",
		`wait_healthy("https://x", ca="/nonexistent", insecure=True)`: "not both",
		`wait_healthy("https://x", interval="0s")`:                    "interval must be positive",
		`wait_healthy("https://x", expect_body=1)`:                    "want string or None",
	} {
		if _, err := a.exec(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", src, err, want)
		}
	}
}
