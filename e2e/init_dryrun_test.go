package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/kubelark/kubelark/e2e/node"
)

// checkDryRunReadsCluster is issue 7's dry-run read-through, on the node
// TestKubelarkInit initialized: `kubelark run init --dry-run` with the same
// inputs reads the real cluster through the kubeconfig the recipe names, so
// the API objects init made are reported unchanged (not created, as with an
// overlay that has nothing behind it), and it writes nothing: no file under
// init's directories and no API object moves.
func checkDryRunReadsCluster(ctx context.Context, t *testing.T, n *node.Node, initArgs []string, token, certKey string) {
	before := nodeFiles(ctx, t, n)
	plan := filepath.Join(n.Dir, "dryrun-plan.json")
	args := append(append([]string(nil), initArgs...), "--dry-run", "--skip-phases", "preflight",
		"--set", "token="+token, "--set", "certificate_key="+certKey, "--plan", plan)
	run(ctx, t, n, args...)
	p := readPlan(t, plan)
	versions := apiVersions(ctx, t, n, p)

	checkConvergePlan(t, p, token)
	unchanged := map[string]bool{}
	rbac := 0
	for _, a := range p.Actions {
		if a.Op != "api.apply" {
			continue
		}
		if a.Result == "unchanged" {
			unchanged[a.Target] = true
		}
		if strings.HasPrefix(a.Target, "rbac.authorization.k8s.io/") {
			rbac++
			if a.Result != "unchanged" {
				t.Errorf("dry run: %s is %s; init created it with the same content, so reading the cluster must find it unchanged", a.Target, a.Result)
			}
		}
	}
	if rbac < 5 {
		t.Errorf("dry run applied %d RBAC objects; want init's bindings and roles", rbac)
	}
	for _, target := range []string{"v1/ConfigMap/kube-system/kubeadm-config", "v1/ConfigMap/kube-system/kubelet-config"} {
		if !unchanged[target] {
			t.Errorf("dry run: %s is not reported unchanged (the read-through to the cluster is not in use?)", target)
		}
	}
	t.Logf("dry run: %d API objects unchanged, %d RBAC objects applied", len(unchanged), rbac)

	diffFiles(t, before, nodeFiles(ctx, t, n))
	for target, rv := range apiVersions(ctx, t, n, p) {
		if versions[target] != rv {
			t.Errorf("dry run changed %s: resourceVersion %s -> %s", target, versions[target], rv)
		}
	}
}

// apiVersions maps the targets of the plan's API writes to their
// resourceVersion in the cluster ("absent" when missing). Nodes are left
// out (the kubelet updates its Node on its own), as is cluster-info (the
// bootstrap signer rewrites it when tokens change).
func apiVersions(ctx context.Context, t *testing.T, n *node.Node, p planFile) map[string]string {
	t.Helper()
	cfg := restConfigFor(t, n, "/etc/kubernetes/admin.conf")
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	out := map[string]string{}
	for _, a := range p.Actions {
		if !strings.HasPrefix(a.Op, "api.") || out[a.Target] != "" {
			continue
		}
		gv, kind, namespace, name := splitTarget(t, a.Target)
		if kind == "Node" || name == "cluster-info" {
			continue
		}
		m, err := mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: kind}, gv.Version)
		if err != nil {
			t.Fatalf("%s: %v", a.Target, err)
		}
		obj, err := dyn.Resource(m.Resource).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			out[a.Target] = "absent"
		case err != nil:
			t.Fatalf("reading %s: %v", a.Target, err)
		default:
			out[a.Target] = obj.GetResourceVersion()
		}
	}
	return out
}

// splitTarget parses a plan target: "v1/Kind/[namespace/]name" or
// "group/version/Kind/[namespace/]name".
func splitTarget(t *testing.T, target string) (gv schema.GroupVersion, kind, namespace, name string) {
	t.Helper()
	parts := strings.Split(target, "/")
	if parts[0] == "v1" {
		gv, parts = schema.GroupVersion{Version: "v1"}, parts[1:]
	} else if len(parts) >= 4 {
		gv, parts = schema.GroupVersion{Group: parts[0], Version: parts[1]}, parts[2:]
	}
	switch len(parts) {
	case 2:
		return gv, parts[0], "", parts[1]
	case 3:
		return gv, parts[0], parts[1], parts[2]
	}
	t.Fatalf("plan target %q is not apiVersion/kind/[namespace/]name", target)
	return
}
