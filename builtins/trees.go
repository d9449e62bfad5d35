package builtins

import (
	"errors"
	"fmt"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// The tree family: what reset needs to empty kubeadm's directories.
// kubeadm resolves /var/lib/kubelet through its symlinks before it
// unmounts and empties it, and removes directory contents with
// os.RemoveAll, which never follows a symlink out of the tree. Here the
// walk is the host's (Host.RemoveTree), so the sandbox checks the tree
// before the first removal and every removal again, and a dry run leaves
// tombstones that later reads see.

func init() { families = append(families, registerTrees) }

func registerTrees(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "remove_tree",
		Signature: "remove_tree(path, contents_only=True)",
		Doc: "Removes everything inside directory path (contents_only=True, kubeadm's cleanDir: the directory stays) or path itself with everything in it.\n" +
			"Symlinks are removed, never followed. A missing path returns []. Before removing anything it refuses a tree with a mount point below path " +
			"(unmount it first: mounts(path), unmount(path)), a path that is a symlink with contents_only=True (resolve it with real_path), and, in the sandbox, " +
			"a path outside the allowed roots or an allowed root itself with contents_only=False.\n" +
			"Returns the list of removed paths in removal order (children before their directory).",
		Args: []runtime.Arg{
			{Name: "path", Type: "string", Doc: "absolute path of a directory (or, with contents_only=False, of anything)"},
			{Name: "contents_only", Type: "bool", Doc: "keep path itself (True, the default) or remove it too"},
		},
		DryRun: "Every removal is recorded as file.delete and lands in the overlay as a tombstone: later path_exists, list_dir and read_file see the files gone, and a second call returns [].",
		Fn:     removeTreeBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "check_writable",
		Signature: "check_writable(paths)",
		Doc: "Fails, naming the first path and the sandbox's roots, when a write or delete at one of paths would be refused; does nothing otherwise.\n" +
			"It lets a recipe refuse bad input (a configured directory outside the roots) before it changes anything, instead of halfway through. " +
			"Without a sandbox (unit tests on a bare host) every path is writable.",
		Args:   []runtime.Arg{{Name: "paths", Type: "list of strings", Doc: "absolute paths"}},
		DryRun: "Checks only; the same answer as a real run.",
		Fn:     checkWritableBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "real_path",
		Signature: "real_path(path)",
		Doc: "Returns path with every symlink resolved (as kubeadm resolves /var/lib/kubelet before unmounting under it); the part of path that does not exist is appended cleaned.\n" +
			"Under --root symlinks resolve inside the root, as in a chroot. Only reads: the sandbox's read rules apply.",
		Args:   []runtime.Arg{{Name: "path", Type: "string", Doc: "absolute path"}},
		DryRun: "Reads only; sees the dry run's removals.",
		Fn:     realPathBuiltin,
	})
}

func checkWritableBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var list *starlark.List
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "paths", &list); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	wc, checks := env.Host.(host.WriteChecker)
	for i := range list.Len() {
		target, err := pathArg(b.Name(), fmt.Sprintf("paths[%d]", i), list.Index(i))
		if err != nil {
			return nil, err
		}
		if checks {
			if err := wc.CheckWrite(target); err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
		}
	}
	return starlark.None, nil
}

func removeTreeBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	contentsOnly := true
	env, target, err := unpackPath(thread, b, args, kwargs, "path", "contents_only?", &contentsOnly)
	if err != nil {
		return nil, err
	}
	if target == "/" {
		return nil, fmt.Errorf("%s: refusing to remove /; name the directory to empty, e.g. /var/lib/kubelet", b.Name())
	}
	removed, err := env.Host.RemoveTree(target, contentsOnly)
	// What was removed before a failure is recorded: the plan must show it.
	out := make([]starlark.Value, 0, len(removed))
	for _, r := range removed {
		env.Record(thread, b.Name(), runtime.Action{Op: "file.delete", Target: r, Result: string(host.Deleted)})
		out = append(out, starlark.String(r))
	}
	if err != nil {
		var me *host.MountedError
		if errors.As(err, &me) {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		what := ""
		if len(removed) > 0 {
			what = fmt.Sprintf(" after removing %d paths", len(removed))
		}
		return nil, fmt.Errorf("%s: %s: %w%s", b.Name(), target, err, what)
	}
	return starlark.NewList(out), nil
}

func realPathBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, target, err := unpackPath(thread, b, args, kwargs, "path")
	if err != nil {
		return nil, err
	}
	rp, err := env.Host.RealPath(target)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", b.Name(), target, err)
	}
	return starlark.String(rp), nil
}
