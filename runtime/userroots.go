package runtime

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime/host"
)

// rootDecl validates param(..., root = ...): "write" (or True) marks a
// directory parameter whose user-given value becomes a write root, "read"
// a file or directory the recipe will read (an external etcd CA). Only
// string parameters name paths; a dict parameter may name the keys whose
// values are paths, root = {"cert-dir": "read"} (kubelet flags).
func rootDecl(fn string, p *paramDecl, v starlark.Value) (string, map[string]string, error) {
	access := func(what string, v starlark.Value) (string, error) {
		switch v := v.(type) {
		case starlark.Bool:
			if v {
				return "write", nil
			}
			return "", nil
		case starlark.String:
			if v == "write" || v == "read" {
				return string(v), nil
			}
			return "", fmt.Errorf("%s: %s = %q: want \"write\" (a directory the recipe writes) or \"read\" (a file it reads)", fn, what, string(v))
		}
		return "", fmt.Errorf("%s: %s: got %s, want \"write\" (a directory the recipe writes) or \"read\" (a file it reads)", fn, what, v.Type())
	}
	switch v := v.(type) {
	case starlark.NoneType:
		return "", nil, nil
	case *starlark.Dict:
		if p.typ != "dict" {
			return "", nil, fmt.Errorf("%s: root = {key: access} is for dict parameters; this one is %s %s, give root = \"write\" or \"read\"", fn, article(p.typ), p.typ)
		}
		keys := map[string]string{}
		for _, kv := range v.Items() {
			k, ok := starlark.AsString(kv[0])
			if !ok {
				return "", nil, fmt.Errorf("%s: root: key %s is not a string", fn, kv[0])
			}
			a, err := access("root["+strconv.Quote(k)+"]", kv[1])
			if err != nil {
				return "", nil, err
			}
			if a != "" {
				keys[k] = a
			}
		}
		return "", keys, nil
	}
	root, err := access("root", v)
	if err != nil || root == "" {
		return "", nil, err
	}
	if p.typ != "string" {
		return "", nil, fmt.Errorf("%s: root = %q needs a string parameter (a path); this one is %s %s", fn, root, article(p.typ), p.typ)
	}
	return root, nil, nil
}

// applyUserRoots adds to the sandbox the paths the user configured: the
// value of every parameter declared with root = ..., when it came from the
// user (--config, --values, --set, a recipe flag) and not from the
// recipe's default. A recipe cannot widen the roots: its defaults are not
// roots, and a value its own config mapping made up (one that is not in
// the user's --config) is refused. It runs once, after the parameters are
// resolved and before the first phase; the roots added are recorded in the
// plan and printed with -v. A host that is not a sandbox (tests) has no
// roots to widen.
func (s *runState) applyUserRoots(values map[string]any, config *ConfigMapping) error {
	w, ok := s.env.Host.(host.RootWidener)
	if !ok {
		return nil
	}
	var roots []host.UserRoot
	add := func(name, key, access, v string, def any) error {
		if v == "" || v == def {
			return nil
		}
		src, err := s.userSource(name, key, v, config)
		if err != nil {
			return err
		}
		roots = append(roots, host.UserRoot{Path: v, Source: src, Read: access == "read"})
		return nil
	}
	for _, name := range s.declaredNames() {
		d := s.decls[name]
		if d.root != "" {
			v, _ := values[name].(string)
			if err := add(name, "", d.root, v, d.goDef); err != nil {
				return err
			}
		}
		for _, key := range sortedKeys(d.rootKeys) {
			m, _ := values[name].(map[string]any)
			v, _ := m[key].(string)
			defs, _ := d.goDef.(map[string]any)
			if err := add(name, key, d.rootKeys[key], v, defs[key]); err != nil {
				return err
			}
		}
	}
	if _, err := w.AllowUserRoots(roots); err != nil {
		return err
	}
	added := w.Added()
	s.env.Plan().Roots = added
	if s.env.Verbose > 0 {
		for _, r := range added {
			to := ""
			if r.Resolved != "" {
				to = " (-> " + r.Resolved + ")"
			}
			what := "writes under"
			if r.Access == "read" {
				what = "reads of"
			}
			s.env.Infof("allowing %s %s%s: from %s", what, r.Path, to, r.Source)
		}
	}
	return nil
}

// userSource names where the user gave parameter name (its key, for a
// dict parameter) the value v. The --config layer is the recipe's mapping
// of the user's documents: its value counts only if the documents hold it.
func (s *runState) userSource(name, key, v string, config *ConfigMapping) (string, error) {
	o := s.opts
	what := name
	if key != "" {
		what = fmt.Sprintf("%s[%q]", name, key)
	}
	for _, kv := range o.Set {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			return "--set " + what, nil
		}
	}
	if f, ok := s.flagSet[name]; ok {
		return "--" + f, nil
	}
	if config != nil {
		cv := config.Params[name]
		if key != "" {
			m, _ := cv.(map[string]any)
			cv = m[key]
		}
		if cv, ok := cv.(string); ok && cv == v {
			field := config.Sources[name]
			if !holdsString(o.ConfigDocs, v) {
				return "", fmt.Errorf("--config: the recipe's config mapping sets path parameter %s to %s (from kubeadm field %s), which the config file does not hold; a recipe cannot choose its own roots: fix the mapping, or give the path with --set", what, v, field)
			}
			return "--config " + field, nil
		}
	}
	if o.ValuesFile != "" {
		return "--values " + o.ValuesFile, nil
	}
	return "", fmt.Errorf("internal error: parameter %s = %s came from no user input", what, v)
}

// holdsString reports whether a string leaf of data equals s as a path
// (path.Clean on both, so "/var/lib/etcd-vz/" matches).
func holdsString(data any, s string) bool {
	switch d := data.(type) {
	case string:
		return d == s || (strings.HasPrefix(d, "/") && path.Clean(d) == path.Clean(s))
	case []any:
		for _, x := range d {
			if holdsString(x, s) {
				return true
			}
		}
	case map[string]any:
		for _, x := range d {
			if holdsString(x, s) {
				return true
			}
		}
	}
	return false
}
