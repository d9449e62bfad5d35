package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubelark/kubelark/runtime"
)

// runFlags are the built-in flags of `kubelark run` and of the recipe
// aliases (`kubelark init`); a recipe adds its own (recipe_flags.go).
type runFlags struct {
	set            []string
	values         string
	config         string
	dryRun         bool
	planFile       string
	root           string
	allowRoots     []string
	allowReads     []string
	phases         []string
	verbose        int
	output         string
	stdlibDir      string
	serviceCommand string
	maxSteps       uint64
	timeout        time.Duration
	maxMemory      string
}

// runCommand is one command that runs a recipe: `run RECIPE`, or an alias
// such as `init` whose recipe is fixed.
type runCommand struct {
	cmd *cobra.Command
	// recipe is the alias's embedded recipe, "" for `run` (the argument).
	recipe string
	flags  runFlags
	// recipeFlags are the flags the recipe declares, added once the
	// command line names the recipe; describeErr is why they could not be.
	recipeFlags map[string]*recipeFlag
	// builtinFlags are the command's own flags (and help), which no
	// recipe flag may take.
	builtinFlags []string
	describeErr  error
	// resultOnStdout: the recipe's output() lines are the command's
	// result (kubelark token create prints the token) and alone go to
	// stdout; progress and the summary go to stderr.
	resultOnStdout bool
}

func newRunCmd(a *app) *runCommand {
	rc := &runCommand{cmd: &cobra.Command{
		Use:   "run RECIPE",
		Short: "Run a recipe (an embedded name such as init, or a .star file)",
		Long: `Run a recipe: an embedded one by name (see 'kubelark recipes list') or a
.star file on disk, whose directory is the tree its relative load()s may reach.

Parameters: recipe defaults <- --config (kubeadm v1beta4 YAML) <- --values
FILE <- --set key=value and the recipe's own flags (kubeadm's, e.g.
--pod-network-cidr; 'kubelark run RECIPE --help' lists them). --dry-run
changes nothing and prints what would be done; --plan FILE writes the plan
as JSON (secrets redacted).`,
		Example: `  kubelark run init --dry-run --pod-network-cidr 10.244.0.0/16
  kubelark run init --config cluster.yaml --phases certs --plan plan.json
  kubelark run ./site/init.star --stdlib ./site/stdlib -v`,
		// The recipe, then its positional parameters (param(...,
		// positional = N)), checked by the run.
		Args: cobra.MinimumNArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			// Embedded recipe names, and files.
			return runtime.EmbeddedRecipes(a.recipes), cobra.ShellCompDirectiveDefault
		},
	}}
	rc.cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.run(cmd, args[0], args[1:], rc)
	}
	rc.addBuiltinFlags(a)
	return rc
}

// newAliasCmd is `kubelark NAME ...` = `kubelark run NAME ...` for an
// embedded recipe, so kubeadm's documented command lines work with one
// word changed (`kubelark init --pod-network-cidr 10.244.0.0/16`).
func newAliasCmd(a *app, name, summary string) *runCommand {
	short := fmt.Sprintf("Run the embedded %s recipe (same as 'kubelark run %s')", name, name)
	if summary != "" {
		short = fmt.Sprintf("%s (= kubelark run %s)", strings.TrimSuffix(summary, "."), name)
	}
	rc := &runCommand{recipe: name, cmd: &cobra.Command{
		Use:     name,
		Short:   short,
		Long:    fmt.Sprintf("Run the embedded recipe %s; the same as 'kubelark run %s' with the same flags.", name, name),
		Example: fmt.Sprintf("  kubelark %s --dry-run\n  kubelark %s --phases %s", name, name, "PHASE"),
		Args:    cobra.ArbitraryArgs, // the recipe's positional parameters, checked by the run
		GroupID: recipesGroup,
	}}
	rc.cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.run(cmd, name, args, rc)
	}
	rc.addBuiltinFlags(a)
	return rc
}

func (rc *runCommand) addBuiltinFlags(a *app) {
	f := &rc.flags
	fl := rc.cmd.Flags()
	fl.StringArrayVar(&f.set, "set", nil, "set a recipe parameter, key=value (repeatable; lists: a,b; dicts: k=v,k2=v2 or {k: v})")
	fl.StringVar(&f.values, "values", "", "YAML file of parameter values")
	fl.StringVar(&f.config, "config", "", "kubeadm v1beta4 configuration file mapped onto the recipe parameters")
	fl.BoolVar(&f.dryRun, "dry-run", false, "change nothing; print and record what would be done")
	fl.StringVar(&f.planFile, "plan", "", "write the plan as JSON to this file (also when the run fails)")
	fl.StringVar(&f.root, "root", "", "relocate every path under this directory (tests, image building); services are not touched")
	fl.StringArrayVar(&f.allowRoots, "allow-root", nil, "also allow writes under this directory (repeatable; system directories such as /etc, /usr, /var/lib are refused)")
	fl.StringArrayVar(&f.allowReads, "allow-read", nil, "also allow recipe reads of this file or directory (repeatable)")
	fl.StringSliceVar(&f.phases, "phases", nil, "run only these phases (comma list; a phase's parents run, its siblings do not; 'kubelark phases RECIPE' lists them)")
	fl.CountVarP(&f.verbose, "verbose", "v", "more output: -v prints phases, -vv timings")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text, or json (the plan on stdout, progress on stderr)")
	fl.StringVar(&f.stdlibDir, "stdlib", "", "load @stdlib// modules from this directory instead of the embedded stdlib")
	fl.StringVar(&f.serviceCommand, "service-command", "", `command for service actions where there is no systemd/OpenRC, e.g. "node-svc {action} {unit}"`)
	fl.Uint64Var(&f.maxSteps, "max-steps", runtime.DefaultMaxSteps, "limit of Starlark execution steps (stops a runaway recipe)")
	fl.DurationVar(&f.timeout, "timeout", defaultTimeout, "wall-clock budget of the run (0: none)")
	fl.StringVar(&f.maxMemory, "max-memory", defaultMaxMemory, "budget of the Go heap of the run, e.g. 1Gi (0: none)")
	_ = rc.cmd.RegisterFlagCompletionFunc("phases", a.completePhases(rc))
	rc.builtinFlags = []string{"help"}
	fl.VisitAll(func(f *pflag.Flag) { rc.builtinFlags = append(rc.builtinFlags, f.Name) })
}

func (a *app) run(cmd *cobra.Command, recipe string, args []string, rc *runCommand) (err error) {
	f := &rc.flags
	// The error printed on stderr is redacted of the secrets this command
	// was handed (secret recipe flags, the --config's tokens and keys),
	// whatever produced it; runtime.Run has already redacted what the run
	// registered.
	secrets := rc.secretFlagValues()
	if rc.resultOnStdout {
		// A whole token given as an argument (token create TOKEN, token
		// delete TOKEN) is a secret too; ids alone are not.
		for _, arg := range args {
			for _, x := range strings.Split(arg, ",") {
				if strings.Contains(x, ".") {
					secrets = append(secrets, x)
				}
			}
		}
	}
	defer func() {
		if err != nil {
			if msg := runtime.RedactSecrets(err.Error(), secrets); msg != err.Error() {
				err = errors.New(msg)
			}
		}
	}()
	out, jsonOut, result := io.Writer(a.stdout), io.Writer(nil), io.Writer(nil)
	if rc.resultOnStdout {
		out, result = a.stderr, a.stdout
	}
	switch f.output {
	case "text":
	case "json":
		out, jsonOut = a.stderr, a.stdout
	default:
		return fmt.Errorf("-o %s: unknown output format; use text or json", f.output)
	}
	maxMemory, err := parseMemory(f.maxMemory)
	if err != nil {
		return err
	}
	progress := &runtime.Progress{}
	ctx, endBudget := budget{timeout: f.timeout, maxMemory: maxMemory, recipe: recipe, progress: progress, stderr: a.stderr}.start(cmd.Context())
	defer endBudget()
	opts := runtime.Options{
		Recipe: recipe, RecipeFS: a.recipes, StdlibFS: a.stdlib, StdlibDir: f.stdlibDir,
		Set: f.set, ValuesFile: f.values, Flags: rc.givenRecipeFlags(), Args: args,
		DryRun: f.dryRun, Root: f.root,
		Phases:  f.phases,
		Verbose: f.verbose, Out: out, Output: result, JSON: jsonOut, PlanFile: f.planFile,
		Registry: a.registry(), MaxSteps: f.maxSteps, Progress: progress,
		BuiltinFlags: rc.builtinFlags, Command: rc.cmd.Name(),
	}
	if f.config != "" {
		res, err := a.loadConfig(f.config)
		if err != nil {
			return fmt.Errorf("--config %s: %w", f.config, err)
		}
		opts.ConfigDocs, opts.ConfigFile = res.Docs, f.config
		opts.ConfigWarnings, opts.ConfigSecrets = res.Warnings, res.Secrets
		secrets = append(secrets, res.Secrets...)
	}
	h, err := a.newHost(hostOptions{DryRun: f.dryRun, Root: f.root, AllowRoots: f.allowRoots, AllowReads: f.allowReads, ServiceCommand: f.serviceCommand})
	if err != nil {
		return err
	}
	opts.Host = h
	if err := removeStaleTemps(h, out); err != nil {
		return err
	}
	_, err = runtime.Run(ctx, opts)
	return err
}

// secretFlagValues are the values given to the recipe flags of secret
// parameters (--token, --certificate-key).
func (rc *runCommand) secretFlagValues() []string {
	var out []string
	for _, f := range rc.recipeFlags {
		if f.param.Secret {
			out = append(out, f.values...)
		}
	}
	return out
}

// givenRecipeFlags are the recipe flags set on the command line, by name.
func (rc *runCommand) givenRecipeFlags() []runtime.FlagValue {
	var out []runtime.FlagValue
	for _, name := range sortedNames(rc.recipeFlags) {
		if f := rc.recipeFlags[name]; len(f.values) > 0 {
			out = append(out, runtime.FlagValue{Name: name, Values: f.values})
		}
	}
	return out
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
