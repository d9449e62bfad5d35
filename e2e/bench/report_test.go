package bench

import (
	"strings"
	"testing"
)

const sampleOutput = `cores: 2
load-start: 1.00 0.50 0.25 (1/5/15 min)
harness: a log line that looks like a configuration line
goos: linux
pkg: github.com/kubelark/kubelark/e2e/bench
BenchmarkDryRunInit/tool=kubelark-2         	       3	 450000000 ns/op	      800 cpu-ms/op	        30 peak-RSS-MiB
BenchmarkDryRunInit/tool=kubeadm-2          	       3	 900000000 ns/op	      850 cpu-ms/op	        60 peak-RSS-MiB
BenchmarkDryRunInit/tool=kubelark-2         	       3	 550000000 ns/op	      800 cpu-ms/op	        30 peak-RSS-MiB
BenchmarkAPIPhases/tool=kubelark-2    	3	 2000000000 ns/op	 100 cpu-ms/op	 40 peak-RSS-MiB	 45 API-requests/op
BenchmarkAPIPhases/tool=kubeadm-2     	3	 1000000000 ns/op	 100 cpu-ms/op	 50 peak-RSS-MiB	 90 API-requests/op
BenchmarkInitToReady/tool=kubelark-2  	1	 20000000000 ns/op	 1 cpu-ms/op	 40 peak-RSS-MiB	 12000 readyz-ms/op
BenchmarkJoin/worker/tool=kubelark-2  	1	 2000000000 ns/op	 5 API-requests/op	 20 apiserver-req/op	 150 cpu-ms/op	 54 peak-RSS-MiB	 1500 phase-kubelet-wait-bootstrap-ms/op
BenchmarkJoin/worker/tool=kubeadm-2   	1	 2500000000 ns/op	 6 API-requests/op	 30 apiserver-req/op	 270 cpu-ms/op	 55 peak-RSS-MiB
BenchmarkJoin/concurrent/n=5/tool=kubelark-2  	1	 9000000000 ns/op	 5 API-requests/op	 1800 per-join-ms/op
pkg: github.com/kubelark/kubelark/builtins
BenchmarkGenCert-2   	      10	 105000000 ns/op	   12345 B/op	     100 allocs/op
load-end: 2.00 1.00 0.50 (1/5/15 min)
`

func TestParseAndRender(t *testing.T) {
	out, err := Parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Results) != 9 {
		t.Fatalf("want 9 results (repeated lines merged), got %d", len(out.Results))
	}
	dr := out.Results[0]
	if dr.Name != "DryRunInit/tool=kubelark" || dr.Metrics["ns/op"] != 500000000 {
		t.Errorf("repeated lines must average: %+v", dr)
	}
	if g := out.Results[8]; g.Pkg != "github.com/kubelark/kubelark/builtins" || g.Metrics["allocs/op"] != 100 {
		t.Errorf("micro-benchmark: %+v", g)
	}
	var b strings.Builder
	Render(&b, out)
	text := b.String()
	for _, want := range []string{
		"cores: 2",
		"load-end: 2.00 1.00 0.50",
		"dry-run init (init --dry-run, all phases): kubelark 0.50 s (RSS 30 MiB), kubeadm 0.90 s (RSS 60 MiB), ratio 0.56",
		"API phases wait-control-plane..show-join-command (same cluster): kubelark 2.00 s (RSS 40 MiB), kubeadm 1.00 s (RSS 50 MiB), ratio 2.00",
		"readyz 12.00 s",
		"worker join to Node registered (same control plane, fresh node each): kubelark 2.00 s (RSS 54 MiB), kubeadm 2.50 s (RSS 55 MiB), ratio 0.80",
		"phase-kubelet-wait-bootstrap 1.50 s",
		"Join/concurrent/n=5",
		"per-join 1.80 s",
		"BenchmarkGenCert",
	} {
		if !strings.Contains(text, strings.TrimPrefix(want, "Benchmark")) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "harness:") {
		t.Errorf("a log line was reported as a machine fact:\n%s", text)
	}
	// The request ratio (45/90) is in the APIPhases kubeadm row.
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "kubeadm") && strings.Contains(line, "90") && !strings.Contains(line, "0.50") {
			t.Errorf("request ratio 0.50 missing in %q", line)
		}
	}
	if len(out.Failures) != 0 {
		t.Errorf("no failure in the sample, got %q", out.Failures)
	}
	failed, err := Parse(strings.NewReader(sampleOutput + "--- FAIL: BenchmarkAPIPhases\nFAIL\tgithub.com/kubelark/kubelark/e2e/bench\t2.5s\n"))
	if err != nil || len(failed.Failures) != 2 {
		t.Errorf("failure lines must be collected: %q, %v", failed.Failures, err)
	}
	// A scenario without a kubeadm row gets no ratio and no sentence.
	if strings.Contains(text, "init to ready control plane (fresh node each):") {
		t.Errorf("sentence without a kubeadm result:\n%s", text)
	}
}

func TestCountRequests(t *testing.T) {
	ka := `I1124 11:15:42.601701   10058 round_trippers.go:632] "Response" verb="GET" url="https://10.79.0.11:6443/api/v1/nodes/bn1" status="200 OK" milliseconds=3
I1124 11:15:42.601701   10058 round_trippers.go:632] "Response" verb="PATCH" url="https://10.79.0.11:6443/api/v1/nodes/bn1" status="200 OK" milliseconds=3
[mark-control-plane] Marking the node bn1 as control-plane
`
	if n := CountKubeadmRequests(ka); n != 2 {
		t.Errorf("kubeadm requests = %d, want 2", n)
	}
	n, err := CountKubelarkRequests("[addon] x\n[summary] 12 updated\n[summary] 37 API requests\n")
	if err != nil || n != 37 {
		t.Errorf("kubelark requests = %d, %v; want 37", n, err)
	}
	if _, err := CountKubelarkRequests("boom\n"); err == nil {
		t.Error("output without a summary must be an error (was -v given?)")
	}
}
