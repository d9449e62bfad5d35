package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"

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
	c := newCLI(a)
	c.root.SetArgs(args)
	if err := c.addRecipeFlags(ctx, args); err != nil {
		fmt.Fprintf(a.stderr, "error: %s\n", truncate.Lines(err.Error()))
		return 1
	}
	if err := c.root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(a.stderr, "error: %s\n", truncate.Lines(err.Error()))
		return 1
	}
	return 0
}

// cli is the command tree of one execution, and the commands in it that
// run a recipe (their recipe flags are added per command line).
type cli struct {
	app  *app
	root *cobra.Command
	runs map[*cobra.Command]*runCommand
}

// recipesGroup groups the recipe aliases in the root's help.
const recipesGroup = "recipes"

func newCLI(a *app) *cli {
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
	c := &cli{app: a, root: root, runs: map[*cobra.Command]*runCommand{}}
	run := newRunCmd(a)
	c.runs[run.cmd] = run
	root.AddCommand(run.cmd, newPhasesCmd(a), newBuiltinsCmd(a), newRecipesCmd(a), newVersionCmd(a))
	token, certs, verbs := newTokenCmds(a)
	root.AddCommand(token, certs)
	for _, rc := range verbs {
		c.runs[rc.cmd] = rc
	}
	root.AddGroup(&cobra.Group{ID: recipesGroup, Title: "Embedded recipes (each the same as 'kubelark run NAME'):"})
	for _, rc := range aliasCmds(a, root) {
		c.runs[rc.cmd] = rc
		root.AddCommand(rc.cmd)
	}
	for _, rc := range c.runs {
		rc.cmd.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
			if rc.describeErr != nil {
				err = fmt.Errorf("%w (the recipe's own flags are unknown because it could not be read: %v)", err, rc.describeErr)
			}
			return fmt.Errorf("%w\nRun '%s --help' for usage.", err, cmd.CommandPath())
		})
	}
	return c
}

// aliasCmds are `kubelark NAME` for every top-level embedded recipe (init
// today; join and reset when their recipes land), unless NAME is already
// a command.
func aliasCmds(a *app, root *cobra.Command) []*runCommand {
	var out []*runCommand
	for _, name := range runtime.EmbeddedRecipes(a.recipes) {
		if strings.Contains(name, "/") || name == "help" || name == "completion" {
			continue
		}
		if c, _, err := root.Find([]string{name}); err == nil && c != root {
			continue
		}
		src, err := fs.ReadFile(a.recipes, name+".star")
		if err != nil {
			continue
		}
		out = append(out, newAliasCmd(a, name, summary(name+".star", src)))
	}
	return out
}
