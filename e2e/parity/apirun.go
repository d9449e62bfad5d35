package parity

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// APINetwork is the test network of the API suite (each package that runs
// nodes has its own /24).
const APINetwork = "10.78.0"

// apiNode is where one tool initialises its cluster. The nodes are torn
// down after each config and the next config gets fresh ones.
type apiNode struct {
	Tool string
	ID   NodeIdentity
}

var apiNodes = []apiNode{
	{Tool: "kubeadm", ID: NodeIdentity{Name: "pk1", IP: APINetwork + ".11"}},
	{Tool: "kubelark", ID: NodeIdentity{Name: "pl1", IP: APINetwork + ".12"}},
}

// APINamespaces are the namespaces whose objects are read back.
var APINamespaces = []string{"kube-system", "kube-public", "default"}

// skippedResources are namespaced resources that are not read: their
// objects are made by the kubelet and controllers at their own pace, with
// generated names or runtime state (Pods: mirror Pods, whose spec the file
// suite compares as manifests, and the add-on Pods; the ReplicaSets,
// ControllerRevisions, Endpoints and EndpointSlices derived from the
// compared Deployment, DaemonSet and Services), or they are records of
// events (Events, leader-election and identity Leases).
var skippedResources = map[string]bool{
	"events": true, "leases": true, "pods": true, "replicasets": true,
	"controllerrevisions": true, "endpoints": true, "endpointslices": true,
}

// clusterResources are the cluster-scoped resources read back
// (group/resource): RBAC, Namespaces, and Nodes (labels and taints only).
var clusterResources = map[string]bool{
	"rbac.authorization.k8s.io/clusterroles":        true,
	"rbac.authorization.k8s.io/clusterrolebindings": true,
	"/namespaces": true,
	"/nodes":      true,
}

// runAPIBoth brings up one node per tool, runs a whole `init` of each tool
// on its node (at the same time), waits until each control plane has
// settled and reads its objects back.
func runAPIBoth(t *testing.T, nw *node.Network, tools Tools, c *Config, keep string) (kubeadm, kubelark *Output) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	outs := make([]*Output, len(apiNodes))
	errs := make([]error, len(apiNodes))
	var wg sync.WaitGroup
	for i, an := range apiNodes {
		outs[i] = &Output{Tool: an.Tool}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = runAPIOne(ctx, t, nw, tools, c, an, outs[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s on %s (node %s): %v", apiNodes[i].Tool, c.Path, apiNodes[i].ID.Name, err)
		}
	}
	if keep != "" {
		for _, o := range outs {
			if err := os.MkdirAll(keep, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(keep, o.Tool+".log"), []byte(o.Log), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return outs[0], outs[1]
}

func runAPIOne(ctx context.Context, t *testing.T, nw *node.Network, tools Tools, c *Config, an apiNode, out *Output) error {
	start := time.Now()
	n, err := e2eutil.StartNode(ctx, t, nw, an.ID.Name, an.ID.IP)
	if err != nil {
		return err
	}
	if len(c.Hosts) > 0 {
		f, err := os.OpenFile(filepath.Join(n.Dir, "etc", "hosts"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(f, "%s\t%s\n", n.IP, strings.Join(c.Hosts, " "))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	file := filepath.Join(n.Dir, "parity-init.yaml")
	certKey, tokenIDs, err := writeNodeConfig(c, an.ID, node.ContainerdSocket, file)
	if err != nil {
		return err
	}
	var args []string
	switch an.Tool {
	case "kubeadm":
		args = append([]string{"kubeadm", "init", "--config", file}, c.KubeadmArgs...)
	default:
		args = append([]string{tools.Kubelark, "run", "init", "--config", file, "--service-command", n.ServiceCommand()}, c.KubelarkArgs...)
	}
	cmd := n.Command(ctx, args...)
	// The config's environment only (proxy variables would reach the
	// kube-proxy DaemonSet), with the node's PATH.
	env := cleanEnv(c)
	for _, e := range cmd.Env {
		if strings.HasPrefix(e, "PATH=") {
			env = append(env, e)
		}
	}
	cmd.Env = env
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	initStart := time.Now()
	err = cmd.Run()
	out.Log = log.String()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, out.Log)
	}
	t.Logf("[%s] %s init took %s", n.Name, an.Tool, time.Since(initStart).Round(100*time.Millisecond))

	cfg, err := e2eutil.RESTConfig(n, "/etc/kubernetes/admin.conf")
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if err := e2eutil.WaitReadyz(ctx, cs, 500*time.Millisecond); err != nil {
		return err
	}
	pki, err := readTree(n, "/etc/kubernetes/pki")
	if err != nil {
		return err
	}
	out.API = &APIState{Node: an.ID, PKI: pki, CertificateKey: certKey, ConfigTokenIDs: tokenIDs}
	if err := settle(ctx, t, n.Name, cfg, cs, out); err != nil {
		return err
	}
	t.Logf("[%s] %s: %d objects read back, %s after the node started", n.Name, an.Tool, len(out.API.Objects), time.Since(start).Round(100*time.Millisecond))
	return nil
}

// readTree reads every regular file under dir inside the node.
func readTree(n *node.Node, dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	base := n.HostPath("/")
	err := filepath.Walk(n.HostPath(dir), func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		out["/"+rel] = b
		return nil
	})
	return out, err
}

// settle waits until the controllers have done what they do once on a new
// cluster, then until two snapshots taken a few seconds apart normalize to
// the same records, and keeps the last one in out.API.Objects. The markers:
// the "default" ServiceAccount and the kube-root-ca.crt ConfigMap in every
// namespace read, and (when a token may sign) the bootstrap signer's JWS
// key in cluster-info.
func settle(ctx context.Context, t *testing.T, name string, cfg *rest.Config, cs *kubernetes.Clientset, out *Output) error {
	start := time.Now()
	deadline := time.Now().Add(90 * time.Second)
	for {
		missing := markersMissing(ctx, cs)
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Logf("[%s] still missing after 90s (read back anyway): %s", name, strings.Join(missing, "; "))
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	var prev string
	for i := 0; ; i++ {
		objs, err := readObjects(ctx, cfg)
		if err != nil {
			return err
		}
		out.API.Objects = objs
		a, err := CollectAll(out, APICollectors())
		if err != nil {
			return err
		}
		cur := a.Dump()
		if cur == prev {
			break
		}
		if i >= 20 {
			t.Logf("[%s] objects still changing after %d snapshots; comparing the last", name, i+1)
			break
		}
		prev = cur
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(3 * time.Second):
		}
	}
	t.Logf("[%s] settled in %s", name, time.Since(start).Round(100*time.Millisecond))
	return nil
}

func markersMissing(ctx context.Context, cs *kubernetes.Clientset) []string {
	var missing []string
	for _, ns := range APINamespaces {
		if _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err != nil {
			missing = append(missing, fmt.Sprintf("ServiceAccount %s/default: %v", ns, err))
		}
		if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{}); err != nil {
			missing = append(missing, fmt.Sprintf("ConfigMap %s/kube-root-ca.crt: %v", ns, err))
		}
	}
	secrets, err := cs.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{FieldSelector: "type=" + BootstrapTokenType})
	if err != nil {
		return append(missing, "bootstrap token Secrets: "+err.Error())
	}
	signing := false
	for _, s := range secrets.Items {
		signing = signing || string(s.Data["usage-bootstrap-signing"]) == "true"
	}
	if signing {
		ci, err := cs.CoreV1().ConfigMaps("kube-public").Get(ctx, "cluster-info", metav1.GetOptions{})
		found := false
		if err == nil {
			for k := range ci.Data {
				found = found || strings.HasPrefix(k, "jws-kubeconfig-")
			}
		}
		if !found {
			missing = append(missing, fmt.Sprintf("JWS signature in kube-public/cluster-info (err %v)", err))
		}
	}
	return missing
}

// readObjects lists every listable resource in APINamespaces (except
// skippedResources) and the clusterResources, at their preferred versions.
func readObjects(ctx context.Context, cfg *rest.Config) ([]map[string]any, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	lists, err := dc.ServerPreferredResources()
	if err != nil {
		return nil, fmt.Errorf("API discovery: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			return nil, err
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerb(r.Verbs, "list") {
				continue
			}
			gvr := gv.WithResource(r.Name)
			var namespaces []string
			switch {
			case r.Namespaced && !skippedResources[r.Name]:
				namespaces = APINamespaces
			case !r.Namespaced && clusterResources[gv.Group+"/"+r.Name]:
				namespaces = []string{""}
			default:
				continue
			}
			for _, ns := range namespaces {
				list, err := dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, fmt.Errorf("list %s in %q: %w", gvr, ns, err)
				}
				for _, item := range list.Items {
					item.SetAPIVersion(gv.String())
					item.SetKind(r.Kind)
					out = append(out, item.Object)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return objectName(out[i]) < objectName(out[j]) })
	return out, nil
}

func hasVerb(verbs []string, v string) bool {
	for _, x := range verbs {
		if x == v {
			return true
		}
	}
	return false
}
