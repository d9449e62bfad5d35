package runtime

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
)

// phaseDecl is the value of phase_decl(name, doc, children): one node of a
// recipe's phase tree, declared once next to the code that runs it (a
// stdlib module exports its PHASE, with sub-phases derived from the data
// that drives them) and composed by the recipe in phases([...]). It is
// plain data: declaring a phase runs nothing.
type phaseDecl struct {
	name     string
	doc      string
	children []*phaseDecl
}

var (
	_ starlark.Value    = (*phaseDecl)(nil)
	_ starlark.HasAttrs = (*phaseDecl)(nil)
)

func (p *phaseDecl) String() string        { return fmt.Sprintf("phase_decl(%q)", p.name) }
func (p *phaseDecl) Type() string          { return "phase_decl" }
func (p *phaseDecl) Freeze()               {}
func (p *phaseDecl) Truth() starlark.Bool  { return true }
func (p *phaseDecl) Hash() (uint32, error) { return starlark.String(p.name).Hash() }
func (p *phaseDecl) AttrNames() []string   { return []string{"children", "doc", "name"} }

// Attr lets a fork read a declaration, e.g. to keep all but one child:
// phase_decl(d.name, d.doc, [c for c in d.children if c.name != "sa"]).
func (p *phaseDecl) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(p.name), nil
	case "doc":
		return starlark.String(p.doc), nil
	case "children":
		l := make([]starlark.Value, len(p.children))
		for i, c := range p.children {
			l[i] = c
		}
		t := starlark.Tuple(l)
		return t, nil
	}
	return nil, nil
}

func phaseDeclBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, doc string
	var children starlark.Iterable = starlark.NewList(nil)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "doc", &doc, "children?", &children); err != nil {
		return nil, err
	}
	if name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("%s: name %q: want one path segment such as \"ca\"; nest phases with children = [...]", b.Name(), name)
	}
	if strings.TrimSpace(doc) == "" {
		return nil, fmt.Errorf("%s: %q: doc is empty; say in one line what the phase does (kubelark phases and --help list it)", b.Name(), name)
	}
	d := &phaseDecl{name: name, doc: doc}
	iter := children.Iterate()
	defer iter.Done()
	var x starlark.Value
	for i := 0; iter.Next(&x); i++ {
		c, ok := x.(*phaseDecl)
		if !ok {
			return nil, fmt.Errorf("%s: %q: children[%d]: got %s, want a phase_decl(...)", b.Name(), name, i, x.Type())
		}
		d.children = append(d.children, c)
	}
	return d, nil
}

// PhaseInfo is one phase of a recipe's declared tree, in order, as
// `kubelark phases` and `run --help` list it.
type PhaseInfo struct {
	// Path is the selectable name ("certs/ca"), Depth the number of
	// ancestors (0 for "certs").
	Path  string
	Depth int
	// Doc is the one-line description ("" for a phase declared as a bare
	// path string).
	Doc string
}

// flattenPhases turns phases()'s argument into the ordered tree: each item
// is a phase_decl (a subtree) or, for small recipes, a path string such
// as "certs/ca" whose parent is listed before it.
func flattenPhases(fn string, list *starlark.List) ([]PhaseInfo, error) {
	var out []PhaseInfo
	known := map[string]bool{}
	add := func(p PhaseInfo) error {
		if known[p.Path] {
			return fmt.Errorf("%s: %q is declared twice", fn, p.Path)
		}
		if parent, _, nested := cutLast(p.Path); nested && !known[parent] {
			return fmt.Errorf("%s: %q comes before its parent %q; list parents first", fn, p.Path, parent)
		}
		known[p.Path] = true
		out = append(out, p)
		return nil
	}
	var walk func(d *phaseDecl, prefix string, depth int) error
	walk = func(d *phaseDecl, prefix string, depth int) error {
		if err := add(PhaseInfo{Path: prefix + d.name, Depth: depth, Doc: d.doc}); err != nil {
			return err
		}
		for _, c := range d.children {
			if err := walk(c, prefix+d.name+"/", depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for i := 0; i < list.Len(); i++ {
		switch x := list.Index(i).(type) {
		case *phaseDecl:
			if err := walk(x, "", 0); err != nil {
				return nil, err
			}
		case starlark.String:
			p := string(x)
			if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
				return nil, fmt.Errorf("%s: %q is not a phase path; write names separated by /, e.g. \"certs/ca\"", fn, p)
			}
			if err := add(PhaseInfo{Path: p, Depth: strings.Count(p, "/")}); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%s: [%d]: got %s, want a phase_decl(...) or a phase path string", fn, i, x.Type())
		}
	}
	return out, nil
}

// cutLast splits "a/b/c" into "a/b", "c".
func cutLast(p string) (string, string, bool) {
	i := strings.LastIndex(p, "/")
	if i < 0 {
		return "", p, false
	}
	return p[:i], p[i+1:], true
}
