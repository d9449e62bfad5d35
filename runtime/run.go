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

	phaseList  []string
	phaseKnown map[string]bool
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
	plan = &Plan{Version: 1, Recipe: opts.Recipe, DryRun: opts.DryRun, Root: opts.Root, Actions: []Action{}}
	if opts.Host == nil {
		return plan, errors.New("internal error: runtime.Run needs a Host")
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	env := NewEnv(ctx, opts.Host, plan, out)
	env.Verbose = opts.Verbose
	for _, s := range opts.ConfigSecrets {
		env.RegisterSecret(s)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v (this is a kubelark bug; please report it)", r)
		}
		if werr := writePlanOutputs(&opts, env, plan, err, out); werr != nil && err == nil {
			err = werr
		}
	}()

	recipes, mainFile, err := resolveRecipe(&opts)
	if err != nil {
		return plan, err
	}
	defer recipes.close()
	stdlib, err := stdlibTree(&opts)
	if err != nil {
		return plan, err
	}
	defer stdlib.close()
	pre, err := predeclared(opts.Registry, runInfo{
		DryRun: opts.DryRun, Live: opts.Host.Live(), Root: opts.Root, Recipe: opts.Recipe,
	})
	if err != nil {
		return plan, err
	}

	for _, w := range opts.ConfigWarnings {
		env.Warnf("--config: %s", w)
	}
	st := &runState{opts: &opts, env: env, mainFile: recipes.display(mainFile)}
	thread := &starlark.Thread{
		Name:  "kubelark",
		Print: func(_ *starlark.Thread, msg string) { env.Infof("%s", msg) },
	}
	env.Attach(thread)
	thread.SetLocal(stateKey, st)
	ld := newLoader(recipes, stdlib, pre)
	thread.Load = ld.load

	maxSteps := opts.MaxSteps
	if maxSteps == 0 {
		maxSteps = DefaultMaxSteps
	}
	limitSteps(thread, maxSteps, opts.Progress)
	if err := ctx.Err(); err != nil {
		return plan, fmt.Errorf("interrupted before the recipe started: %w", context.Cause(ctx))
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
		if serr := stoppedError(opts.Recipe, err); serr != nil {
			return plan, serr // one line: where, and which budget or signal
		}
		return plan, recipeError(opts.Recipe, err)
	}
	if err := st.checkUsed(); err != nil {
		return plan, err
	}
	return plan, nil
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
		case len(o.IgnorePreflightErrors) > 0:
			return fmt.Errorf("--ignore-preflight-errors: recipe %s declares no parameters (it never calls params())", o.Recipe)
		}
	}
	if s.phaseKnown == nil && (len(o.Phases) > 0 || len(o.SkipPhases) > 0) {
		return fmt.Errorf("--phases/--skip-phases: recipe %s declares no phases (it never calls phases())", o.Recipe)
	}
	return nil
}
