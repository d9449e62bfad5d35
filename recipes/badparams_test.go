package recipes_test

import (
	"strings"
	"testing"
)

// TestBadSubnetParams: a malformed service_subnet, pod_subnet,
// control_plane_endpoint or timeout given with --set (which bypasses the
// kubeadm config decoder's checks) is refused by config.resolve, naming the
// parameter, before any phase runs.
func TestBadSubnetParams(t *testing.T) {
	for _, c := range []struct {
		set  []string
		want []string
	}{
		{[]string{"pod_subnet=10.244.0.0/33"}, []string{`pod_subnet: "10.244.0.0/33"`, `"10.244.0.0/33" is not a CIDR`}},
		{[]string{"pod_subnet=10.244.0.0"}, []string{`pod_subnet: "10.244.0.0"`, `"10.244.0.0" is not a CIDR`}},
		{[]string{"pod_subnet=10.244.0.0/16,10.245.0.0/16"}, []string{`pod_subnet: "10.244.0.0/16,10.245.0.0/16"`, "are both IPv4; dual-stack allows at most one IPv4 and one IPv6 CIDR"}},
		{[]string{"service_subnet=10.96.0.0"}, []string{`service_subnet: "10.96.0.0"`, `"10.96.0.0" is not a CIDR`}},
		{[]string{"service_subnet=fd00::/129"}, []string{`service_subnet: "fd00::/129"`, `"fd00::/129" is not a CIDR`}},
		{[]string{"service_subnet=a,b,c"}, []string{`service_subnet: "a,b,c"`, `"a" is not a CIDR`}},
		{[]string{"service_subnet=10.96.0.0/12,fd00::/108,10.97.0.0/16"}, []string{"service_subnet:", "are both IPv4"}},
		{[]string{"control_plane_endpoint=cp.example.com:http"}, []string{`control_plane_endpoint: "cp.example.com:http": port "http"`}},
		{[]string{"control_plane_endpoint=Bad_Host:6443"}, []string{`control_plane_endpoint: "Bad_Host:6443": host "Bad_Host"`}},
		{[]string{"timeout_kubelet_health_check=4 minutes"}, []string{`timeout_kubelet_health_check: "4 minutes" is not a duration`}},
		{[]string{"timeout_control_plane_component_health_check=soon"}, []string{`timeout_control_plane_component_health_check: "soon" is not a duration`}},
	} {
		f := newFake()
		plan, out, err := runInit(t, f, true, "", c.set...)
		missing := err == nil
		for _, w := range c.want {
			missing = missing || !strings.Contains(err.Error(), w)
		}
		if missing {
			t.Errorf("--set %v: error %v, want one saying %q\n%s", c.set, err, c.want, out)
			continue
		}
		if plan != nil && len(plan.Actions) > 0 {
			t.Errorf("--set %v: %d actions recorded before the parameter was refused", c.set, len(plan.Actions))
		}
	}
	// Valid dual-stack lists still pass.
	if _, out, err := runInit(t, newFake(), true, "", "service_subnet=10.96.0.0/12,fd00::/108", "pod_subnet=10.244.0.0/16, fd01::/48"); err != nil {
		t.Errorf("dual-stack subnets refused: %v\n%s", err, out)
	}
}
