package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func testRetry() Retry {
	return Retry{Timeout: 2 * time.Second, Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}
}

func configMap(ns, name string, data map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"data":     data,
	}}
}

func TestLiveApplyCreatedUpdatedUnchanged(t *testing.T) {
	api := newFakeAPI(t)
	f := NewLive(LiveOptions{Retry: testRetry()})
	c, err := f.ForKubeconfig(api.kubeconfig(t, "https://127.0.0.1:1"), api.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server() != api.ts.URL {
		t.Errorf("server override: got %s", c.Server())
	}
	ctx := context.Background()
	for i, tc := range []struct {
		data map[string]any
		want string
	}{
		{map[string]any{"a": "1"}, Created},
		{map[string]any{"a": "1"}, Unchanged},
		{map[string]any{"a": "2"}, Updated},
	} {
		res, obj, err := c.Apply(ctx, configMap("kube-system", "kubeadm-config", tc.data), false)
		if err != nil {
			t.Fatalf("apply %d: %v", i, err)
		}
		if res != tc.want {
			t.Errorf("apply %d: result %s, want %s", i, res, tc.want)
		}
		if obj.GetResourceVersion() == "" {
			t.Errorf("apply %d: returned object has no resourceVersion", i)
		}
	}
	got, err := c.Get(ctx, "v1", "ConfigMap", "kube-system", "kubeadm-config")
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := unstructured.NestedString(got.Object, "data", "a"); v != "2" {
		t.Errorf("get: data.a = %q", v)
	}
	// Built-in kinds need no discovery: 3 × (GET + PATCH) + 1 GET.
	if n := f.RequestCount(); n != 7 {
		t.Errorf("request count %d, want 7 (requests: %v)", n, api.requests)
	}
	if res, err := c.Delete(ctx, "v1", "ConfigMap", "kube-system", "kubeadm-config"); err != nil || res != Deleted {
		t.Errorf("delete: %s, %v", res, err)
	}
	if res, err := c.Delete(ctx, "v1", "ConfigMap", "kube-system", "kubeadm-config"); err != nil || res != Absent {
		t.Errorf("second delete: %s, %v", res, err)
	}
	_, err = c.Get(ctx, "v1", "ConfigMap", "kube-system", "kubeadm-config")
	if !IsNotFound(err) {
		t.Errorf("get after delete: want NotFound, got %v", err)
	}
}

func TestLiveRetriesTransientFailures(t *testing.T) {
	for _, codes := range [][]int{{503, 503}, {429}, {500, 504, 429}} {
		api := newFakeAPI(t)
		api.failNext = codes
		f := NewLive(LiveOptions{Retry: testRetry()})
		c, err := f.ForToken(api.ts.URL, api.caPEM(), "abcdef.0123456789abcdef")
		if err != nil {
			t.Fatal(err)
		}
		res, _, err := c.Apply(context.Background(), configMap("kube-system", "x", map[string]any{"k": "v"}), false)
		if err != nil || res != Created {
			t.Errorf("codes %v: got %s, %v", codes, res, err)
		}
		if n := f.RequestCount(); n != int64(len(codes))+2 {
			t.Errorf("codes %v: %d requests, want %d", codes, n, len(codes)+2)
		}
	}
}

func TestLiveErrorsNameObjectAndReason(t *testing.T) {
	api := newFakeAPI(t)
	f := NewLive(LiveOptions{Retry: testRetry()})
	c, err := f.ForKubeconfig(api.kubeconfig(t, api.ts.URL), "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Apply(context.Background(), configMap("kube-system", "bad", map[string]any{"x y": "1"}), false)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"apply v1/ConfigMap kube-system/bad", "server said Invalid", "a valid config key", "fix the object"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if f.RequestCount() != 2 {
		t.Errorf("a 422 must not be retried: %d requests", f.RequestCount())
	}
	var oe *ObjectError
	if !errors.As(err, &oe) || oe.Attempts != 1 {
		t.Errorf("want an ObjectError with 1 attempt, got %#v", err)
	}
}

// stepClock is a Clock whose Sleep moves it instead of waiting.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }
func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return ctx.Err()
}

// Retries run on the factory's Clock (the Host's), not the wall clock.
func TestLiveGivesUpOnConnectionRefused(t *testing.T) {
	api := newFakeAPI(t)
	url, ca := api.ts.URL, api.caPEM()
	api.ts.Close()
	clk := &stepClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	f := NewLive(LiveOptions{Retry: Retry{Timeout: 300 * time.Millisecond, Initial: 20 * time.Millisecond, Max: 40 * time.Millisecond}, Clock: clk})
	c, err := f.Anonymous(url, ca, false)
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	_, err = c.Get(context.Background(), "v1", "ConfigMap", "kube-public", "cluster-info")
	if err == nil {
		t.Fatal("want an error")
	}
	// On the given clock: 20ms, then 40ms pauses until the 300ms are spent.
	if d := clk.Now().Sub(start); d != 300*time.Millisecond {
		t.Errorf("retried for %s on the clock, want the 300ms budget", d)
	}
	var oe *ObjectError
	if !errors.As(err, &oe) || oe.Attempts != 9 {
		t.Errorf("want an ObjectError after 9 attempts (0, 20, 60, ... 300ms), got %#v", err)
	}
	for _, want := range []string{"get v1/ConfigMap kube-public/cluster-info on " + url, "gave up after", "connection refused", "reachable"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if f.RequestCount() < 3 {
		t.Errorf("expected several attempts, got %d", f.RequestCount())
	}
}

func TestLiveDiscoveryResetOnNoMatch(t *testing.T) {
	api := newFakeAPI(t)
	f := NewLive(LiveOptions{Retry: testRetry()})
	c, err := f.ForKubeconfig(api.kubeconfig(t, api.ts.URL), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = c.Get(ctx, "example.com/v1", "Widget", "default", "w")
	if err == nil || !strings.Contains(err.Error(), `does not serve kind "Widget"`) {
		t.Fatalf("before the CRD: want a no-match error, got %v", err)
	}
	api.mu.Lock()
	api.widgets = true // the CRD is now established
	api.mu.Unlock()
	w := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w"}, "data": map[string]any{"size": int64(3)}}}
	res, obj, err := c.Apply(ctx, w, false)
	if err != nil || res != Created {
		t.Fatalf("apply after CRD: %s, %v", res, err)
	}
	if obj.GetNamespace() != "default" {
		t.Errorf("namespaced kind without namespace: got namespace %q, want default", obj.GetNamespace())
	}
}

func TestConstructorsValidate(t *testing.T) {
	f := NewLive(LiveOptions{})
	if _, err := f.ForToken("https://x", nil, "abcdef.0123456789abcdef"); err == nil || !strings.Contains(err.Error(), "CA") {
		t.Errorf("token without CA: %v", err)
	}
	if _, err := f.Anonymous("https://x", nil, false); err == nil || !strings.Contains(err.Error(), "insecure=True") {
		t.Errorf("anonymous without CA: %v", err)
	}
	if _, err := f.ForKubeconfig([]byte("not: [a kubeconfig"), ""); err == nil || !strings.Contains(err.Error(), "invalid kubeconfig") {
		t.Errorf("bad kubeconfig: %v", err)
	}
}
