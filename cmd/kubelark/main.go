// Command kubelark runs kubeadm's workflows (init, join, reset) as Starlark
// recipes. This package only turns flags into runtime.Options; the
// interpreter, params and phases live in package runtime.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal the run is cancelled and winds down; restoring
	// the default handlers lets a second Ctrl-C kill a stuck process.
	go func() { <-ctx.Done(); stop() }()
	code := execute(ctx, newApp(os.Stdout, os.Stderr), os.Args[1:])
	stop()
	os.Exit(code)
}
