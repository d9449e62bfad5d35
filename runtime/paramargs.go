package runtime

import (
	"fmt"
	"strings"
)

// Positional parameters: param(..., positional = 0) makes the first
// command-line argument after the recipe name set the parameter, so
// kubeadm's command lines keep their shape (`kubelark join 10.0.0.1:6443
// --token ...`). An argument is the same as --set name=value (same
// parsing, same layer as the flags); giving a parameter both ways is an
// error, as for flags.

// checkPositionalDecl validates param(..., positional = N).
func checkPositionalDecl(fn string, p *paramDecl) error {
	if p.positional < -1 {
		return fmt.Errorf("%s: positional = %d: want the 0-based index of the argument after the recipe name (0 = the first)", fn, p.positional)
	}
	if p.positional >= 0 && p.typ != "string" && p.typ != "list" && p.typ != "int" {
		return fmt.Errorf("%s: positional = %d: only string, int and list parameters can be arguments; got type %q", fn, p.positional, p.typ)
	}
	return nil
}

// indexPositional maps argument indexes to parameters: each index at most
// once, without gaps from 0.
func (s *runState) indexPositional() error {
	byIndex := map[int]string{}
	for _, name := range s.declaredNames() {
		i := s.decls[name].positional
		if i < 0 {
			continue
		}
		if prev, ok := byIndex[i]; ok {
			return fmt.Errorf("recipe %s: parameters %s and %s both declare positional = %d; give each argument one parameter", s.opts.Recipe, prev, name, i)
		}
		byIndex[i] = name
	}
	s.argParam = make([]string, len(byIndex))
	for i := range s.argParam {
		name, ok := byIndex[i]
		if !ok {
			return fmt.Errorf("recipe %s: no parameter declares positional = %d, but a later argument has one; number the arguments from 0 without gaps", s.opts.Recipe, i)
		}
		s.argParam[i] = name
	}
	return nil
}

// applyArgs applies the command-line arguments to vals; src records where
// each value came from, for later errors.
func (s *runState) applyArgs(vals map[string]any, src map[string]string) error {
	if len(s.opts.Args) > len(s.argParam) {
		extra := s.opts.Args[len(s.argParam):]
		if len(s.argParam) == 0 {
			return fmt.Errorf("recipe %s takes no arguments after its name, got %q; give parameters with --set name=value or their flags", s.opts.Recipe, strings.Join(extra, " "))
		}
		return fmt.Errorf("recipe %s takes at most %d argument(s) after its name (%s), got also %q", s.opts.Recipe, len(s.argParam), strings.Join(s.argParam, ", "), strings.Join(extra, " "))
	}
	viaSet := map[string]bool{}
	for _, kv := range s.opts.Set {
		name, _, _ := strings.Cut(kv, "=")
		viaSet[name] = true
	}
	for i, raw := range s.opts.Args {
		name := s.argParam[i]
		d := s.decls[name]
		if viaSet[name] {
			return fmt.Errorf("argument %d (%s) and --set %s=... both set parameter %s; give it once", i+1, name, name, name)
		}
		if flag, ok := s.flagSet[name]; ok {
			return fmt.Errorf("argument %d (%s) and --%s both set parameter %s; give it once", i+1, name, flag, name)
		}
		v, err := parseSet(d, raw)
		if err == nil && d.choices != nil && !inChoices(d, v) {
			err = fmt.Errorf("%s is not one of %s", show(v), show(d.choices))
		}
		if err != nil {
			shown := raw
			if d.secret {
				shown, err = Redacted, fmt.Errorf("the value does not parse (not shown: the parameter is secret)")
			}
			return fmt.Errorf("argument %d %s: parameter %s is %s %s: %v", i+1, shown, name, article(d.typ), d.typ, err)
		}
		vals[name] = v
		src[name] = fmt.Sprintf("argument %d", i+1)
	}
	return nil
}
