package bench

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Result is one benchmark's metrics, averaged over its lines in the
// output (go test -count N prints one line per run).
type Result struct {
	Name       string // without "Benchmark" and the -GOMAXPROCS suffix
	Pkg        string
	Iterations int
	Metrics    map[string]float64
	runs       int
}

// Output is parsed `go test -bench` text: results in order of first
// appearance and the "key: value" configuration lines (goos, cpu, and the
// machine facts this package's TestMain prints).
type Output struct {
	Results []*Result
	Config  [][2]string
	// Failures are the lines that say a benchmark or package failed
	// ("--- FAIL", "FAIL", "panic:"): a report over a failed run must not
	// pass for a good one.
	Failures []string
}

var (
	benchLine  = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)
	configLine = regexp.MustCompile(`^([a-z][a-zA-Z0-9_-]*):\s+(.*)$`)
)

// Parse reads the standard benchmark format
// (golang.org/design/14313-benchmark-format).
func Parse(r io.Reader) (*Output, error) {
	out := &Output{}
	byName := map[string]*Result{}
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "--- FAIL") || strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "panic:") {
			out.Failures = append(out.Failures, line)
			continue
		}
		if m := configLine.FindStringSubmatch(line); m != nil {
			if m[1] == "pkg" {
				pkg = m[2]
			}
			if !hasConfig(out.Config, m[1], m[2]) {
				out.Config = append(out.Config, [2]string{m[1], m[2]})
			}
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		fields := strings.Fields(m[3])
		if len(fields)%2 != 0 {
			continue // not a result line (e.g. a log line starting with Benchmark)
		}
		iters, _ := strconv.Atoi(m[2])
		key := pkg + " " + m[1]
		res := byName[key]
		if res == nil {
			res = &Result{Name: m[1], Pkg: pkg, Metrics: map[string]float64{}}
			byName[key] = res
			out.Results = append(out.Results, res)
		}
		res.runs++
		res.Iterations = iters
		for i := 0; i < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark %s: value %q of %s is not a number", m[1], fields[i], fields[i+1])
			}
			unit := fields[i+1]
			// Running mean over the lines of this benchmark.
			res.Metrics[unit] += (v - res.Metrics[unit]) / float64(res.runs)
		}
	}
	return out, sc.Err()
}

func hasConfig(c [][2]string, k, v string) bool {
	for _, kv := range c {
		if kv[0] == k && kv[1] == v {
			return true
		}
	}
	return false
}

// Titles name the comparisons; a scenario missing here shows its
// benchmark name.
var Titles = map[string]string{
	"DryRunInit":                 "dry-run init (init --dry-run, all phases)",
	"LocalPhases/alg=RSA-2048":   "local phases certs..kubelet-start, RSA-2048",
	"LocalPhases/alg=ECDSA-P256": "local phases certs..kubelet-start, ECDSA-P256",
	"APIPhases":                  "API phases wait-control-plane..show-join-command (same cluster)",
	"InitToReady":                "init to ready control plane (fresh node each)",
	"Join/worker":                "worker join to Node registered (same control plane, fresh node each)",
	"Join/worker-new-token":      "worker join with a token made just before (waits for its JWS)",
	"ControlPlaneJoin":           "control-plane join to its API server serving",
}

// FactKeys are the configuration lines the report repeats (go test's and
// WriteFacts'); anything else of the form "key: value" (a log line) is not
// a fact about the run.
var FactKeys = map[string]bool{"goos": true, "goarch": true, "cpu": true, "cores": true, "memory": true, "kernel": true, "load-start": true, "load-end": true}

// Baseline is the tool every other tool's ratio is taken against.
const Baseline = "kubelark"

// Render writes the comparison table (kubelark / other tool ratios: below
// 1 means kubelark is faster, smaller, or makes fewer requests), one
// sentence per comparison, and the remaining benchmarks (the root module's
// micro-benchmarks).
func Render(w io.Writer, o *Output) {
	for _, kv := range o.Config {
		if FactKeys[kv[0]] {
			fmt.Fprintf(w, "%s: %s\n", kv[0], kv[1])
		}
	}
	type row struct {
		tool string
		r    *Result
	}
	var order []string
	scen := map[string][]row{}
	var micro []*Result
	for _, r := range o.Results {
		s, tool, ok := splitTool(r.Name)
		if !ok {
			micro = append(micro, r)
			continue
		}
		if scen[s] == nil {
			order = append(order, s)
		}
		scen[s] = append(scen[s], row{tool, r})
	}
	if len(order) > 0 {
		fmt.Fprintf(w, "\nkubelark vs kubeadm v1.36.3 (ratio = kubelark / other tool; < 1: kubelark faster, smaller, fewer requests)\n\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "scenario\ttool\twall\tcpu\tpeak RSS\tAPI req\tratio wall\tratio cpu\tratio RSS\tratio req\tother")
		var sentences []string
		for _, s := range order {
			rows := scen[s]
			sort.SliceStable(rows, func(i, j int) bool { return rows[i].tool == Baseline && rows[j].tool != Baseline })
			var base *Result
			if rows[0].tool == Baseline {
				base = rows[0].r
			}
			for i, rw := range rows {
				name := ""
				if i == 0 {
					name = s
				}
				m := rw.r.Metrics
				cells := []string{name, rw.tool, fmtSeconds(m["ns/op"]), fmtSeconds(m["cpu-ms/op"] * 1e6), fmtMiB(m, "peak-RSS-MiB"), fmtCount(m, "API-requests/op")}
				if base != nil && rw.r != base {
					b := base.Metrics
					cells = append(cells, ratio(b, m, "ns/op"), ratio(b, m, "cpu-ms/op"), ratio(b, m, "peak-RSS-MiB"), ratio(b, m, "API-requests/op"))
					sentences = append(sentences, sentence(s, base, rw.tool, rw.r))
				} else {
					cells = append(cells, "", "", "", "")
				}
				cells = append(cells, extraMetrics(m))
				fmt.Fprintln(tw, strings.Join(cells, "\t"))
			}
		}
		tw.Flush()
		fmt.Fprintln(w)
		for _, s := range sentences {
			fmt.Fprintln(w, s)
		}
	}
	if len(micro) > 0 {
		fmt.Fprintf(w, "\nmicro-benchmarks\n\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "package\tbenchmark\ttime/op\tB/op\tallocs/op\tother")
		for _, r := range micro {
			m := r.Metrics
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Pkg, r.Name, fmtDuration(m["ns/op"]), fmtOpt(m, "B/op"), fmtOpt(m, "allocs/op"), extraMetrics(m))
		}
		tw.Flush()
	}
}

// splitTool splits "X/tool=T/Y" into scenario "X/Y" and tool "T".
func splitTool(name string) (scenario, tool string, ok bool) {
	parts := strings.Split(name, "/")
	var rest []string
	for _, p := range parts {
		if t, found := strings.CutPrefix(p, "tool="); found {
			tool, ok = t, true
			continue
		}
		rest = append(rest, p)
	}
	return strings.Join(rest, "/"), tool, ok
}

func sentence(s string, base *Result, tool string, r *Result) string {
	title := Titles[s]
	if title == "" {
		title = s
	}
	b, m := base.Metrics, r.Metrics
	return fmt.Sprintf("%s: %s %s (RSS %s), %s %s (RSS %s), ratio %s",
		title, Baseline, fmtSeconds(b["ns/op"]), fmtMiB(b, "peak-RSS-MiB"), tool, fmtSeconds(m["ns/op"]), fmtMiB(m, "peak-RSS-MiB"), ratio(b, m, "ns/op"))
}

// coreUnits are shown in their own columns; every other metric is listed
// under its tool.
var coreUnits = map[string]bool{"ns/op": true, "cpu-ms/op": true, "peak-RSS-MiB": true, "API-requests/op": true, "B/op": true, "allocs/op": true}

func extraMetrics(m map[string]float64) string {
	var units []string
	for u := range m {
		if !coreUnits[u] {
			units = append(units, u)
		}
	}
	sort.Strings(units)
	var parts []string
	for _, u := range units {
		v := m[u]
		if strings.HasSuffix(u, "-ms/op") {
			parts = append(parts, fmt.Sprintf("%s %s", strings.TrimSuffix(u, "-ms/op"), fmtSeconds(v*1e6)))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.3g", u, v))
	}
	return strings.Join(parts, ", ")
}

func ratio(base, other map[string]float64, unit string) string {
	b, okb := base[unit]
	o, oko := other[unit]
	if !okb || !oko || o == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", b/o)
}

func fmtSeconds(ns float64) string {
	switch {
	case ns == 0:
		return "-"
	case ns >= 1e8:
		return fmt.Sprintf("%.2f s", ns/1e9)
	default:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	}
}

func fmtDuration(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.0f ns", ns)
	}
}

func fmtMiB(m map[string]float64, unit string) string {
	v, ok := m[unit]
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", v)
}

func fmtCount(m map[string]float64, unit string) string {
	v, ok := m[unit]
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

func fmtOpt(m map[string]float64, unit string) string {
	v, ok := m[unit]
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
