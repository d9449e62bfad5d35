package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// localSkip are init's phases that write files on the node; the API-phase
// benchmark skips them (and preflight) in both tools, so what runs is
// wait-control-plane, upload-config, upload-certs (a no-op without
// --upload-certs), mark-control-plane, bootstrap-token, kubelet-finalize,
// addon and show-join-command.
const localSkip = "preflight,certs,kubeconfig,etcd,control-plane,kubelet-start"

// kubeadmAPIPhaseArgs are the same phases as separate `kubeadm init phase`
// processes. upload-certs is left out (it only says it skips), and so is
// show-join-command, which kubeadm v1.36.3 refuses to run on its own
// ("missing [bootstrap-token upload-certs] phase(s) needed"); it only
// prints. --config is added where the phase takes it (wait-control-plane
// has no flags).
var kubeadmAPIPhaseArgs = []struct {
	args   []string
	config bool
}{
	{[]string{"init", "phase", "wait-control-plane"}, false},
	{[]string{"init", "phase", "upload-config", "all"}, true},
	{[]string{"init", "phase", "mark-control-plane"}, true},
	{[]string{"init", "phase", "bootstrap-token"}, true},
	{[]string{"init", "phase", "kubelet-finalize", "all"}, true},
	{[]string{"init", "phase", "addon", "all"}, true},
}

// BenchmarkAPIPhases: from a healthy API server to a finished init, on one
// control plane (node bn1, brought up by `kubelark run init`), each tool
// re-running its API phases: kubelark (-v, which prints its request count),
// `kubeadm init --skip-phases` (one process, --v=6: every request is a
// logged line) and the `kubeadm init phase` commands one by one. Both tools
// are idempotent on re-run; one untimed warm-up run each first (kubeadm's
// first run creates its objects, kubelark's init already made its own).
// The tools alternate: round r runs them in order, or reversed when r is
// odd; -benchtime Nx sets the number of rounds (default 3).
func BenchmarkAPIPhases(b *testing.B) {
	t, imgs := prepareNodes(b)
	nw := newNetwork(b)
	n := startNode(b, nw, "bn1", imgs, t.BinDir)
	cfg, err := WriteConfig(n.Dir, "init.yaml", ConfigOptions{Address: n.IP, NodeName: n.Name, IgnoreSystemVerification: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	up, err := Measure(n.Command(ctx, t.Kubelark, "run", "init", "--config", cfg, "--service-command", n.ServiceCommand()))
	if err != nil {
		b.Fatalf("bringing up the control plane on %s: %v", n.Name, err)
	}
	fmt.Fprintf(os.Stderr, "[bench] control plane on %s up (kubelark run init: %s)\n", n.Name, up.Wall.Round(time.Millisecond))

	runs := map[string]func() (Sample, error){
		"kubelark": func() (Sample, error) {
			s, err := Measure(n.Command(ctx, t.Kubelark, "run", "init", "--config", cfg, "--service-command", n.ServiceCommand(),
				"--skip-phases", localSkip, "-v"))
			if err != nil {
				return s, err
			}
			s.Requests, err = CountKubelarkRequests(s.Output)
			return s, err
		},
		"kubeadm": func() (Sample, error) {
			s, err := Measure(n.Command(ctx, t.Kubeadm, "init", "--config", cfg, "--skip-phases", localSkip, "--v=6"))
			s.Requests = CountKubeadmRequests(s.Output)
			return s, err
		},
		"kubeadm-phases": func() (Sample, error) {
			total := Sample{Requests: -1}
			for _, a := range kubeadmAPIPhaseArgs {
				args := append(append([]string{t.Kubeadm}, a.args...), "--v=6")
				if a.config {
					args = append(args, "--config", cfg)
				}
				s, err := Measure(n.Command(ctx, args...))
				s.Requests = CountKubeadmRequests(s.Output)
				total = total.Add(s)
				if err != nil {
					return total, err
				}
			}
			return total, nil
		},
	}
	order := []string{"kubelark", "kubeadm", "kubeadm-phases"}
	for _, tool := range order {
		if s, err := runs[tool](); err != nil {
			b.Fatalf("warm-up run of %s: %v", tool, err)
		} else {
			fmt.Fprintf(os.Stderr, "[bench] warm-up %s: %s, %d requests\n", tool, s.Wall.Round(time.Millisecond), s.Requests)
		}
	}
	samples := map[string][]Sample{}
	for r := range rounds() {
		seq := slices.Clone(order)
		if r%2 == 1 {
			slices.Reverse(seq)
		}
		for _, tool := range seq {
			s, err := runs[tool]()
			if err != nil {
				b.Fatalf("round %d, %s: %v", r+1, tool, err)
			}
			fmt.Fprintf(os.Stderr, "[bench] round %d %s: %s, %d requests\n", r+1, tool, s.Wall.Round(time.Millisecond), s.Requests)
			samples[tool] = append(samples[tool], s)
		}
	}
	for _, tool := range order {
		b.Run("tool="+tool, func(b *testing.B) { Report(b, samples[tool], nil) })
	}
}

// NodesEnv sets how many fresh nodes each tool gets in
// BenchmarkInitToReady (default 2): a bring-up costs about half a minute.
const NodesEnv = "KUBELARK_BENCH_NODES"

func freshNodes(b *testing.B) int {
	v := os.Getenv(NodesEnv)
	if v == "" {
		return 2
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number of fresh nodes per tool", NodesEnv, v)
	}
	return n
}

// BenchmarkInitToReady: the whole `init` on a fresh node (bn1 for kubelark,
// bn2 for kubeadm; a new node every time, one node at a time; the tools
// alternate round by round, $KUBELARK_BENCH_NODES rounds), timed from the
// start of the tool to the four control-plane mirror Pods Running and Ready
// (ns/op). Also reported: when the tool exited (tool-exit) and when /readyz
// first answered ok (readyz), both from the start. Requests include what
// each tool sends while it waits for the control plane (kubeadm polls
// through client-go; kubelark's health probes are plain HTTPS, not
// counted). Peak RSS includes the service scripts each tool runs to start
// the kubelet (waited-for children).
func BenchmarkInitToReady(b *testing.B) {
	t, imgs := prepareNodes(b)
	nw := newNetwork(b)
	nodeOf := map[string]string{"kubelark": "bn1", "kubeadm": "bn2"}
	samples := map[string][]Sample{}
	extra := map[string]map[string][]float64{"kubelark": {}, "kubeadm": {}}
	order := []string{"kubelark", "kubeadm"}
	for r := range freshNodes(b) {
		seq := slices.Clone(order)
		if r%2 == 1 {
			slices.Reverse(seq)
		}
		for _, tool := range seq {
			s, ms, err := initToReady(b, t, nw, imgs, tool, nodeOf[tool])
			if err != nil {
				b.Fatalf("round %d: %v", r+1, err)
			}
			extra[tool]["tool-exit-ms/op"] = append(extra[tool]["tool-exit-ms/op"], ms[0])
			extra[tool]["readyz-ms/op"] = append(extra[tool]["readyz-ms/op"], ms[1])
			samples[tool] = append(samples[tool], s)
		}
	}
	for _, tool := range order {
		b.Run("tool="+tool, func(b *testing.B) { Report(b, samples[tool], extra[tool]) })
	}
}

// initToReady brings up a fresh node, runs tool's init on it and waits for
// the control plane; the sample's Wall is start -> control-plane Pods ready,
// and ms holds [tool exit, /readyz ok] in milliseconds from the start.
func initToReady(b *testing.B, t Tools, nw *node.Network, imgs []string, tool, name string) (Sample, [2]float64, error) {
	var ms [2]float64
	n := startNode(b, nw, name, imgs, t.BinDir)
	defer n.close(b)
	cfg, err := WriteConfig(n.Dir, "init.yaml", ConfigOptions{Address: n.IP, NodeName: n.Name, IgnoreSystemVerification: true})
	if err != nil {
		return Sample{}, ms, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	if tool == "kubelark" {
		cmd = n.Command(ctx, t.Kubelark, "run", "init", "--config", cfg, "--service-command", n.ServiceCommand(), "-v")
	} else {
		cmd = n.Command(ctx, t.Kubeadm, "init", "--config", cfg, "--v=6")
	}
	start := time.Now()
	s, err := Measure(cmd)
	if err != nil {
		return s, ms, fmt.Errorf("%s init on %s: %w", tool, n.Name, err)
	}
	if tool == "kubelark" {
		if s.Requests, err = CountKubelarkRequests(s.Output); err != nil {
			return s, ms, err
		}
	} else {
		s.Requests = CountKubeadmRequests(s.Output)
	}
	cs, err := e2eutil.ClientFor(n.Node, "/etc/kubernetes/admin.conf")
	if err == nil {
		err = e2eutil.WaitReadyz(ctx, cs, 100*time.Millisecond)
	}
	readyz := time.Since(start)
	if err == nil {
		err = e2eutil.WaitControlPlanePods(ctx, cs, n.Name, 250*time.Millisecond)
	}
	ready := time.Since(start)
	if err != nil {
		return s, ms, fmt.Errorf("%s init on %s: %w", tool, n.Name, err)
	}
	fmt.Fprintf(os.Stderr, "[bench] %s init on %s: exit %s, readyz %s, control plane ready %s, %d requests\n",
		tool, n.Name, s.Wall.Round(time.Millisecond), readyz.Round(time.Millisecond), ready.Round(time.Millisecond), s.Requests)
	ms = [2]float64{float64(s.Wall.Microseconds()) / 1000, float64(readyz.Microseconds()) / 1000}
	s.Wall = ready
	return s, ms, nil
}
