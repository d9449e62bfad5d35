package runtime

import (
	"fmt"
	"strings"
	"time"

	"go.starlark.net/starlark"
)

// phasesBuiltin is phases(tree, skip = []): it declares the recipe's
// phase tree once (phase_decl values, or bare path strings) and the phases
// to skip, and checks --phases and the skips against it before any phase
// runs. Skipping is the recipe's to wire (kubeadm's --skip-phases flag and
// skipPhases config field are its parameter skip_phases).
func phasesBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread, b)
	if err != nil {
		return nil, err
	}
	var list *starlark.List
	var skip starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "tree", &list, "skip?", &skip); err != nil {
		return nil, err
	}
	if s.phaseKnown != nil {
		return nil, fmt.Errorf("%s: called twice; declare the whole phase tree in one phases() call", b.Name())
	}
	tree, err := flattenPhases(b.Name(), list)
	if err != nil {
		return nil, err
	}
	skips, err := s.skipList(b.Name(), skip)
	if err != nil {
		return nil, err
	}
	s.phaseTree, s.phaseList, s.phaseKnown = tree, nil, map[string]bool{}
	for _, p := range tree {
		s.phaseList = append(s.phaseList, p.Path)
		s.phaseKnown[p.Path] = true
	}
	s.skip = skips
	if err := s.checkPhaseFlags(); err != nil {
		return nil, inputErr(err)
	}
	if s.describe && s.paramsCalled {
		return nil, s.stopDescribing()
	}
	return starlark.None, nil
}

// skipList reads phases(skip=...) and names where it came from for
// messages: the parameter whose value it is, and that parameter's flag
// when the flag set it ("--skip-phases certs/ca: unknown phase").
func (s *runState) skipList(fn string, skip starlark.Value) (*skipSet, error) {
	if skip == starlark.None {
		return &skipSet{}, nil
	}
	v, err := ToGo(skip)
	l, ok := v.([]any)
	if err != nil || !ok {
		return nil, fmt.Errorf("%s: skip: got %s, want a list of phase paths such as [\"addon/kube-proxy\"]", fn, skip.Type())
	}
	set := &skipSet{src: fn + "(skip=...)"}
	for i, x := range l {
		str, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%s: skip[%d]: got %s, want a phase path string", fn, i, KindOf(x))
		}
		set.names = append(set.names, str)
	}
	// The list is a parameter's when it is that field of params()'s
	// (frozen) struct itself, as in skip = P.skip_phases.
	for _, name := range s.declaredNames() {
		if pl, ok := s.paramValues[name].(*starlark.List); ok && starlark.Value(pl) == skip {
			set.param, set.src = name, "parameter "+name
			if f, ok := s.flagSet[name]; ok {
				set.src = "--" + f
			}
			break
		}
	}
	return set, nil
}

// skipSet is the effective list of skipped phases, and its source.
type skipSet struct {
	names []string
	// src names where the list came from in messages; param is the
	// parameter it is the value of ("" when the recipe computed it).
	src, param string
}

// checkPhaseFlags validates --phases and the skips against the declared
// tree, before any phase runs.
func (s *runState) checkPhaseFlags() error {
	for _, set := range []struct {
		src   string
		names []string
	}{{"--phases", s.opts.Phases}, {s.skip.src, s.skip.names}} {
		for _, n := range set.names {
			if !s.phaseKnown[n] {
				return fmt.Errorf("%s %s: unknown phase%s; recipe %s has phases: %s",
					set.src, n, didYouMean(n, s.phaseList), s.opts.Recipe, strings.Join(s.phaseList, ", "))
			}
		}
	}
	return nil
}

// selected says whether the phase at path runs, and if not, why. With
// --phases X, a phase runs when it is X, under X, or an ancestor of X
// (so the ancestor's function runs and reaches X), like kubeadm's
// `init phase`. A skip removes a path and everything under it.
func (s *runState) selected(path string) (bool, string) {
	for _, sk := range s.skip.names {
		if path == sk || strings.HasPrefix(path, sk+"/") {
			return false, "skipped by " + s.skip.src + " " + sk
		}
	}
	if len(s.opts.Phases) == 0 {
		return true, ""
	}
	for _, sel := range s.opts.Phases {
		if path == sel || strings.HasPrefix(path, sel+"/") || strings.HasPrefix(sel, path+"/") {
			return true, ""
		}
	}
	return false, "not selected by --phases"
}

func phaseBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread, b)
	if err != nil {
		return nil, err
	}
	var name string
	var fn starlark.Callable
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "fn", &fn); err != nil {
		return nil, err
	}
	if s.phaseKnown == nil {
		return nil, fmt.Errorf("%s: %q: no phases declared; call phases([...]) with the phase tree first", b.Name(), name)
	}
	if s.describe {
		// Describing ends before the first phase: nothing runs.
		return nil, s.stopDescribing()
	}
	parent := s.env.Phase()
	path := name
	if parent != "" {
		path = parent + "/" + name
	}
	if !s.phaseKnown[path] {
		return nil, fmt.Errorf("%s: %q is not a declared phase%s; declared: %s", b.Name(), path, didYouMean(path, s.phaseList), strings.Join(s.phaseList, ", "))
	}
	plan := s.env.Plan()
	ok, why := s.selected(path)
	if !ok {
		plan.Phases = append(plan.Phases, PhaseResult{Name: path, Skipped: why})
		if s.env.Verbose >= 1 {
			fmt.Fprintf(s.env.Out, "[phase] %s: %s\n", path, why)
		}
		return starlark.None, nil
	}
	idx := len(plan.Phases)
	plan.Phases = append(plan.Phases, PhaseResult{Name: path, Ran: true})
	if s.env.Verbose >= 1 {
		fmt.Fprintf(s.env.Out, "[phase] %s\n", path)
	}
	parts := strings.Split(name, "/")
	for _, p := range parts {
		s.env.PushPhase(p)
	}
	start := time.Now()
	res, err := starlark.Call(thread, fn, nil, nil)
	for range parts {
		s.env.PopPhase()
	}
	ms := time.Since(start).Milliseconds()
	plan.Phases[idx].Millis = ms
	if err != nil {
		return nil, err
	}
	if s.env.Verbose >= 2 {
		fmt.Fprintf(s.env.Out, "[phase] %s done in %dms\n", path, ms)
	}
	return res, nil
}
