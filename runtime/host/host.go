// Package host is the only door from a recipe to the world.
//
// Every side effect a builtin performs goes through the Host interface, so
// the same recipe runs live, dry (overlay + recorder) or in a unit test
// (in-memory host). Builtins never touch os, net, net/http, gRPC, exec or
// the wall clock directly: files, services, facts, API clients, HTTP probes,
// the container runtime, the clock and randomness all come from the Host,
// and the CLI chooses the Host once per run (Live, Sandbox(Live),
// Sandbox(DryRun(Live)); Fake in tests).
package host

import (
	"context"
	"io"
	"io/fs"
	"time"
)

// WriteResult says what a write did (or, in dry-run, would do) to a path.
type WriteResult string

const (
	Created   WriteResult = "created"
	Updated   WriteResult = "updated"
	Unchanged WriteResult = "unchanged"
	Deleted   WriteResult = "deleted"
	Absent    WriteResult = "absent" // delete of a path that did not exist
)

// Files is the file-system half of a host. Paths are absolute paths as the
// recipe sees them (e.g. /etc/kubernetes/pki/ca.crt); a host may relocate
// them (--root) and refuses writes outside its allowed roots.
type Files interface {
	// ReadFile returns the content of path; a missing file is an error
	// satisfying errors.Is(err, fs.ErrNotExist).
	ReadFile(path string) ([]byte, error)
	// Stat describes path (following symlinks).
	Stat(path string) (fs.FileInfo, error)
	// ReadDir lists a directory, sorted by name.
	ReadDir(path string) ([]fs.DirEntry, error)
	// WriteFile writes data atomically (temp file in the same directory,
	// fsync, rename) with exactly mode, creating missing parents with
	// dirMode. Writing identical content and mode reports Unchanged and
	// does not touch the file.
	WriteFile(path string, data []byte, mode, dirMode fs.FileMode) (WriteResult, error)
	// MkdirAll creates path and parents with mode; an existing directory
	// is Unchanged (its mode is left alone, as kubeadm does).
	MkdirAll(path string, mode fs.FileMode) (WriteResult, error)
	// Remove deletes a file or an empty directory.
	Remove(path string) (WriteResult, error)
}

// Services controls system services (the kubelet).
type Services interface {
	// Service runs action ("daemon-reload", "restart", "stop", "start",
	// "is-active", "is-enabled") on unit. The live host uses systemd,
	// OpenRC, or a configured command; dry-run hosts record only.
	Service(ctx context.Context, action, unit string) error
	// ServiceManager names the mechanism in use ("systemd", "openrc",
	// "command", "none", "dry-run").
	ServiceManager() string
}

// Facts are read-only observations of the machine used by preflight checks
// and dynamic defaults.
type Facts interface {
	Hostname() (string, error)
	// DefaultRouteIP is the first global unicast address of the interface
	// that holds the default route (IPv4 preferred).
	DefaultRouteIP() (string, error)
	EUID() int
	NumCPU() int
	MemoryMB() (int64, error)
	KernelRelease() (string, error)
	// Getenv reads the environment of the kubelark process.
	Environ() []string
	// LookPath finds a binary in PATH.
	LookPath(name string) (string, error)
	// Exec runs a read-only fact-gathering command (e.g. `kubelet --version`)
	// and returns its combined output.
	Exec(ctx context.Context, name string, args ...string) ([]byte, error)
	// PortFree reports whether a TCP port can be bound on all addresses.
	PortFree(port int) (bool, error)
	// LookupHost resolves a host name.
	LookupHost(name string) ([]string, error)
}

// Clock and randomness are injectable so tests are deterministic.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// Host is everything a builtin may touch.
type Host interface {
	Files
	Trees
	Mounts
	Console
	Netfilter
	Services
	Facts
	Network
	Clock
	// Rand is the source of key material and tokens (crypto/rand live).
	Rand() io.Reader
	// DryRun reports whether writes are only recorded.
	DryRun() bool
	// Live reports whether this host acts on the running system (not
	// dry-run and not relocated with --root). Service actions and API
	// calls are performed only on a live host.
	Live() bool
}
