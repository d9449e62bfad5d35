// Package builtins holds the sandboxed verbs recipes use to touch the world,
// one family per file. Every builtin unpacks and validates its arguments,
// acts only through the runtime.Env's host (files, services, facts, API
// clients, HTTP probes, the container runtime, clock and randomness: this
// package dials nothing, speaks no HTTP or gRPC itself and never reads the
// wall clock; "net" is used for address parsing only), and records one
// Action per change. Each family registers itself from an init function in
// its file.
package builtins

import "github.com/kubelark/kubelark/runtime"

// families are the register functions of each builtin family file.
var families []func(*runtime.Registry)

// Registry returns a registry with every builtin of this package.
func Registry() *runtime.Registry {
	r := runtime.NewRegistry()
	for _, f := range families {
		f(r)
	}
	return r
}
