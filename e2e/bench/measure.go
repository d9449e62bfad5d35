package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Sample is one measured run of a tool.
type Sample struct {
	Wall time.Duration
	// CPU is user+system time of the process and its waited-for children.
	CPU time.Duration
	// PeakRSS is the largest resident set (bytes) among the process and
	// its waited-for descendants (Linux ru_maxrss after wait4).
	PeakRSS int64
	// Requests is the number of API requests, or -1 when not counted.
	Requests int
	// Output is what the process wrote (stdout and stderr interleaved).
	Output string
}

// Measure runs cmd with its output sent to a temporary file (a file, not a
// pipe: kubeadm --dry-run prints thousands of lines and a pipe would put a
// copying goroutine of the harness into the measurement) and returns the
// sample. A failed run returns an error with the tail of the output.
func Measure(cmd *exec.Cmd) (Sample, error) {
	f, err := os.CreateTemp("", "kubelark-bench-*.log")
	if err != nil {
		return Sample{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	start := time.Now()
	runErr := cmd.Run()
	s := Sample{Wall: time.Since(start), Requests: -1}
	if out, err := os.ReadFile(f.Name()); err == nil {
		s.Output = string(out)
	}
	keepLog(cmd, s.Output)
	if ps := cmd.ProcessState; ps != nil {
		s.CPU = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			s.PeakRSS = ru.Maxrss * 1024 // KiB on Linux
		}
	}
	if runErr != nil {
		return s, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), runErr, tail(s.Output, 30))
	}
	return s, nil
}

// Add folds a later step of the same operation into s (kubeadm's separate
// `init phase` processes): times and requests add up, the peak is the max.
func (s Sample) Add(o Sample) Sample {
	s.Wall += o.Wall
	s.CPU += o.CPU
	s.PeakRSS = max(s.PeakRSS, o.PeakRSS)
	switch {
	case s.Requests < 0:
		s.Requests = o.Requests
	case o.Requests >= 0:
		s.Requests += o.Requests
	}
	s.Output += o.Output
	return s
}

// Report sets the benchmark's metrics from the samples: the means of wall
// time (as ns/op, replacing the framework's own timing), CPU time and API
// requests, and the largest peak RSS. extra adds scenario-specific means
// (unit -> one value per sample).
func Report(b *testing.B, samples []Sample, extra map[string][]float64) {
	b.Helper()
	if len(samples) == 0 {
		b.Fatal("no samples to report")
	}
	var wall, cpu time.Duration
	var rss int64
	reqs, counted := 0, 0
	for _, s := range samples {
		wall += s.Wall
		cpu += s.CPU
		rss = max(rss, s.PeakRSS)
		if s.Requests >= 0 {
			reqs += s.Requests
			counted++
		}
	}
	n := float64(len(samples))
	b.ReportMetric(float64(wall.Nanoseconds())/n, "ns/op")
	b.ReportMetric(float64(cpu.Microseconds())/1000/n, "cpu-ms/op")
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
	if counted > 0 {
		b.ReportMetric(float64(reqs)/float64(counted), "API-requests/op")
	}
	for unit, vs := range extra {
		var sum float64
		for _, v := range vs {
			sum += v
		}
		if len(vs) > 0 {
			b.ReportMetric(sum/float64(len(vs)), unit)
		}
	}
}

// LogsEnv names a directory where every measured run's output is kept
// (<n>-<program>.log), to see where a tool spends its time.
const LogsEnv = "KUBELARK_BENCH_LOGS"

var logSeq atomic.Int64

func keepLog(cmd *exec.Cmd, output string) {
	dir := os.Getenv(LogsEnv)
	if dir == "" {
		return
	}
	prog := ""
	for _, a := range cmd.Args {
		if b := filepath.Base(a); b == "kubelark" || b == "kubeadm" {
			prog = b
			break
		}
	}
	if prog == "" {
		prog = filepath.Base(cmd.Path)
	}
	name := filepath.Join(dir, fmt.Sprintf("%03d-%s.log", logSeq.Add(1), prog))
	text := strings.Join(cmd.Args, " ") + "\n\n" + output
	if err := os.MkdirAll(dir, 0o755); err == nil {
		os.WriteFile(name, []byte(text), 0o644)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// kubeadmResponse is how client-go logs one completed request at --v=6
// (k8s.io/client-go/transport/round_trippers.go: logger.Info("Response",
// "verb", ..., "url", ..., "status", ...)).
var kubeadmResponse = []byte(`"Response" verb=`)

// CountKubeadmRequests counts the API requests in kubeadm --v=6 output.
func CountKubeadmRequests(output string) int {
	return bytes.Count([]byte(output), kubeadmResponse)
}

// CountKubelarkRequests reads "[summary] N API requests" (printed by
// `kubelark run -v` once the run made an API client); 0 when absent.
func CountKubelarkRequests(output string) (int, error) {
	for _, line := range strings.Split(output, "\n") {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "[summary] %d API requests", &n); err == nil {
			return n, nil
		}
	}
	if !strings.Contains(output, "[summary]") {
		return 0, fmt.Errorf("kubelark printed no summary (was -v given?):\n%s", tail(output, 20))
	}
	return 0, nil
}
