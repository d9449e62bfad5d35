package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

const testKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    server: https://10.0.0.10:6443
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: abcdef.0123456789abcdef
contexts:
- name: admin@kubernetes
  context: {cluster: kubernetes, user: admin}
current-context: admin@kubernetes
`

func TestDryRunOverlay(t *testing.T) {
	f := NewDryRun(nil)
	ctx := context.Background()
	c, err := f.ForKubeconfig([]byte(testKubeconfig), "")
	if err != nil {
		t.Fatal(err)
	}
	if !c.DryRun() || c.Server() != "https://10.0.0.10:6443" {
		t.Errorf("client: dry=%v server=%s", c.DryRun(), c.Server())
	}
	if _, err := c.Get(ctx, "v1", "ConfigMap", "kube-system", "x"); !IsNotFound(err) {
		t.Fatalf("empty overlay: want NotFound, got %v", err)
	}
	cm := configMap("kube-system", "x", map[string]any{"a": "1"})
	cm.SetLabels(map[string]string{"app": "demo"})
	for i, want := range []string{Created, Unchanged} {
		res, _, err := c.Apply(ctx, cm, false)
		if err != nil || res != want {
			t.Fatalf("apply %d: %s, %v; want %s", i, res, err, want)
		}
	}
	// Another client of the same factory sees the same overlay.
	c2, err := f.Anonymous("https://10.0.0.10:6443", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	res, got, err := c2.Apply(ctx, configMap("kube-system", "x", map[string]any{"b": "2"}), false)
	if err != nil || res != Updated {
		t.Fatalf("apply with a new field: %s, %v", res, err)
	}
	if diff := cmp.Diff(map[string]any{"a": "1", "b": "2"}, got.Object["data"]); diff != "" {
		t.Errorf("merged data (-want +got):\n%s", diff)
	}
	if got.GetUID() == "" {
		t.Error("overlay objects need a stable UID for owner references")
	}
	crb := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": map[string]any{"name": "kubeadm:cluster-admins", "namespace": "ignored"}}}
	if _, obj, err := c.Apply(ctx, crb, false); err != nil || obj.GetNamespace() != "" {
		t.Errorf("cluster-scoped apply: namespace %q, %v", obj.GetNamespace(), err)
	}
	l, err := c.List(ctx, "v1", "ConfigMap", "", "app=demo")
	if err != nil || len(l) != 1 || l[0].GetName() != "x" {
		t.Errorf("list by label: %v, %v", l, err)
	}
	if l, _ := c.List(ctx, "v1", "ConfigMap", "kube-system", "app=other"); len(l) != 0 {
		t.Errorf("list with a non-matching selector: %v", l)
	}
	if res, err := c.Delete(ctx, "v1", "ConfigMap", "kube-system", "x"); err != nil || res != Deleted {
		t.Errorf("delete: %s, %v", res, err)
	}
	if res, err := c.Delete(ctx, "v1", "ConfigMap", "kube-system", "x"); err != nil || res != Absent {
		t.Errorf("delete again: %s, %v", res, err)
	}
	if _, err := c.Get(ctx, "v1", "ConfigMap", "kube-system", "x"); !IsNotFound(err) || !strings.Contains(err.Error(), "v1/ConfigMap kube-system/x") {
		t.Errorf("get after delete: %v", err)
	}
	if n := len(f.Objects()); n != 1 {
		t.Errorf("overlay holds %d objects, want 1", n)
	}
}

func TestDryRunPatch(t *testing.T) {
	f := NewDryRun(nil)
	ctx := context.Background()
	c, _ := f.ForKubeconfig([]byte(testKubeconfig), "")
	if _, err := c.Patch(ctx, "v1", "Node", "", "node1", types.StrategicMergePatchType, []byte(`{}`)); !IsNotFound(err) {
		t.Fatalf("patch of a missing node: want NotFound, got %v", err)
	}
	node := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{"name": "node1", "labels": map[string]any{"kubernetes.io/hostname": "node1"}},
		"spec":     map[string]any{"taints": []any{map[string]any{"key": "a", "effect": "NoSchedule"}}}}}
	if _, _, err := c.Apply(ctx, node, false); err != nil {
		t.Fatal(err)
	}
	patch := `{"metadata":{"labels":{"node-role.kubernetes.io/control-plane":""}},"spec":{"taints":[{"key":"node-role.kubernetes.io/control-plane","effect":"NoSchedule"}]}}`
	got, err := c.Patch(ctx, "v1", "Node", "", "node1", types.StrategicMergePatchType, []byte(patch))
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{"kubernetes.io/hostname": "node1", "node-role.kubernetes.io/control-plane": ""}
	if diff := cmp.Diff(wantLabels, got.GetLabels()); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	taints, _, _ := unstructured.NestedSlice(got.Object, "spec", "taints")
	if len(taints) != 1 {
		t.Errorf("Node taints have no merge key: the patch replaces the list, got %v", taints)
	}
	got, err = c.Patch(ctx, "v1", "Node", "", "node1", types.JSONPatchType, []byte(`[{"op":"remove","path":"/spec/taints"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if _, found, _ := unstructured.NestedSlice(got.Object, "spec", "taints"); found {
		t.Error("json patch remove did not remove")
	}
	if _, err := c.Patch(ctx, "v1", "Node", "", "node1", types.JSONPatchType, []byte(`{"not":"a list"}`)); err == nil || !strings.Contains(err.Error(), "patch v1/Node node1") {
		t.Errorf("bad json patch: %v", err)
	}
}

func TestDryRunFallsThroughToBase(t *testing.T) {
	api := newFakeAPI(t)
	live := NewLive(LiveOptions{Retry: testRetry()})
	seed, _ := live.ForKubeconfig(api.kubeconfig(t, api.ts.URL), "")
	ctx := context.Background()
	if _, _, err := seed.Apply(ctx, configMap("kube-public", "cluster-info", map[string]any{"kubeconfig": "x"}), false); err != nil {
		t.Fatal(err)
	}
	f := NewDryRun(live)
	c, err := f.ForKubeconfig(api.kubeconfig(t, api.ts.URL), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "v1", "ConfigMap", "kube-public", "cluster-info"); err != nil {
		t.Errorf("get through to the base: %v", err)
	}
	res, _, err := c.Apply(ctx, configMap("kube-public", "cluster-info", map[string]any{"kubeconfig": "x"}), false)
	if err != nil || res != Unchanged {
		t.Errorf("apply of what the base holds: %s, %v", res, err)
	}
	res, _, err = c.Apply(ctx, configMap("kube-public", "cluster-info", map[string]any{"kubeconfig": "y"}), false)
	if err != nil || res != Updated {
		t.Errorf("apply of a change: %s, %v", res, err)
	}
	if got, _ := c.Get(ctx, "v1", "ConfigMap", "kube-public", "cluster-info"); got.Object["data"].(map[string]any)["kubeconfig"] != "y" {
		t.Errorf("overlay does not shadow the base: %v", got.Object["data"])
	}
	// Only the seeding PATCH may have reached the server.
	patches := 0
	for _, r := range api.requests {
		if strings.HasPrefix(r, "PATCH") {
			patches++
		}
	}
	if patches != 1 {
		t.Errorf("dry-run sent writes to the server: %v", api.requests)
	}

	// An unreachable base: reads give NotFound at once and the server is
	// not asked again.
	api.ts.Close()
	c3, _ := f.ForKubeconfig(api.kubeconfig(t, api.ts.URL), "")
	start := time.Now()
	for i := 0; i < 3; i++ {
		if _, err := c3.Get(ctx, "v1", "ConfigMap", "kube-system", "nothing"); !IsNotFound(err) {
			t.Fatalf("unreachable base: want NotFound, got %v", err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("unreachable base cost %s", d)
	}
}

func TestSubset(t *testing.T) {
	have := map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "a", "terminationMessagePath": "/dev/x"}}, "replicas": int64(2)}}
	for _, tc := range []struct {
		want map[string]any
		ok   bool
	}{
		{map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "a"}}}}, true},
		{map[string]any{"spec": map[string]any{"replicas": float64(2)}}, true},
		{map[string]any{"spec": map[string]any{"replicas": int64(3)}}, false},
		{map[string]any{"spec": map[string]any{"containers": []any{}}}, false},
		{map[string]any{"status": map[string]any{}}, true},
		{map[string]any{"spec": map[string]any{"paused": true}}, false},
	} {
		if got := subset(tc.want, have); got != tc.ok {
			t.Errorf("subset(%v) = %v, want %v", tc.want, got, tc.ok)
		}
	}
}

func TestApplyDropsManagedFields(t *testing.T) {
	c, _ := NewDryRun(nil).ForKubeconfig([]byte(testKubeconfig), "")
	cm := configMap("kube-system", "x", map[string]any{"a": "1"})
	cm.Object["metadata"].(map[string]any)["managedFields"] = []any{map[string]any{"manager": "kubectl"}}
	_, got, err := c.Apply(context.Background(), cm, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, found := got.Object["metadata"].(map[string]any)["managedFields"]; found {
		t.Error("managedFields were applied")
	}
	if cm.GetManagedFields() == nil {
		t.Error("Apply modified its argument")
	}
}
