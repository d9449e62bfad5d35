package builtins

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubelark/kubelark/runtime/cluster"
	"github.com/kubelark/kubelark/runtime/host"
)

// sleepHost is a Fake whose Sleep runs a hook first: the world changes
// between two polls, as a kubelet or a controller would change it.
type sleepHost struct {
	*host.Fake
	sleeps  int
	onSleep func(n int)
}

func (s *sleepHost) Sleep(ctx context.Context, d time.Duration) error {
	s.sleeps++
	if s.onSleep != nil {
		s.onSleep(s.sleeps)
	}
	return s.Fake.Sleep(ctx, d)
}

func waitHost(t *testing.T, live bool) (*sleepHost, cluster.Client) {
	t.Helper()
	f := host.NewFake()
	f.FLive = live
	if _, err := f.WriteFile("/etc/kubernetes/admin.conf", []byte(adminConf), 0o600, 0o755); err != nil {
		t.Fatal(err)
	}
	dry := cluster.NewDryRun(nil)
	f.FClients = dry
	c, err := dry.ForKubeconfig([]byte(adminConf), "")
	if err != nil {
		t.Fatal(err)
	}
	return &sleepHost{Fake: f}, c
}

func putPod(t *testing.T, c cluster.Client, name string, labels map[string]any, ready bool) {
	t.Helper()
	status := "False"
	if ready {
		status = "True"
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": "kube-system", "labels": labels},
		"spec":     map[string]any{"nodeName": "node1"},
		"status":   map[string]any{"phase": "Running", "conditions": []any{map[string]any{"type": "Ready", "status": status}}},
	}}
	if _, _, err := c.Apply(context.Background(), obj, true); err != nil {
		t.Fatal(err)
	}
}

const readyPred = `
def ready(pod):
    if pod == None:
        return "no Pod yet"
    for c in pod.get("status", {}).get("conditions", []):
        if c["type"] == "Ready" and c["status"] == "True":
            return True
    return "not Ready"
c = k8s_client(kubeconfig="/etc/kubernetes/admin.conf")
`

// TestK8sWaitUntil: the predicate is polled on the host clock until it
// holds; the reason it gives is printed while waiting; the object is
// returned and one performed wait is recorded.
func TestK8sWaitUntil(t *testing.T) {
	h, c := waitHost(t, true)
	h.onSleep = func(n int) {
		switch n {
		case 25:
			putPod(t, c, "p", nil, false)
		case 50:
			putPod(t, c, "p", nil, true)
		}
	}
	env, thread, out := newTestEnv(t, h)
	g, err := execTest(thread, readyPred+`
pod = k8s_wait(c, "v1", "Pod", "p", namespace="kube-system", until=ready, what="Pod p Ready")
`)
	if err != nil {
		t.Fatal(err)
	}
	if h.sleeps != 50 {
		t.Errorf("polled %d times, want 50", h.sleeps)
	}
	if name, _, _ := g["pod"].(*starlark.Dict).Get(starlark.String("metadata")); !strings.Contains(name.String(), `"p"`) {
		t.Errorf("returned %v", g["pod"])
	}
	for _, want := range []string{"Waiting for Pod p Ready (up to 2m0s)", "still waiting for Pod p Ready: no Pod yet", "still waiting for Pod p Ready: not Ready", "Pod p Ready after 25s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	acts := env.Plan().Actions
	if len(acts) != 1 || acts[0].Op != "wait" || acts[0].Result != "performed" || acts[0].Target != "v1/Pod/kube-system/p" ||
		acts[0].Summary["condition"] != "until" || acts[0].Server != "https://cp.example:6443" || acts[0].Credential == "" {
		t.Errorf("actions: %+v", acts)
	}
}

// TestK8sWaitGoneAndList: gone=True waits until the object is deleted;
// with label_selector until sees the list.
func TestK8sWaitGoneAndList(t *testing.T) {
	h, c := waitHost(t, true)
	putPod(t, c, "mirror", nil, true)
	h.onSleep = func(n int) {
		if n == 4 {
			if _, err := c.Delete(context.Background(), "v1", "Pod", "kube-system", "mirror"); err != nil {
				t.Fatal(err)
			}
		}
		if n == 6 {
			putPod(t, c, "ds-1", map[string]any{"k8s-app": "x"}, true)
		}
	}
	_, thread, _ := newTestEnv(t, h)
	g, err := execTest(thread, readyPred+`
k8s_wait(c, "v1", "Pod", "mirror", namespace="kube-system", gone=True)
pods = k8s_wait(c, "v1", "Pod", namespace="kube-system", label_selector="k8s-app=x", until=lambda l: len(l) == 1 or "%d Pods" % len(l))
n = len(pods)
`)
	if err != nil {
		t.Fatal(err)
	}
	if h.sleeps != 6 || g["n"] != starlark.MakeInt(1) {
		t.Errorf("sleeps %d, n %v", h.sleeps, g["n"])
	}
}

// TestK8sWaitTimeout: the error names what was awaited, the object, the
// server and the predicate's last reason.
func TestK8sWaitTimeout(t *testing.T) {
	h, c := waitHost(t, true)
	putPod(t, c, "p", nil, false)
	_, thread, _ := newTestEnv(t, h)
	_, err := execTest(thread, readyPred+`k8s_wait(c, "v1", "Pod", "p", namespace="kube-system", until=ready, timeout="3s", what="Pod p Ready")`)
	if err == nil {
		t.Fatal("want a timeout")
	}
	for _, want := range []string{"k8s_wait: timed out after 3s waiting for Pod p Ready", "v1/Pod/kube-system/p on https://cp.example:6443", ": not Ready"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if h.sleeps != 6 {
		t.Errorf("slept %d times in 3s at 500ms, want 6", h.sleeps)
	}
}

// TestK8sWaitNotLive: a dry run (or a host that is not the running system)
// reads once, waits for nothing and records the wait.
func TestK8sWaitNotLive(t *testing.T) {
	for _, live := range []bool{false, true} {
		h, c := waitHost(t, live)
		h.FDryRun = live // live+dry run, or not live
		putPod(t, c, "p", nil, false)
		env, thread, _ := newTestEnv(t, h)
		g, err := execTest(thread, readyPred+`
calls = []
def count(p):
    calls.append(1)
    return False
pod = k8s_wait(c, "v1", "Pod", "p", namespace="kube-system", until=count)
missing = k8s_wait(c, "v1", "Pod", "q", namespace="kube-system", gone=True)
n = len(calls)
`)
		if err != nil {
			t.Fatal(err)
		}
		if h.sleeps != 0 || g["n"] != starlark.MakeInt(0) || g["pod"] == starlark.None || g["missing"] != starlark.None {
			t.Errorf("live=%v: sleeps %d, until called %v times, pod %v, missing %v", live, h.sleeps, g["n"], g["pod"], g["missing"])
		}
		acts := env.Plan().Actions
		if len(acts) != 2 || acts[0].Result != "recorded" || acts[1].Summary["condition"] != "gone" {
			t.Errorf("live=%v: actions %+v", live, acts)
		}
	}
}

// TestK8sWaitForbidden: a refusal is not something to wait out.
func TestK8sWaitForbidden(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(403)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"pods \"p\" is forbidden"}`))
	}))
	defer ts.Close()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	f := host.NewFake()
	f.FLive = true
	if _, err := f.WriteFile("/pki/ca.crt", caPEM, 0o644, 0o755); err != nil {
		t.Fatal(err)
	}
	f.FClients = cluster.NewLive(cluster.LiveOptions{Retry: cluster.Retry{Timeout: time.Second, Initial: 10 * time.Millisecond}, Clock: f})
	h := &sleepHost{Fake: f}
	_, thread, _ := newTestEnv(t, h)
	_, err := execTest(thread, `k8s_wait(k8s_client(token="abcdef.0123456789abcdef", server="`+ts.URL+`", ca="/pki/ca.crt"), "v1", "Pod", "p", namespace="kube-system", gone=True)`)
	if err == nil || !strings.Contains(err.Error(), "Forbidden") || strings.Contains(err.Error(), "0123456789abcdef") {
		t.Errorf("err = %v", err)
	}
	if h.sleeps != 0 {
		t.Errorf("Forbidden was retried %d times", h.sleeps)
	}
}

func TestK8sWaitArgumentErrors(t *testing.T) {
	h, _ := waitHost(t, true)
	for src, want := range map[string]string{
		`k8s_wait(c, "v1", "Pod", gone=True)`:                                       "exactly one of name=",
		`k8s_wait(c, "v1", "Pod", "p", label_selector="a=b", gone=True)`:            "exactly one of name=",
		`k8s_wait(c, "v1", "Pod", "p")`:                                             "exactly one of until=",
		`k8s_wait(c, "v1", "Pod", "p", gone=True, until=ready)`:                     "exactly one of until=",
		`k8s_wait(c, "v1", "Pod", "p", until=3)`:                                    "want a function",
		`k8s_wait(c, "v1", "Pod", "p", gone=True, timeout="soon")`:                  `timeout="soon" is not a duration`,
		`k8s_wait(c, "v1", "Pod", "p", gone=True, interval="0s")`:                   "interval must be positive",
		`k8s_wait("c", "v1", "Pod", "p", gone=True)`:                                "want k8s_client",
		`k8s_wait(c, "", "Pod", "p", gone=True)`:                                    "api_version and kind are required",
		`k8s_wait(c, "v1", "ConfigMap", "p", namespace="x", until=lambda o: 1)`:     "until returned int",
		`k8s_wait(c, "v1", "ConfigMap", "p", namespace="x", until=lambda o: {}[1])`: "until:",
	} {
		_, thread, _ := newTestEnv(t, h)
		_, err := execTest(thread, readyPred+src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", src, err, want)
		}
	}
}

// TestK8sWaitAPIServerDown: while the API server does not answer (the
// self-hosting pivot replaces it), polling goes on; the reason is shown.
func TestK8sWaitAPIServerDown(t *testing.T) {
	var gets int
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		gets++
		if gets <= 100 {
			w.WriteHeader(503)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"ServiceUnavailable","code":503,"message":"not ready"}`))
			return
		}
		_, _ = w.Write([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"kube-system"}}`))
	}))
	defer ts.Close()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	f := host.NewFake()
	f.FLive = true
	if _, err := f.WriteFile("/pki/ca.crt", caPEM, 0o644, 0o755); err != nil {
		t.Fatal(err)
	}
	f.FClients = cluster.NewLive(cluster.LiveOptions{Retry: cluster.Retry{Timeout: time.Millisecond, Initial: time.Millisecond}, Clock: f})
	h := &sleepHost{Fake: f}
	_, thread, out := newTestEnv(t, h)
	_, err := execTest(thread, `k8s_wait(k8s_client(token="abcdef.0123456789abcdef", server="`+ts.URL+`", ca="/pki/ca.crt"), "v1", "Pod", "p", namespace="kube-system", until=lambda p: p != None)`)
	if err != nil {
		t.Fatal(err)
	}
	if h.sleeps == 0 || !strings.Contains(out.String(), "the API server did not answer") {
		t.Errorf("sleeps %d, output:\n%s", h.sleeps, out)
	}
}
