package builtins

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
)

// The file family: plain files and directories a recipe writes, creates,
// removes or inspects. Every change goes through the host (so dry-run and
// --root work) and becomes one Action; reads see the dry-run overlay.

func init() { families = append(families, registerFiles) }

func registerFiles(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "write_file",
		Signature: "write_file(path, content, mode=0o644, dir_mode=0o755, secret=False)",
		Doc: "Writes content to path atomically with exactly mode, creating missing parent directories with dir_mode.\n" +
			"Returns struct(status) with status created, updated or unchanged (same content and mode).",
		Args: []runtime.Arg{
			{Name: "path", Type: "string", Doc: "absolute path"},
			{Name: "content", Type: "string, bytes or secret", Doc: "the whole file content (a secret implies secret=True)"},
			{Name: "mode", Type: "int", Doc: "file mode, e.g. 0o600 (0..0o777; setuid, setgid and sticky are refused)"},
			{Name: "dir_mode", Type: "int", Doc: "mode of parent directories created (existing ones are left alone; sticky and setgid allowed, setuid refused)"},
			{Name: "secret", Type: "bool", Doc: "content is secret: no sha256 in the plan"},
		},
		DryRun: "The write lands in the in-memory overlay (later reads see it) and is recorded as file.write.",
		Fn:     writeFileBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "mkdir",
		Signature: "mkdir(path, mode=0o700, parents_mode=None)",
		Doc: "Creates directory path with exactly mode (sticky and setgid included) and missing parents with 0o755. An existing directory is left as it is (its mode too, as kubeadm does).\n" +
			"parents_mode gives the missing parents that lie inside the sandbox's roots another mode, as kubeadm's os.MkdirAll(dir, 0700) does for etcd's data dir; parents outside the roots (the system directories an empty --root lacks) are always 0o755.\n" +
			"Returns struct(status) with status created or unchanged.",
		Args: []runtime.Arg{
			{Name: "path", Type: "string", Doc: "absolute path"},
			{Name: "mode", Type: "int", Doc: "directory mode (0..0o3777: sticky and setgid allowed, setuid refused); kubeadm uses 0o700 for /var/lib/etcd and /etc/kubernetes/manifests"},
			{Name: "parents_mode", Type: "int or None", Doc: "mode of missing parents inside the roots (None: 0o755); sticky, setgid and setuid refused"},
		},
		DryRun: "Recorded as dir.create; the directory exists only in the overlay.",
		Fn:     mkdirBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "remove_file",
		Signature: "remove_file(path)",
		Doc: "Removes a file or an empty directory. A missing path is not an error.\n" +
			"Returns struct(status) with status deleted or absent.",
		Args:   []runtime.Arg{{Name: "path", Type: "string", Doc: "absolute path"}},
		DryRun: "Recorded as file.delete; the path disappears from the overlay only.",
		Fn:     removeFileBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "read_file",
		Signature: "read_file(path)",
		Doc: "Returns the content of the file at path as a string, or as a secret when the file is secret (*.key, a PEM private key, " +
			"a kubeconfig with credentials, /etc/shadow…; decode a kubeconfig with read_kubeconfig). A missing file is an error; check path_exists(path) first.",
		Args:   []runtime.Arg{{Name: "path", Type: "string", Doc: "absolute path"}},
		DryRun: "Reads see files written earlier in the same dry run.",
		Fn:     readFileBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "list_dir",
		Signature: "list_dir(path)",
		Doc: "Returns the sorted names in directory path; names of subdirectories end in \"/\". A missing directory is an error; check path_exists(path) first.\n" +
			"Reset uses it to empty directories (kubeadm keeps the directories and deletes their contents).",
		Args:   []runtime.Arg{{Name: "path", Type: "string", Doc: "absolute path of a directory"}},
		DryRun: "Sees files written and removed earlier in the same dry run.",
		Fn:     listDirBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "path_exists",
		Signature: "path_exists(path)",
		Doc:       "Reports whether a file or directory exists at path.",
		Args:      []runtime.Arg{{Name: "path", Type: "string", Doc: "absolute path"}},
		DryRun:    "Sees files written and removed earlier in the same dry run.",
		Fn:        pathExistsBuiltin,
	})
}

func writeFileBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		p, content    starlark.Value
		mode, dirMode starlark.Value = starlark.MakeInt(0o644), starlark.MakeInt(0o755)
		secret        bool
		filePath      string
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &p, "content", &content, "mode?", &mode, "dir_mode?", &dirMode, "secret?", &secret); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	if filePath, err = pathArg(b.Name(), "path", p); err != nil {
		return nil, err
	}
	var data []byte
	switch c := content.(type) {
	case starlark.String:
		data = []byte(c)
	case starlark.Bytes:
		data = []byte(c)
	case *runtime.Secret:
		// Secret content is written as is and kept out of the plan.
		env.RegisterSecretValue(c)
		data, secret = []byte(c.Reveal()), true
	default:
		return nil, fmt.Errorf("%s: %s: content is a %s; pass a string, bytes or a secret (encode data with yaml.encode or json.encode)", b.Name(), filePath, content.Type())
	}
	fm, err := modeArg(b.Name(), filePath, "mode", mode)
	if err != nil {
		return nil, err
	}
	if err := refuseSpecialBits(b.Name(), filePath, "mode", fm, fileSpecialBits); err != nil {
		return nil, err
	}
	dm, err := modeArg(b.Name(), filePath, "dir_mode", dirMode)
	if err != nil {
		return nil, err
	}
	if err := refuseSpecialBits(b.Name(), filePath, "dir_mode", dm, dirSpecialBits); err != nil {
		return nil, err
	}
	if _, isSecret := content.(*runtime.Secret); isSecret && fm.Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: %s: content is a secret and mode %04o lets others read it; write secrets with mode = 0o600 (or stricter)", b.Name(), filePath, modeBits(fm))
	}
	res, err := WriteFile(thread, env, b.Name(), FileWrite{
		Path: filePath, Data: data, Mode: fm, DirMode: dm, Secret: secret,
		Summary: map[string]any{"size": len(data)},
	})
	if err != nil {
		return nil, err
	}
	return fileStatusResult(string(res)), nil
}

func mkdirBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		p           starlark.Value
		mode        starlark.Value = starlark.MakeInt(0o700)
		parentsMode starlark.Value = starlark.None
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &p, "mode?", &mode, "parents_mode?", &parentsMode); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	dir, err := pathArg(b.Name(), "path", p)
	if err != nil {
		return nil, err
	}
	m, err := modeArg(b.Name(), dir, "mode", mode)
	if err != nil {
		return nil, err
	}
	if err := refuseSpecialBits(b.Name(), dir, "mode", m, dirSpecialBits); err != nil {
		return nil, err
	}
	if parentsMode != starlark.None {
		pm, err := modeArg(b.Name(), dir, "parents_mode", parentsMode)
		if err != nil {
			return nil, err
		}
		if err := refuseSpecialBits(b.Name(), dir, "parents_mode", pm, fileSpecialBits); err != nil {
			return nil, err
		}
		if err := mkdirParents(env, dir, pm); err != nil {
			return nil, fmt.Errorf("%s: %s: %w; remove or rename whatever is in the way", b.Name(), dir, err)
		}
	}
	res, err := env.Host.MkdirAll(dir, m)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w; remove or rename whatever is in the way", b.Name(), dir, err)
	}
	env.Record(thread, b.Name(), runtime.Action{Op: "dir.create", Target: dir, Result: string(res), Mode: fmt.Sprintf("%04o", modeBits(m))})
	return fileStatusResult(string(res)), nil
}

// mkdirParents creates the missing ancestors of dir that the sandbox lets
// the recipe see (those inside its roots) with mode pm, outermost first.
// The walk stops at the first ancestor that exists or that lies outside
// the roots (a refused Stat): those are left to MkdirAll, which creates
// them 0o755.
func mkdirParents(env *runtime.Env, dir string, pm fs.FileMode) error {
	var missing []string
	for a := path.Dir(dir); a != "/" && a != "."; a = path.Dir(a) {
		if _, err := env.Host.Stat(a); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append(missing, a)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if _, err := env.Host.MkdirAll(missing[i], pm); err != nil {
			return err
		}
	}
	return nil
}

func removeFileBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, target, err := unpackPath(thread, b, args, kwargs, "path")
	if err != nil {
		return nil, err
	}
	res, err := env.Host.Remove(target)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w; only files and empty directories can be removed", b.Name(), target, err)
	}
	env.Record(thread, b.Name(), runtime.Action{Op: "file.delete", Target: target, Result: string(res)})
	return fileStatusResult(string(res)), nil
}

func readFileBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, target, err := unpackPath(thread, b, args, kwargs, "path")
	if err != nil {
		return nil, err
	}
	data, err := env.Host.ReadFile(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %s: no such file; check path_exists(path) before reading optional files", b.Name(), target)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", b.Name(), target, err)
	}
	// A file that holds a secret the run knows (one the recipe wrote
	// there) is as secret as a key: the filesystem must not launder it.
	if IsSecretFile(target, data) || env.HoldsSecret(string(data)) {
		return env.NewRegisteredSecret(string(data)), nil
	}
	return starlark.String(data), nil
}

func listDirBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, dir, err := unpackPath(thread, b, args, kwargs, "path")
	if err != nil {
		return nil, err
	}
	entries, err := env.Host.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %s: no such directory; check path_exists(path) first", b.Name(), dir)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", b.Name(), dir, err)
	}
	names := make([]starlark.Value, len(entries))
	for i, e := range entries {
		name := e.Name()
		if e.IsDir() {
			name += "/"
		}
		names[i] = starlark.String(name)
	}
	return starlark.NewList(names), nil
}

func pathExistsBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, target, err := unpackPath(thread, b, args, kwargs, "path")
	if err != nil {
		return nil, err
	}
	_, err = env.Host.Stat(target)
	switch {
	case err == nil:
		return starlark.True, nil
	case errors.Is(err, fs.ErrNotExist):
		return starlark.False, nil
	}
	return nil, fmt.Errorf("%s: %s: %w", b.Name(), target, err)
}

// pathArg validates a path argument: a non-empty absolute path, returned
// cleaned. Relative paths are refused because the meaning of "the current
// directory" differs between a live run, --root and a test.
func pathArg(builtin, arg string, v starlark.Value) (string, error) {
	s, ok := starlark.AsString(v)
	if !ok {
		return "", fmt.Errorf("%s: %s is a %s; pass an absolute path string", builtin, arg, v.Type())
	}
	if s == "" {
		return "", fmt.Errorf("%s: %s is empty; pass an absolute path such as /etc/kubernetes/admin.conf", builtin, arg)
	}
	if !path.IsAbs(s) {
		return "", fmt.Errorf("%s: %s %q is relative; pass an absolute path (e.g. %q)", builtin, arg, s, "/"+s)
	}
	return path.Clean(s), nil
}

// unpackPath unpacks a builtin's path argument (named arg, first) and the
// name/pointer pairs in more as starlark.UnpackArgs does, checks the path
// as pathArg does, and returns the run's environment with it: the
// prologue of every builtin that acts on one path (read_file, list_dir,
// remove_tree, mounts, unmount, static_pod & co.).
func unpackPath(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, arg string, more ...any) (*runtime.Env, string, error) {
	var p starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, append([]any{arg, &p}, more...)...); err != nil {
		return nil, "", err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, "", err
	}
	target, err := pathArg(b.Name(), arg, p)
	if err != nil {
		return nil, "", err
	}
	return env, target, nil
}

// modeArg converts a Starlark int such as 0o600 into a file mode. The
// setuid, setgid and sticky bits (0o4000, 0o2000, 0o1000) are mapped to
// Go's mode bits so that they are not silently misread as permissions.
func modeArg(builtin, at, arg string, v starlark.Value) (fs.FileMode, error) {
	i, ok := v.(starlark.Int)
	if !ok {
		return 0, fmt.Errorf("%s: %s: %s is a %s; pass an octal int such as 0o644", builtin, at, arg, v.Type())
	}
	n, ok := i.Int64()
	if !ok || n < 0 || n > 0o7777 {
		return 0, fmt.Errorf("%s: %s: %s %s is out of range; a file mode is 0..0o7777, written in octal (0o644, not 644)", builtin, at, arg, i)
	}
	// 644 instead of 0o644 is the classic slip. Decimal 512..777 written
	// with octal digits only would set the sticky/setgid bits with odd
	// permissions, which no one means; refuse them.
	if n >= 512 && n <= 777 && !strings.ContainsAny(strconv.FormatInt(n, 10), "89") {
		return 0, fmt.Errorf("%s: %s: %s %d looks like a decimal number; write file modes in octal: 0o%d", builtin, at, arg, n, n)
	}
	m := fs.FileMode(n & 0o777)
	if n&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if n&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if n&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m, nil
}

// modeBits is the inverse of modeArg, for printing modes the Unix way.
func modeBits(m fs.FileMode) uint32 {
	n := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		n |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return n
}

// fileStatusResult is the struct(status) result of a builtin that changes one
// thing.
func fileStatusResult(status string) starlark.Value {
	return Struct(map[string]starlark.Value{"status": starlark.String(status)})
}
