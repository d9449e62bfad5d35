package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kubelark/kubelark/runtime"
)

// stopGrace is how long a run may take to wind down after a signal or a
// budget ended its context: the Starlark thread stops at its next step and
// waiting builtins watch the context, so a well-behaved run ends in
// milliseconds; only a builtin stuck in one long computation (str() of a
// huge value) needs the process to end without it.
const stopGrace = 5 * time.Second

// interrupted is the cause of a context ended by a signal. It unwraps to
// the runtime.StopReason that the recipe's thread is cancelled with.
type interrupted struct {
	sig    syscall.Signal
	reason *runtime.StopReason
}

func (e *interrupted) Error() string { return e.reason.Reason }
func (e *interrupted) Unwrap() error { return e.reason }

// exitCode is the status for a run ended by cause: 128+signal for a
// signal, as shells report it (130 SIGINT, 143 SIGTERM), else 1.
func exitCode(cause error) int {
	var in *interrupted
	if errors.As(cause, &in) {
		return 128 + int(in.sig)
	}
	return 1
}

// watchSignals returns a context that the first SIGINT or SIGTERM ends
// (cause *interrupted), and a stop func. A second signal, or the first one
// when the process has not ended stopGrace+1s later (the run's own grace
// timer, which can name the recipe line, comes first), ends the process
// with a one-line message and 128+signal.
func watchSignals(parent context.Context, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var first *interrupted
		select {
		case s := <-ch:
			sig, _ := s.(syscall.Signal)
			first = &interrupted{sig: sig, reason: &runtime.StopReason{Reason: "interrupted by " + signalName(sig)}}
			cancel(first)
		case <-done:
			return
		}
		t := time.NewTimer(stopGrace + time.Second)
		defer t.Stop()
		select {
		case s := <-ch:
			sig, _ := s.(syscall.Signal)
			fmt.Fprintf(stderr, "error: %s, then by %s: exiting at once\n", first.reason.Reason, signalName(sig))
			os.Exit(128 + int(sig))
		case <-t.C:
			fmt.Fprintf(stderr, "error: %s; the run did not stop within %s, so kubelark exits\n", first.reason.Reason, stopGrace)
			os.Exit(exitCode(first))
		case <-done:
		}
	}()
	return ctx, func() { close(done); signal.Stop(ch); cancel(nil) }
}

func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}
