package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.starlark.net/syntax"

	"github.com/kubelark/kubelark/runtime"
)

func newRecipesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "recipes",
		Short: "List, show and export the embedded recipes",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the embedded recipes with their summary line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, name := range runtime.EmbeddedRecipes(a.recipes) {
				src, err := fs.ReadFile(a.recipes, name+".star")
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%s\n", name, summary(name+".star", src))
			}
			return tw.Flush()
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show NAME",
		Short: "Print the source of an embedded recipe (or @stdlib//NAME.star for a stdlib module)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fsys, rel, err := a.embeddedFile(args[0])
			if err != nil {
				return err
			}
			src, err := fs.ReadFile(fsys, rel)
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(src)
			return err
		},
	})
	var force, withStdlib bool
	export := &cobra.Command{
		Use:   "export DIR",
		Short: "Write the embedded recipes (and with --with-stdlib the stdlib, to DIR/stdlib) to fork them",
		Long: `Write the embedded recipes into DIR so a site can read and change them, then
run the fork with 'kubelark run DIR/init.star'. With --with-stdlib the policy
modules go to DIR/stdlib too (run with --stdlib DIR/stdlib). Existing files
are never overwritten unless --force is given.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.export(args[0], force, withStdlib)
		},
	}
	export.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	export.Flags().BoolVar(&withStdlib, "with-stdlib", false, "also write the stdlib modules to DIR/stdlib")
	cmd.AddCommand(export)
	return cmd
}

// embeddedFile maps "init", "init.star" or "@stdlib//pki.star" to a file.
func (a *app) embeddedFile(name string) (fs.FS, string, error) {
	fsys, rel, what := a.recipes, strings.TrimSuffix(name, ".star")+".star", "recipe"
	if s, ok := strings.CutPrefix(name, "@stdlib//"); ok {
		fsys, rel, what = a.stdlib, s, "stdlib module"
	}
	if fs.ValidPath(rel) {
		if st, err := fs.Stat(fsys, rel); err == nil && !st.IsDir() {
			return fsys, rel, nil
		}
	}
	if what == "recipe" {
		return nil, "", fmt.Errorf("no embedded recipe %q (embedded: %s)", name, strings.Join(runtime.EmbeddedRecipes(a.recipes), ", "))
	}
	return nil, "", fmt.Errorf("no embedded stdlib module %q (embedded: %s)", name, strings.Join(starFiles(a.stdlib), ", "))
}

// summary is the first line of a file's docstring, or of its leading
// comment.
func summary(name string, src []byte) string {
	f, err := syntax.LegacyFileOptions().Parse(name, src, syntax.RetainComments)
	if err != nil {
		return "(does not parse: " + err.Error() + ")"
	}
	if len(f.Stmts) > 0 {
		if e, ok := f.Stmts[0].(*syntax.ExprStmt); ok {
			if lit, ok := e.X.(*syntax.Literal); ok && lit.Token == syntax.STRING {
				if s, ok := lit.Value.(string); ok {
					return firstLine(s)
				}
			}
		}
	}
	for _, line := range strings.Split(string(src), "\n") {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") {
			return firstLine(strings.TrimSpace(strings.TrimLeft(t, "#")))
		} else if t != "" {
			break
		}
	}
	return ""
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func starFiles(fsys fs.FS) []string {
	var out []string
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".star") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// export writes every embedded .star file. It checks all destinations
// first, so a refused export writes nothing.
func (a *app) export(dir string, force, withStdlib bool) error {
	type file struct {
		fsys fs.FS
		rel  string
		dst  string
	}
	var files []file
	for _, rel := range starFiles(a.recipes) {
		files = append(files, file{a.recipes, rel, filepath.Join(dir, filepath.FromSlash(rel))})
	}
	if withStdlib {
		for _, rel := range starFiles(a.stdlib) {
			files = append(files, file{a.stdlib, rel, filepath.Join(dir, "stdlib", filepath.FromSlash(rel))})
		}
	}
	if !force {
		var existing []string
		for _, f := range files {
			if _, err := os.Lstat(f.dst); err == nil {
				existing = append(existing, f.dst)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		if len(existing) > 0 {
			return fmt.Errorf("export %s: %d file(s) exist (%s); nothing was written; use --force to overwrite", dir, len(existing), strings.Join(existing, ", "))
		}
	}
	for _, f := range files {
		data, err := fs.ReadFile(f.fsys, f.rel)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(f.dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f.dst, data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "wrote %s\n", f.dst)
	}
	main := path.Join(filepath.ToSlash(dir), "<recipe>.star")
	if withStdlib {
		fmt.Fprintf(a.stdout, "run a fork with: kubelark run %s --stdlib %s\n", main, filepath.Join(dir, "stdlib"))
	} else {
		fmt.Fprintf(a.stdout, "run a fork with: kubelark run %s\n", main)
	}
	return nil
}
