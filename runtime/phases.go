package runtime

import (
	"fmt"
	"strings"
	"time"

	"go.starlark.net/starlark"
)

func phasesBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread, b)
	if err != nil {
		return nil, err
	}
	var list *starlark.List
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &list); err != nil {
		return nil, err
	}
	if s.phaseKnown != nil {
		return nil, fmt.Errorf("%s: called twice; declare the whole phase tree in one phases() call", b.Name())
	}
	known := map[string]bool{}
	var paths []string
	for i := 0; i < list.Len(); i++ {
		p, ok := starlark.AsString(list.Index(i))
		if !ok {
			return nil, fmt.Errorf("%s: [%d]: got %s, want a phase path string", b.Name(), i, list.Index(i).Type())
		}
		if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
			return nil, fmt.Errorf("%s: %q is not a phase path; write names separated by /, e.g. \"certs/ca\"", b.Name(), p)
		}
		if known[p] {
			return nil, fmt.Errorf("%s: %q is declared twice", b.Name(), p)
		}
		if parent, _, nested := cutLast(p); nested && !known[parent] {
			return nil, fmt.Errorf("%s: %q comes before its parent %q; list parents first", b.Name(), p, parent)
		}
		known[p] = true
		paths = append(paths, p)
	}
	s.phaseList, s.phaseKnown = paths, known
	if err := s.checkPhaseFlags(); err != nil {
		return nil, inputErr(err)
	}
	return starlark.None, nil
}

// cutLast splits "a/b/c" into "a/b", "c".
func cutLast(p string) (string, string, bool) {
	i := strings.LastIndex(p, "/")
	if i < 0 {
		return "", p, false
	}
	return p[:i], p[i+1:], true
}

// skips is the effective --skip-phases: the flag, else the recipe
// parameter skip_phases (kubeadm's skipPhases config field), as kubeadm
// lets the flag override the config.
func (s *runState) skips() ([]string, string) {
	if len(s.opts.SkipPhases) > 0 {
		return s.opts.SkipPhases, "--skip-phases"
	}
	if l, ok := s.values["skip_phases"].([]any); ok && len(l) > 0 {
		out := make([]string, 0, len(l))
		for _, x := range l {
			if str, ok := x.(string); ok {
				out = append(out, str)
			}
		}
		return out, "parameter skip_phases"
	}
	return nil, ""
}

// checkPhaseFlags validates --phases and the skips against the declared
// tree, before any phase runs.
func (s *runState) checkPhaseFlags() error {
	skips, skipSrc := s.skips()
	for _, set := range []struct {
		src   string
		names []string
	}{{"--phases", s.opts.Phases}, {skipSrc, skips}} {
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
	skips, skipSrc := s.skips()
	for _, sk := range skips {
		if path == sk || strings.HasPrefix(path, sk+"/") {
			return false, "skipped by " + skipSrc + " " + sk
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
