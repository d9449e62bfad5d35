package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime/host"
)

// Description is what a recipe declares, read without running it: the
// phase tree and the parameters. `kubelark phases`, `run RECIPE --help`,
// the recipe's command-line flags and the completion of phase names all
// come from it, so they cannot drift from what a run validates.
type Description struct {
	Recipe string
	Phases []PhaseInfo
	// Params are sorted by name.
	Params []ParamInfo
	// SkipParam is the parameter the recipe passes as phases(skip=...)
	// (its flag completes phase names), "" when none.
	SkipParam string
}

// ParamInfo describes one declared parameter.
type ParamInfo struct {
	Name string
	Type string
	// Default is the declared default, Redacted for a secret with a
	// non-empty default.
	Default any
	Doc     string
	// Flag is the command-line flag without "--", "" for none; Merge says
	// the flag adds to the configured list.
	Flag    string
	Merge   bool
	Secret  bool
	Choices []any

	// Position is the 1-based command-line argument (after the recipe
	// name) that sets the parameter, 0 for none.
	Position int
}

// errDescribed ends a described recipe right after its declarations.
var errDescribed = errors.New("described: execution stops after the declarations")

// stopDescribing marks the declarations complete and ends the execution.
func (s *runState) stopDescribing() error {
	s.stopped = true
	return errDescribed
}

// Describe executes the recipe only as far as its declarations: params()
// yields the defaults (no --config, --values, --set or flag is read) and
// execution stops at phases() once params() has run, or at the first
// phase(), whichever comes first. No phase function runs; every registry
// builtin is replaced by one that refuses, and the host is an in-memory
// fake, so a module's top-level code cannot touch the world either.
// opts needs only the recipe, the trees and the registry.
func Describe(ctx context.Context, opts Options) (*Description, error) {
	o := Options{
		Recipe: opts.Recipe, RecipeFS: opts.RecipeFS, StdlibFS: opts.StdlibFS, StdlibDir: opts.StdlibDir,
		MaxSteps: opts.MaxSteps, Progress: opts.Progress,
		BuiltinFlags: opts.BuiltinFlags, Command: opts.Command,
	}
	plan := &Plan{Version: 1, Recipe: o.Recipe, Actions: []Action{}}
	env := NewEnv(ctx, host.NewFake(), plan, io.Discard)
	st := &runState{opts: &o, env: env, describe: true}
	err := execRecipe(ctx, st, refusingRegistry(opts.Registry), runInfo{DryRun: true, Recipe: o.Recipe})
	if err != nil && !st.stopped {
		return nil, err
	}
	d := &Description{Recipe: o.Recipe, Phases: st.phaseTree}
	if st.skip != nil {
		d.SkipParam = st.skip.param
	}
	for _, name := range st.declaredNames() {
		p := st.decls[name]
		def := p.goDef
		if p.secret && !isZero(def) {
			def = Redacted
		}
		d.Params = append(d.Params, ParamInfo{
			Name: name, Type: p.typ, Default: def, Doc: p.doc,
			Flag: p.flag, Merge: p.merge, Secret: p.secret, Choices: p.choices, Position: p.positional + 1,
		})
	}
	return d, nil
}

// refusingRegistry has every builtin of reg, documented as before, each
// failing when called: describing a recipe runs no verb.
func refusingRegistry(reg *Registry) *Registry {
	out := NewRegistry()
	if reg == nil {
		return out
	}
	for _, b := range reg.All() {
		c := *b
		if c.Fn != nil {
			name := c.Name
			c.Fn = func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
				return nil, fmt.Errorf("%s: not available while the recipe is described (kubelark phases, --help); describing stops at phases(), so call builtins after the declarations", name)
			}
		}
		out.Add(&c)
	}
	return out
}
