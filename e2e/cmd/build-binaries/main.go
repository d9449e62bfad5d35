// Command build-binaries prepares everything the e2e nodes run: the host
// packages (containerd, runc, ...), the control-plane binaries and their
// container images. It is what `make e2e-binaries` runs; the tests call the
// same steps and find them done.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kubelark/kubelark/e2e/internal/build"
	"github.com/kubelark/kubelark/e2e/internal/images"
	"github.com/kubelark/kubelark/e2e/internal/sysdeps"
)

func main() {
	dir := flag.String("dir", build.CacheDir(), "output directory (env "+build.CacheEnv+")")
	force := flag.Bool("force", false, "rebuild even when cached")
	nice := flag.Bool("nice", true, "compile under nice -n 10")
	regen := flag.Bool("regen-mod", false, "regenerate e2e/build/go.mod from k8s.io/kubernetes "+build.KubernetesVersion+" and exit")
	skipSys := flag.Bool("skip-sysdeps", false, "do not install host packages")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dir, *force, *nice, *regen, *skipSys); err != nil {
		fmt.Fprintln(os.Stderr, "build-binaries:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string, force, nice, regen, skipSys bool) error {
	if regen {
		mod, err := build.ModuleDir()
		if err != nil {
			return err
		}
		return build.RegenModule(ctx, mod, os.Stderr)
	}
	if !skipSys {
		if err := sysdeps.Ensure(ctx, os.Stderr); err != nil {
			return err
		}
	}
	start := time.Now()
	out, err := build.Ensure(ctx, build.Options{Dir: dir, Log: os.Stderr, Nice: nice, Force: force})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "binaries ready in %s (%s)\n", out, time.Since(start).Round(time.Second))
	tars, err := images.Ensure(ctx, out, os.Stderr)
	if err != nil {
		return err
	}
	for _, t := range tars {
		fmt.Println(t)
	}
	return nil
}
