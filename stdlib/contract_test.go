package stdlib_test

import (
	"io/fs"
	"testing"

	"go.starlark.net/syntax"

	"github.com/kubelark/kubelark/stdlib"
)

// TestModulesReadOnlyCfg guards the one data contract into the stdlib:
// config.resolve(P) turns the recipe's parameters into cfg, and no module
// sees P. A module that names P (as a parameter, a global or an argument)
// or grows its own _param(P, name, default) reader would re-derive
// defaults that config.star owns; give it a cfg field instead.
func TestModulesReadOnlyCfg(t *testing.T) {
	files, err := fs.Glob(stdlib.FS, "*.star")
	if err != nil || len(files) == 0 {
		t.Fatalf("no embedded stdlib modules (%v)", err)
	}
	for _, name := range files {
		src, err := fs.ReadFile(stdlib.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := (&syntax.FileOptions{}).Parse(name, src, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		syntax.Walk(f, func(n syntax.Node) bool {
			switch n := n.(type) {
			case *syntax.Ident:
				if n.Name == "P" {
					t.Errorf("%s: uses the recipe parameters P; read a cfg field instead (add it in config.resolve)", n.NamePos)
				}
			case *syntax.DefStmt:
				if n.Name.Name == "_param" {
					t.Errorf("%s: defines _param; parameter defaults belong in config.resolve, read cfg instead", n.Def)
				}
			case *syntax.CallExpr:
				if id, ok := n.Fn.(*syntax.Ident); ok && id.Name == "params" {
					t.Errorf("%s: calls params(); only a recipe declares parameters", id.NamePos)
				}
			}
			return true
		})
	}
}
