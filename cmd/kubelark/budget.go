package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kubelark/kubelark/runtime"
)

// Budgets of one `kubelark run`. The step limit (--max-steps) bounds
// Starlark steps, not time or memory: one step can be a 100 MB
// str.replace or a list of a billion elements.
const (
	// defaultTimeout: init waits up to 4m for each of the kubelet, the
	// API server and the control plane, and pulls images first; 30m covers
	// a slow node with margin and still ends a hung or hostile recipe the
	// same half hour. 0 disables the budget.
	defaultTimeout = 30 * time.Minute
	// defaultMaxMemory bounds the Go heap: a kubeadm workflow needs well
	// under 100 MiB, and 1 GiB still fits the 2 GB that kubeadm asks of a
	// control-plane node.
	defaultMaxMemory = "1Gi"
	// memoryPoll is how often the heap is sampled (runtime/metrics reads
	// cost microseconds).
	memoryPoll = 10 * time.Millisecond
)

// budget is the wall-clock and memory budget of a run.
type budget struct {
	timeout   time.Duration
	maxMemory int64 // bytes of Go heap; 0: no budget
	recipe    string
	progress  *runtime.Progress
	stderr    io.Writer
}

// parseMemory reads --max-memory ("1Gi", "512Mi", "0").
func parseMemory(s string) (int64, error) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0, fmt.Errorf("--max-memory %q: %v; write a size such as 1Gi or 512Mi (0 disables the budget)", s, err)
	}
	n, ok := q.AsInt64()
	if !ok || n < 0 {
		return 0, fmt.Errorf("--max-memory %q: want a size between 0 and 8Ei, such as 1Gi", s)
	}
	if n > 0 && n < 64<<20 {
		return 0, fmt.Errorf("--max-memory %s: below 64Mi a run cannot load its recipes; use at least 64Mi (0 disables the budget)", s)
	}
	return n, nil
}

// start returns a context that ends with a *runtime.StopReason when the
// run exceeds its budget, and the func that ends the budget when the run
// returns. It enforces in three steps:
//
//   - the context ends (timeout, or a live heap over maxMemory after GC):
//     the Starlark thread stops at its next step and waiting builtins
//     return, so the run reports "recipe R stopped at FILE:LINE: reason";
//   - a run that has not returned stopGrace later (a builtin stuck in one
//     long computation) ends the process with the same line, naming the
//     last recipe position seen;
//   - a heap over twice maxMemory ends the process at once: one operation
//     is allocating without bound and would take the machine with it.
//
// debug.SetMemoryLimit(maxMemory) makes the collector work harder near the
// budget, so garbage does not count against it. What no hook can stop is
// one allocation larger than the machine can map: the Go runtime then
// dies with "out of memory" before any code of ours runs (see
// docs/security.md).
func (b budget) start(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	done := make(chan struct{})
	var timer *time.Timer
	if b.timeout > 0 {
		timer = time.AfterFunc(b.timeout, func() {
			cancel(&runtime.StopReason{Reason: fmt.Sprintf("the run exceeded its --timeout of %s; raise --timeout if the recipe really needs longer", b.timeout)})
		})
	}
	prevLimit := debug.SetMemoryLimit(-1)
	if b.maxMemory > 0 {
		debug.SetMemoryLimit(b.maxMemory)
		go b.watchMemory(cancel, done)
	}
	go b.graceExit(ctx, done)
	return ctx, func() {
		close(done)
		if timer != nil {
			timer.Stop()
		}
		cancel(nil)
		debug.SetMemoryLimit(prevLimit)
	}
}

// watchMemory samples the heap until done.
func (b budget) watchMemory(cancel context.CancelCauseFunc, done <-chan struct{}) {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"}, // allocated, incl. garbage not yet swept
		{Name: "/gc/heap/live:bytes"},                // live after the last GC
	}
	t := time.NewTicker(memoryPoll)
	defer t.Stop()
	limit := uint64(b.maxMemory)
	cancelled := false
	// The line for the heap ceiling is prepared now: when one operation
	// is allocating gigabytes, the collector may be stuck behind it (a
	// huge copy is not preemptible), and any allocation here would park
	// this goroutine in a GC assist until that copy ends.
	ceiling := []byte("error: recipe " + b.recipe + " stopped: the Go heap reached ")
	ceilingEnd := " GiB, over twice the --max-memory budget of " + size(limit) + ", within one operation (a list or string repeated to an enormous size?)"
	line := make([]byte, 0, len(ceiling)+len(ceilingEnd)+256)
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		metrics.Read(samples)
		heap, live := sampleUint(samples[0]), sampleUint(samples[1])
		if heap > 2*limit {
			line = strconv.AppendFloat(append(line[:0], ceiling...), float64(heap)/(1<<30), 'f', 1, 64)
			line = append(line, ceilingEnd...)
			if p := b.progress.Last(); p != "" && len(p) < 200 {
				line = append(append(append(line, " (last recipe position seen: "...), p...), ')')
			}
			b.stderr.Write(append(line, '\n'))
			os.Exit(1)
		}
		// Live data over the budget after a collection, or garbage piling
		// up faster than the limit-driven collector frees it (no forced
		// GC here: it would wait behind the very operation to stop).
		if !cancelled && (live > limit || heap > limit+limit/2) {
			live = max(live, heap)
			cancel(&runtime.StopReason{Reason: fmt.Sprintf("the run's Go heap reached %s, over its --max-memory budget of %s; raise --max-memory if the recipe really needs it", size(live), size(limit))})
			cancelled = true
		}
	}
}

func sampleUint(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}

// graceExit ends the process when ctx has ended and the run has not
// returned stopGrace later.
func (b budget) graceExit(ctx context.Context, done <-chan struct{}) {
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		cause := context.Cause(ctx)
		b.exit(fmt.Sprintf("%s; a builtin did not return within %s, so kubelark exits", cause, stopGrace), exitCode(cause))
	}
}

// exit ends the process with one line naming the recipe and the last
// position sampled (every 1024 steps, so it may lie a few statements
// before the operation that is stuck).
func (b budget) exit(reason string, code int) {
	at := ""
	if p := b.progress.Last(); p != "" {
		at = " (last recipe position seen: " + p + ")"
	}
	fmt.Fprintf(b.stderr, "error: recipe %s stopped: %s%s\n", b.recipe, reason, at)
	os.Exit(code)
}

// size prints a byte count for people: 2149600264 is "2.0 GiB".
func size(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}
