package host

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/kubelark/kubelark/runtime/cluster"
)

// Fake is a deterministic in-memory host for unit tests: files live in a
// MemFS, facts are fields, service calls are recorded, the clock is fixed
// and randomness is seeded. It never touches the machine.
type Fake struct {
	*MemFS

	FHostname  string
	FIP        string
	FEUID      int
	FNumCPU    int
	FMemoryMB  int64
	FKernel    string
	FEnviron   []string
	FPaths     map[string]string // binary -> path; missing = not found
	FBusyPorts map[int]bool
	FHosts     map[string][]string // LookupHost answers
	FExec      func(name string, args ...string) ([]byte, error)
	// FClients is the API client factory; nil = a dry-run overlay with no
	// cluster behind it (made on first use and kept). A test that talks
	// to an httptest API server sets cluster.NewLive(cluster.LiveOptions{
	// Clock: fake}) so retries run on the fake clock.
	FClients cluster.Factory
	// FHTTP answers HTTPGet; nil = connection refused. A test probing an
	// httptest server sets host.NewLive(host.LiveOptions{}).HTTPGet.
	FHTTP func(ctx context.Context, url string, tlsCfg *tls.Config) (HTTPResponse, error)
	// FCRI answers CRI(path); nil = no runtime (connection refused).
	FCRI CRI
	// FEtcd is the etcd cluster Etcd() reaches (fake_etcd.go); nil = one
	// with no members (every call refused), made on first use.
	FEtcd   *FakeEtcd
	FDryRun bool
	// FLive makes the fake claim to be the running system, so builtins
	// perform service actions and probes instead of recording them.
	FLive bool
	// FServiceErr, when set, decides the outcome of each service call.
	FServiceErr func(action, unit string) error
	// FActiveUnits answer is-active/is-enabled; other units are inactive.
	FActiveUnits map[string]bool
	Clock        time.Time
	// FMounts is the mount table (mountinfo order); Unmount removes from
	// it and appends "path[ FLAGS]" to Unmounted. FMountsErr fails Mounts,
	// FUnmountErr fails the unmount of a path.
	FMounts     []string
	FMountsErr  error
	FUnmountErr map[string]error
	Unmounted   []string
	// FConsole is the operator at the terminal; nil = stdin is not one.
	FConsole *FakeConsole
	// FNetfilter is the packet filter; nil = no iptables/nft binaries.
	FNetfilter *FakeNetfilter

	mu       sync.Mutex
	Services []string // "restart kubelet", … in call order
	rnd      *rand.ChaCha8
}

// NewFake returns a host that looks like a healthy 2-CPU control-plane
// candidate named "node1" with address 10.0.0.10.
func NewFake() *Fake {
	f := &Fake{
		FHostname: "node1", FIP: "10.0.0.10", FEUID: 0, FNumCPU: 2, FMemoryMB: 4096,
		FKernel: "6.1.0-18-amd64",
		FPaths: map[string]string{"losetup": "/usr/sbin/losetup", "mount": "/usr/bin/mount", "cp": "/usr/bin/cp",
			"kubelet": "/usr/bin/kubelet", "systemctl": "/usr/bin/systemctl"},
		FBusyPorts:   map[int]bool{},
		FActiveUnits: map[string]bool{"kubelet": true},
		FHosts:       map[string][]string{},
		Clock:        time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		rnd:          rand.NewChaCha8([32]byte{'k', 'u', 'b', 'e', 'l', 'a', 'r', 'k'}),
	}
	f.MemFS = NewMemFS(func() time.Time { return f.Clock })
	return f
}

var _ Host = (*Fake)(nil)

func (f *Fake) Hostname() (string, error)       { return f.FHostname, nil }
func (f *Fake) DefaultRouteIP() (string, error) { return f.FIP, nil }
func (f *Fake) EUID() int                       { return f.FEUID }
func (f *Fake) NumCPU() int                     { return f.FNumCPU }
func (f *Fake) MemoryMB() (int64, error)        { return f.FMemoryMB, nil }
func (f *Fake) KernelRelease() (string, error)  { return f.FKernel, nil }
func (f *Fake) Environ() []string               { return append([]string(nil), f.FEnviron...) }
func (f *Fake) LookPath(name string) (string, error) {
	if p, ok := f.FPaths[name]; ok {
		return p, nil
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}
func (f *Fake) Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	if f.FExec == nil {
		return nil, fmt.Errorf("exec %s: not available on the fake host", name)
	}
	return f.FExec(name, args...)
}
func (f *Fake) PortFree(port int) (bool, error) { return !f.FBusyPorts[port], nil }
func (f *Fake) LookupHost(name string) ([]string, error) {
	if a, ok := f.FHosts[name]; ok {
		return a, nil
	}
	if name == f.FHostname {
		return []string{f.FIP}, nil
	}
	return nil, fmt.Errorf("lookup %s: no such host", name)
}

// Clients returns FClients, or a dry-run overlay made on first use.
func (f *Fake) Clients() cluster.Factory {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.FClients == nil {
		f.FClients = cluster.NewDryRun(nil)
	}
	return f.FClients
}

// HTTPGet asks FHTTP.
func (f *Fake) HTTPGet(ctx context.Context, url string, tlsCfg *tls.Config) (HTTPResponse, error) {
	if f.FHTTP == nil {
		return HTTPResponse{}, fmt.Errorf("Get %q: connection refused (the fake host has no network; set FHTTP)", url)
	}
	return f.FHTTP(ctx, url, tlsCfg)
}

// CRI returns FCRI, or "connection refused" when it is nil (a fake machine
// without a container runtime).
func (f *Fake) CRI(path string) (CRI, error) {
	if f.FCRI == nil {
		return nil, fmt.Errorf("dial unix %s: connect: connection refused", path)
	}
	return f.FCRI, nil
}

// Service records the call; it fails only for unknown actions.
func (f *Fake) Service(ctx context.Context, action, unit string) error {
	switch action {
	case "daemon-reload", "restart", "stop", "start", "is-active", "is-enabled":
	default:
		return errors.New("unknown service action " + action)
	}
	if f.FServiceErr != nil {
		if err := f.FServiceErr(action, unit); err != nil {
			return err
		}
	}
	if (action == "is-active" || action == "is-enabled") && !f.FActiveUnits[unit] {
		return fmt.Errorf("%s is not %s", unit, strings.TrimPrefix(action, "is-"))
	}
	f.mu.Lock()
	f.Services = append(f.Services, action+" "+unit)
	f.mu.Unlock()
	return nil
}
func (f *Fake) ServiceManager() string {
	if f.FLive {
		return "systemd"
	}
	return "fake"
}

func (f *Fake) Now() time.Time { return f.Clock }

// Sleep advances the fake clock instead of waiting.
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.Clock = f.Clock.Add(d)
	f.mu.Unlock()
	return nil
}

// Rand is a seeded stream (crypto key generation may still add its own
// randomness; tests must not depend on key bytes).
func (f *Fake) Rand() io.Reader { return f.rnd }
func (f *Fake) DryRun() bool    { return f.FDryRun }
func (f *Fake) Live() bool      { return f.FLive }
