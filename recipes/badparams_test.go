package recipes_test

import (
	"strings"
	"testing"
)

// TestBadSubnetParams: a malformed service_subnet or pod_subnet given with
// --set (which bypasses the kubeadm config decoder's checks) is refused by
// config.resolve, naming the parameter, before any phase runs.
func TestBadSubnetParams(t *testing.T) {
	for _, c := range []struct {
		set  []string
		want string
	}{
		{[]string{"pod_subnet=10.244.0.0/33"}, `pod_subnet: "10.244.0.0/33" is not a CIDR`},
		{[]string{"pod_subnet=10.244.0.0"}, `pod_subnet: "10.244.0.0" is not a CIDR`},
		{[]string{"pod_subnet=10.244.0.0/16,10.245.0.0/16"}, "pod_subnet \"10.244.0.0/16,10.245.0.0/16\": two CIDRs must be one IPv4 and one IPv6"},
		{[]string{"service_subnet=10.96.0.0"}, `service_subnet: "10.96.0.0" is not a CIDR`},
		{[]string{"service_subnet=fd00::/129"}, `service_subnet: "fd00::/129" is not a CIDR`},
		{[]string{"service_subnet=a,b,c"}, `service_subnet: "a" is not a CIDR`},
	} {
		f := newFake()
		plan, out, err := runInit(t, f, true, "", c.set...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
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
