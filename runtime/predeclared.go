package runtime

import (
	"fmt"
	"runtime/debug"
	"sort"
	"strings"

	"go.starlark.net/lib/json"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// runInfo is what the `run` struct tells a recipe about the run.
type runInfo struct {
	DryRun bool
	Live   bool
	Root   string
	Recipe string
}

// Predeclared returns the environment every module sees: the registry's
// builtins (a dotted name like "net.cidr_ip" becomes member cidr_ip of a
// module struct "net") plus the recipe-level API (param, params, phases,
// phase, info, warn, output, run, struct, json, yaml). Unit tests of
// builtins use it with a thread carrying only an Env; params/phases then
// report that they need a run. A name clash is a programming error and
// panics here; Run reports it as an error instead.
func Predeclared(reg *Registry) starlark.StringDict {
	d, err := predeclared(reg, runInfo{})
	if err != nil {
		panic(err)
	}
	return d
}

func predeclared(reg *Registry, info runInfo) (starlark.StringDict, error) {
	d := starlark.StringDict{}
	modules := map[string]starlark.StringDict{}
	origin := map[string]string{} // name -> "runtime" or "registry"
	add := func(b *Builtin, from string) error {
		if b.Fn == nil {
			return nil // documentation-only entry (a value such as `run`)
		}
		if prev, ok := origin[b.Name]; ok {
			return fmt.Errorf("internal error: builtin %q is defined by both the %s and the %s", b.Name, prev, from)
		}
		origin[b.Name] = from
		fn := starlark.NewBuiltin(b.Name, safe(b.Fn))
		mod, member, dotted := strings.Cut(b.Name, ".")
		if !dotted {
			if _, clash := modules[b.Name]; clash {
				return fmt.Errorf("internal error: builtin %q clashes with module %q", b.Name, b.Name)
			}
			if starlark.Universe.Has(b.Name) {
				return fmt.Errorf("internal error: builtin %q would hide the Starlark built-in of that name", b.Name)
			}
			d[b.Name] = fn
			return nil
		}
		if strings.Contains(member, ".") || mod == "" || member == "" {
			return fmt.Errorf("internal error: builtin name %q: use one level of module (module.name)", b.Name)
		}
		if _, clash := d[mod]; clash {
			return fmt.Errorf("internal error: module %q of builtin %q clashes with a builtin of that name", mod, b.Name)
		}
		if modules[mod] == nil {
			modules[mod] = starlark.StringDict{}
		}
		modules[mod][member] = fn
		return nil
	}
	for _, b := range RecipeAPI() {
		if err := add(b, "runtime"); err != nil {
			return nil, err
		}
	}
	if reg != nil {
		for _, b := range reg.All() {
			if err := add(b, "registry"); err != nil {
				return nil, err
			}
		}
	}
	names := make([]string, 0, len(modules))
	for m := range modules {
		names = append(names, m)
	}
	sort.Strings(names)
	for _, m := range names {
		if _, clash := d[m]; clash {
			return nil, fmt.Errorf("internal error: module %q clashes with a builtin of that name", m)
		}
		d[m] = &starlarkstruct.Module{Name: m, Members: modules[m]}
	}
	for _, name := range []string{"run", "struct"} {
		if _, clash := d[name]; clash {
			return nil, fmt.Errorf("internal error: the registry defines %q, which the runtime provides", name)
		}
	}
	d["struct"] = starlark.NewBuiltin("struct", starlarkstruct.Make)
	d["run"] = starlarkstruct.FromStringDict(starlark.String("run"), starlark.StringDict{
		"dry_run": starlark.Bool(info.DryRun),
		"live":    starlark.Bool(info.Live),
		"root":    starlark.String(info.Root),
		"recipe":  starlark.String(info.Recipe),
	})
	d.Freeze()
	return d, nil
}

// safe turns a Go panic in a builtin into an error, so a bug in one
// builtin shows the recipe backtrace and a clear "internal error" instead
// of crashing the process.
func safe(fn func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (v starlark.Value, err error) {
		defer func() {
			if r := recover(); r != nil {
				v = nil
				err = panicError(b.Name(), r, thread)
			}
		}()
		return fn(thread, b, args, kwargs)
	}
}

// panicError describes a recovered panic. The Go stack is included at -v 2
// so a bug report can carry it; at lower levels it would only scare.
func panicError(name string, r any, thread *starlark.Thread) error {
	msg := fmt.Sprintf("%s: internal error: %v (this is a kubelark bug; please report it with this message)", name, r)
	if env, err := FromThread(thread); err == nil && env.Verbose >= 2 {
		msg += "\n" + string(debug.Stack())
	}
	return fmt.Errorf("%s", msg)
}

// jsonAPI documents go.starlark.net/lib/json and exposes it through the
// same path as every other builtin.
func jsonAPI() []*Builtin {
	docs := map[string][2]string{
		"encode":        {"json.encode(x)", "Encodes x as compact JSON (dict keys sorted)."},
		"encode_indent": {"json.encode_indent(x, *, prefix=\"\", indent=\"\\t\")", "Encodes x as indented JSON."},
		"decode":        {"json.decode(s, default=None)", "Decodes a JSON string; on error returns default when given, else fails."},
		"indent":        {"json.indent(s, *, prefix=\"\", indent=\"\\t\")", "Re-indents a JSON string."},
	}
	var out []*Builtin
	for _, name := range json.Module.Members.Keys() {
		impl, ok := json.Module.Members[name].(*starlark.Builtin)
		if !ok {
			continue
		}
		doc := docs[name]
		if doc[0] == "" {
			doc = [2]string{"json." + name + "(...)", "See go.starlark.net/lib/json."}
		}
		out = append(out, &Builtin{
			Name: "json." + name, Signature: doc[0], Doc: doc[1], DryRun: "pure; same as a live run",
			Fn: boundedJSON(name, impl),
		})
	}
	return out
}
