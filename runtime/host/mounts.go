package host

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Mounts is the host's door to the mount table, for reset: kubeadm
// unmounts everything below /var/lib/kubelet (Pod volumes, projected
// secrets, subPaths) before it empties the directory.
//
//   - Live: /proc/self/mountinfo and umount2(2).
//   - DryRun: the base's table; an unmount is answered, not performed, and
//     later Mounts calls no longer list it.
//   - Sandbox: reads under the read rules, unmounts only at or below a
//     write root. Under --root the paths are relocated like files: Mounts
//     lists the real mounts below ROOT/under (as recipe paths), and an
//     unmount of /x unmounts ROOT/x, a mount of the relocated tree (as a
//     removal of /x removes ROOT/x), never one of the running system.
//   - Fake: FMounts.
type Mounts interface {
	// Mounts lists the mount points at or below under (after resolving
	// its symlinks), deepest first: the reverse of the mount table's
	// order, so that unmounting in this order never meets a busy parent.
	Mounts(under string) ([]string, error)
	// Unmount unmounts the file system at p with flags. It returns false
	// when p is not a mount point (or does not exist).
	Unmount(p string, flags UnmountFlags) (bool, error)
}

// UnmountFlags are umount2(2)'s flags.
type UnmountFlags struct {
	Force    bool // MNT_FORCE
	Detach   bool // MNT_DETACH: lazy, the mount goes once it is not busy
	Expire   bool // MNT_EXPIRE
	NoFollow bool // UMOUNT_NOFOLLOW: do not follow a symlink at p
}

// ParseUnmountFlags maps umount2(2) flag names to UnmountFlags.
func ParseUnmountFlags(names []string) (UnmountFlags, error) {
	var f UnmountFlags
	for _, n := range names {
		switch n {
		case "MNT_FORCE":
			f.Force = true
		case "MNT_DETACH":
			f.Detach = true
		case "MNT_EXPIRE":
			f.Expire = true
		case "UMOUNT_NOFOLLOW":
			f.NoFollow = true
		default:
			return f, fmt.Errorf("unknown unmount flag %q: use MNT_FORCE, MNT_DETACH, MNT_EXPIRE or UMOUNT_NOFOLLOW", n)
		}
	}
	return f, nil
}

// Names lists the flags set, in umount2(2)'s order.
func (f UnmountFlags) Names() []string {
	var out []string
	for _, x := range []struct {
		on   bool
		name string
	}{{f.Force, "MNT_FORCE"}, {f.Detach, "MNT_DETACH"}, {f.Expire, "MNT_EXPIRE"}, {f.NoFollow, "UMOUNT_NOFOLLOW"}} {
		if x.on {
			out = append(out, x.name)
		}
	}
	return out
}

// ParseMountInfo returns the mount points of a /proc/<pid>/mountinfo text
// in table order (field 5, with the kernel's octal escapes of space, tab,
// newline and backslash undone).
func ParseMountInfo(text string) ([]string, error) {
	var out []string
	for i, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 5 {
			return nil, fmt.Errorf("mountinfo line %d: %d fields, want at least 5: %q", i+1, len(f), line)
		}
		out = append(out, unescapeMountPath(f[4]))
	}
	return out, nil
}

func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountsUnder keeps the points at or below under and reverses them
// (deepest, i.e. latest mounted, first). A point mounted twice is listed
// twice: each unmount takes one layer.
func mountsUnder(table []string, under string) []string {
	under = path.Clean(under)
	var out []string
	for i := len(table) - 1; i >= 0; i-- {
		if within(path.Clean(table[i]), under) {
			out = append(out, path.Clean(table[i]))
		}
	}
	return out
}

// ---- DryRun ----

// Mounts is the base's list less what this run unmounted.
func (d *DryRun) Mounts(under string) ([]string, error) {
	ms, err := d.base.Mounts(under)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	gone := map[string]int{}
	for k, v := range d.unmounted {
		gone[k] = v
	}
	var out []string
	for _, m := range ms {
		if gone[m] > 0 {
			gone[m]--
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// Unmount answers as the base would (p is a mount point it lists) and
// remembers it; nothing is unmounted.
func (d *DryRun) Unmount(p string, flags UnmountFlags) (bool, error) {
	p = clean(p)
	ms, err := d.Mounts(p)
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if m == p {
			d.mu.Lock()
			if d.unmounted == nil {
				d.unmounted = map[string]int{}
			}
			d.unmounted[p]++
			d.mu.Unlock()
			return true, nil
		}
	}
	return false, nil
}

// ---- Sandbox ----

// Mounts resolves under (read rules) and maps the base's answer back to
// recipe paths under --root.
func (s *Sandbox) Mounts(under string) ([]string, error) {
	v, err := s.resolveRead("list mounts of", under)
	if err != nil {
		return nil, err
	}
	ms, err := s.base.Mounts(s.real(v))
	if err != nil {
		return nil, err
	}
	if s.root == "" {
		return ms, nil
	}
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, "/"+strings.TrimPrefix(strings.TrimPrefix(m, s.root), "/"))
	}
	return out, nil
}

// Unmount is allowed only at or below a write root.
func (s *Sandbox) Unmount(p string, flags UnmountFlags) (bool, error) {
	var v string
	var err error
	if flags.NoFollow {
		v, err = s.resolveParent(p)
	} else {
		v, err = s.resolve(p)
	}
	if err != nil {
		return false, err
	}
	if err := s.allow("unmount", p, v); err != nil {
		return false, err
	}
	return s.base.Unmount(s.real(v), flags)
}

// ---- Fake ----

// Mounts lists FMounts (table order) at or below under.
func (f *Fake) Mounts(under string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.FMountsErr != nil {
		return nil, f.FMountsErr
	}
	return mountsUnder(f.FMounts, under), nil
}

// Unmount removes the last entry p from FMounts and records the call in
// Unmounted.
func (f *Fake) Unmount(p string, flags UnmountFlags) (bool, error) {
	p = clean(p)
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.FMounts) - 1; i >= 0; i-- {
		if path.Clean(f.FMounts[i]) == p {
			if err := f.FUnmountErr[p]; err != nil {
				return false, err
			}
			f.FMounts = append(f.FMounts[:i:i], f.FMounts[i+1:]...)
			f.Unmounted = append(f.Unmounted, strings.TrimSpace(p+" "+strings.Join(flags.Names(), ",")))
			return true, nil
		}
	}
	return false, nil
}
