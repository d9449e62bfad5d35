package host

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubelark/kubelark/runtime/cluster"
)

const testKubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://10.0.0.10:6443"}}]
users: [{name: u, user: {token: abcdef.0123456789abcdef}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`

func configMap(data string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "kubeadm-config", "namespace": "kube-system"},
		"data":     map[string]any{"k": data},
	}}
}

// The DryRun host's API factory reads through to its base's cluster (here a
// Fake whose cluster is itself an overlay holding one object) and keeps its
// writes to itself: an object that exists and matches is unchanged.
func TestDryRunClientsReadThrough(t *testing.T) {
	ctx := context.Background()
	base := NewFake()
	bc, err := base.Clients().ForKubeconfig([]byte(testKubeconfig), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bc.Apply(ctx, configMap("v"), false); err != nil {
		t.Fatal(err)
	}
	d := NewDryRun(base)
	if d.Clients() != d.Clients() {
		t.Fatal("Clients must return one factory per run (one overlay)")
	}
	c, err := d.Clients().ForKubeconfig([]byte(testKubeconfig), "")
	if err != nil {
		t.Fatal(err)
	}
	if res, _, err := c.Apply(ctx, configMap("v"), false); err != nil || res != cluster.Unchanged {
		t.Fatalf("applying what the cluster holds = %v, %v; want unchanged", res, err)
	}
	if res, _, err := c.Apply(ctx, configMap("w"), false); err != nil || res != cluster.Updated {
		t.Fatalf("applying a change = %v, %v; want updated", res, err)
	}
	got, err := bc.Get(ctx, "v1", "ConfigMap", "kube-system", "kubeadm-config")
	if err != nil || got.Object["data"].(map[string]any)["k"] != "v" {
		t.Fatalf("the dry run wrote through to the base cluster: %v, %v", got, err)
	}
}

// Under --root the API factory is an overlay with nothing behind it; without
// --root the sandbox passes its base's through.
func TestSandboxClients(t *testing.T) {
	base := NewFake()
	s, err := NewSandbox(base, SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Clients() != base.Clients() {
		t.Error("a sandbox without --root must pass the base's factory through")
	}
	r, err := NewSandbox(base, SandboxOptions{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Clients() == base.Clients() || !r.Clients().DryRun() || r.Clients() != r.Clients() {
		t.Error("under --root the factory must be the sandbox's own dry-run overlay, the same for every call")
	}
}

// In a dry run the runtime is queried but nothing is pulled.
func TestDryRunCRIReadOnly(t *testing.T) {
	base := NewFake()
	fc := &FakeCRI{}
	base.FCRI = fc
	c, err := NewDryRun(base).CRI("/run/containerd/containerd.sock")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status(context.Background(), false); err != nil {
		t.Fatalf("Status must pass through: %v", err)
	}
	if err := c.PullImage(context.Background(), "registry.k8s.io/pause:3.10"); err == nil || !strings.Contains(err.Error(), "dry run") {
		t.Fatalf("PullImage in a dry run = %v, want a refusal", err)
	}
	if len(fc.Pulled) != 0 {
		t.Fatalf("pulled %v in a dry run", fc.Pulled)
	}
	if _, err := NewDryRun(NewFake()).CRI("/x.sock"); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("no runtime: %v", err)
	}
}

// The live CRI client dials the socket on first use and names it when
// nothing listens there.
func TestLiveCRINoSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	c, err := NewLive(LiveOptions{}).CRI(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Status(context.Background(), false); err == nil || !strings.Contains(err.Error(), sock) {
		t.Fatalf("Status with no runtime = %v, want an error naming %s", err, sock)
	}
}

// The live probe returns the status and body; the Fake refuses without FHTTP.
func TestHTTPGet(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.Header.Get("User-Agent") != "kubelark" {
			w.WriteHeader(400)
			return
		}
		w.WriteHeader(503)
		_, _ = w.Write([]byte("[-]etcd failed"))
	}))
	defer ts.Close()
	resp, err := NewDryRun(NewLive(LiveOptions{})).HTTPGet(context.Background(), ts.URL+"/livez", nil)
	if err != nil || resp.Status != 503 || string(resp.Body) != "[-]etcd failed" {
		t.Fatalf("HTTPGet = %+v, %v", resp, err)
	}
	if _, err := NewFake().HTTPGet(context.Background(), ts.URL, nil); err == nil || !strings.Contains(err.Error(), "FHTTP") {
		t.Fatalf("fake without FHTTP: %v", err)
	}
}
