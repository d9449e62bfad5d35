// Package bench measures kubelark against kubeadm v1.36.3 side by side:
// wall time, CPU time, peak RSS and API requests of the same workflow with
// the same kubeadm configuration, in one run. Benchmarks report; they never
// assert timings (the machine is shared and noisy).
//
// Every benchmark has one sub-benchmark per tool (tool=kubelark,
// tool=kubeadm, and tool=kubeadm-phases where kubeadm is driven one
// `init phase` process at a time), so benchstat compares the tools with
//
//	benchstat -col /tool bench.txt
//
// and commits with `benchstat old.txt new.txt`. cmd/bench-report renders
// the ratio table from the same output. Run as root from the repository
// root: `make bench` (it needs mount and network namespaces and the e2e
// binaries; see e2e.mk).
//
// Metrics (per operation): ns/op = wall time of the tool's process (set
// with ReportMetric from the measured samples, so harness work such as
// starting a node never counts), cpu-ms/op = its user+system time (kubelark
// generates keys on all cores, so wall < cpu), peak-RSS-MiB = the largest
// resident set of the process tree (getrusage of the waited-for child),
// API-requests/op = HTTP requests to the API server (kubeadm: client-go
// "Response" lines at --v=6; kubelark: "[summary] N API requests" at -v).
//
// BenchmarkJoin joins workers to one control plane made by `kubelark run
// init` (kubelark join vs kubeadm join with the same JoinConfiguration,
// then 1, 5 and 10 concurrent kubelark joins) and adds server-side
// request counts from the API server's /metrics (apimetrics.go), which
// also see what the joining kubelet and the controllers do.
package bench
