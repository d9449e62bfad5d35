package host

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"syscall"
)

// Trees is the reset half of the file door: resolving a path as the kernel
// would (kubeadm resolves /var/lib/kubelet before it unmounts and empties
// it) and removing a whole tree without ever following a symlink out of it.
//
//   - Live: the real tree (os.Lstat, os.Readlink, os.Remove).
//   - DryRun: the merged overlay view; removals are tombstones, so later
//     reads see the tree gone.
//   - Sandbox: RealPath follows the read rules; RemoveTree checks the top
//     path against the write roots before removing anything and refuses to
//     remove a root itself; every removal is then checked again.
//   - Fake: the MemFS (which has no symlinks).
type Trees interface {
	// RealPath returns p with every symlink resolved; the part of p that
	// does not exist is appended cleaned.
	RealPath(p string) (string, error)
	// Lstat describes p itself (a symlink is not followed).
	Lstat(p string) (fs.FileInfo, error)
	// RemoveTree removes what is inside directory p (contentsOnly) or p
	// itself with everything in it, children before parents, and returns
	// the removed paths in removal order. A missing p returns nothing. A
	// symlink is removed, never followed. Before removing anything it
	// refuses (*MountedError) when a mount point lies below p (or is p
	// when !contentsOnly): removing into a mounted file system would
	// delete what belongs to it.
	RemoveTree(p string, contentsOnly bool) ([]string, error)
}

// MountedError refuses a tree removal over a mount point.
type MountedError struct {
	Path  string // the tree the recipe asked to remove
	Mount string // the mount point found at or below it
}

func (e *MountedError) Error() string {
	return fmt.Sprintf("%s is a mount point (inside %s): unmount it first (mounts(path) lists them, unmount(path) removes them)", e.Mount, e.Path)
}

// treeOps is what removeTree needs of a host; every host implements it on
// itself, so a Sandbox's walk is checked and relocated at each step.
type treeOps interface {
	Lstat(p string) (fs.FileInfo, error)
	ReadDir(p string) ([]fs.DirEntry, error)
	Remove(p string) (WriteResult, error)
	RealPath(p string) (string, error)
	Mounts(under string) ([]string, error)
}

// removeTree is RemoveTree over h.
func removeTree(h treeOps, p string, contentsOnly bool) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("path %q is relative; recipes must use absolute paths", p)
	}
	p = path.Clean(p)
	fi, err := h.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0 && contentsOnly:
		return nil, fmt.Errorf("%s is a symbolic link: resolve it first (real_path) to empty the directory it points to, or pass contents_only=False to remove the link", p)
	case !fi.IsDir() && contentsOnly:
		return nil, fmt.Errorf("%s is not a directory: pass contents_only=False to remove it", p)
	case !fi.IsDir():
		if _, err := h.Remove(p); err != nil {
			return nil, err
		}
		return []string{p}, nil
	}
	rp, err := h.RealPath(p)
	if err != nil {
		return nil, err
	}
	ms, err := h.Mounts(rp)
	if err != nil {
		return nil, fmt.Errorf("listing the mount points under %s: %w", p, err)
	}
	for _, m := range ms {
		if m != rp || !contentsOnly {
			return nil, &MountedError{Path: p, Mount: m}
		}
	}
	var out []string
	var walk func(dir string) error
	walk = func(dir string) error {
		entries, err := h.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			c := path.Join(dir, e.Name())
			if e.Type().IsDir() {
				if err := walk(c); err != nil {
					return err
				}
			}
			res, err := h.Remove(c)
			if err != nil {
				return err
			}
			if res == Deleted {
				out = append(out, c)
			}
		}
		return nil
	}
	if err := walk(p); err != nil {
		return out, err
	}
	if !contentsOnly {
		if _, err := h.Remove(p); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

// resolveIn cleans p and follows every symlink in it through lr; root
// (a --root directory, or "") is where the tree is: lr sees root+path, and
// a symlink is resolved as if chrooted at root (an absolute target starts
// at root; a relative one that climbs above root is refused). The part of
// p that does not exist is appended as is.
func resolveIn(lr linkReader, p, root string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("path %q is relative; recipes must use absolute paths", p)
	}
	p = path.Clean(p)
	real := func(q string) string {
		if root == "" {
			return q
		}
		return path.Join(root, q)
	}
	todo := splitPath(p)
	cur := "/"
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		if c == ".." {
			if cur == "/" {
				if root != "" {
					return "", fmt.Errorf("path %s: a symlink points outside --root %s", p, root)
				}
				continue
			}
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		fi, err := lr.Lstat(real(next))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				return path.Join(append([]string{next}, todo...)...), nil
			}
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("path %s: too many levels of symbolic links", p)
		}
		target, err := lr.Readlink(real(next))
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			cur = "/" // with --root: relative to the root, as in a chroot
		}
		todo = append(splitPath(target), todo...)
	}
	return cur, nil
}

// ---- Live ----

func (l *Live) RealPath(p string) (string, error) { return resolveIn(l, p, "") }

func (l *Live) RemoveTree(p string, contentsOnly bool) ([]string, error) {
	return removeTree(l, p, contentsOnly)
}

// ---- DryRun ----

// RealPath resolves through the merged view (the overlay holds no links).
func (d *DryRun) RealPath(p string) (string, error) { return resolveIn(d, p, "") }

// RemoveTree walks the merged view; each removal is a tombstone.
func (d *DryRun) RemoveTree(p string, contentsOnly bool) ([]string, error) {
	return removeTree(d, p, contentsOnly)
}

// ---- MemFS / Fake ----

// Lstat is Stat: a MemFS has no symlinks.
func (m *MemFS) Lstat(p string) (fs.FileInfo, error) { return m.Stat(p) }

// RealPath is the cleaned path: a MemFS has no symlinks.
func (m *MemFS) RealPath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("path %q is relative; recipes must use absolute paths", p)
	}
	return path.Clean(p), nil
}

func (f *Fake) RemoveTree(p string, contentsOnly bool) ([]string, error) {
	return removeTree(f, p, contentsOnly)
}

// ---- Sandbox ----

// Lstat resolves all but the last element and checks the read rules.
func (s *Sandbox) Lstat(p string) (fs.FileInfo, error) {
	v, err := s.resolveParent(p)
	if err != nil {
		return nil, err
	}
	if err := s.allowRead("stat", p, v); err != nil {
		return nil, err
	}
	if lr, ok := s.base.(linkReader); ok {
		return lr.Lstat(s.real(v))
	}
	return s.base.Stat(s.real(v))
}

// RealPath resolves p (inside --root, as for every path) and checks that
// the recipe may read there.
func (s *Sandbox) RealPath(p string) (string, error) {
	return s.resolveRead("resolve", p)
}

// RemoveTree refuses, before anything is removed, a tree outside the
// write roots and the removal of a root itself (contents_only=False of
// /etc/kubernetes would take the directory the roots are anchored at);
// then it walks through the Sandbox itself, so every removal is checked
// and relocated again.
// WriteChecker is implemented by the Sandbox: whether a write or delete
// at a path would be allowed, answered without doing it, so a recipe can
// refuse bad input before it changes anything (check_writable).
type WriteChecker interface {
	CheckWrite(path string) error
}

// CheckWrite applies the write/delete rule of the sandbox's roots to p.
func (s *Sandbox) CheckWrite(p string) error {
	v, err := s.resolveParent(p)
	if err != nil {
		return err
	}
	return s.allow("write", p, v)
}

func (s *Sandbox) RemoveTree(p string, contentsOnly bool) ([]string, error) {
	v, err := s.resolveParent(p)
	if err != nil {
		return nil, err
	}
	if err := s.allow("remove", p, v); err != nil {
		return nil, err
	}
	if !contentsOnly {
		for _, r := range s.roots {
			if v == r.resolved {
				return nil, fmt.Errorf("refusing to remove %s itself: it is an allowed root of the sandbox; empty it with contents_only=True", p)
			}
		}
	}
	return removeTree(s, p, contentsOnly)
}
