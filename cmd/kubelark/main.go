// Command kubelark runs kubeadm's workflows (init, join, reset) as Starlark
// recipes. This package only turns flags into runtime.Options; the
// interpreter, params and phases live in package runtime.
package main

import (
	"context"
	"os"
)

func main() {
	// The first SIGINT/SIGTERM cancels the run, which winds down and
	// reports where it stopped; see watchSignals for the second one.
	ctx, stop := watchSignals(context.Background(), os.Stderr)
	code := execute(ctx, newApp(os.Stdout, os.Stderr), os.Args[1:])
	if cause := context.Cause(ctx); cause != nil && code != 0 {
		code = exitCode(cause)
	}
	stop()
	os.Exit(code)
}
