package stdlib_test

import (
	"strings"
	"testing"
)

// TestWaitControlPlaneWaitsBeforeTheFirstAPIWrite: the health waits come
// before the kubeadm:cluster-admins binding (kubeadm waits with a client
// that needs no rights), so a control plane that never becomes healthy
// fails naming the component, with nothing written to the API.
func TestWaitControlPlaneWaitsBeforeTheFirstAPIWrite(t *testing.T) {
	r := runAPI(t, nil)
	lastWait, binding := -1, -1
	for i, a := range r.plan.Actions {
		if a.Phase != "wait-control-plane" {
			continue
		}
		switch {
		case a.Op == "wait":
			lastWait = i
		case a.Op == "api.apply" && strings.HasSuffix(a.Target, "/ClusterRoleBinding/kubeadm:cluster-admins"):
			binding = i
		case strings.HasPrefix(a.Op, "api."):
			t.Errorf("wait-control-plane: unexpected %s %s", a.Op, a.Target)
		}
	}
	if lastWait < 0 || binding < 0 {
		t.Fatalf("wait-control-plane recorded no wait (%d) or no cluster-admins binding (%d)", lastWait, binding)
	}
	if binding < lastWait {
		t.Errorf("the kubeadm:cluster-admins binding (action %d) is applied before the health waits end (action %d)", binding, lastWait)
	}
}
