package main

import (
	"github.com/kubelark/kubelark/runtime/host"
)

// hostOptions are the run flags that shape the host.
type hostOptions struct {
	DryRun bool
	// Root relocates every path (--root DIR).
	Root string
	// AllowRoots widen the sandbox's write roots (--allow-root).
	AllowRoots []string
	// AllowReads widen what a recipe may read (--allow-read).
	AllowReads []string
	// ServiceCommand replaces systemd/OpenRC for service actions.
	ServiceCommand string
}

// newHost builds the host of a run, once: Sandbox(DryRun(Live)) under
// --dry-run, Sandbox(Live) otherwise. The sandbox is outermost so that a dry
// run refuses exactly the paths a real run would refuse (an overlay on top
// would accept writes the real run could never make), and --root relocation
// applies to the dry-run overlay's reads of the machine too. The API client
// factory, HTTP prober and CRI come with it (host.Network): under --dry-run
// API reads go to the real cluster and writes to the overlay; under --root
// API writes are recorded with no cluster behind them.
func newHost(opts hostOptions) (host.Host, error) {
	var h host.Host = host.NewLive(host.LiveOptions{ServiceCommand: opts.ServiceCommand})
	if opts.DryRun {
		h = host.NewDryRun(h)
	}
	return host.NewSandbox(h, host.SandboxOptions{Root: opts.Root, AllowRoots: opts.AllowRoots, AllowReads: opts.AllowReads})
}
