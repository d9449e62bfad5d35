package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubelark/kubelark/runtime"
)

// recipeFlag is a flag a recipe declares with param(..., flag = "x"). It
// only collects what was typed; the runtime parses the values against the
// declaration, exactly as it parses --set, so both give the same errors.
type recipeFlag struct {
	param  runtime.ParamInfo
	values []string
}

func (f *recipeFlag) Set(v string) error { f.values = append(f.values, v); return nil }

// Type names the value in --help the way pflag names its own types.
func (f *recipeFlag) Type() string {
	if f.param.Type == "list" {
		return "strings"
	}
	return f.param.Type
}

func (f *recipeFlag) String() string {
	if len(f.values) > 0 {
		return strings.Join(f.values, ",")
	}
	return flagDefault(f.param.Default)
}

// flagDefault renders a default as one would type it after the flag.
func flagDefault(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		keys := sortedNames(v)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s=%v", k, v[k])
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// addRecipeFlags gives the command that this command line runs the flags
// its recipe declares, and lists the recipe's phases and parameters in
// its --help. The recipe is read from the arguments before cobra parses
// them (cobra must know every flag first) and described without running.
// A recipe that cannot be described gets no flags; the run reports why.
func (c *cli) addRecipeFlags(ctx context.Context, args []string) error {
	completing := len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd)
	if completing {
		args = args[1:]
	}
	cmd, rest, err := c.root.Find(args)
	if err != nil {
		return nil // cobra reports the unknown command
	}
	rc, ok := c.runs[cmd]
	if !ok {
		return nil
	}
	recipe := rc.recipe
	if recipe == "" {
		cmd.InitDefaultHelpFlag() // so "run --help init" is not read as --help=init
		recipe = firstArg(cmd, rest)
	}
	if recipe == "" || !completing && !needsRecipe(cmd, rest, rc.recipe == "") {
		return nil
	}
	desc, err := c.app.describeBounded(ctx, recipe, rc, rest)
	if stopped := (*runtime.StoppedError)(nil); errors.As(err, &stopped) {
		return err // the budget or a signal ended it: the run would only do so again
	}
	if err != nil {
		rc.describeErr = err
		cmd.Long = strings.TrimRight(cmd.Long, "\n") + fmt.Sprintf("\n\nThe phases and flags of %s are not listed: %v", recipe, err)
		return nil
	}
	rc.recipeFlags = map[string]*recipeFlag{}
	fl := cmd.Flags()
	for _, p := range desc.Params {
		if p.Flag == "" {
			continue
		}
		f := &recipeFlag{param: p}
		usage := strings.TrimSuffix(p.Doc, ".") + " (parameter " + p.Name
		if p.Merge {
			usage += ", added to the configured list"
		}
		fl.Var(f, p.Flag, usage+")")
		if p.Type == "bool" {
			fl.Lookup(p.Flag).NoOptDefVal = "true"
		}
		rc.recipeFlags[p.Flag] = f
	}
	if skip := desc.param(desc.SkipParam); skip != nil && skip.Flag != "" {
		_ = cmd.RegisterFlagCompletionFunc(skip.Flag, c.app.completePhases(rc))
	}
	var b strings.Builder
	writeDescription(&b, desc)
	cmd.Long = strings.TrimRight(cmd.Long, "\n") + "\n\n" + b.String()
	return nil
}

// describeBounded describes the recipe for a run's command line, under
// the budgets given on it (--timeout, --max-memory; else their defaults).
func (a *app) describeBounded(ctx context.Context, recipe string, rc *runCommand, args []string) (*description, error) {
	cmd := rc.cmd
	b := a.describeBudget(recipe)
	if v := flagValue(cmd, args, "timeout"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			b.timeout = d
		}
	}
	if v := flagValue(cmd, args, "max-memory"); v != "" {
		if n, err := parseMemory(v); err == nil {
			b.maxMemory = n
		}
	}
	return a.describeWith(ctx, recipe, flagValue(cmd, args, "stdlib"), b, rc)
}

// describeBudget is the default budget of describing a recipe: describing
// executes the recipe's top level up to its declarations, and a fork may
// compute there without bound, so that first execution is held to the
// run's own promise (time, memory, signals).
func (a *app) describeBudget(recipe string) budget {
	b := budget{timeout: defaultTimeout, recipe: recipe, progress: &runtime.Progress{}, stderr: a.stderr}
	b.maxMemory, _ = parseMemory(defaultMaxMemory)
	return b
}

// describe reads a recipe's declarations without running it, as rc
// would run it (its built-in flags are not the recipe's to declare), under
// the default budget.
func (a *app) describe(ctx context.Context, recipe, stdlibDir string, rc *runCommand) (*description, error) {
	return a.describeWith(ctx, recipe, stdlibDir, a.describeBudget(recipe), rc)
}

func (a *app) describeWith(ctx context.Context, recipe, stdlibDir string, b budget, rc *runCommand) (*description, error) {
	ctx, end := b.start(ctx)
	defer end()
	d, err := runtime.Describe(ctx, runtime.Options{
		Recipe: recipe, RecipeFS: a.recipes, StdlibFS: a.stdlib, StdlibDir: stdlibDir, Registry: a.registry(),
		Progress: b.progress, BuiltinFlags: rc.builtinFlags, Command: rc.cmd.Name(),
	})
	if err != nil {
		return nil, err
	}
	return &description{d}, nil
}

// description adds lookups to runtime.Description.
type description struct{ *runtime.Description }

func (d *description) param(name string) *runtime.ParamInfo {
	for i := range d.Params {
		if d.Params[i].Name == name && name != "" {
			return &d.Params[i]
		}
	}
	return nil
}

// skipHint says how to skip phases of this recipe.
func (d *description) skipHint() string {
	p := d.param(d.SkipParam)
	switch {
	case p == nil:
		return ""
	case p.Flag != "":
		return ", skip with --" + p.Flag
	}
	return ", skip with --set " + p.Name + "=..."
}

// firstArg is the first positional argument of a command line for cmd:
// flags it knows are skipped with their values; an unknown flag (a recipe
// flag, not added yet) takes the next argument as its value unless that
// looks like a flag, as pflag does with unknown flags.
func firstArg(cmd *cobra.Command, args []string) string {
	fl := cmd.Flags()
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) {
				return args[i+1]
			}
			return ""
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			if hasValue {
				continue
			}
			if f := fl.Lookup(name); f != nil && f.NoOptDefVal != "" {
				continue
			}
			if f := fl.Lookup(name); f == nil && i+1 < len(args) && strings.HasPrefix(args[i+1], "-") {
				continue
			}
			i++
		case strings.HasPrefix(a, "-") && len(a) > 1:
			f := fl.ShorthandLookup(a[1:2])
			if len(a) == 2 && f != nil && f.NoOptDefVal == "" {
				i++
			}
		default:
			return a
		}
	}
	return ""
}

// needsRecipe reports whether a command line uses what only its recipe can
// declare: a flag the command does not know, an argument beyond the
// recipe's name (recipeIsArg: `run RECIPE`), or --help. Any other command
// line runs without describing the recipe first: describing executes the
// recipe's top level, and a plain run should execute it once.
func needsRecipe(cmd *cobra.Command, args []string, recipeIsArg bool) bool {
	fl := cmd.Flags()
	positional := 0
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			positional += len(args) - i - 1
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			f := fl.Lookup(name)
			if name == "help" || f == nil {
				return true
			}
			if !hasValue && f.NoOptDefVal == "" {
				i++
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			f := fl.ShorthandLookup(a[1:2])
			if a[1] == 'h' || f == nil {
				return true
			}
			if len(a) == 2 && f.NoOptDefVal == "" {
				i++
			}
		default:
			positional++
		}
	}
	if recipeIsArg {
		positional--
	}
	return positional > 0
}

// flagValue is the value of --name in args ("" if absent).
func flagValue(cmd *cobra.Command, args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// completePhases completes the recipe's phase paths, with their docs,
// after the last comma of a list (--phases certs/ca,kube<TAB>).
func (a *app) completePhases(rc *runCommand) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		recipe := rc.recipe
		if recipe == "" && len(args) > 0 {
			recipe = args[0]
		}
		if recipe == "" {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		stdlibDir, _ := cmd.Flags().GetString("stdlib")
		d, err := a.describe(cmd.Context(), recipe, stdlibDir, rc)
		if err != nil {
			cobra.CompDebugln(err.Error(), true)
			return nil, cobra.ShellCompDirectiveError
		}
		done := ""
		if i := strings.LastIndex(toComplete, ","); i >= 0 {
			done = toComplete[:i+1]
		}
		var out []string
		for _, p := range d.Phases {
			if strings.HasPrefix(done+p.Path, toComplete) {
				out = append(out, done+p.Path+"\t"+p.Doc)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// writeDescription lists a recipe's phases like kubeadm's --help
// ("certs", then "  /ca" under it) and its parameters with type, default
// and flag.
func writeDescription(b *strings.Builder, d *description) {
	if len(d.Phases) > 0 {
		fmt.Fprintf(b, "Phases of %s (run some with --phases%s):\n\n", d.Recipe, d.skipHint())
		width := 0
		labels := make([]string, len(d.Phases))
		for i, p := range d.Phases {
			labels[i] = p.Path
			if p.Depth > 0 {
				labels[i] = strings.Repeat("  ", p.Depth) + "/" + p.Path[strings.LastIndex(p.Path, "/")+1:]
			}
			width = max(width, len(labels[i]))
		}
		for i, p := range d.Phases {
			fmt.Fprintf(b, "  %-*s  %s\n", width, labels[i], p.Doc)
		}
		b.WriteString("\n")
	}
	if len(d.Params) > 0 {
		fmt.Fprintf(b, "Parameters of %s (--set NAME=VALUE or the flag; --config and --values set them too):\n\n", d.Recipe)
		for _, p := range d.Params {
			attrs := []string{p.Type, "default " + showDefault(p.Default)}
			if p.Flag != "" {
				attrs = append(attrs, "flag --"+p.Flag)
			}
			if p.Position > 0 {
				attrs = append(attrs, fmt.Sprintf("argument %d after the recipe name", p.Position))
			}
			if p.Secret {
				attrs = append(attrs, "secret")
			}
			fmt.Fprintf(b, "  %s (%s)\n      %s\n", p.Name, strings.Join(attrs, ", "), p.Doc)
		}
	}
}

// showDefault renders a default compactly and unambiguously: JSON, with
// None for a default the recipe derives.
func showDefault(v any) string {
	if v == nil {
		return "None"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
