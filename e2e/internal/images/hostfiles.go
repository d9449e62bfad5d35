package images

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// iptablesNames are the commands kube-proxy's iptables mode runs; in the
// image each is a symlink to Debian's xtables-nft-multi, which picks its
// applet from argv[0] (the nft backend, as the upstream image's wrapper
// selects on a host without legacy rules).
var iptablesNames = []string{
	"iptables", "iptables-save", "iptables-restore",
	"ip6tables", "ip6tables-save", "ip6tables-restore",
}

const (
	xtablesMulti = "/usr/sbin/xtables-nft-multi"
	// xtablesExtDir is where libxtables looks for its match and target
	// extensions (compiled into Debian's build).
	xtablesExtDir = "/usr/lib/x86_64-linux-gnu/xtables"
)

// iptablesFiles returns the files of Debian's iptables (nft backend) for an
// image: the multi-call binary, the command names, the extension modules
// and every shared library they load, each at the path it has on this
// machine (symlinks included), so the dynamic loader finds them as it does
// here.
func iptablesFiles(ctx context.Context) ([]File, error) {
	if _, err := os.Stat(xtablesMulti); err != nil {
		return nil, fmt.Errorf("kube-proxy image: %s missing: %w (apt-get install iptables; sysdeps.Ensure does it)", xtablesMulti, err)
	}
	exts, err := filepath.Glob(filepath.Join(xtablesExtDir, "*.so"))
	if err != nil || len(exts) == 0 {
		return nil, fmt.Errorf("kube-proxy image: no iptables extensions in %s (reinstall the iptables package)", xtablesExtDir)
	}
	objs := append([]string{xtablesMulti}, exts...)
	libs, err := sharedLibs(ctx, objs)
	if err != nil {
		return nil, err
	}
	r := newReplicator()
	for _, p := range append(objs, libs...) {
		if err := r.add(p); err != nil {
			return nil, fmt.Errorf("kube-proxy image: %w", err)
		}
	}
	for _, n := range iptablesNames {
		r.files = append(r.files, File{Dest: "/usr/sbin/" + n, Link: path.Base(xtablesMulti)})
	}
	return r.files, nil
}

// sharedLibs lists (with ldd) the shared libraries and the program
// interpreter the objects need.
func sharedLibs(ctx context.Context, objs []string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "ldd", objs...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ldd %s ...: %w: %s", objs[0], err, stderr.String())
	}
	seen := map[string]bool{}
	var libs []string
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Fields(line)
		var p string
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			p = f[2]
		case len(f) >= 1 && strings.HasPrefix(f[0], "/") && !strings.HasSuffix(f[0], ":"):
			p = f[0] // the interpreter, e.g. /lib64/ld-linux-x86-64.so.2
		}
		if p != "" && !seen[p] {
			seen[p] = true
			libs = append(libs, p)
		}
	}
	sort.Strings(libs)
	return libs, nil
}

// replicator copies host paths into an image file list, recreating each
// symlink met on the way (/lib -> usr/lib, libfoo.so.1 -> libfoo.so.1.2.3).
type replicator struct {
	files []File
	seen  map[string]bool
}

func newReplicator() *replicator { return &replicator{seen: map[string]bool{}} }

func (r *replicator) add(p string) error { return r.addDepth(path.Clean(p), 0) }

func (r *replicator) addDepth(p string, depth int) error {
	if depth > 16 {
		return fmt.Errorf("%s: too many levels of symbolic links", p)
	}
	if r.seen[p] {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i := range parts {
		prefix := "/" + strings.Join(parts[:i+1], "/")
		st, err := os.Lstat(prefix)
		if err != nil {
			return err
		}
		if st.Mode()&os.ModeSymlink == 0 {
			continue
		}
		target, err := os.Readlink(prefix)
		if err != nil {
			return err
		}
		if !r.seen[prefix] {
			r.seen[prefix] = true
			r.files = append(r.files, File{Dest: prefix, Link: target})
		}
		resolved := target
		if !path.IsAbs(target) {
			resolved = path.Join(path.Dir(prefix), target)
		}
		rest := strings.Join(parts[i+1:], "/")
		return r.addDepth(path.Join(resolved, rest), depth+1)
	}
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", p)
	}
	r.seen[p] = true
	r.files = append(r.files, File{Src: p, Dest: p, Mode: int64(st.Mode().Perm())})
	return nil
}
