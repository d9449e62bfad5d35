package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubelark/kubelark/runtime"
)

// runFlags are the flags of `kubelark run`.
type runFlags struct {
	set            []string
	values         string
	config         string
	dryRun         bool
	planFile       string
	root           string
	allowRoots     []string
	phases         []string
	skipPhases     []string
	ignoreErrors   []string
	verbose        int
	output         string
	stdlibDir      string
	serviceCommand string
	maxSteps       uint64
	timeout        time.Duration
	maxMemory      string
}

func newRunCmd(a *app) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run RECIPE",
		Short: "Run a recipe (an embedded name such as init, or a .star file)",
		Long: `Run a recipe: an embedded one by name (see 'kubelark recipes list') or a
.star file on disk, whose directory is the tree its relative load()s may reach.

Parameters: recipe defaults <- --config (kubeadm v1beta4 YAML) <- --values
FILE <- --set key=value. --dry-run changes nothing and prints what would be
done; --plan FILE writes the plan as JSON (secrets redacted).`,
		Example: `  kubelark run init --dry-run --set pod_subnet=10.244.0.0/16
  kubelark run init --config cluster.yaml --phases certs --plan plan.json
  kubelark run ./site/init.star --stdlib ./site/stdlib -v`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.run(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.set, "set", nil, "set a recipe parameter, key=value (repeatable; lists: a,b; dicts: k=v,k2=v2 or {k: v})")
	fl.StringVar(&f.values, "values", "", "YAML file of parameter values")
	fl.StringVar(&f.config, "config", "", "kubeadm v1beta4 configuration file mapped onto the recipe parameters")
	fl.BoolVar(&f.dryRun, "dry-run", false, "change nothing; print and record what would be done")
	fl.StringVar(&f.planFile, "plan", "", "write the plan as JSON to this file (also when the run fails)")
	fl.StringVar(&f.root, "root", "", "relocate every path under this directory (tests, image building); services are not touched")
	fl.StringArrayVar(&f.allowRoots, "allow-root", nil, "also allow writes under this directory (repeatable)")
	fl.StringSliceVar(&f.phases, "phases", nil, "run only these phases (comma list; a phase's parents run, its siblings do not)")
	fl.StringSliceVar(&f.skipPhases, "skip-phases", nil, "skip these phases and their children (comma list)")
	fl.StringSliceVar(&f.ignoreErrors, "ignore-preflight-errors", nil, "preflight checks whose errors become warnings (comma list), or 'all'")
	fl.CountVarP(&f.verbose, "verbose", "v", "more output: -v prints phases, -vv timings")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text, or json (the plan on stdout, progress on stderr)")
	fl.StringVar(&f.stdlibDir, "stdlib", "", "load @stdlib// modules from this directory instead of the embedded stdlib")
	fl.StringVar(&f.serviceCommand, "service-command", "", `command for service actions where there is no systemd/OpenRC, e.g. "node-svc {action} {unit}"`)
	fl.Uint64Var(&f.maxSteps, "max-steps", runtime.DefaultMaxSteps, "limit of Starlark execution steps (stops a runaway recipe)")
	fl.DurationVar(&f.timeout, "timeout", defaultTimeout, "wall-clock budget of the run (0: none)")
	fl.StringVar(&f.maxMemory, "max-memory", defaultMaxMemory, "budget of the Go heap of the run, e.g. 1Gi (0: none)")
	return cmd
}

func (a *app) run(cmd *cobra.Command, recipe string, f *runFlags) error {
	out, jsonOut := io.Writer(a.stdout), io.Writer(nil)
	switch f.output {
	case "text":
	case "json":
		out, jsonOut = a.stderr, a.stdout
	default:
		return fmt.Errorf("-o %s: unknown output format; use text or json", f.output)
	}
	if err := checkIgnoreErrors(f.ignoreErrors); err != nil {
		return err
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
		Set: f.set, ValuesFile: f.values,
		IgnorePreflightErrors: f.ignoreErrors,
		DryRun:                f.dryRun, Root: f.root,
		Phases: f.phases, SkipPhases: f.skipPhases,
		Verbose: f.verbose, Out: out, JSON: jsonOut, PlanFile: f.planFile,
		Registry: a.registry(), MaxSteps: f.maxSteps, Progress: progress,
	}
	if f.config != "" {
		res, err := a.loadConfig(f.config)
		if err != nil {
			return fmt.Errorf("--config %s: %w", f.config, err)
		}
		opts.ConfigDocs, opts.ConfigFile = res.Docs, f.config
		opts.ConfigWarnings, opts.ConfigSecrets = res.Warnings, res.Secrets
	}
	h, err := a.newHost(hostOptions{DryRun: f.dryRun, Root: f.root, AllowRoots: f.allowRoots, ServiceCommand: f.serviceCommand})
	if err != nil {
		return err
	}
	opts.Host = h
	_, err = runtime.Run(ctx, opts)
	return err
}

// checkIgnoreErrors refuses "all" next to other names, as kubeadm does,
// before anything runs.
func checkIgnoreErrors(items []string) error {
	for _, it := range items {
		if it == "all" && len(items) > 1 {
			return fmt.Errorf("--ignore-preflight-errors: \"all\" ignores every check; do not list it with other names")
		}
	}
	return nil
}
