package main

import (
	"errors"

	"github.com/kubelark/kubelark/runtime/host"
)

// hostOptions are the run flags that shape the host.
type hostOptions struct {
	DryRun bool
	// Root relocates every path (--root DIR).
	Root string
	// AllowRoots widen the sandbox's write roots (--allow-root).
	AllowRoots []string
	// ServiceCommand replaces systemd/OpenRC for service actions.
	ServiceCommand string
}

// newHost builds the host of a run: the live host, wrapped in the sandbox
// (allowed roots, --root relocation), wrapped in the dry-run overlay under
// --dry-run. The live host, sandbox and dry-run overlay are not part of
// this build yet, so every run stops here with a clear error.
func newHost(opts hostOptions) (host.Host, error) {
	return nil, errors.New("live host not available in this build (runtime/host has no live, sandbox or dry-run host yet)")
}
