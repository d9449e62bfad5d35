//go:build linux

package host

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Mounts reads this process's mount table: the mount namespace kubelark
// runs in is the one the kubelet's mounts are in.
func (l *Live) Mounts(under string) ([]string, error) {
	rp, err := l.RealPath(under)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	table, err := ParseMountInfo(string(data))
	if err != nil {
		return nil, err
	}
	return mountsUnder(table, rp), nil
}

// Unmount calls umount2(2); EINVAL (not a mount point) and ENOENT are
// "not mounted".
func (l *Live) Unmount(p string, flags UnmountFlags) (bool, error) {
	p, err := absPath("unmount", p)
	if err != nil {
		return false, err
	}
	var f int
	if flags.Force {
		f |= unix.MNT_FORCE
	}
	if flags.Detach {
		f |= unix.MNT_DETACH
	}
	if flags.Expire {
		f |= unix.MNT_EXPIRE
	}
	if flags.NoFollow {
		f |= unix.UMOUNT_NOFOLLOW
	}
	err = unix.Unmount(p, f)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
		return false, nil
	}
	return false, fmt.Errorf("umount %s: %w", p, err)
}
