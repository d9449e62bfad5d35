package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/kubelark/kubelark/builtins"
	"github.com/kubelark/kubelark/internal/truncate"
	"github.com/kubelark/kubelark/recipes"
	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
	"github.com/kubelark/kubelark/runtime/kubeadmconfig"
	"github.com/kubelark/kubelark/stdlib"
)

// app holds what the commands depend on, so tests can swap the host and
// the embedded trees without touching globals.
type app struct {
	stdout, stderr io.Writer
	recipes        fs.FS
	stdlib         fs.FS
	registry       func() *runtime.Registry
	newHost        func(hostOptions) (host.Host, error)
	loadConfig     func(path string) (*kubeadmconfig.Config, error)
}

func newApp(stdout, stderr io.Writer) *app {
	return &app{
		stdout: stdout, stderr: stderr,
		recipes: recipes.FS, stdlib: stdlib.FS,
		registry:   builtins.Registry,
		newHost:    newHost,
		loadConfig: loadConfig,
	}
}

// execute runs the command line and returns the process exit code; errors
// are printed once, without a usage dump (flag errors get a hint instead).
func execute(ctx context.Context, a *app, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(a.stderr, "error: internal error: %v (this is a kubelark bug; please report it)\n", r)
			code = 2
		}
	}()
	root := newRootCmd(a)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(a.stderr, "error: %s\n", truncate.Lines(err.Error()))
		return 1
	}
	return 0
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubelark",
		Short: "kubeadm's workflows as Starlark recipes",
		Long: `kubelark runs kubeadm's workflows (init, join, reset) as Starlark recipes.

Go does mechanism (sandboxed builtins that write certificates, kubeconfigs,
static Pods, talk to the API server); Starlark does policy (which
certificates, which flags, in which order). Recipes and the stdlib are
embedded, and can be exported, read and forked without rebuilding.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath())
	})
	root.AddCommand(newRunCmd(a), newBuiltinsCmd(a), newRecipesCmd(a), newVersionCmd(a))
	return root
}
