package host

import (
	"fmt"
	"path"
)

// UserRoot is a root the user asked for: a --allow-root, an --allow-read,
// or a path parameter the user set (etcd.local.dataDir of the --config,
// --set cert_dir=...). A recipe cannot make one: the run builds them from
// the parameters the recipe marks param(..., root = ...) and only from
// values that came from the user, never from defaults (runtime/userroots.go).
type UserRoot struct {
	Path string
	// Source names where the user gave it, for errors and the plan
	// ("--config etcd.local.dataDir", "--set cert_dir", "--allow-root").
	Source string
	// Read makes it a read root (a CA file the config names), not a write
	// root.
	Read bool
}

// RootInfo describes a root a run added, for the plan and -v output.
type RootInfo struct {
	Path string `json:"path"`
	// Resolved is where the path leads through symlinks, when elsewhere.
	Resolved string `json:"resolved,omitempty"`
	Access   string `json:"access"` // "write" or "read"
	Source   string `json:"source"`
}

// RootWidener is implemented by the Sandbox: the run adds the user's roots
// through it once the parameters are resolved, before the first phase.
type RootWidener interface {
	AllowUserRoots(roots []UserRoot) ([]RootInfo, error)
	// Added lists every root the user added, --allow-root and
	// --allow-read included, in the order they were added.
	Added() []RootInfo
}

var _ RootWidener = (*Sandbox)(nil)

// builtinSource is the Source of the roots the sandbox starts with.
const builtinSource = "the built-in roots"

// allowedRoot is a root as claimed and as resolved once through its
// symlinks; the resolved form is what paths are checked against.
type allowedRoot struct {
	claimed, resolved, source string
}

// Added lists the roots beyond the built-in ones.
func (s *Sandbox) Added() []RootInfo { return append([]RootInfo(nil), s.added...) }

// AllowUserRoots adds roots the user configured. Each is refused, naming
// its source, when the deny-lists forbid it or it resolves through a
// symlink to a forbidden place or to an ancestor of itself. A root already
// inside an allowed one adds nothing and is not reported.
func (s *Sandbox) AllowUserRoots(roots []UserRoot) ([]RootInfo, error) {
	var out []RootInfo
	for _, u := range roots {
		if u.Path == "" {
			continue
		}
		info, added, err := s.addUserRoot(u, true)
		if err != nil {
			return nil, err
		}
		if added {
			out = append(out, info)
		}
	}
	return out, nil
}

// addRoot adds u; checkClaimed also applies the deny-lists to the path as
// given (the built-in roots are exempt: they are kubeadm's own).
func (s *Sandbox) addRoot(u UserRoot, checkClaimed bool) error {
	_, _, err := s.addUserRoot(u, checkClaimed)
	return err
}

func (s *Sandbox) addUserRoot(u UserRoot, checkClaimed bool) (RootInfo, bool, error) {
	kind, access := "allowed root", "write"
	if u.Read {
		kind, access = "allowed read path", "read"
	}
	if !path.IsAbs(u.Path) {
		return RootInfo{}, false, fmt.Errorf("%s %q (%s) is not an absolute path; give an absolute directory such as /var/lib/etcd-data", kind, u.Path, u.Source)
	}
	claimed := path.Clean(u.Path)
	resolved, err := s.resolve(claimed)
	if err != nil {
		return RootInfo{}, false, fmt.Errorf("%s %s (%s): %w", kind, claimed, u.Source, err)
	}
	where := claimed + " from " + u.Source
	if s.root != "" {
		where += fmt.Sprintf(" (%s under --root)", s.real(claimed))
	}
	through := ""
	if resolved != claimed {
		through = fmt.Sprintf(", which resolves to %s through a symlink", resolved)
	}
	if u.Read {
		if err := checkReadPolicy(resolved); err != nil {
			return RootInfo{}, false, fmt.Errorf("refusing %s %s%s: %v", kind, where, through, err)
		}
	} else {
		if checkClaimed {
			if err := checkRootPolicy(claimed, s.homes); err != nil {
				return RootInfo{}, false, fmt.Errorf("refusing %s %s: %v; no configuration can allow it: choose a directory of its own, e.g. /var/lib/etcd-data", kind, where, err)
			}
		}
		if resolved != claimed && within(claimed, resolved) {
			return RootInfo{}, false, fmt.Errorf("refusing %s %s%s, an ancestor of itself: it would allow writes far outside %s; remove the symlink or point it at a directory of its own", kind, where, through, claimed)
		}
		if err := checkRootPolicy(resolved, s.homes); err != nil {
			return RootInfo{}, false, fmt.Errorf("refusing %s %s%s: %v; remove the symlink or point it at a directory of its own", kind, where, through, err)
		}
	}
	list := &s.roots
	if u.Read {
		list = &s.reads
	}
	for _, r := range s.roots {
		if within(resolved, r.resolved) {
			return RootInfo{}, false, nil
		}
	}
	for _, r := range *list {
		if within(resolved, r.resolved) {
			return RootInfo{}, false, nil
		}
	}
	*list = append(*list, allowedRoot{claimed: claimed, resolved: resolved, source: u.Source})
	info := RootInfo{Path: claimed, Access: access, Source: u.Source}
	if resolved != claimed {
		info.Resolved = resolved
	}
	if u.Source != builtinSource {
		s.added = append(s.added, info)
	}
	return info, true, nil
}

// checkReadPolicy refuses read paths that are the whole machine or a
// kernel or device interface (reading /dev/zero never ends).
func checkReadPolicy(p string) error {
	if p == "/" {
		return fmt.Errorf("/ is the whole machine; name the file or directory to read")
	}
	for _, d := range []string{"/dev", "/proc", "/sys"} {
		if within(p, d) {
			return fmt.Errorf("%s is under %s, a kernel or device interface; only the read-only list may be read there", p, d)
		}
	}
	return nil
}
