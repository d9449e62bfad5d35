package builtins

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// The mount family: kubeadm's cleanup-node unmounts every mount point
// below the kubelet's directory (Pod volumes, projected Secrets, subPath
// bind mounts) before it empties it; removing files through a live mount
// would delete the data of the volume behind it. The builtins list and
// unmount; the order and the flags are the recipe's.

func init() { families = append(families, registerMounts) }

func registerMounts(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "mounts",
		Signature: "mounts(under)",
		Doc: "Returns the mount points at or below under (resolved with real_path first), deepest first: the reverse order of " +
			"/proc/self/mountinfo, so unmounting in list order never meets a busy parent. A path mounted twice is listed twice.\n" +
			"under itself is listed when it is a mount point: kubeadm unmounts only the mounts strictly below the kubelet's directory " +
			"(filter it out, [m for m in mounts(d) if m != d]; on a node whose /var/lib/kubelet is a file system of its own, unmounting it would expose the directory beneath).\n" +
			"Under --root the relocated tree's mounts are listed (those below ROOT/under, as recipe paths).",
		Args:   []runtime.Arg{{Name: "under", Type: "string", Doc: "absolute path, e.g. /var/lib/kubelet"}},
		DryRun: "Reads the real mount table, less the mounts this dry run unmounted.",
		Fn:     mountsBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "unmount",
		Signature: "unmount(path, flags=[])",
		Doc: "Unmounts the file system mounted at path (umount2(2)). Returns \"unmounted\", or \"absent\" when path is not a mount point.\n" +
			"flags are umount2's names: MNT_FORCE, MNT_DETACH (lazy: kubeadm's choice is a plain unmount), MNT_EXPIRE, UMOUNT_NOFOLLOW. " +
			"In the sandbox path must be at or below an allowed root. Other failures (busy) abort with the error.",
		Args: []runtime.Arg{
			{Name: "path", Type: "string", Doc: "absolute path of a mount point"},
			{Name: "flags", Type: "list of strings", Doc: "umount2 flag names"},
		},
		DryRun: "Recorded as mount.unmount, not performed; later mounts() no longer list it.",
		Fn:     unmountBuiltin,
	})
}

func mountsBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, under, err := unpackPath(thread, b, args, kwargs, "under")
	if err != nil {
		return nil, err
	}
	ms, err := env.Host.Mounts(under)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", b.Name(), under, err)
	}
	return stringList(ms), nil
}

func unmountBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var flagsV *starlark.List
	env, target, err := unpackPath(thread, b, args, kwargs, "path", "flags?", &flagsV)
	if err != nil {
		return nil, err
	}
	var names []string
	if flagsV != nil {
		for i := 0; i < flagsV.Len(); i++ {
			s, ok := starlark.AsString(flagsV.Index(i))
			if !ok {
				return nil, fmt.Errorf("%s: %s: flags[%d] is a %s; pass flag names as strings, e.g. [\"MNT_DETACH\"]", b.Name(), target, i, flagsV.Index(i).Type())
			}
			names = append(names, s)
		}
	}
	flags, err := host.ParseUnmountFlags(names)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", b.Name(), target, err)
	}
	ok, err := env.Host.Unmount(target, flags)
	if err != nil {
		var out *host.OutsideRootsError
		if errors.As(err, &out) {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return nil, fmt.Errorf("%s: %s: %w; find what holds it busy (fuser -vm %s) or pass flags=[\"MNT_DETACH\"]", b.Name(), target, err, target)
	}
	result := "absent"
	if ok {
		result = "unmounted"
	}
	a := runtime.Action{Op: "mount.unmount", Target: target, Result: result}
	if ok && env.Host.DryRun() {
		a.Result = "recorded"
	}
	if len(names) > 0 {
		a.Summary = map[string]any{"flags": strings.Join(flags.Names(), ",")}
	}
	env.Record(thread, b.Name(), a)
	return starlark.String(result), nil
}
