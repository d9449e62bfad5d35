package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// tree is a directory of Starlark files that load() may reach: the recipe
// tree (the main recipe's directory, or the embedded recipes) or the
// stdlib. Files are read through fs.FS; trees on disk are opened with
// os.OpenRoot so symlinks cannot lead a load outside the tree either.
type tree struct {
	// label names the tree in messages ("recipe tree recipes/",
	// "embedded stdlib").
	label string
	fsys  fs.FS
	// display turns a slash path inside the tree into the file name shown
	// in positions and backtraces.
	display func(rel string) string
	closer  func() error
}

func (t *tree) close() {
	if t != nil && t.closer != nil {
		_ = t.closer()
	}
}

// diskTree opens dir as a tree. shown is the directory as the user named
// it, used as the prefix of file names in backtraces.
func diskTree(label, dir string) (*tree, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	prefix := filepath.ToSlash(filepath.Clean(dir))
	return &tree{
		label:   label,
		fsys:    root.FS(),
		display: func(rel string) string { return path.Join(prefix, rel) },
		closer:  root.Close,
	}, nil
}

// resolveRecipe finds the main recipe: a file on disk, or else an embedded
// recipe by name ("init" or "init.star").
func resolveRecipe(opts *Options) (*tree, string, error) {
	name := opts.Recipe
	if name == "" {
		return nil, "", errors.New("no recipe given; name an embedded recipe (see `kubelark recipes list`) or a .star file")
	}
	if st, err := os.Stat(name); err == nil {
		if st.IsDir() {
			return nil, "", fmt.Errorf("recipe %s is a directory; name the recipe file inside it (e.g. %s)", name, filepath.Join(name, "init.star"))
		}
		dir := filepath.Dir(name)
		t, err := diskTree("recipe tree "+dir+"/", dir)
		if err != nil {
			return nil, "", fmt.Errorf("recipe %s: %w", name, err)
		}
		return t, filepath.Base(name), nil
	}
	if opts.RecipeFS != nil && !strings.HasPrefix(name, "/") && !strings.HasPrefix(name, ".") {
		rel := strings.TrimSuffix(name, ".star") + ".star"
		if fs.ValidPath(rel) {
			if st, err := fs.Stat(opts.RecipeFS, rel); err == nil && !st.IsDir() {
				return &tree{
					label:   "embedded recipes",
					fsys:    opts.RecipeFS,
					display: func(rel string) string { return rel },
				}, rel, nil
			}
		}
	}
	known := EmbeddedRecipes(opts.RecipeFS)
	return nil, "", fmt.Errorf("recipe %q: no such file, and no embedded recipe of that name (embedded: %s)", name, strings.Join(known, ", "))
}

// EmbeddedRecipes lists the recipe names in fsys ("init", "examples/x"),
// sorted; used in messages and by `kubelark recipes list`.
func EmbeddedRecipes(fsys fs.FS) []string {
	if fsys == nil {
		return nil
	}
	var names []string
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".star") {
			names = append(names, strings.TrimSuffix(p, ".star"))
		}
		return nil
	})
	sort.Strings(names)
	return names
}

// stdlibTree is --stdlib DIR when given, else the embedded stdlib.
func stdlibTree(opts *Options) (*tree, error) {
	if opts.StdlibDir != "" {
		st, err := os.Stat(opts.StdlibDir)
		if err != nil {
			return nil, fmt.Errorf("--stdlib %s: %w", opts.StdlibDir, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("--stdlib %s: not a directory; give the directory holding pki.star and the other modules", opts.StdlibDir)
		}
		t, err := diskTree("stdlib "+opts.StdlibDir+"/", opts.StdlibDir)
		if err != nil {
			return nil, fmt.Errorf("--stdlib %s: %w", opts.StdlibDir, err)
		}
		t.display = func(rel string) string { return stdlibPrefix + rel }
		return t, nil
	}
	return &tree{
		label:   "embedded stdlib",
		fsys:    opts.StdlibFS,
		display: func(rel string) string { return stdlibPrefix + rel },
	}, nil
}
