//go:build !linux

package host

func (l *Live) Mounts(under string) ([]string, error)              { return nil, errNotLinux }
func (l *Live) Unmount(p string, flags UnmountFlags) (bool, error) { return false, errNotLinux }
