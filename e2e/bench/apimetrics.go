package bench

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// Server-side request counting. A tool's own request log (kubeadm --v=6,
// kubelark -v) misses what a join causes beyond the tool: the kubelet's
// TLS bootstrap (CSR create, watch, read), its Node registration and its
// first status updates, and the controller-manager's approval and
// signing. The API server counts every request it serves in
// apiserver_request_total (labels verb, resource, code, ...; no client
// label, so requests cannot be split by user without an audit log), and
// API Priority and Fairness counts every request it dispatches in
// apiserver_flowcontrol_dispatched_requests_total by flow schema, which
// does split by client class: the joining node's clients (anonymous and
// bootstrap-token discovery, the kubelet's bootstrap and node
// credentials) fall in global-default, catch-all, system-nodes and
// system-node-high, the controller-manager's controllers in
// kube-system-service-accounts (and kube-controller-manager), the harness (super-admin.conf, system:masters) in exempt. The join
// benchmarks scrape /metrics before and after a join and take the
// differences, minus the harness's own scrape, minus the background of
// the control plane itself (its kubelet, controller-manager, scheduler,
// leader election), measured as a rate over an idle window just before.
//
// In apiserver_request_total WATCH requests are left out: a watch is
// counted when it ends, so the kubelet's watches opened during the window
// are not counted anyway, while one that happens to time out in the window
// would be. APF counts a watch when it is dispatched (at its start), so
// the flow-schema counts include the kubelet's watches.

// Counts are a /metrics scrape reduced to what the join benchmarks use.
type Counts struct {
	// Requests is apiserver_request_total summed over every label set
	// except verb WATCH.
	Requests float64
	// Flows is apiserver_flowcontrol_dispatched_requests_total summed per
	// flow_schema.
	Flows map[string]float64
}

// NodeFlows are the flow schemas of a joining node's own requests.
var NodeFlows = []string{"global-default", "catch-all", "system-nodes", "system-node-high"}

// ControllerFlows are the flow schemas of the controller-manager: its own
// credential, and its controllers' kube-system service accounts
// (kubeadm's --use-service-account-credentials).
var ControllerFlows = []string{"kube-controller-manager", "kube-system-service-accounts"}

// ControllerRequests sums the ControllerFlows.
func (c Counts) ControllerRequests() float64 {
	var n float64
	for _, f := range ControllerFlows {
		n += c.Flows[f]
	}
	return n
}

// NodeRequests sums the NodeFlows.
func (c Counts) NodeRequests() float64 {
	var n float64
	for _, f := range NodeFlows {
		n += c.Flows[f]
	}
	return n
}

// Sub is c - o, per field.
func (c Counts) Sub(o Counts) Counts {
	d := Counts{Requests: c.Requests - o.Requests, Flows: map[string]float64{}}
	for k, v := range c.Flows {
		d.Flows[k] = v - o.Flows[k]
	}
	return d
}

// Scale is c * f, per field.
func (c Counts) Scale(f float64) Counts {
	d := Counts{Requests: c.Requests * f, Flows: map[string]float64{}}
	for k, v := range c.Flows {
		d.Flows[k] = v * f
	}
	return d
}

// ParseCounts reads the Prometheus text exposition of kube-apiserver's
// /metrics.
func ParseCounts(metrics string) (Counts, error) {
	c := Counts{Flows: map[string]float64{}}
	found := false
	sc := bufio.NewScanner(strings.NewReader(metrics))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, rest, ok := strings.Cut(line, "{")
		if !ok || (name != "apiserver_request_total" && name != "apiserver_flowcontrol_dispatched_requests_total") {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		f := strings.Fields(value) // a sample may carry a timestamp after the value
		if !ok || len(f) == 0 {
			return c, fmt.Errorf("%s line without a value: %q", name, line)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return c, fmt.Errorf("%s value %q: %w", name, f[0], err)
		}
		if name == "apiserver_request_total" {
			found = true
			if !strings.Contains(labels, `verb="WATCH`) {
				c.Requests += v
			}
			continue
		}
		c.Flows[label(labels, "flow_schema")] += v
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	if !found {
		return c, fmt.Errorf("no apiserver_request_total in the API server's /metrics (was it scraped with a credential allowed to read /metrics?)")
	}
	return c, nil
}

// label is the value of name in a Prometheus label list (values are
// quoted; the ones used here never contain an escaped quote).
func label(labels, name string) string {
	for _, kv := range strings.Split(labels, ",") {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// PhaseTimes reads kubelark's `-vv` phase timings ("[phase] NAME done in
// Nms") into milliseconds per phase.
func PhaseTimes(output string) map[string]float64 {
	out := map[string]float64{}
	for _, line := range strings.Split(output, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "[phase] ")
		if !ok {
			continue
		}
		name, ms, ok := strings.Cut(rest, " done in ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSuffix(ms, "ms"), 64)
		if err != nil {
			continue
		}
		out[name] += v
	}
	return out
}
