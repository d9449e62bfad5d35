package runtime

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"
)

// ConfigMapping is what a recipe's kubeadm config mapping (the config= of
// params()) made of the --config documents.
type ConfigMapping struct {
	// Params holds the parameter values the documents set, as plain data.
	Params map[string]any
	// Sources maps each parameter to the kubeadm field it came from, e.g.
	// "ClusterConfiguration.networking.podSubnet"; errors about the value
	// name the field, which is what the user wrote.
	Sources map[string]string
	// Warnings are fields that can have no effect (ignored documents,
	// timeouts the workflow never waits for, a feature gate at its
	// default).
	Warnings []string
}

// configKwarg is the keyword of params() that names the recipe's kubeadm
// config mapping; it is therefore not a parameter name.
const configKwarg = "config"

// mapConfigDocs runs the recipe's config mapping over the --config
// documents (nil without --config). The mapping's warnings are printed
// here; its problems are input errors (no backtrace), while a failure
// inside the mapping function keeps its backtrace: that is a bug in the
// recipe or stdlib, not in the user's file.
func (s *runState) mapConfigDocs(thread *starlark.Thread, fn starlark.Callable) (*ConfigMapping, error) {
	o := s.opts
	if o.ConfigDocs == nil {
		return nil, nil
	}
	file := "--config"
	if o.ConfigFile != "" {
		file += " " + o.ConfigFile
	}
	if fn == nil {
		return nil, inputErr(fmt.Errorf("%s: recipe %s does not read kubeadm configs: its params() has no %s = mapping function; give the values with --values/--set, or add e.g. %s = kubeadmconfig.init_params (load(\"@stdlib//kubeadmconfig.star\", \"kubeadmconfig\"))",
			file, o.Recipe, configKwarg, configKwarg))
	}
	m, err := mapConfig(thread, fn, o.ConfigDocs)
	if err != nil {
		var problems *configError
		if errors.As(err, &problems) {
			return nil, inputErr(fmt.Errorf("%s: %w", file, err))
		}
		return nil, err
	}
	for _, w := range m.Warnings {
		s.env.Warnf("--config: %s", w)
	}
	return m, nil
}

// mapConfig calls a recipe's mapping function with the documents (a
// frozen dict kind -> document, shaped like the YAML) and reads its
// result: a struct with params (dict param -> value), sources (dict param
// -> field path) and, optionally, warnings and errors (lists of strings).
// The mapping's errors become one error, worded like the validation errors
// of runtime/kubeadmconfig, so every problem of the file reads alike.
func mapConfig(thread *starlark.Thread, fn starlark.Callable, docs map[string]any) (*ConfigMapping, error) {
	sdocs, err := FromGo(docs)
	if err != nil {
		return nil, fmt.Errorf("internal error: kubeadm config documents: %v", err)
	}
	sdocs.Freeze()
	res, err := starlark.Call(thread, fn, starlark.Tuple{sdocs}, nil)
	if err != nil {
		return nil, err
	}
	name := fn.Name()
	attrs, ok := res.(starlark.HasAttrs)
	if _, isDict := res.(*starlark.Dict); isDict || !ok {
		return nil, fmt.Errorf("config mapping %s returned %s; want a struct with params, sources, warnings and errors (see @stdlib//kubeadmconfig.star)", name, res.Type())
	}
	field := func(attr string, optional bool) (any, error) {
		v, err := attrs.Attr(attr)
		if err != nil || v == nil {
			if optional {
				return nil, nil
			}
			return nil, fmt.Errorf("config mapping %s returned a %s without %s", name, res.Type(), attr)
		}
		g, err := ToGo(v)
		if err != nil {
			return nil, fmt.Errorf("config mapping %s: %s%s", name, attr, errSuffix(err))
		}
		return g, nil
	}
	m := &ConfigMapping{Sources: map[string]string{}}
	var errs []string
	for _, attr := range []string{"params", "sources", "warnings", "errors"} {
		v, err := field(attr, attr == "warnings" || attr == "errors")
		if err != nil {
			return nil, err
		}
		switch attr {
		case "params":
			d, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("config mapping %s: params is %s, want a dict param -> value", name, KindOf(v))
			}
			m.Params = d
		case "sources":
			d, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("config mapping %s: sources is %s, want a dict param -> kubeadm field", name, KindOf(v))
			}
			for p, s := range d {
				str, ok := s.(string)
				if !ok {
					return nil, fmt.Errorf("config mapping %s: sources[%q] is %s, want the kubeadm field path as a string", name, p, KindOf(s))
				}
				m.Sources[p] = str
			}
		default:
			list, err := stringList(v)
			if err != nil {
				return nil, fmt.Errorf("config mapping %s: %s: %v", name, attr, err)
			}
			if attr == "warnings" {
				m.Warnings = list
			} else {
				errs = list
			}
		}
	}
	for p := range m.Params {
		if m.Sources[p] == "" {
			return nil, fmt.Errorf("config mapping %s sets parameter %s without naming the kubeadm field it came from; add it to sources", name, p)
		}
	}
	if err := configProblems(errs); err != nil {
		return nil, err
	}
	return m, nil
}

// stringList reads an optional list of strings.
func stringList(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("is %s, want a list of strings", KindOf(v))
	}
	out := make([]string, len(l))
	for i, x := range l {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("[%d] is %s, want a string", i, KindOf(x))
		}
		out[i] = s
	}
	return out, nil
}

// configError is the problems a mapping found in the user's file, as
// opposed to a failure of the mapping itself.
type configError struct{ problems []string }

// Error words the problems like runtime/kubeadmconfig's validation errors
// (one problem on one line, several as a list), so every problem of the
// file reads alike whichever side found it.
func (e *configError) Error() string {
	if len(e.problems) == 1 {
		return "kubeadm config: " + e.problems[0]
	}
	return fmt.Sprintf("kubeadm config has %d problems:\n  - %s", len(e.problems), strings.Join(e.problems, "\n  - "))
}

func configProblems(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return &configError{problems}
}

// MapConfig calls the mapping function named by function (a global of the
// stdlib module, or a member of one: "kubeadmconfig.init_params") on
// opts.ConfigDocs, outside a recipe run: what a --config file means for a
// recipe, for tests and tools. Only opts.StdlibFS/StdlibDir, Registry and
// ConfigDocs are used.
func MapConfig(opts Options, module, function string) (*ConfigMapping, error) {
	stdlib, err := stdlibTree(&opts)
	if err != nil {
		return nil, err
	}
	defer stdlib.close()
	pre, err := predeclared(opts.Registry, runInfo{Recipe: opts.Recipe})
	if err != nil {
		return nil, err
	}
	ld := newLoader(&tree{label: "no recipe tree"}, stdlib, pre)
	thread := &starlark.Thread{Name: "kubelark config mapping", Load: ld.load}
	rel, ok := strings.CutPrefix(module, stdlibPrefix)
	if !ok {
		return nil, fmt.Errorf("module %q: want a stdlib module such as @stdlib//kubeadmconfig.star", module)
	}
	globals, err := ld.exec(thread, stdlib, rel)
	if err != nil {
		return nil, err
	}
	head, rest, dotted := strings.Cut(function, ".")
	v, ok := globals[head]
	if ok && dotted {
		var attrs starlark.HasAttrs
		if attrs, ok = v.(starlark.HasAttrs); ok {
			v, err = attrs.Attr(rest)
			ok = err == nil && v != nil
		}
	}
	fn, callable := v.(starlark.Callable)
	if !ok || !callable {
		return nil, fmt.Errorf("%s has no function %s", module, function)
	}
	return mapConfig(thread, fn, opts.ConfigDocs)
}
