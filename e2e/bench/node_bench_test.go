package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
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
	fmt.Fprintf(os.Stderr, "bench: control plane on %s up (kubelark run init: %s)\n", n.Name, up.Wall.Round(time.Millisecond))

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
			fmt.Fprintf(os.Stderr, "bench: warm-up %s: %s, %d requests\n", tool, s.Wall.Round(time.Millisecond), s.Requests)
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
			fmt.Fprintf(os.Stderr, "bench: round %d %s: %s, %d requests\n", r+1, tool, s.Wall.Round(time.Millisecond), s.Requests)
			samples[tool] = append(samples[tool], s)
		}
	}
	for _, tool := range order {
		b.Run("tool="+tool, func(b *testing.B) { Report(b, samples[tool], nil) })
	}
}

// BenchmarkInitToReady: the whole `init` on a fresh node (bn1 for kubelark,
// bn2 for kubeadm; a new node every iteration, one node at a time), timed
// from the start of the tool to the four control-plane mirror Pods Running
// and Ready (ns/op). Also reported: when the tool exited (tool-exit) and
// when /readyz first answered ok (readyz), both from the start. Requests
// include what each tool sends while it waits for the control plane
// (kubeadm polls through client-go; kubelark's health probes are plain
// HTTPS and not counted).
func BenchmarkInitToReady(b *testing.B) {
	t, imgs := prepareNodes(b)
	nw := newNetwork(b)
	for _, tc := range []struct{ tool, node string }{{"kubelark", "bn1"}, {"kubeadm", "bn2"}} {
		b.Run("tool="+tc.tool, func(b *testing.B) {
			var samples []Sample
			extra := map[string][]float64{}
			for b.Loop() {
				n := startNode(b, nw, tc.node, imgs, t.BinDir)
				cfg, err := WriteConfig(n.Dir, "init.yaml", ConfigOptions{Address: n.IP, NodeName: n.Name, IgnoreSystemVerification: true})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				var cmd *exec.Cmd
				if tc.tool == "kubelark" {
					cmd = n.Command(ctx, t.Kubelark, "run", "init", "--config", cfg, "--service-command", n.ServiceCommand(), "-v")
				} else {
					cmd = n.Command(ctx, t.Kubeadm, "init", "--config", cfg, "--v=6")
				}
				start := time.Now()
				s, err := Measure(cmd)
				if err != nil {
					cancel()
					b.Fatalf("%s init on %s: %v", tc.tool, n.Name, err)
				}
				if tc.tool == "kubelark" {
					s.Requests, err = CountKubelarkRequests(s.Output)
				} else {
					s.Requests = CountKubeadmRequests(s.Output)
				}
				if err != nil {
					cancel()
					b.Fatal(err)
				}
				cs, err := clientFor(n.Node, "/etc/kubernetes/admin.conf")
				if err == nil {
					err = waitReadyz(ctx, cs)
				}
				readyz := time.Since(start)
				if err == nil {
					err = waitControlPlanePods(ctx, cs, n.Name)
				}
				ready := time.Since(start)
				cancel()
				if err != nil {
					b.Fatalf("%s init on %s: %v", tc.tool, n.Name, err)
				}
				fmt.Fprintf(os.Stderr, "bench: %s init on %s: exit %s, readyz %s, control plane ready %s, %d requests\n",
					tc.tool, n.Name, s.Wall.Round(time.Millisecond), readyz.Round(time.Millisecond), ready.Round(time.Millisecond), s.Requests)
				extra["tool-exit-ms/op"] = append(extra["tool-exit-ms/op"], float64(s.Wall.Microseconds())/1000)
				extra["readyz-ms/op"] = append(extra["readyz-ms/op"], float64(readyz.Microseconds())/1000)
				s.Wall = ready
				samples = append(samples, s)
				n.close(b)
			}
			Report(b, samples, extra)
		})
	}
}
