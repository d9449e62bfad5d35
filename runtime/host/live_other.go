//go:build !linux

package host

import (
	"errors"
	goruntime "runtime"
)

// kubelark targets Linux nodes; on other systems (a developer's laptop
// running --dry-run --root) these facts are reported as unavailable.
var errNotLinux = errors.New("not available on " + goruntime.GOOS + ": kubelark nodes run Linux")

func (l *Live) MemoryMB() (int64, error)       { return 0, errNotLinux }
func (l *Live) KernelRelease() (string, error) { return "", errNotLinux }
