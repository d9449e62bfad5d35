package e2eutil

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubelark/kubelark/e2e/node"
)

// ClientFor is a clientset for a kubeconfig inside the node (see RESTConfig).
func ClientFor(n *node.Node, kubeconfig string) (*kubernetes.Clientset, error) {
	cfg, err := RESTConfig(n, kubeconfig)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// WaitReadyz polls the API server's /readyz every `every` until it answers
// "ok" (benchmarks poll often, to time readiness closely).
func WaitReadyz(ctx context.Context, cs kubernetes.Interface, every time.Duration) error {
	var last string
	for {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && string(body) == "ok" {
			return nil
		}
		last = fmt.Sprintf("%s %v", body, err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("API server /readyz not ok: %s", last)
		case <-time.After(every):
		}
	}
}

// ControlPlaneComponents are the static Pods of a stacked control-plane node.
var ControlPlaneComponents = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// WaitControlPlanePods polls every `every` until the mirror Pods of the four
// static Pods of nodeName are Running and Ready.
func WaitControlPlanePods(ctx context.Context, cs kubernetes.Interface, nodeName string, every time.Duration) error {
	var last string
	for {
		var missing []string
		for _, c := range ControlPlaneComponents {
			p, err := cs.CoreV1().Pods("kube-system").Get(ctx, c+"-"+nodeName, metav1.GetOptions{})
			if err != nil {
				missing = append(missing, fmt.Sprintf("%s: %v", c, err))
				continue
			}
			if !PodReady(p) {
				missing = append(missing, fmt.Sprintf("%s: phase %s, not ready", c, p.Status.Phase))
			}
		}
		if len(missing) == 0 {
			return nil
		}
		last = strings.Join(missing, "; ")
		select {
		case <-ctx.Done():
			return fmt.Errorf("control-plane Pods on %s not ready: %s", nodeName, last)
		case <-time.After(every):
		}
	}
}

// PodReady reports whether p is Running with condition Ready true.
func PodReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
