package recipes_test

// Tests of recipes/selfhosting.star on in-memory hosts. A small simulation
// stands in for the kubelet, the DaemonSet controller and the scheduler:
// between two polls of the recipe (every Sleep) it starts and stops Pods
// from the manifests and DaemonSets it sees, with one rule that matters
// for a control plane on hostNetwork: a component's port is held by one
// process, the static Pod or the DaemonSet's, and the other cannot serve.

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubelark/kubelark/builtins"
	"github.com/kubelark/kubelark/recipes"
	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/cluster"
	"github.com/kubelark/kubelark/runtime/host"
	"github.com/kubelark/kubelark/stdlib"
)

var shComponents = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// shNode is one control-plane machine of the simulation.
type shNode struct {
	*host.Fake
	sim  *shSim
	name string
	ip   string
	// holder: component -> "static", "ds" or "" (nobody serves its port).
	holder map[string]string
}

// Sleep lets the simulated cluster move on between two polls.
func (n *shNode) Sleep(ctx context.Context, d time.Duration) error {
	n.sim.step()
	return n.Fake.Sleep(ctx, d)
}

type shSim struct {
	t     *testing.T
	c     cluster.Client
	nodes []*shNode
	steps int
}

func (s *shSim) ctx() context.Context { return context.Background() }

func (s *shSim) get(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	o, err := s.c.Get(s.ctx(), apiVersion, kind, ns, name)
	if cluster.IsNotFound(err) {
		return nil
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return o
}

func (s *shSim) apply(o map[string]any) {
	if _, _, err := s.c.Apply(s.ctx(), &unstructured.Unstructured{Object: o}, true); err != nil {
		s.t.Fatal(err)
	}
}

func (s *shSim) del(kind, name string) {
	if _, err := s.c.Delete(s.ctx(), "v1", kind, "kube-system", name); err != nil {
		s.t.Fatal(err)
	}
}

func podStatus(ready bool, ip, podIP string) map[string]any {
	st := "False"
	if ready {
		st = "True"
	}
	return map[string]any{"phase": "Running", "hostIP": ip, "podIP": podIP, "conditions": []any{map[string]any{"type": "Ready", "status": st}}}
}

// step is one round of kubelets and controllers.
func (s *shSim) step() {
	s.steps++
	for _, n := range s.nodes {
		node := s.get("v1", "Node", "", n.name)
		labels := node.GetLabels()
		for _, comp := range shComponents {
			_, _, hasManifest := n.Get("/etc/kubernetes/manifests/" + comp + ".yaml")
			dsPodName := "self-hosted-" + comp + "-" + n.name
			ds := s.get("apps/v1", "DaemonSet", "kube-system", "self-hosted-"+comp)
			_, cp := labels["node-role.kubernetes.io/control-plane"]
			_, static := labels["kubelark.io/static-"+comp]
			wantDSPod := ds != nil && cp && !static
			dsPod := s.get("v1", "Pod", "kube-system", dsPodName)
			// The DaemonSet controller (and the scheduler).
			if wantDSPod && dsPod == nil {
				tmpl, _, _ := unstructured.NestedMap(ds.Object, "spec", "template")
				meta, _ := tmpl["metadata"].(map[string]any)
				s.apply(map[string]any{"apiVersion": "v1", "kind": "Pod",
					"metadata": map[string]any{"name": dsPodName, "namespace": "kube-system", "labels": meta["labels"]},
					"spec":     map[string]any{"nodeName": n.name},
					"status":   map[string]any{"phase": "Pending"}})
				continue
			}
			if !wantDSPod && dsPod != nil {
				s.del("Pod", dsPodName)
				dsPod = nil
			}
			// The kubelet: whoever holds the port keeps it while its Pod is
			// there; a free port goes to the static Pod first.
			switch {
			case n.holder[comp] == "static" && !hasManifest, n.holder[comp] == "ds" && dsPod == nil:
				n.holder[comp] = ""
			case n.holder[comp] == "":
				if hasManifest {
					n.holder[comp] = "static"
				} else if dsPod != nil {
					n.holder[comp] = "ds"
				}
			}
			mirror := comp + "-" + n.name
			if hasManifest {
				s.apply(map[string]any{"apiVersion": "v1", "kind": "Pod",
					"metadata": map[string]any{"name": mirror, "namespace": "kube-system"},
					"spec":     map[string]any{"nodeName": n.name},
					"status":   podStatus(n.holder[comp] == "static", n.ip, n.ip)})
			} else if s.get("v1", "Pod", "kube-system", mirror) != nil {
				s.del("Pod", mirror)
			}
			if dsPod != nil {
				dsPod.Object["status"] = podStatus(n.holder[comp] == "ds", n.ip, n.ip)
				s.apply(dsPod.Object)
			}
		}
	}
}

// health answers a component's health endpoint when someone holds its port.
func (n *shNode) health(ctx context.Context, raw string, _ *tls.Config) (host.HTTPResponse, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return host.HTTPResponse{}, err
	}
	comp := map[string]string{n.ip + ":6443": "kube-apiserver", "127.0.0.1:10257": "kube-controller-manager", "127.0.0.1:10259": "kube-scheduler"}[u.Host]
	if comp == "" || n.holder[comp] == "" {
		return host.HTTPResponse{}, fmt.Errorf("dial %s: connection refused", u.Host)
	}
	return host.HTTPResponse{Status: 200, Body: []byte("ok")}, nil
}

// newSelfHostingCluster runs init on node1 (and copies its control plane
// to the other names, as a control-plane join would make it) and starts
// the simulation with every static Pod serving.
func newSelfHostingCluster(t *testing.T, names ...string) *shSim {
	t.Helper()
	cp := newFake()
	if _, out, err := runInit(t, cp, false, "", "token="+joinToken, "encryption_algorithm=ECDSA-P256"); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	admin, _, _ := cp.Get("/etc/kubernetes/admin.conf")
	c, err := cp.Clients().ForKubeconfig(admin, "")
	if err != nil {
		t.Fatal(err)
	}
	s := &shSim{t: t, c: c}
	for i, name := range append([]string{"node1"}, names...) {
		n := &shNode{Fake: cp, sim: s, name: name, ip: "10.0.0.10", holder: map[string]string{}}
		if i > 0 {
			n.Fake = newFake()
			n.FHostname, n.ip = name, fmt.Sprintf("10.0.0.%d", 10*(i+1))
			n.FIP, n.FClients = n.ip, cp.Clients()
			for _, p := range []string{"/etc/kubernetes/admin.conf", "/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/manifests/etcd.yaml"} {
				b, mode, _ := cp.Get(p)
				n.Put(p, b, mode)
			}
			for _, comp := range shComponents {
				p := "/etc/kubernetes/manifests/" + comp + ".yaml"
				b, mode, _ := cp.Get(p)
				n.Put(p, bytes.ReplaceAll(b, []byte("10.0.0.10"), []byte(n.ip)), mode)
			}
		}
		n.FLive = true
		n.FHTTP = n.health
		s.apply(map[string]any{"apiVersion": "v1", "kind": "Node",
			"metadata": map[string]any{"name": name, "labels": map[string]any{"node-role.kubernetes.io/control-plane": ""}},
			"status":   map[string]any{"addresses": []any{map[string]any{"type": "InternalIP", "address": n.ip}}}})
		s.nodes = append(s.nodes, n)
	}
	s.step()
	for _, n := range s.nodes {
		for _, comp := range shComponents {
			if n.holder[comp] != "static" {
				t.Fatalf("%s: %s is not served by its static Pod at the start", n.name, comp)
			}
		}
	}
	return s
}

func runSelfHosting(t *testing.T, h host.Host, dryRun bool, set ...string) (*runtime.Plan, string, error) {
	t.Helper()
	var out bytes.Buffer
	plan, err := runtime.Run(context.Background(), runtime.Options{
		Recipe: "selfhosting", RecipeFS: recipes.FS, StdlibFS: stdlib.FS, Set: set, DryRun: dryRun,
		Host: h, Registry: builtins.Registry(), Out: &out,
	})
	return plan, out.String(), err
}

func mustSelfHost(t *testing.T, n *shNode, set ...string) (*runtime.Plan, string) {
	t.Helper()
	plan, out, err := runSelfHosting(t, n, false, set...)
	if err != nil {
		t.Fatalf("selfhosting %v on %s: %v\n%s", set, n.name, err, out)
	}
	// The world settles after the run (the scheduler's Pod, on the Pod
	// network, can be Ready before the static one has let go of the port).
	n.sim.step()
	n.sim.step()
	return plan, out
}

// opsOf lists "op target" of the plan's writes, deletes and waits.
func opsOf(plan *runtime.Plan) []string {
	var out []string
	for _, a := range plan.Actions {
		out = append(out, a.Op+" "+a.Target)
	}
	return out
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func (s *shSim) ds(comp string) map[string]any {
	o := s.get("apps/v1", "DaemonSet", "kube-system", "self-hosted-"+comp)
	if o == nil {
		return nil
	}
	return o.Object
}

// TestSelfHostingPivot: the three components move in kubeadm's order, each
// DaemonSet is the static Pod mutated as documented, only etcd's manifest
// is left, every component is served by its DaemonSet's Pod, and the
// caveat is printed.
func TestSelfHostingPivot(t *testing.T) {
	s := newSelfHostingCluster(t)
	n := s.nodes[0]
	origAPI, _, _ := n.Get("/etc/kubernetes/manifests/kube-apiserver.yaml")
	plan, out := mustSelfHost(t, n)
	for _, comp := range shComponents {
		if _, _, ok := n.Get("/etc/kubernetes/manifests/" + comp + ".yaml"); ok {
			t.Errorf("%s: static manifest still there", comp)
		}
		if n.holder[comp] != "ds" {
			t.Errorf("%s is served by %q, want its DaemonSet's Pod", comp, n.holder[comp])
		}
		if s.get("v1", "Pod", "kube-system", comp+"-node1") != nil {
			t.Errorf("%s: mirror Pod still there", comp)
		}
	}
	if _, _, ok := n.Get("/etc/kubernetes/manifests/etcd.yaml"); !ok {
		t.Errorf("etcd's manifest is gone: etcd stays static")
	}
	ops := opsOf(plan)
	prev := -1
	for _, comp := range shComponents {
		apply := indexOf(ops, "api.apply apps/v1/DaemonSet/kube-system/self-hosted-"+comp)
		del := indexOf(ops, "file.delete /etc/kubernetes/manifests/"+comp+".yaml")
		gone := indexOf(ops, "wait v1/Pod/kube-system/"+comp+"-node1")
		if apply < 0 || !(prev < apply && apply < del && del < gone) {
			t.Errorf("%s: apply %d, delete %d, mirror wait %d after the previous component (%d): not in kubeadm's order\n%s", comp, apply, del, gone, prev, strings.Join(ops, "\n"))
		}
		prev = gone
	}
	if !strings.Contains(out, "does not survive a reboot of its only control-plane node") || !strings.Contains(out, "kubectl -n kube-system set image ds/self-hosted-kube-scheduler") {
		t.Errorf("the caveat or the upgrade hint is missing:\n%s", out)
	}

	ds := s.ds("kube-apiserver")
	spec, _, _ := unstructured.NestedMap(ds, "spec", "template", "spec")
	if sel, _, _ := unstructured.NestedStringMap(spec, "nodeSelector"); len(sel) != 1 || sel["node-role.kubernetes.io/control-plane"] != "" {
		t.Errorf("nodeSelector %v", sel)
	}
	if spec["dnsPolicy"] != "ClusterFirstWithHostNet" || spec["priority"] != nil || spec["hostNetwork"] != true {
		t.Errorf("dnsPolicy %v priority %v hostNetwork %v", spec["dnsPolicy"], spec["priority"], spec["hostNetwork"])
	}
	tol := fmt.Sprint(spec["tolerations"])
	if !strings.Contains(tol, "node-role.kubernetes.io/control-plane") || !strings.Contains(tol, "NoSchedule") {
		t.Errorf("tolerations %s", tol)
	}
	if st, _, _ := unstructured.NestedString(ds, "spec", "updateStrategy", "type"); st != "RollingUpdate" {
		t.Errorf("updateStrategy %q", st)
	}
	if sel, _, _ := unstructured.NestedStringMap(ds, "spec", "selector", "matchLabels"); sel["k8s-app"] != "self-hosted-kube-apiserver" {
		t.Errorf("selector %v", sel)
	}
	c := spec["containers"].([]any)[0].(map[string]any)
	cmd := fmt.Sprint(c["command"])
	if !strings.Contains(cmd, "--advertise-address=$(HOST_IP)") || strings.Contains(cmd, "10.0.0.10") {
		t.Errorf("command %s", cmd)
	}
	if env := fmt.Sprint(c["env"]); !strings.Contains(env, "HOST_IP") || !strings.Contains(env, "status.hostIP") {
		t.Errorf("env %s", env)
	}
	if c["ports"] != nil || strings.Contains(fmt.Sprint(c["readinessProbe"]), "host:") || !strings.Contains(fmt.Sprint(c["readinessProbe"]), "port:6443") {
		t.Errorf("ports %v readinessProbe %v: want no host port and probes on 6443 of the Pod's own address", c["ports"], c["readinessProbe"])
	}
	if bytes.Contains(origAPI, []byte("$(HOST_IP)")) {
		t.Fatal("fixture")
	}
	// Every DaemonSet stays on the host network and rolls with a surge Pod
	// that shares the port (SO_REUSEPORT), so a rollout on a single node
	// places and starts the successor before the old Pod goes.
	for _, comp := range shComponents {
		d := s.ds(comp)
		dSpec, _, _ := unstructured.NestedMap(d, "spec", "template", "spec")
		dC := dSpec["containers"].([]any)[0].(map[string]any)
		if dSpec["hostNetwork"] != true || dSpec["dnsPolicy"] != "ClusterFirstWithHostNet" {
			t.Errorf("%s: hostNetwork %v dnsPolicy %v", comp, dSpec["hostNetwork"], dSpec["dnsPolicy"])
		}
		if !strings.Contains(fmt.Sprint(dC["command"]), "--permit-port-sharing=true") {
			t.Errorf("%s: command %v lacks --permit-port-sharing=true", comp, dC["command"])
		}
		if ru := fmt.Sprint(d["spec"].(map[string]any)["updateStrategy"]); !strings.Contains(ru, "maxSurge:1") || !strings.Contains(ru, "maxUnavailable:0") {
			t.Errorf("%s: updateStrategy %s", comp, ru)
		}
	}
	if !strings.Contains(out, "https://127.0.0.1:10259/readyz") {
		t.Errorf("the scheduler's health is not checked on the host:\n%s", out)
	}
}

// withoutPortSharing: a reverted manifest is init's plus
// --permit-port-sharing=true (kept so the static Pod binds beside the
// DaemonSet's Pod during the handover); it returns init's.
func withoutPortSharing(t *testing.T, comp string, got []byte) []byte {
	t.Helper()
	const line = "    - --permit-port-sharing=true\n"
	if !bytes.Contains(got, []byte(line)) {
		t.Errorf("%s: reverted manifest lacks --permit-port-sharing=true:\n%s", comp, got)
	}
	return bytes.Replace(got, []byte(line), nil, 1)
}

// TestSelfHostingRerunConverges: a second run finds every component
// self-hosted, changes nothing and says so.
func TestSelfHostingRerunConverges(t *testing.T) {
	s := newSelfHostingCluster(t)
	n := s.nodes[0]
	mustSelfHost(t, n)
	plan, out := mustSelfHost(t, n)
	for _, a := range plan.Actions {
		if a.Op != "wait" {
			t.Errorf("a re-run did %s %s", a.Op, a.Target)
		}
	}
	if strings.Count(out, "already self-hosted") != 3 {
		t.Errorf("output does not say the components are already self-hosted:\n%s", out)
	}
}

// TestSelfHostingRevert: revert writes back the very manifests init wrote,
// the static Pods serve again, and the DaemonSets and labels are gone; a
// second revert changes nothing; the cluster can pivot again.
func TestSelfHostingRevert(t *testing.T) {
	s := newSelfHostingCluster(t)
	n := s.nodes[0]
	orig := map[string][]byte{}
	for _, comp := range shComponents {
		orig[comp], _, _ = n.Get("/etc/kubernetes/manifests/" + comp + ".yaml")
	}
	mustSelfHost(t, n)
	plan, out := mustSelfHost(t, n, "revert=true")
	for _, comp := range shComponents {
		got, mode, ok := n.Get("/etc/kubernetes/manifests/" + comp + ".yaml")
		if !ok || string(withoutPortSharing(t, comp, got)) != string(orig[comp]) || mode != 0o600 {
			t.Errorf("%s: reverted manifest (mode %o) differs from init's:\n%s\nwant\n%s", comp, mode, got, orig[comp])
		}
		if n.holder[comp] != "static" {
			t.Errorf("%s is served by %q after revert", comp, n.holder[comp])
		}
		if s.ds(comp) != nil {
			t.Errorf("DaemonSet of %s still there", comp)
		}
	}
	if l := s.get("v1", "Node", "", "node1").GetLabels(); len(l) != 1 {
		t.Errorf("node labels after revert: %v", l)
	}
	ops := opsOf(plan)
	// Orphan-safe: the DaemonSet goes only after its static Pod serves;
	// the API server goes back last.
	for _, comp := range shComponents {
		write := indexOf(ops, "file.write /etc/kubernetes/manifests/"+comp+".yaml")
		mirror := indexOf(ops, "wait v1/Pod/kube-system/"+comp+"-node1")
		del := indexOf(ops, "api.delete apps/v1/DaemonSet/kube-system/self-hosted-"+comp)
		if write < 0 || !(write < mirror && mirror < del) {
			t.Errorf("%s: write %d, mirror Ready %d, DaemonSet delete %d\n%s", comp, write, mirror, del, strings.Join(ops, "\n"))
		}
	}
	if !(indexOf(ops, "file.write /etc/kubernetes/manifests/kube-scheduler.yaml") < indexOf(ops, "file.write /etc/kubernetes/manifests/kube-apiserver.yaml")) {
		t.Errorf("the API server is not reverted last")
	}
	if !strings.Contains(out, "runs from static Pods again") {
		t.Errorf("output: %s", out)
	}
	plan, out = mustSelfHost(t, n, "revert=true")
	for _, a := range plan.Actions {
		t.Errorf("a second revert did %s %s\n%s", a.Op, a.Target, out)
	}
	mustSelfHost(t, n)
	for _, comp := range shComponents {
		if n.holder[comp] != "ds" {
			t.Errorf("pivot after revert: %s served by %q", comp, n.holder[comp])
		}
	}
}

// TestSelfHostingRefusals: bad input is refused before anything is
// written, with what to do.
func TestSelfHostingRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*shSim, *shNode)
		set   []string
		want  []string
	}{
		{"not a control-plane node", func(s *shSim, n *shNode) {
			s.apply(map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": "worker1"}})
		}, []string{"node_name=worker1"}, []string{"node worker1 is not a control-plane node", "node-role.kubernetes.io/control-plane"}},
		{"unknown node", nil, []string{"node_name=nope"}, []string{"node nope does not exist in the cluster"}},
		{"missing manifest", func(s *shSim, n *shNode) {
			if _, err := n.Remove("/etc/kubernetes/manifests/kube-scheduler.yaml"); err != nil {
				t.Fatal(err)
			}
		}, nil, []string{"kube-scheduler: neither the static manifest /etc/kubernetes/manifests/kube-scheduler.yaml nor the DaemonSet kube-system/self-hosted-kube-scheduler exists", "kubelark run init --phases control-plane"}},
		{"no admin kubeconfig", func(s *shSim, n *shNode) {
			if _, err := n.Remove("/etc/kubernetes/admin.conf"); err != nil {
				t.Fatal(err)
			}
		}, nil, []string{"/etc/kubernetes/admin.conf does not exist"}},
		{"bad timeout", nil, []string{"timeout=soon"}, []string{"timeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSelfHostingCluster(t)
			n := s.nodes[0]
			if tc.setup != nil {
				tc.setup(s, n)
			}
			plan, out, err := runSelfHosting(t, n, false, tc.set...)
			if err == nil {
				t.Fatalf("selfhosting succeeded\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			for _, a := range plan.Actions {
				t.Errorf("refused run did %s %s", a.Op, a.Target)
			}
			for _, comp := range shComponents {
				if s.ds(comp) != nil {
					t.Errorf("DaemonSet of %s created", comp)
				}
			}
		})
	}
}

// TestSelfHostingHA: two control-plane nodes. The first pivot makes
// DaemonSets for both; node2's Pods cannot serve while its static Pods hold
// the ports, and node2 keeps working on its static Pods until it pivots
// itself, which uses the DaemonSets as they are. Revert on node1 keeps the
// DaemonSets for node2; the revert on node2, the last, deletes them.
func TestSelfHostingHA(t *testing.T) {
	s := newSelfHostingCluster(t, "node2")
	n1, n2 := s.nodes[0], s.nodes[1]
	mustSelfHost(t, n1)
	for _, comp := range shComponents {
		if s.get("v1", "Pod", "kube-system", "self-hosted-"+comp+"-node2") == nil {
			t.Errorf("%s: the DaemonSet has no Pod on node2", comp)
		}
		if n2.holder[comp] != "static" {
			t.Errorf("%s on node2 served by %q before node2 pivots", comp, n2.holder[comp])
		}
	}
	// An upgrade made while node2 waits must survive node2's pivot.
	ds := s.ds("kube-scheduler")
	if err := unstructured.SetNestedField(ds, "upgraded", "metadata", "annotations", "test"); err != nil {
		t.Fatal(err)
	}
	s.apply(ds)
	plan, _ := mustSelfHost(t, n2)
	for _, a := range plan.Actions {
		if a.Op == "api.apply" {
			t.Errorf("node2's pivot applied %s over the cluster's DaemonSet", a.Target)
		}
	}
	for _, comp := range shComponents {
		if n2.holder[comp] != "ds" || n1.holder[comp] != "ds" {
			t.Errorf("%s: node1 %q node2 %q after both pivots", comp, n1.holder[comp], n2.holder[comp])
		}
		if _, _, ok := n2.Get("/etc/kubernetes/manifests/" + comp + ".yaml"); ok {
			t.Errorf("node2 kept its %s manifest", comp)
		}
	}
	_, out := mustSelfHost(t, n1, "revert=true")
	if !strings.Contains(out, "nodes node2 still run it") {
		t.Errorf("node1's revert does not say node2 still runs the DaemonSets:\n%s", out)
	}
	for _, comp := range shComponents {
		if s.ds(comp) == nil {
			t.Errorf("node1's revert deleted the DaemonSet of %s that node2 runs on", comp)
		}
		if n1.holder[comp] != "static" || n2.holder[comp] != "ds" {
			t.Errorf("%s: node1 %q node2 %q after node1's revert", comp, n1.holder[comp], n2.holder[comp])
		}
	}
	api, _, _ := n1.Get("/etc/kubernetes/manifests/kube-apiserver.yaml")
	if !bytes.Contains(api, []byte("--advertise-address=10.0.0.10")) {
		t.Errorf("node1's API server does not advertise node1's address:\n%s", api)
	}
	mustSelfHost(t, n2, "revert=true")
	for _, comp := range shComponents {
		if s.ds(comp) != nil || n2.holder[comp] != "static" {
			t.Errorf("%s: DaemonSet %v, node2 %q after the last revert", comp, s.ds(comp) != nil, n2.holder[comp])
		}
	}
	api, _, _ = n2.Get("/etc/kubernetes/manifests/kube-apiserver.yaml")
	if !bytes.Contains(api, []byte("--advertise-address=10.0.0.20")) || !bytes.Contains(api, []byte("endpoint: 10.0.0.20:6443")) {
		t.Errorf("node2's API server does not advertise node2's address:\n%s", api)
	}
	for _, n := range []string{"node1", "node2"} {
		if l := s.get("v1", "Node", "", n).GetLabels(); len(l) != 1 {
			t.Errorf("%s labels after the last revert: %v", n, l)
		}
	}
}

// TestGoldenSelfHosting: `kubelark run selfhosting --dry-run` on a node
// made by init, and `--set revert=true --dry-run` on a self-hosted one:
// the plans and printed lines (make golden rewrites them). A dry run
// writes nothing and waits for nothing.
func TestGoldenSelfHosting(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pivot bool
		set   []string
	}{{"selfhosting", false, nil}, {"selfhosting-revert", true, []string{"revert=true"}}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSelfHostingCluster(t)
			n := s.nodes[0]
			if tc.pivot {
				mustSelfHost(t, n)
			}
			before := s.steps
			plan, out, err := runSelfHosting(t, host.NewDryRun(n.Fake), true, tc.set...)
			if err != nil {
				t.Fatalf("dry run: %v\n%s", err, out)
			}
			if s.steps != before {
				t.Errorf("the dry run waited (%d polls)", s.steps-before)
			}
			for _, comp := range shComponents {
				_, _, ok := n.Get("/etc/kubernetes/manifests/" + comp + ".yaml")
				if ok == tc.pivot {
					t.Errorf("the dry run changed %s's manifest", comp)
				}
				if (s.ds(comp) != nil) != tc.pivot {
					t.Errorf("the dry run changed %s's DaemonSet", comp)
				}
			}
			compareGolden(t, testdata+"/golden/"+tc.name+".json", maskPlan(t, plan))
			compareGolden(t, testdata+"/golden/"+tc.name+".out", maskKeyDerived([]byte(out)))
		})
	}
}

// TestInitSelfHosting: init with self_hosting=true ends self-hosted (its
// last API phase pivots), and store_certs_in_secrets alone is refused
// before anything is written.
func TestInitSelfHosting(t *testing.T) {
	f := newFake()
	plan, out, err := runInit(t, f, false, "", "store_certs_in_secrets=true")
	if err == nil || !strings.Contains(err.Error(), "add self_hosting=true") || len(plan.Actions) != 0 {
		t.Errorf("store_certs_in_secrets without self_hosting: err %v, %d actions\n%s", err, len(plan.Actions), out)
	}
	plan, out, err = runInit(t, host.NewDryRun(newFake()), true, "", "self_hosting=true", "encryption_algorithm=ECDSA-P256")
	if err != nil {
		t.Fatalf("init --dry-run self_hosting=true: %v\n%s", err, out)
	}
	var applied []string
	for _, a := range plan.Actions {
		if a.Phase == "self-hosting" && (a.Op == "api.apply" || a.Op == "file.delete") {
			applied = append(applied, a.Op+" "+a.Target)
		}
	}
	want := []string{
		"api.apply apps/v1/DaemonSet/kube-system/self-hosted-kube-apiserver", "file.delete /etc/kubernetes/manifests/kube-apiserver.yaml",
		"api.apply apps/v1/DaemonSet/kube-system/self-hosted-kube-controller-manager", "file.delete /etc/kubernetes/manifests/kube-controller-manager.yaml",
		"api.apply apps/v1/DaemonSet/kube-system/self-hosted-kube-scheduler", "file.delete /etc/kubernetes/manifests/kube-scheduler.yaml",
	}
	if strings.Join(applied, "\n") != strings.Join(want, "\n") {
		t.Errorf("init's self-hosting phase planned:\n%s\nwant\n%s", strings.Join(applied, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(out, "does not survive a reboot") {
		t.Errorf("init does not print the caveat:\n%s", out)
	}
}

// TestSelfHostingCertsInSecrets: store_certs_in_secrets puts the
// certificates and kubeconfigs into kube-system Secrets (never into the
// plan or the output), the DaemonSets mount them instead of hostPath with
// the kubeconfig flags rewritten, the caveat is printed; revert brings
// back init's manifests and deletes the Secrets. A cluster with another
// control-plane node is refused before anything is written.
func TestSelfHostingCertsInSecrets(t *testing.T) {
	s := newSelfHostingCluster(t)
	n := s.nodes[0]
	orig := map[string][]byte{}
	for _, comp := range shComponents {
		orig[comp], _, _ = n.Get("/etc/kubernetes/manifests/" + comp + ".yaml")
	}
	plan, out := mustSelfHost(t, n, "store_certs_in_secrets=true")
	var buf bytes.Buffer
	if err := plan.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "PRIVATE KEY") || strings.Contains(out, "PRIVATE KEY") || strings.Contains(buf.String(), "BEGIN CERTIFICATE") {
		t.Errorf("Secret data in the plan or output")
	}
	if !strings.Contains(out, "anyone who can read Secrets in kube-system owns the cluster") {
		t.Errorf("no security caveat:\n%s", out)
	}
	for name, typ := range map[string]string{"ca": "kubernetes.io/tls", "apiserver": "kubernetes.io/tls", "apiserver-kubelet-client": "kubernetes.io/tls",
		"front-proxy-ca": "kubernetes.io/tls", "front-proxy-client": "kubernetes.io/tls", "apiserver-etcd-client": "kubernetes.io/tls",
		"sa": "Opaque", "etcd-ca": "Opaque", "controller-manager.conf": "Opaque", "scheduler.conf": "Opaque"} {
		sec := s.get("v1", "Secret", "kube-system", name)
		if sec == nil {
			t.Errorf("Secret %s missing", name)
			continue
		}
		if got, _, _ := unstructured.NestedString(sec.Object, "type"); got != typ {
			t.Errorf("Secret %s type %q, want %q", name, got, typ)
		}
	}
	caKey, _, _ := n.Get("/etc/kubernetes/pki/ca.key")
	if got, _, _ := unstructured.NestedString(s.get("v1", "Secret", "kube-system", "ca").Object, "stringData", "tls.key"); got != string(caKey) {
		t.Errorf("Secret ca does not hold ca.key")
	}
	api := fmt.Sprint(s.ds("kube-apiserver")["spec"])
	if !strings.Contains(api, "projected") || strings.Contains(api, "path:/etc/kubernetes/pki type") {
		t.Errorf("the API server still mounts the certificate directory: %s", api)
	}
	cm := s.ds("kube-controller-manager")
	cmC, _, _ := unstructured.NestedSlice(cm, "spec", "template", "spec", "containers")
	cmd := fmt.Sprint(cmC[0].(map[string]any)["command"])
	for _, f := range []string{"--kubeconfig=/etc/kubernetes/kubeconfig/controller-manager.conf", "--authentication-kubeconfig=/etc/kubernetes/kubeconfig/controller-manager.conf", "--authorization-kubeconfig=/etc/kubernetes/kubeconfig/controller-manager.conf"} {
		if !strings.Contains(cmd, f) {
			t.Errorf("controller-manager command lacks %s: %s", f, cmd)
		}
	}
	if v := fmt.Sprint(cm["spec"]); !strings.Contains(v, "secretName:controller-manager.conf") || !strings.Contains(v, "mountPath:/etc/kubernetes/kubeconfig") {
		t.Errorf("controller-manager volumes: %s", v)
	}
	mustSelfHost(t, n, "revert=true")
	for _, comp := range shComponents {
		got, _, _ := n.Get("/etc/kubernetes/manifests/" + comp + ".yaml")
		if string(withoutPortSharing(t, comp, got)) != string(orig[comp]) {
			t.Errorf("%s: reverted manifest differs from init's:\n%s\nwant\n%s", comp, got, orig[comp])
		}
	}
	if l, _ := s.c.List(context.Background(), "v1", "Secret", "kube-system", "kubelark.io/self-hosted=true"); len(l) != 0 {
		t.Errorf("%d Secrets left after revert", len(l))
	}

	ha := newSelfHostingCluster(t, "node2")
	plan, out, err := runSelfHosting(t, ha.nodes[0], false, "store_certs_in_secrets=true")
	if err == nil || !strings.Contains(err.Error(), "other control-plane nodes (node2)") {
		t.Errorf("HA store_certs_in_secrets: err %v\n%s", err, out)
	}
	for _, a := range plan.Actions {
		t.Errorf("refused run did %s %s", a.Op, a.Target)
	}
}
