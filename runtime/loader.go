package runtime

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// stdlibPrefix marks a load of an embedded (or --stdlib) policy module.
const stdlibPrefix = "@stdlib//"

// fileOptions is the dialect every recipe and stdlib module is compiled
// with. It is strict where strictness catches mistakes and loose where
// recipes are scripts:
//   - While=false, Recursion=false: every loop is bounded by the data it
//     walks, so a recipe always terminates (waiting is a builtin's job),
//     and deep recursion cannot exhaust the Go stack;
//   - GlobalReassign=false: a second `x = ...` at top level is an error
//     (usually a typo or a shadowed parameter);
//   - TopLevelControl=true: a recipe may say `if cfg.upload_certs:` at top
//     level, as a script naturally does;
//   - Set=true: set() is handy for SAN and flag de-duplication.
var fileOptions = &syntax.FileOptions{
	Set:             true,
	While:           false,
	TopLevelControl: true,
	GlobalReassign:  false,
	Recursion:       false,
}

// module is one loaded file, cached by tree and path.
type module struct {
	t       *tree
	rel     string
	globals starlark.StringDict
	err     error
	loading bool
}

// loader resolves and executes modules on the run's single thread, so the
// step limit, cancellation and Env apply to loaded code as to the recipe.
type loader struct {
	recipes *tree
	stdlib  *tree
	// predeclared is the environment of every module.
	predeclared starlark.StringDict
	modules     map[string]*module // key: tree label + rel
	byDisplay   map[string]*module // file name in positions -> module
	stack       []*module          // modules being executed, for cycles
}

func newLoader(recipes, stdlib *tree, predeclared starlark.StringDict) *loader {
	return &loader{
		recipes: recipes, stdlib: stdlib, predeclared: predeclared,
		modules: map[string]*module{}, byDisplay: map[string]*module{},
	}
}

// load is the thread's Load function.
func (l *loader) load(thread *starlark.Thread, name string) (starlark.StringDict, error) {
	t, rel, err := l.resolve(thread, name)
	if err != nil {
		return nil, err
	}
	return l.exec(thread, t, rel)
}

// resolve maps a load() argument to a tree and a clean slash path in it.
func (l *loader) resolve(thread *starlark.Thread, name string) (*tree, string, error) {
	if strings.HasPrefix(name, stdlibPrefix) {
		rel := strings.TrimPrefix(name, stdlibPrefix)
		if !fs.ValidPath(rel) || rel == "." {
			return nil, "", fmt.Errorf("%q is not a stdlib module path; write @stdlib//name.star", name)
		}
		if l.stdlib.fsys == nil {
			return nil, "", fmt.Errorf("this build has no embedded stdlib; pass --stdlib DIR")
		}
		return l.stdlib, rel, nil
	}
	if strings.HasPrefix(name, "@") {
		return nil, "", fmt.Errorf("unknown repository in %q; only @stdlib// is available (or a path relative to the loading file)", name)
	}
	if strings.HasPrefix(name, "/") {
		return nil, "", fmt.Errorf("absolute path %q: recipes load files relative to themselves (or @stdlib//...), never from anywhere on the machine", name)
	}
	from := l.current(thread)
	if from == nil {
		return nil, "", fmt.Errorf("internal error: load(%q) from an unknown file", name)
	}
	rel := path.Join(path.Dir(from.rel), name)
	if rel == ".." || strings.HasPrefix(rel, "../") || !fs.ValidPath(rel) {
		return nil, "", fmt.Errorf("%q escapes the %s: a module may only load files inside its own tree (copy the file in, or use @stdlib//...)", name, from.t.label)
	}
	return from.t, rel, nil
}

// current is the module whose top level is executing the load statement.
func (l *loader) current(thread *starlark.Thread) *module {
	for i := 0; i < thread.CallStackDepth(); i++ {
		if m, ok := l.byDisplay[thread.CallFrame(i).Pos.Filename()]; ok {
			return m
		}
	}
	if n := len(l.stack); n > 0 {
		return l.stack[n-1]
	}
	return nil
}

// exec runs (once) the module rel of tree t and returns its globals.
func (l *loader) exec(thread *starlark.Thread, t *tree, rel string) (starlark.StringDict, error) {
	key := t.label + "\x00" + rel
	if m, ok := l.modules[key]; ok {
		if m.loading {
			return nil, fmt.Errorf("load cycle: %s", l.cycle(m))
		}
		return m.globals, m.err
	}
	src, err := fs.ReadFile(t.fsys, rel)
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s: %v", t.label, rel, unwrapPathError(err))
	}
	m := &module{t: t, rel: rel, loading: true}
	l.modules[key] = m
	display := t.display(rel)
	l.byDisplay[display] = m
	l.stack = append(l.stack, m)
	m.globals, m.err = execGuarded(fileOptions, thread, display, src, l.predeclared) // ExecFileOptions with `*` bounded
	l.stack = l.stack[:len(l.stack)-1]
	m.loading = false
	return m.globals, m.err
}

// cycle renders the load chain from m back to m.
func (l *loader) cycle(m *module) string {
	var names []string
	for i, s := range l.stack {
		if s == m {
			for _, x := range l.stack[i:] {
				names = append(names, x.t.display(x.rel))
			}
			break
		}
	}
	names = append(names, m.t.display(m.rel))
	return strings.Join(names, " -> ")
}

// unwrapPathError drops the *fs.PathError wrapper, whose path repeats the
// one already in the message.
func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// FileOptions returns (a copy of) the dialect recipes and stdlib modules
// are compiled with, so tests that parse them agree with the runtime.
func FileOptions() *syntax.FileOptions {
	o := *fileOptions
	return &o
}
