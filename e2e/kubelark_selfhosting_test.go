package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// selfHostingNetwork is TestKubelarkSelfHosting's own test bridge (nodes
// shcp1, shw1).
const selfHostingNetwork = "10.86.0"

// selfHosted are the components `kubelark run selfhosting` moves into
// DaemonSets, in its order; etcd stays a static Pod.
var selfHosted = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// mirrorAnnotation is the kubelet's annotation on a mirror Pod: the static
// Pod's hash, which is also its kubelet UID (the "pod<uid>" of its cgroup).
const mirrorAnnotation = "kubernetes.io/config.mirror"

// TestKubelarkSelfHosting is issue 10's Scenario A on real nodes: a working
// cluster (kubelark init on shcp1 with a Pod subnet, the bridge CNI
// installed by the test, kube-proxy and CoreDNS running), then `kubelark run
// selfhosting`. The process serving :6443 (found through the socket's inode
// in the node's network namespace, not through a probe) must belong to the
// container of the self-hosted-kube-apiserver DaemonSet's Pod; the three
// DaemonSets ready; /etc/kubernetes/manifests holds only etcd.yaml; the
// mirror Pods gone; the control plane reads and writes, its
// controller-manager makes a Deployment's ReplicaSet and its scheduler
// places the Pod. A worker joins afterwards. Upgrades on the single
// control-plane node: a flag change of the scheduler DaemonSet, an image
// change of the controller-manager's and a flag change of the API
// server's each roll to a new Pod that alone holds the component's port
// (the API server polled throughout). `--set revert=true` brings the static
// Pods back (the process on :6443 is the static Pod's container again, the
// DaemonSets gone) and the cluster still serves. Each step's duration is
// logged, and all of them at the end.
func TestKubelarkSelfHosting(t *testing.T) {
	testStart := time.Now()
	var tm haTimings
	defer func() {
		t.Logf("TestKubelarkSelfHosting step timings:\n\t%s\n\t%-28s %s", strings.Join(tm.steps, "\n\t"), "total", time.Since(testStart).Round(time.Millisecond))
	}()
	start := time.Now()
	kubelark := buildKubelark(t)
	_, imgs := prepare(t)
	tm.add(t, "build and prepare", start)

	start = time.Now()
	nw := e2eutil.NewNetwork(t, selfHostingNetwork)
	cp := newNode(t, nw, "shcp1")
	w := startNode(t, nw, node.Config{Name: "shw1", Images: e2eutil.WorkerImages(imgs)})
	tm.add(t, "nodes up", start)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	start = time.Now()
	cfgPath := filepath.Join(cp.Dir, "kubeadm-init.yaml")
	cfg := e2eutil.WorkingInitConfig(e2eutil.ConfigOptions{Address: cp.IP, NodeName: cp.Name, IgnoreSystemVerification: true})
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	initOut := run(ctx, t, cp, kubelark, "run", "init", "--config", cfgPath, "--service-command", cp.ServiceCommand())
	cs := clientFor(t, cp, "/etc/kubernetes/admin.conf")
	waitReadyz(ctx, t, cs)
	tm.add(t, "init", start)
	defer func() {
		if t.Failed() {
			dumpSelfHosting(t, cs)
		}
	}()

	start = time.Now()
	if err := e2eutil.InstallCNI(ctx, cs, nw, cp); err != nil {
		t.Fatal(err)
	}
	if err := e2eutil.WaitNodesReady(ctx, cs, []string{cp.Name}, time.Second); err != nil {
		t.Fatal(err)
	}
	waitControlPlanePods(ctx, t, cs, cp.Name)
	tm.add(t, "CNI, Node Ready", start)

	// The baseline, which also proves the listener lookup: before the pivot
	// the static Pod's container serves :6443.
	start = time.Now()
	checkAPIServerIsStatic(ctx, t, cs, cp)
	tm.add(t, "static :6443 owner found", start)

	start = time.Now()
	out, err := runStatus(ctx, t, cp, kubelark, "run", "selfhosting")
	if err != nil {
		t.Fatalf("kubelark run selfhosting failed: %v", err)
	}
	tm.add(t, "kubelark run selfhosting", start)
	for _, c := range selfHosted {
		if !strings.Contains(out, "self-hosted-"+c) {
			t.Errorf("kubelark run selfhosting does not name DaemonSet self-hosted-%s in its output", c)
		}
	}

	start = time.Now()
	selfHostedOK := t.Run("SelfHosted", func(t *testing.T) {
		for _, c := range selfHosted {
			waitDaemonSetReady(ctx, t, cs, "self-hosted-"+c, 1)
		}
		checkManifests(t, cp, "etcd.yaml")
		for _, c := range selfHosted {
			if p, err := cs.CoreV1().Pods("kube-system").Get(ctx, c+"-"+cp.Name, metav1.GetOptions{}); err == nil {
				t.Errorf("mirror Pod %s still exists (%s, %s) after the pivot", p.Name, p.Status.Phase, containerStates(p))
			} else if !apierrors.IsNotFound(err) {
				t.Error(err)
			}
		}
		checkAPIServerIsDaemonSetPod(ctx, t, cs, cp)
		checkSelfHostedSpecs(ctx, t, cs, cp)
	})
	tm.add(t, "self-hosted checks", start)
	if !selfHostedOK {
		t.FailNow()
	}

	start = time.Now()
	checkControlPlaneServes(ctx, t, cs, "selfhosted")
	tm.add(t, "self-hosted serves", start)

	// A worker joins the self-hosted control plane with the command init
	// printed; the DaemonSets stay on the control-plane node.
	start = time.Now()
	joinArgs := append(append([]string{kubelark}, parsePrintedJoin(t, initOut)...),
		"--service-command", w.ServiceCommand(), "--cri-socket", "unix://"+node.ContainerdSocket,
		"--ignore-preflight-errors", "SystemVerification")
	run(ctx, t, w, joinArgs...)
	if err := e2eutil.InstallCNI(ctx, cs, nw, cp, w); err != nil {
		t.Fatal(err)
	}
	if err := e2eutil.WaitNodesReady(ctx, cs, []string{cp.Name, w.Name}, time.Second); err != nil {
		t.Fatal(err)
	}
	checkJoinedKubelet(ctx, t, cp, w)
	for _, c := range selfHosted {
		waitDaemonSetReady(ctx, t, cs, "self-hosted-"+c, 1)
	}
	tm.add(t, "worker join, Nodes Ready", start)

	// Upgrades (issue §3): each component's DaemonSet changed in place rolls
	// on this single control-plane node. The scheduler gets a flag, the
	// controller-manager a new image (the local image tagged under a second
	// name inside the node: there is no registry), the API server a flag
	// while the cluster is polled throughout.
	start = time.Now()
	rollout(ctx, t, cs, cp, "kube-scheduler", 10259, "--v=2 added", addFlag("--v=2"))
	tm.add(t, "scheduler flag rollout", start)

	start = time.Now()
	kcmImage := imageOf(ctx, t, cs, "self-hosted-kube-controller-manager")
	newImage := kcmImage + "-rollout"
	if out, err := cp.Exec(ctx, "ctr", "-n", "k8s.io", "-a", node.ContainerdSocket, "images", "tag", "--force", kcmImage, newImage); err != nil {
		t.Fatalf("ctr images tag %s %s: %v: %s", kcmImage, newImage, err, out)
	}
	rollout(ctx, t, cs, cp, "kube-controller-manager", 10257, "image "+newImage, func(c *corev1.Container) bool {
		c.Image = newImage
		return true
	})
	tm.add(t, "controller-manager image rollout", start)

	start = time.Now()
	stop := watchServing(ctx, t, cs)
	rollout(ctx, t, cs, cp, "kube-apiserver", 6443, "--v=2 added", addFlag("--v=2"))
	stop()
	checkAPIServerIsDaemonSetPod(ctx, t, cs, cp)
	checkControlPlaneServes(ctx, t, cs, "apirolled")
	tm.add(t, "API server flag rollout", start)

	start = time.Now()
	if _, err := runStatus(ctx, t, cp, kubelark, "run", "selfhosting", "--set", "revert=true"); err != nil {
		t.Fatalf("kubelark run selfhosting --set revert=true failed: %v", err)
	}
	tm.add(t, "kubelark run selfhosting revert", start)

	start = time.Now()
	t.Run("Reverted", func(t *testing.T) {
		checkManifests(t, cp, "etcd.yaml", "kube-apiserver.yaml", "kube-controller-manager.yaml", "kube-scheduler.yaml")
		waitControlPlanePods(ctx, t, cs, cp.Name)
		for _, c := range selfHosted {
			name := "self-hosted-" + c
			poll(ctx, t, 2*time.Minute, "DaemonSet "+name+" and its Pods gone", func() (bool, string) {
				ds, err := cs.AppsV1().DaemonSets("kube-system").Get(ctx, name, metav1.GetOptions{})
				if err == nil {
					return false, fmt.Sprintf("DaemonSet exists (deletion %v)", ds.DeletionTimestamp)
				}
				if !apierrors.IsNotFound(err) {
					return false, err.Error()
				}
				pl, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=" + name})
				if err != nil {
					return false, err.Error()
				}
				return len(pl.Items) == 0, fmt.Sprintf("%d Pods left", len(pl.Items))
			})
		}
		checkAPIServerIsStatic(ctx, t, cs, cp)
		// The static manifests come from the DaemonSets' specs: the
		// scheduler keeps the flag of its rollout, and the API server
		// advertises the node's address again, not $(HOST_IP).
		sched, _ := cp.ReadFile("/etc/kubernetes/manifests/kube-scheduler.yaml")
		if !strings.Contains(string(sched), "--v=2") {
			t.Errorf("the reverted kube-scheduler manifest lost the --v=2 of the DaemonSet's rollout:\n%s", sched)
		}
		kcm, _ := cp.ReadFile("/etc/kubernetes/manifests/kube-controller-manager.yaml")
		if !strings.Contains(string(kcm), "image: "+newImage) {
			t.Errorf("the reverted kube-controller-manager manifest lost the image %s of the DaemonSet's rollout:\n%s", newImage, kcm)
		}
		api, _ := cp.ReadFile("/etc/kubernetes/manifests/kube-apiserver.yaml")
		if !strings.Contains(string(api), "--advertise-address="+cp.IP) || strings.Contains(string(api), "HOST_IP") || !strings.Contains(string(api), "--v=2") {
			t.Errorf("the reverted kube-apiserver manifest does not advertise %s as init wrote it:\n%s", cp.IP, api)
		}
	})
	tm.add(t, "reverted checks", start)

	start = time.Now()
	checkControlPlaneServes(ctx, t, cs, "reverted")
	tm.add(t, "reverted serves", start)
}

// apiServerOwner finds, within a minute, the process listening on :6443 in
// n and the kube-system Pod whose container it is (matched by containerd
// container ID against the Pods' container statuses, which may lag a
// restart by a moment). want names the expected owner for the log and
// the failure message; ok says whether a found Pod is it.
func apiServerOwner(ctx context.Context, t *testing.T, cs kubernetes.Interface, n *node.Node, want string, ok func(l e2eutil.Listener, p *corev1.Pod) string) (e2eutil.Listener, *corev1.Pod) {
	t.Helper()
	var l e2eutil.Listener
	var owner *corev1.Pod
	poll(ctx, t, time.Minute, ":6443 on "+n.Name+" served by "+want, func() (bool, string) {
		var err error
		if l, err = e2eutil.ListenerOn(ctx, n, 6443); err != nil {
			return false, err.Error()
		}
		if l.ContainerID == "" {
			return false, "the listener is in no containerd container: " + l.String()
		}
		pl, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + n.Name})
		if err != nil {
			return false, err.Error()
		}
		owner = nil
		for i := range pl.Items {
			for _, s := range pl.Items[i].Status.ContainerStatuses {
				if s.ContainerID == "containerd://"+l.ContainerID {
					owner = &pl.Items[i]
				}
			}
		}
		if owner == nil {
			return false, "no kube-system Pod on " + n.Name + " reports the listener's container: " + l.String()
		}
		if why := ok(l, owner); why != "" {
			return false, fmt.Sprintf("the listener (%s) is Pod %s's: %s", l, owner.Name, why)
		}
		return true, ""
	})
	t.Logf(":6443 on %s: %s, Pod %s", n.Name, l, owner.Name)
	return l, owner
}

// checkAPIServerIsStatic: the process on :6443 is the container of the
// static kube-apiserver Pod: its mirror Pod kube-apiserver-<node> reports
// the container, and the cgroup's Pod UID is the mirror's static hash.
func checkAPIServerIsStatic(ctx context.Context, t *testing.T, cs kubernetes.Interface, n *node.Node) {
	t.Helper()
	apiServerOwner(ctx, t, cs, n, "the static kube-apiserver Pod", func(l e2eutil.Listener, p *corev1.Pod) string {
		if p.Name != "kube-apiserver-"+n.Name {
			return "want mirror Pod kube-apiserver-" + n.Name
		}
		if h := p.Annotations[mirrorAnnotation]; h == "" || h != l.PodUID {
			return fmt.Sprintf("mirror hash %q, cgroup Pod UID %q: not the static Pod", h, l.PodUID)
		}
		return ""
	})
}

// checkAPIServerIsDaemonSetPod: the process on :6443 is the container of a
// Pod owned by DaemonSet self-hosted-kube-apiserver (no mirror Pod, its
// cgroup's Pod UID is that Pod's metadata.uid).
func checkAPIServerIsDaemonSetPod(ctx context.Context, t *testing.T, cs kubernetes.Interface, n *node.Node) {
	t.Helper()
	apiServerOwner(ctx, t, cs, n, "the self-hosted-kube-apiserver DaemonSet's Pod", func(l e2eutil.Listener, p *corev1.Pod) string {
		if _, mirror := p.Annotations[mirrorAnnotation]; mirror {
			return "a static Pod's mirror"
		}
		if ref := metav1.GetControllerOf(p); ref == nil || ref.Kind != "DaemonSet" || ref.Name != "self-hosted-kube-apiserver" {
			return fmt.Sprintf("controller %v, want DaemonSet self-hosted-kube-apiserver", ref)
		}
		if string(p.UID) != l.PodUID {
			return fmt.Sprintf("Pod UID %s, the listener's cgroup says %q", p.UID, l.PodUID)
		}
		if !e2eutil.PodReady(p) {
			return "Pod not Ready: " + containerStates(p)
		}
		return ""
	})
}

// checkSelfHostedSpecs: the DaemonSets' Pods carry the self-hosting
// mutations (issue §3) and run on n.
func checkSelfHostedSpecs(ctx context.Context, t *testing.T, cs kubernetes.Interface, n *node.Node) {
	t.Helper()
	for _, c := range selfHosted {
		name := "self-hosted-" + c
		ds, err := cs.AppsV1().DaemonSets("kube-system").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Error(err)
			continue
		}
		spec := ds.Spec.Template.Spec
		if _, ok := spec.NodeSelector["node-role.kubernetes.io/control-plane"]; !ok {
			t.Errorf("%s: nodeSelector %v lacks node-role.kubernetes.io/control-plane", name, spec.NodeSelector)
		}
		if spec.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
			t.Errorf("%s: dnsPolicy %s, want ClusterFirstWithHostNet", name, spec.DNSPolicy)
		}
		// Host network, a surge Pod and port sharing: the old Pod serves
		// (and the old scheduler places its successor) while the new one
		// binds the same port.
		if !spec.HostNetwork {
			t.Errorf("%s: not on the host network", name)
		}
		if ru := ds.Spec.UpdateStrategy.RollingUpdate; ru == nil || ru.MaxSurge == nil || ru.MaxSurge.IntValue() != 1 || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
			t.Errorf("%s: rollingUpdate %+v, want maxSurge 1, maxUnavailable 0", name, ru)
		}
		if !strings.Contains(strings.Join(spec.Containers[0].Command, " "), "--permit-port-sharing=true") {
			t.Errorf("%s: command lacks --permit-port-sharing=true", name)
		}
		t.Logf("%s: hostNetwork %v, update strategy %s %+v", name, spec.HostNetwork, ds.Spec.UpdateStrategy.Type, ds.Spec.UpdateStrategy.RollingUpdate)
		if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
			t.Errorf("%s: update strategy %s, want RollingUpdate", name, ds.Spec.UpdateStrategy.Type)
		}
		if c == "kube-apiserver" {
			args := strings.Join(append(spec.Containers[0].Command, spec.Containers[0].Args...), " ")
			if !strings.Contains(args, "--advertise-address=$(HOST_IP)") {
				t.Errorf("%s: the API server does not advertise $(HOST_IP): %s", name, args)
			}
		}
		pl, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=" + name})
		if err != nil {
			t.Error(err)
			continue
		}
		if len(pl.Items) != 1 || pl.Items[0].Spec.NodeName != n.Name || !e2eutil.PodReady(&pl.Items[0]) {
			var s []string
			for _, p := range pl.Items {
				s = append(s, fmt.Sprintf("%s on %q: %s", p.Name, p.Spec.NodeName, containerStates(&p)))
			}
			t.Errorf("%s: Pods %v, want one Ready on %s", name, s, n.Name)
		}
	}
}

// waitDaemonSetReady waits until the DaemonSet has observed its generation
// and desired = ready = available = updated = want.
func waitDaemonSetReady(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string, want int32) {
	t.Helper()
	poll(ctx, t, 3*time.Minute, "DaemonSet "+name+" ready", func() (bool, string) {
		ds, err := cs.AppsV1().DaemonSets("kube-system").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return daemonSetReady(ds, want)
	})
}

// checkManifests: /etc/kubernetes/manifests on n holds exactly want.
func checkManifests(t *testing.T, n *node.Node, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(n.HostPath("/etc/kubernetes/manifests"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("/etc/kubernetes/manifests on %s holds %v, want %v", n.Name, got, want)
	}
}

// checkControlPlaneServes: the API server reads and writes (a ConfigMap
// created, read, updated, deleted), the controller-manager works (a
// Deployment gets its ReplicaSet and that its Pod) and the scheduler works
// (the Pod gets a node and runs). The Pod tolerates the control-plane taint,
// so it can run before a worker joins.
func checkControlPlaneServes(ctx context.Context, t *testing.T, cs kubernetes.Interface, tag string) {
	t.Helper()
	name := "sh-" + tag
	cms := cs.CoreV1().ConfigMaps("default")
	// The first write right after a pivot may meet an API server that is
	// just taking over the port: retry for a while.
	poll(ctx, t, time.Minute, "ConfigMap "+name+" written and read", func() (bool, string) {
		cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"step": tag}}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			cm, err = cms.Get(ctx, name, metav1.GetOptions{})
		}
		if err != nil {
			return false, err.Error()
		}
		cm.Data["updated"] = "yes"
		if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			return false, "update: " + err.Error()
		}
		got, err := cms.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, "get: " + err.Error()
		}
		if got.Data["step"] != tag || got.Data["updated"] != "yes" {
			return false, fmt.Sprintf("read back %v", got.Data)
		}
		return true, ""
	})
	if err := cms.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Errorf("delete ConfigMap %s: %v", name, err)
	}

	labels := map[string]string{"app": name}
	one := int32(1)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Tolerations: []corev1.Toleration{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
					Containers:  []corev1.Container{{Name: "pause", Image: node.SandboxImage, ImagePullPolicy: corev1.PullNever}},
				},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Deployment %s: %v", name, err)
	}
	// The controller-manager's Deployment controller makes the ReplicaSet.
	poll(ctx, t, 2*time.Minute, "Deployment "+name+" has its ReplicaSet (controller-manager)", func() (bool, string) {
		rl, err := cs.AppsV1().ReplicaSets("default").List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil {
			return false, err.Error()
		}
		for _, rs := range rl.Items {
			if ref := metav1.GetControllerOf(&rs); ref != nil && ref.Kind == "Deployment" && ref.Name == name {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d ReplicaSets with app=%s, none owned by the Deployment", len(rl.Items), name)
	})
	// The scheduler binds its Pod; the kubelet runs it.
	poll(ctx, t, 2*time.Minute, "Pod of "+name+" scheduled (scheduler) and Running", func() (bool, string) {
		pl, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil {
			return false, err.Error()
		}
		if len(pl.Items) == 0 {
			return false, "no Pod yet (the ReplicaSet controller makes it)"
		}
		p := pl.Items[0]
		return p.Spec.NodeName != "" && p.Status.Phase == corev1.PodRunning,
			fmt.Sprintf("Pod %s on %q, phase %s, %s", p.Name, p.Spec.NodeName, p.Status.Phase, containerStates(&p))
	})
	if err := cs.AppsV1().Deployments("default").Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Errorf("delete Deployment %s: %v", name, err)
	}
}

// addFlag appends flag to a container's command (as `kubectl edit` of a
// self-hosted component's flags would).
func addFlag(flag string) func(*corev1.Container) bool {
	return func(c *corev1.Container) bool {
		c.Command = append(c.Command, flag)
		return true
	}
}

// imageOf is the image of DaemonSet name's container.
func imageOf(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string) string {
	t.Helper()
	ds, err := cs.AppsV1().DaemonSets("kube-system").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ds.Spec.Template.Spec.Containers[0].Image
}

// watchServing polls the API server (/readyz) every 250ms until the
// returned stop is called, which fails the test if it went unserved for
// more than 5s in a row and logs every failed poll's count.
func watchServing(ctx context.Context, t *testing.T, cs kubernetes.Interface) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	result := make(chan string, 1)
	go func() {
		polls, failed := 0, 0
		var downSince time.Time
		var longest time.Duration
		var lastErr string
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				result <- fmt.Sprintf("%d polls, %d failed, longest outage %s (last error %q)", polls, failed, longest.Round(time.Millisecond), lastErr)
				if longest > 5*time.Second {
					result <- "long"
				}
				close(result)
				return
			case <-tick.C:
			}
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(rctx)
			cancel()
			polls++
			if err == nil {
				downSince = time.Time{}
				continue
			}
			failed++
			if lastErr = err.Error(); len(lastErr) > 160 {
				lastErr = lastErr[:80] + " ... " + lastErr[len(lastErr)-80:]
			}
			if downSince.IsZero() {
				downSince = time.Now()
			}
			if d := time.Since(downSince); d > longest {
				longest = d
			}
		}
	}()
	return func() {
		close(done)
		msg := <-result
		t.Logf("API server during the rollout: %s", msg)
		if _, long := <-result; long {
			t.Errorf("the API server went unserved for more than 5s during its rollout: %s", msg)
		}
	}
}

// rollout changes DaemonSet self-hosted-<component> with mutate (what
// names the change for the log) and waits for the RollingUpdate on the
// single control-plane node cp: the DaemonSet observes the new generation,
// its one Pod is a new one with the change, Ready on cp, the old Pods are
// gone, and the process on the component's port is the new Pod's
// container. A new Pod left unscheduled with no scheduler running is a
// deadlock and fails early with the reason.
func rollout(ctx context.Context, t *testing.T, cs kubernetes.Interface, cp *node.Node, component string, port int, what string, mutate func(*corev1.Container) bool) {
	t.Helper()
	name := "self-hosted-" + component
	dsc := cs.AppsV1().DaemonSets("kube-system")
	before, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=" + name})
	if err != nil {
		t.Fatal(err)
	}
	old := map[string]bool{}
	for _, p := range before.Items {
		old[string(p.UID)] = true
	}
	var gen int64
	var want corev1.Container
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ds, err := dsc.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		c := &ds.Spec.Template.Spec.Containers[0]
		mutate(c)
		want = *c.DeepCopy()
		ds, err = dsc.Update(ctx, ds, metav1.UpdateOptions{})
		if err == nil {
			gen = ds.Generation
		}
		return err
	})
	if err != nil {
		t.Fatalf("DaemonSet %s: %s: %v", name, what, err)
	}
	t.Logf("DaemonSet %s: %s, generation %d", name, what, gen)
	changed := func(p *corev1.Pod) bool {
		c := p.Spec.Containers[0]
		return c.Image == want.Image && strings.Join(c.Command, " ") == strings.Join(want.Command, " ")
	}
	var pod *corev1.Pod
	var unscheduledSince time.Time
	start := time.Now()
	poll(ctx, t, 4*time.Minute, "DaemonSet "+name+"'s rollout ("+what+")", func() (bool, string) {
		ds, err := dsc.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		dsOK, dsMsg := daemonSetReady(ds, 1)
		dsMsg = fmt.Sprintf("generation %d observed %d, %s", ds.Generation, ds.Status.ObservedGeneration, dsMsg)
		pl, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=" + name})
		if err != nil {
			return false, err.Error()
		}
		var s []string
		pod = nil
		running := 0
		for i, p := range pl.Items {
			s = append(s, fmt.Sprintf("%s (old %v) on %q %s: %s", p.Name, old[string(p.UID)], p.Spec.NodeName, p.Status.Phase, containerStates(&p)))
			if !old[string(p.UID)] && p.DeletionTimestamp == nil && changed(&p) {
				pod = &pl.Items[i]
			}
			if p.Spec.NodeName != "" && p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				running++
			}
		}
		if pod != nil && pod.Spec.NodeName == "" && running == 0 && component == "kube-scheduler" {
			if unscheduledSince.IsZero() {
				unscheduledSince = time.Now()
			} else if time.Since(unscheduledSince) > 90*time.Second {
				t.Fatalf("DaemonSet %s's rollout deadlocked: its new Pod %s has been unscheduled for %s and no scheduler Pod runs to place it; %s; Pods: %s",
					name, pod.Name, time.Since(unscheduledSince).Round(time.Second), dsMsg, strings.Join(s, "; "))
			}
		} else {
			unscheduledSince = time.Time{}
		}
		ok := ds.Status.ObservedGeneration >= gen && dsOK && len(pl.Items) == 1 && pod != nil && e2eutil.PodReady(pod) && pod.Spec.NodeName == cp.Name
		return ok, dsMsg + "; Pods: " + strings.Join(s, "; ")
	})
	t.Logf("DaemonSet %s rolled to Pod %s (%s) in %s", name, pod.Name, what, time.Since(start).Round(time.Millisecond))
	poll(ctx, t, time.Minute, fmt.Sprintf(":%d served by the new %s Pod alone", port, component), func() (bool, string) {
		l, err := e2eutil.ListenerOn(ctx, cp, port)
		if err != nil {
			return false, err.Error()
		}
		p, err := cs.CoreV1().Pods("kube-system").Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, s := range p.Status.ContainerStatuses {
			if s.ContainerID == "containerd://"+l.ContainerID {
				return true, ""
			}
		}
		return false, fmt.Sprintf("listener %s is not a container of Pod %s", l, p.Name)
	})
}

// dumpSelfHosting logs the kube-system Pods and the DaemonSets, and the
// logs of the control-plane Pods, for a failed run.
func dumpSelfHosting(t *testing.T, cs kubernetes.Interface) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// An API server that just took over the port answers Forbidden until
	// its RBAC caches are synced: wait for /readyz first (a minute at most).
	rctx, rcancel := context.WithTimeout(ctx, time.Minute)
	if err := e2eutil.WaitReadyz(rctx, cs, time.Second); err != nil {
		t.Logf("dump: %v", err)
	}
	rcancel()
	pl, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Logf("kube-system Pods: %v", err)
		return
	}
	for _, p := range pl.Items {
		t.Logf("kube-system/%s on %q: %s %s", p.Name, p.Spec.NodeName, p.Status.Phase, containerStates(&p))
	}
	dl, err := cs.AppsV1().DaemonSets("kube-system").List(ctx, metav1.ListOptions{})
	if err == nil {
		for _, ds := range dl.Items {
			_, msg := daemonSetReady(&ds, 1)
			t.Logf("DaemonSet %s: generation %d observed %d, %s", ds.Name, ds.Generation, ds.Status.ObservedGeneration, msg)
		}
	}
	for _, p := range pl.Items {
		if strings.HasPrefix(p.Name, "self-hosted-") || strings.HasPrefix(p.Name, "kube-apiserver") || strings.HasPrefix(p.Name, "kube-controller-manager") || strings.HasPrefix(p.Name, "kube-scheduler") {
			for _, c := range p.Spec.Containers {
				t.Logf("--- logs of kube-system/%s %s ---\n%s", p.Name, c.Name, podLogs(ctx, cs, "kube-system", p.Name, c.Name))
			}
		}
	}
}
