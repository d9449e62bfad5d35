package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/internal/images"
	"github.com/kubelark/kubelark/e2e/node"
)

// A working cluster (issue 10 part 1), as TestKubelarkHA builds it: init
// with a Pod subnet and e2eutil.KubeProxyConfig, the nodes join, then, as a
// user would, the test installs a plain bridge CNI on every node
// (e2eutil.InstallCNI: Debian's plugins, each node's podCIDR from the
// controller-manager, routes between the nodes). checkWorkingCluster
// asserts what makes it a working cluster.

// clusterPodSubnet is the Pod network init gets (e2eutil.InitConfig); the
// controller-manager allocates each Node a /24 of it, from which the bridge
// CNI hands out addresses.
const clusterPodSubnet = "10.244.0.0/16"

// checkWorkingCluster installs the CNI on nodes and asserts: every Node
// Ready with a podCIDR from clusterPodSubnet; the kube-proxy DaemonSet
// ready on every node, each kube-proxy's healthz answering (it has
// programmed its rules); the coredns Deployment ready; the kube-proxy and
// CoreDNS images in use are the locally built ones under the manifests'
// names; and a netcheck Pod on each node of netcheckOn resolves
// kubernetes.default.svc.cluster.local through the cluster DNS Service and
// reaches the API server's /healthz through the kubernetes Service, by
// ClusterIP and by name (so kube-proxy's rules, CoreDNS and the Pod routes
// work). cs must be an admin client.
func checkWorkingCluster(ctx context.Context, t *testing.T, cs kubernetes.Interface, nw *node.Network, nodes []*node.Node, netcheckOn []*node.Node) {
	t.Helper()
	start := time.Now()
	if err := e2eutil.InstallCNI(ctx, cs, nw, nodes...); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	if err := e2eutil.WaitNodesReady(ctx, cs, names, time.Second); err != nil {
		t.Fatalf("Nodes not Ready with the bridge CNI: %v", err)
	}
	t.Logf("every Node (%s) Ready %s after the CNI was installed", strings.Join(names, ", "), time.Since(start).Round(time.Millisecond))
	for _, n := range nodes {
		k, err := cs.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(k.Spec.PodCIDR, "10.244.") {
			t.Errorf("Node %s: podCIDR %q, want a /24 of %s", n.Name, k.Spec.PodCIDR, clusterPodSubnet)
		}
	}

	want := int32(len(nodes))
	poll(ctx, t, 5*time.Minute, fmt.Sprintf("kube-proxy DaemonSet ready on %d nodes", want), func() (bool, string) {
		ds, err := cs.AppsV1().DaemonSets("kube-system").Get(ctx, "kube-proxy", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return daemonSetReady(ds, want)
	})
	// A kube-proxy container without a readiness probe counts as ready for a
	// moment after each restart; its healthz answers 200 only once it has
	// programmed the node's rules.
	for _, n := range nodes {
		poll(ctx, t, 3*time.Minute, "kube-proxy healthz on "+n.Name, func() (bool, string) {
			return kubeProxyHealthy(ctx, n)
		})
	}
	poll(ctx, t, 5*time.Minute, "coredns Deployment ready", func() (bool, string) {
		d, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return deploymentReady(d)
	})
	for _, img := range []string{images.Refs()["kube-proxy"], images.Refs()["coredns"]} {
		checkPodsUseImage(ctx, t, cs, img)
	}

	svc, err := cs.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kube, err := cs.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Where CoreDNS runs decides which path a lookup takes: from a node
	// without a CoreDNS Pod, across the nodes' Pod routes.
	dnsPods, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=kube-dns"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range dnsPods.Items {
		t.Logf("CoreDNS Pod %s on %s at %s", p.Name, p.Spec.NodeName, p.Status.PodIP)
	}
	// A control-plane node gets its Pod by spec.nodeName: the kubelet does
	// not enforce its NoSchedule taint.
	for _, n := range netcheckOn {
		t.Run("PodOn"+n.Name+"UsesServices", func(t *testing.T) {
			runNetcheck(ctx, t, cs, n.Name, svc.Spec.ClusterIP, kube.Spec.ClusterIP)
		})
	}
}

// runNetcheck runs the netcheck image in a Pod pinned to nodeName and
// requires it to succeed; its output is logged either way.
func runNetcheck(ctx context.Context, t *testing.T, cs kubernetes.Interface, nodeName, dnsIP, apiIP string) {
	t.Helper()
	pods := cs.CoreV1().Pods("default")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "netcheck-" + nodeName},
		Spec: corev1.PodSpec{
			NodeName:      nodeName,
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name:            "netcheck",
				Image:           images.NetcheckRef,
				ImagePullPolicy: corev1.PullNever,
				Args: []string{"-dns", dnsIP, "-api", apiIP,
					"-name", "kubernetes.default.svc.cluster.local", "-want", apiIP, "-timeout", "2m"},
			}},
		},
	}
	start := time.Now()
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var phase corev1.PodPhase
	poll(ctx, t, 4*time.Minute, "netcheck Pod finished", func() (bool, string) {
		p, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		phase = p.Status.Phase
		return phase == corev1.PodSucceeded || phase == corev1.PodFailed, fmt.Sprintf("phase %s, IP %q, %s", phase, p.Status.PodIP, containerStates(p))
	})
	logs := podLogs(ctx, cs, "default", pod.Name, "netcheck")
	t.Logf("netcheck on %s (%s):\n%s", nodeName, time.Since(start).Round(time.Millisecond), logs)
	if phase != corev1.PodSucceeded {
		t.Fatalf("netcheck Pod on %s: phase %s, want Succeeded", nodeName, phase)
	}
	if !strings.Contains(logs, "netcheck: all checks passed") {
		t.Errorf("netcheck Pod on %s succeeded without its success line", nodeName)
	}
}

// kubeProxyHealthy asks kube-proxy's health endpoint (hostNetwork, port
// 10256) inside the node.
func kubeProxyHealthy(ctx context.Context, n *node.Node) (bool, string) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: n.DialContext}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(n.IP, "10256")+"/healthz", nil)
	if err != nil {
		return false, err.Error()
	}
	resp, err := c.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	return resp.StatusCode == http.StatusOK, fmt.Sprintf("%s: %s", resp.Status, body)
}

func daemonSetReady(ds *appsv1.DaemonSet, want int32) (bool, string) {
	s := ds.Status
	msg := fmt.Sprintf("desired %d, scheduled %d, ready %d, available %d, updated %d", s.DesiredNumberScheduled, s.CurrentNumberScheduled, s.NumberReady, s.NumberAvailable, s.UpdatedNumberScheduled)
	return s.ObservedGeneration >= ds.Generation && s.DesiredNumberScheduled == want && s.NumberReady == want && s.NumberAvailable == want && s.UpdatedNumberScheduled == want, msg
}

func deploymentReady(d *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	msg := fmt.Sprintf("replicas %d/%d ready, %d available, %d updated", s.ReadyReplicas, want, s.AvailableReplicas, s.UpdatedReplicas)
	return s.ObservedGeneration >= d.Generation && want > 0 && s.ReadyReplicas == want && s.AvailableReplicas == want && s.UpdatedReplicas == want, msg
}

// checkPodsUseImage checks that some running kube-system container uses the
// exact image reference (the locally built image under the manifest's name).
func checkPodsUseImage(ctx context.Context, t *testing.T, cs kubernetes.Interface, ref string) {
	t.Helper()
	pl, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pl.Items {
		for _, c := range p.Status.ContainerStatuses {
			if c.Image == ref && c.State.Running != nil {
				return
			}
		}
	}
	t.Errorf("no running kube-system container with image %s", ref)
}

func containerStates(p *corev1.Pod) string {
	var l []string
	for _, c := range p.Status.ContainerStatuses {
		switch {
		case c.State.Waiting != nil:
			l = append(l, fmt.Sprintf("%s waiting %s: %s", c.Name, c.State.Waiting.Reason, c.State.Waiting.Message))
		case c.State.Running != nil:
			l = append(l, c.Name+" running")
		case c.State.Terminated != nil:
			l = append(l, fmt.Sprintf("%s terminated %s exit %d", c.Name, c.State.Terminated.Reason, c.State.Terminated.ExitCode))
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			l = append(l, fmt.Sprintf("%s: %s", c.Type, c.Message))
		}
	}
	return strings.Join(l, "; ")
}

func podLogs(ctx context.Context, cs kubernetes.Interface, ns, name, container string) string {
	tail := int64(60)
	r, err := cs.CoreV1().Pods(ns).GetLogs(name, &corev1.PodLogOptions{Container: container, TailLines: &tail}).Stream(ctx)
	if err != nil {
		return fmt.Sprintf("(logs of %s/%s: %v)", ns, name, err)
	}
	defer r.Close()
	b, _ := io.ReadAll(io.LimitReader(r, 64<<10))
	return string(b)
}

// dumpKubeSystem logs every kube-system Pod's state and the logs of the
// add-on Pods, for a failed run.
func dumpKubeSystem(t *testing.T, cs kubernetes.Interface) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pl, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Logf("kube-system Pods: %v", err)
		return
	}
	for _, p := range pl.Items {
		t.Logf("kube-system/%s on %q: %s IP %q %s", p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.PodIP, containerStates(&p))
		if strings.HasPrefix(p.Name, "kube-proxy") || strings.HasPrefix(p.Name, "coredns") {
			for _, c := range p.Spec.Containers {
				t.Logf("--- logs of kube-system/%s %s ---\n%s", p.Name, c.Name, podLogs(ctx, cs, "kube-system", p.Name, c.Name))
			}
		}
	}
}
