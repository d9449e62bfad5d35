package runtime

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadStdlibAndRelative(t *testing.T) {
	stdlib := fstest.MapFS{
		"pki.star":  {Data: []byte(`load("util.star", "twice")` + "\n" + `def certs(): return twice("ca")` + "\n")},
		"util.star": {Data: []byte(`print("util loaded")` + "\n" + `def twice(s): return [s, s]` + "\n")},
	}
	r := mustRun(t, runFiles(t, map[string]string{
		"main.star": `
load("@stdlib//pki.star", "certs")
load("@stdlib//util.star", "twice")
load("lib/a.star", "a")
info("%s %s %s" % (certs(), twice("x"), a))
`,
		"lib/a.star": `load("b.star", "b")` + "\na = b + 1\n",
		"lib/b.star": "b = net.double(20)\n",
	}, Options{StdlibFS: stdlib}))
	if !strings.Contains(r.out, `["ca", "ca"] ["x", "x"] 41`) {
		t.Errorf("output:\n%s", r.out)
	}
	if n := strings.Count(r.out, "util loaded"); n != 1 {
		t.Errorf("util.star executed %d times, want 1 (modules are cached)", n)
	}
}

func TestLoadStdlibDirOverridesEmbedded(t *testing.T) {
	embedded := fstest.MapFS{"v.star": {Data: []byte(`v = "embedded"`)}}
	dir := writeTree(t, map[string]string{"v.star": `v = "forked"`})
	r := mustRun(t, runFiles(t, map[string]string{
		"main.star": `load("@stdlib//v.star", "v")` + "\ninfo(v)\n",
	}, Options{StdlibFS: embedded, StdlibDir: dir}))
	if !strings.Contains(r.out, "forked") {
		t.Errorf("--stdlib not used:\n%s", r.out)
	}
}

func TestLoadRefusesEscapes(t *testing.T) {
	for _, tc := range []struct{ load, want string }{
		{"../outside.star", "escapes the recipe tree"},
		{"lib/../../outside.star", "escapes the recipe tree"},
		{"/etc/passwd", "absolute path"},
		{"@other//x.star", "unknown repository"},
		{"@stdlib//../x.star", "not a stdlib module path"},
	} {
		t.Run(tc.load, func(t *testing.T) {
			r := runFiles(t, map[string]string{
				"main.star": `load("` + tc.load + `", "x")`,
			}, Options{StdlibFS: fstest.MapFS{}})
			wantErr(t, r.err, tc.want, "main.star:1")
		})
	}
}

func TestLoadEscapeFromSubdir(t *testing.T) {
	// lib/a.star may reach ../b.star (still inside the tree), not ../../.
	r := mustRun(t, runFiles(t, map[string]string{
		"main.star":  `load("lib/a.star", "a")` + "\ninfo(a)\n",
		"lib/a.star": `load("../b.star", "b")` + "\na = b\n",
		"b.star":     `b = "sibling ok"`,
	}, Options{}))
	if !strings.Contains(r.out, "sibling ok") {
		t.Errorf("output:\n%s", r.out)
	}
}

func TestLoadCycle(t *testing.T) {
	r := runFiles(t, map[string]string{
		"main.star": `load("a.star", "a")`,
		"a.star":    `load("b.star", "b")` + "\na = 1\n",
		"b.star":    `load("a.star", "a")` + "\nb = 1\n",
	}, Options{})
	wantErr(t, r.err, "load cycle:", "a.star -> ", "b.star -> ", "b.star:1")
}

func TestLoadMissingFile(t *testing.T) {
	r := runFiles(t, map[string]string{"main.star": `load("nope.star", "x")`}, Options{})
	wantErr(t, r.err, "nope.star", "main.star:1")
}

func TestEmbeddedRecipeLoadsRelative(t *testing.T) {
	recipes := fstest.MapFS{
		"init.star":        {Data: []byte(`load("common/x.star", "x")` + "\ninfo(x)\n")},
		"common/x.star":    {Data: []byte(`x = "from embedded"`)},
		"examples/a.star":  {Data: []byte(`load("../init.star", "x")`)},
		"examples/b.star":  {Data: []byte(`load("../../etc.star", "x")`)},
		"examples/README":  {Data: []byte("not a recipe")},
		"examples/sub/dir": {Mode: 0o755 | 1<<31},
	}
	r := mustRun(t, runIn(t, context.Background(), "init", Options{RecipeFS: recipes}))
	if !strings.Contains(r.out, "from embedded") || r.plan.Recipe != "init" {
		t.Errorf("output:\n%s\nplan recipe %q", r.out, r.plan.Recipe)
	}
	r = runIn(t, context.Background(), "examples/b", Options{RecipeFS: recipes})
	wantErr(t, r.err, "escapes the embedded recipes")
	r = runIn(t, context.Background(), "nosuch", Options{RecipeFS: recipes})
	wantErr(t, r.err, `recipe "nosuch"`, "embedded: common/x, examples/a, examples/b, init")
}
