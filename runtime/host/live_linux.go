package host

import (
	"fmt"
	"syscall"
)

// MemoryMB is the total RAM from sysinfo(2), as kubeadm's Mem check reads it.
func (l *Live) MemoryMB() (int64, error) {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0, fmt.Errorf("sysinfo: %w", err)
	}
	return int64(uint64(si.Totalram) * uint64(si.Unit) / (1024 * 1024)), nil
}

// KernelRelease is uname -r.
func (l *Live) KernelRelease() (string, error) {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "", fmt.Errorf("uname: %w", err)
	}
	b := make([]byte, 0, len(u.Release))
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b), nil
}
