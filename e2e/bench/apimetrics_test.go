package bench

import (
	"strings"
	"testing"
)

func TestParseCounts(t *testing.T) {
	metrics := `# HELP apiserver_request_total [STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="nodes",scope="resource",subresource="",verb="GET",version="v1"} 12
apiserver_request_total{code="201",component="apiserver",dry_run="",group="certificates.k8s.io",resource="certificatesigningrequests",scope="resource",subresource="",verb="POST",version="v1"} 3
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="nodes",scope="cluster",subresource="",verb="WATCH",version="v1"} 40
apiserver_request_total{code="200",component="",dry_run="",group="",resource="",scope="",subresource="",verb="GET",version=""} 5 1700000000000
apiserver_request_duration_seconds_count{verb="GET"} 99
apiserver_flowcontrol_dispatched_requests_total{flow_schema="system-nodes",priority_level="system"} 7
apiserver_flowcontrol_dispatched_requests_total{flow_schema="global-default",priority_level="global-default"} 2
apiserver_flowcontrol_dispatched_requests_total{flow_schema="kube-controller-manager",priority_level="workload-high"} 30
apiserver_flowcontrol_dispatched_requests_total{flow_schema="system-nodes",priority_level="node-high"} 1
`
	c, err := ParseCounts(metrics)
	if err != nil || c.Requests != 20 {
		t.Errorf("Requests = %v, %v; want 20 (WATCH and other metrics left out)", c.Requests, err)
	}
	if c.Flows["system-nodes"] != 8 || c.Flows["kube-controller-manager"] != 30 || c.NodeRequests() != 10 {
		t.Errorf("Flows = %v, NodeRequests = %v; want system-nodes 8 (summed over priority levels), node requests 10", c.Flows, c.NodeRequests())
	}
	d := c.Sub(Counts{Requests: 5, Flows: map[string]float64{"system-nodes": 3}}).Scale(2)
	if d.Requests != 30 || d.Flows["system-nodes"] != 10 || d.Flows["global-default"] != 4 {
		t.Errorf("(c - o) * 2 = %+v", d)
	}
	if _, err := ParseCounts("process_cpu_seconds_total 3\n"); err == nil || !strings.Contains(err.Error(), "no apiserver_request_total") {
		t.Errorf("metrics without the counter: err = %v", err)
	}
	if _, err := ParseCounts(`apiserver_request_total{verb="GET"} x` + "\n"); err == nil {
		t.Error("a value that is not a number must be an error")
	}
}

func TestPhaseTimes(t *testing.T) {
	out := `[phase] preflight
[phase] preflight done in 120ms
[phase] control-plane-prepare/certs: only for a control-plane join
[phase] kubelet-start done in 1500ms
[phase] kubelet-wait-bootstrap done in 2250ms
[summary] 3 created
`
	p := PhaseTimes(out)
	if len(p) != 3 || p["preflight"] != 120 || p["kubelet-start"] != 1500 || p["kubelet-wait-bootstrap"] != 2250 {
		t.Errorf("PhaseTimes = %v", p)
	}
}
