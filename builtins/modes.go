package builtins

import (
	"fmt"
	"io/fs"
)

// Special mode bits a recipe may ask for. A recipe never needs a setuid or
// setgid file (kubeadm writes none), and one written by a root-run
// kubelark under /etc/kubernetes or /var/lib/kubelet is a privilege
// escalation waiting for a local user; the sticky bit means nothing on a
// Linux file. On directories sticky (a shared drop directory, 0o1777) and
// setgid (group inheritance) are meaningful and set exactly; setuid is
// ignored by Linux on directories, so asking for it is a mistake. The host
// sets whatever passes here exactly: nothing is dropped silently.
const (
	fileSpecialBits fs.FileMode = 0
	dirSpecialBits              = fs.ModeSticky | fs.ModeSetgid
)

// refuseSpecialBits fails when m carries a special bit outside allowed.
func refuseSpecialBits(builtin, at, arg string, m, allowed fs.FileMode) error {
	bad := m & (fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky) &^ allowed
	if bad == 0 {
		return nil
	}
	names := ""
	for _, b := range []struct {
		bit  fs.FileMode
		name string
	}{{fs.ModeSetuid, "setuid (0o4000)"}, {fs.ModeSetgid, "setgid (0o2000)"}, {fs.ModeSticky, "sticky (0o1000)"}} {
		if bad&b.bit != 0 {
			if names != "" {
				names += " and "
			}
			names += b.name
		}
	}
	what := "files"
	if allowed != 0 {
		what = "directories"
	}
	return fmt.Errorf("%s: %s: %s 0o%o asks for the %s bit, which recipes may not set on %s; use 0o%o", builtin, at, arg, modeBits(m), names, what, modeBits(m&^bad))
}
