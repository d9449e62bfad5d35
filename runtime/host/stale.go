package host

// Stale temp files. WriteFile writes every file as a temp file beside its
// target (".NAME.kubelark-<digits>", see writeAtomic) and renames it into
// place; a run killed between the two leaves the temp file behind. No later
// write reuses the name, so the CLI calls RemoveStaleTemps once at the
// start of every run to clear what interrupted runs left under the roots.

import (
	"errors"
	"io/fs"
	"path"
	"strings"
	"syscall"
)

// tempInfix is what writeAtomic puts between the target's name and the
// random digits of os.CreateTemp.
const tempInfix = ".kubelark-"

// staleWalkDepth bounds how deep RemoveStaleTemps descends below a root:
// kubelark writes at most a few levels down (pki/etcd/x.key), and a live
// /var/lib/kubelet holds deep volume trees that need no visit.
const staleWalkDepth = 6

// IsStaleTemp reports whether name is a temp file name of writeAtomic:
// "." + target name + ".kubelark-" + digits.
func IsStaleTemp(name string) bool {
	if !strings.HasPrefix(name, ".") {
		return false
	}
	i := strings.LastIndex(name, tempInfix)
	if i < 2 { // at least one character of the target's name
		return false
	}
	digits := name[i+len(tempInfix):]
	if digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// RemoveStaleTemps removes the temp files of interrupted writes under each
// root (recipe paths, through h: relocated with --root, into the overlay
// with --dry-run) and returns the paths removed (or, dry, that would be).
// A missing or unreadable directory is skipped; symlinks are not followed. Two kubelark runs
// on the same tree at once are not supported, so every match is stale.
func RemoveStaleTemps(h Files, roots []string) ([]string, error) {
	var removed []string
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		entries, err := h.ReadDir(dir)
		if err != nil {
			// A missing root has nothing stale; one the user cannot read
			// (a non-root --dry-run of /var/lib/kubelet) cannot be written
			// by this run either, so it is left for a run that can.
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.ENOTDIR) {
				return nil
			}
			return err
		}
		for _, e := range entries {
			p := path.Join(dir, e.Name())
			switch {
			case e.Type().IsRegular() && IsStaleTemp(e.Name()):
				if _, err := h.Remove(p); err != nil {
					return err
				}
				removed = append(removed, p)
			case e.IsDir() && depth < staleWalkDepth:
				if err := walk(p, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := walk(r, 0); err != nil {
			return removed, err
		}
	}
	return removed, nil
}
