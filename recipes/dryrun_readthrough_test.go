package recipes_test

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubelark/kubelark/runtime/cluster"
	"github.com/kubelark/kubelark/runtime/host"
)

// TestDryRunReadsCluster is the in-process twin of the e2e
// TestKubelarkInit/DryRunReadsCluster: after an init, a dry-run init with
// the same inputs on a DryRun host over the same machine reads that
// machine's cluster (here the fake's API overlay) through the kubeconfig
// the recipe names, reports what exists and matches as unchanged, and
// writes nothing to it.
func TestDryRunReadsCluster(t *testing.T) {
	const token = "token=abcdef.0123456789abcdef"
	f := newFake()
	if _, out, err := runInit(t, f, false, "", token); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	apiServer := f.Clients().(*cluster.DryRunFactory) // the fake machine's cluster
	before := apiServer.Objects()

	plan, out, err := runInit(t, host.NewDryRun(f), true, "", token, "skip_phases=preflight")
	if err != nil {
		t.Fatalf("dry-run init: %v\n%s", err, out)
	}
	results := map[string]string{}
	rbac := 0
	for _, a := range plan.Actions {
		if a.Op != "api.apply" {
			continue
		}
		results[a.Target] = a.Result
		if strings.HasPrefix(a.Target, "rbac.authorization.k8s.io/") {
			rbac++
			if a.Result != "unchanged" {
				t.Errorf("%s is %s; it exists in the cluster as the recipe wants it", a.Target, a.Result)
			}
		}
	}
	if rbac < 5 {
		t.Errorf("%d RBAC objects applied; want init's roles and bindings", rbac)
	}
	for _, target := range []string{"v1/ConfigMap/kube-system/kubeadm-config", "v1/ConfigMap/kube-system/kubelet-config"} {
		if results[target] != "unchanged" {
			t.Errorf("%s is %q, want unchanged (read from the cluster)", target, results[target])
		}
	}
	if after := apiServer.Objects(); !reflect.DeepEqual(objectsByRef(before), objectsByRef(after)) {
		b, a := objectsByRef(before), objectsByRef(after)
		for ref, o := range b {
			if !reflect.DeepEqual(o, a[ref]) {
				t.Errorf("the dry run changed %s in the cluster:\n%v\n%v", ref, o, a[ref])
			}
		}
		for ref := range a {
			if _, ok := b[ref]; !ok {
				t.Errorf("the dry run created %s in the cluster", ref)
			}
		}
	}
}

func objectsByRef(objs []*unstructured.Unstructured) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, o := range objs {
		out[cluster.Ref(o.GetAPIVersion(), o.GetKind(), o.GetNamespace(), o.GetName())] = o.Object
	}
	return out
}
