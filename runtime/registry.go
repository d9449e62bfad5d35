package runtime

import (
	"fmt"
	"sort"

	"go.starlark.net/starlark"
)

// Builtin describes one builtin: its implementation and the reference text
// that `kubelark builtins` prints. The registry is the single source for both
// the predeclared Starlark environment and the generated docs.
type Builtin struct {
	// Name as seen from Starlark; a dotted name ("yaml.encode") puts the
	// function into a module struct.
	Name string
	// Signature, e.g. `gen_cert(name, path, ca=None, ...)`.
	Signature string
	// Doc says what the builtin does (first line is the summary).
	Doc string
	// Args documents each argument, in signature order.
	Args []Arg
	// DryRun says what happens and what is recorded under --dry-run.
	DryRun string
	// Fn is the implementation. It reaches the host, recorder and
	// options through FromThread(thread).
	Fn func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)
}

// Arg documents one argument of a builtin.
type Arg struct {
	Name string
	Type string
	Doc  string
}

// Registry holds builtins by name.
type Registry struct {
	byName map[string]*Builtin
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byName: map[string]*Builtin{}} }

// Add registers b; a duplicate name is a programming error.
func (r *Registry) Add(b *Builtin) {
	if _, dup := r.byName[b.Name]; dup {
		panic(fmt.Sprintf("builtin %q registered twice", b.Name))
	}
	if b.Fn == nil || b.Signature == "" || b.Doc == "" {
		panic(fmt.Sprintf("builtin %q needs Fn, Signature and Doc", b.Name))
	}
	r.byName[b.Name] = b
}

// Get returns the builtin named name.
func (r *Registry) Get(name string) (*Builtin, bool) {
	b, ok := r.byName[name]
	return b, ok
}

// All returns the builtins sorted by name.
func (r *Registry) All() []*Builtin {
	out := make([]*Builtin, 0, len(r.byName))
	for _, b := range r.byName {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
