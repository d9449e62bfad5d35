package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"

	"go.starlark.net/starlark"
)

// stateKey is the thread-local key of the run's state (params, phases).
const stateKey = "kubelark.run"

// runState is what params(), phases() and phase() share during one run.
type runState struct {
	opts *Options
	env  *Env
	// mainFile is the main recipe's file name as shown in positions;
	// params() must be called from it.
	mainFile string

	paramsCalled bool
	decls        map[string]*paramDecl
	values       map[string]any // resolved, plain Go values
	// paramValues are the fields of the struct params() returned.
	paramValues starlark.StringDict

	// flagParam maps each declared flag to its parameter; flagSet the
	// parameters that a flag set in this run (param -> flag).
	flagParam map[string]string
	flagSet   map[string]string
	argParam  []string // positional index -> parameter

	phaseTree  []PhaseInfo
	phaseList  []string
	phaseKnown map[string]bool
	skip       *skipSet

	// describe: Describe, not Run. params() yields the defaults and the
	// run stops once the declarations are made (describe.go); stopped
	// says it got there.
	describe bool
	stopped  bool
}

func stateFrom(thread *starlark.Thread, b *starlark.Builtin) (*runState, error) {
	if s, ok := thread.Local(stateKey).(*runState); ok && s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("%s: only available in a recipe executed by `kubelark run`", b.Name())
}

// Run executes a recipe and returns its plan. The plan is returned also
// when the run fails: it holds the actions done before the failure, and
// is written to PlanFile / JSON either way.
func Run(ctx context.Context, opts Options) (plan *Plan, err error) {
	plan = &Plan{Version: PlanVersion, Recipe: opts.Recipe, DryRun: opts.DryRun, Root: opts.Root, Actions: []Action{}}
	if opts.Host == nil {
		return plan, errors.New("internal error: runtime.Run needs a Host")
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	env := NewEnv(ctx, opts.Host, plan, out)
	env.Verbose = opts.Verbose
	env.OutputOut = opts.Output
	for _, s := range opts.ConfigSecrets {
		env.RegisterSecret(s)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v (this is a kubelark bug; please report it)", r)
		}
		// Every error that leaves the run is redacted, whatever made it:
		// the second line of defence behind the Secret type.
		err = env.RedactError(err)
		if werr := writePlanOutputs(&opts, env, plan, err, out); werr != nil && err == nil {
			err = werr
		}
	}()

	st := &runState{opts: &opts, env: env}
	info := runInfo{DryRun: opts.DryRun, Live: opts.Host.Live(), Root: opts.Root, Recipe: opts.Recipe}
	if err := execRecipe(ctx, st, opts.Registry, info); err != nil {
		return plan, err
	}
	if err := st.checkUsed(); err != nil {
		return plan, err
	}
	if len(plan.WouldStop) > 0 {
		return plan, &DryRunStopError{Stops: plan.WouldStop}
	}
	return plan, nil
}

// execRecipe loads and executes the main recipe on one thread carrying
// st, with the builtins of reg; Run and Describe differ only in st and reg.
func execRecipe(ctx context.Context, st *runState, reg *Registry, info runInfo) error {
	recipes, mainFile, err := resolveRecipe(st.opts)
	if err != nil {
		return err
	}
	defer recipes.close()
	stdlib, err := stdlibTree(st.opts)
	if err != nil {
		return err
	}
	defer stdlib.close()
	pre, err := predeclared(reg, info)
	if err != nil {
		return err
	}

	env := st.env
	for _, w := range st.opts.ConfigWarnings {
		env.Warnf("--config: %s", w)
	}
	st.mainFile = recipes.display(mainFile)
	thread := &starlark.Thread{
		Name:  "kubelark",
		Print: func(_ *starlark.Thread, msg string) { env.Infof("%s", msg) },
	}
	env.Attach(thread)
	thread.SetLocal(stateKey, st)
	ld := newLoader(recipes, stdlib, pre)
	thread.Load = ld.load

	maxSteps := st.opts.MaxSteps
	if maxSteps == 0 {
		maxSteps = DefaultMaxSteps
	}
	limitSteps(thread, maxSteps, st.opts.Progress)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted before the recipe started: %w", context.Cause(ctx))
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			thread.Cancel(cancelReason(ctx))
		case <-done:
		}
	}()

	if _, err := ld.exec(thread, recipes, mainFile); err != nil {
		if serr := stoppedError(st.opts.Recipe, err); serr != nil {
			return serr // one line: where, and which budget or signal
		}
		return recipeError(st.opts.Recipe, err, st.opts.Verbose >= 1)
	}
	return nil
}

// DryRunStopError is the result of a dry run that planned everything but
// met what would have stopped a real run: the process exits non-zero, so
// `kubelark run init --dry-run && kubelark run init` never starts a run
// that is known to fail. The summary printed before it says the same.
type DryRunStopError struct{ Stops []Stop }

func (e *DryRunStopError) Error() string {
	first := e.Stops[0]
	return fmt.Sprintf("dry run: a real run would stop at phase %s (%s); fix that (see the lines above), then run again", first.Phase, first.Reason)
}

// checkUsed reports inputs a recipe never consumed: a --set for a recipe
// without params() would otherwise be silently ignored.
func (s *runState) checkUsed() error {
	o := s.opts
	if !s.paramsCalled {
		switch {
		case len(o.Set) > 0:
			return fmt.Errorf("--set %s: recipe %s declares no parameters (it never calls params())", o.Set[0], o.Recipe)
		case o.ValuesFile != "":
			return fmt.Errorf("--values %s: recipe %s declares no parameters (it never calls params())", o.ValuesFile, o.Recipe)
		case o.ConfigDocs != nil:
			return fmt.Errorf("--config: recipe %s declares no parameters (it never calls params()), so the config cannot apply", o.Recipe)
		case len(o.Flags) > 0:
			return fmt.Errorf("--%s: recipe %s declares no parameters (it never calls params())", o.Flags[0].Name, o.Recipe)
		}
	}
	if s.phaseKnown == nil && len(o.Phases) > 0 {
		return fmt.Errorf("--phases: recipe %s declares no phases (it never calls phases())", o.Recipe)
	}
	return nil
}
