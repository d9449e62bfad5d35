package runtime

import (
	"fmt"
	"reflect"
	"strings"
)

// FlagValue is one recipe flag given on the command line: its name
// without "--" and every value it was given, in order (a list flag may be
// repeated; for any other type the last value wins, as with pflag).
type FlagValue struct {
	Name   string
	Values []string
}

// indexFlags maps each declared flag to its parameter, refusing two
// parameters that claim the same flag. It runs for a run and for
// Describe, so the error shows up as soon as the recipe is looked at.
func (s *runState) indexFlags() error {
	s.flagParam = map[string]string{}
	for _, name := range s.declaredNames() {
		d := s.decls[name]
		if d.flag == "" {
			continue
		}
		for _, b := range s.opts.BuiltinFlags {
			if d.flag == b {
				return fmt.Errorf("recipe %s: parameter %s declares flag = %q, which is a built-in flag of 'kubelark %s'; give the parameter another flag in its param(..., flag = ...)", s.opts.Recipe, name, d.flag, s.opts.Command)
			}
		}
		if prev, ok := s.flagParam[d.flag]; ok {
			return fmt.Errorf("recipe %s: parameters %s and %s both declare flag = %q; give each parameter its own flag", s.opts.Recipe, prev, name, d.flag)
		}
		s.flagParam[d.flag] = name
	}
	return nil
}

// applyFlags applies the recipe flags to vals, at the layer of --set: a
// flag is the same as --set name=value, so a parameter given both ways is
// refused rather than silently resolved by an order the command line does
// not keep. A merge parameter unions its flag's items with the value from
// the lower layers (kubeadm: --ignore-preflight-errors plus
// nodeRegistration.ignorePreflightErrors).
func (s *runState) applyFlags(vals map[string]any) error {
	viaSet := map[string]bool{}
	for _, kv := range s.opts.Set {
		name, _, _ := strings.Cut(kv, "=")
		viaSet[name] = true
	}
	s.flagSet = map[string]string{}
	for _, fv := range s.opts.Flags {
		name, ok := s.flagParam[fv.Name]
		if !ok {
			return fmt.Errorf("--%s: recipe %s declares no parameter with this flag%s", fv.Name, s.opts.Recipe, didYouMean(fv.Name, sortedKeys(s.flagParam)))
		}
		if viaSet[name] {
			return fmt.Errorf("--%s and --set %s=... both set parameter %s; give it once", fv.Name, name, name)
		}
		d := s.decls[name]
		v, err := parseFlag(d, fv.Values)
		if err != nil {
			shown := strings.Join(fv.Values, ",")
			if d.secret {
				// parse errors quote the value
				shown, err = Redacted, fmt.Errorf("the value does not parse (not shown: the parameter is secret)")
			}
			return fmt.Errorf("--%s %s: parameter %s is %s %s: %v", fv.Name, shown, name, article(d.typ), d.typ, err)
		}
		if d.merge {
			prev, _ := vals[name].([]any)
			v = union(prev, v.([]any))
		}
		vals[name] = v
		s.flagSet[name] = fv.Name
	}
	return nil
}

// parseFlag parses a flag's values like --set parses one value; a list
// flag's occurrences are concatenated (--x a,b --x c = [a, b, c]).
func parseFlag(d *paramDecl, raws []string) (any, error) {
	if len(raws) == 0 {
		return nil, fmt.Errorf("no value given")
	}
	if d.typ != "list" {
		v, err := parseSet(d, raws[len(raws)-1])
		if err == nil && d.choices != nil && !inChoices(d, v) {
			err = fmt.Errorf("%s is not one of %s", show(v), show(d.choices))
		}
		return v, err
	}
	out := []any{}
	for _, raw := range raws {
		v, err := parseSet(d, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, v.([]any)...)
	}
	return out, nil
}

// union appends the items of add not already in base, keeping order.
func union(base, add []any) []any {
	out := append([]any{}, base...)
	for _, x := range add {
		dup := false
		for _, y := range out {
			if reflect.DeepEqual(x, y) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, x)
		}
	}
	return out
}
