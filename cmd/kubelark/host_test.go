package main

import (
	"testing"

	"github.com/kubelark/kubelark/runtime/cluster"
)

// newHost chooses the API clients with the host, once: live clients for a
// real run, a dry-run overlay that reads through to the live cluster under
// --dry-run, and an overlay with nothing behind it under --root.
func TestNewHostClients(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   hostOptions
		dryRun bool
	}{
		{"live", hostOptions{}, false},
		{"dry-run", hostOptions{DryRun: true}, true},
		{"root", hostOptions{Root: t.TempDir()}, true},
		{"dry-run root", hostOptions{DryRun: true, Root: t.TempDir()}, true},
	} {
		h, err := newHost(tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		f := h.Clients()
		if f != h.Clients() {
			t.Errorf("%s: Clients must be one factory per run", tc.name)
		}
		if f.DryRun() != tc.dryRun {
			t.Errorf("%s: Clients().DryRun() = %v, want %v", tc.name, f.DryRun(), tc.dryRun)
		}
		if _, ok := f.(*cluster.Live); ok == tc.dryRun {
			t.Errorf("%s: factory %T", tc.name, f)
		}
	}
}
