package host

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kubelark/kubelark/runtime/cluster"
)

// DryRun is the --dry-run host: an in-memory overlay over a base host.
//
// Reads see the overlay first and fall through to the base, so a CA written
// by one step is read back by the next exactly as in a real run. Writes,
// directory creations and removals land in the overlay only and report the
// result they would have had against base+overlay (writing what the base
// already holds is Unchanged). A removal is a tombstone that hides the base
// path. Control actions on services are not performed; state queries
// (is-active, is-enabled) are read-only and go to the base, so preflight
// checks in a dry run see the real machine. Sleep advances a virtual clock
// instead of waiting, so wait loops finish at once. Facts, Exec and Rand
// come from the base. API clients, probes and the CRI: see Network.
type DryRun struct {
	base    Host
	clients *cluster.DryRunFactory

	mu      sync.Mutex
	overlay map[string]*memEntry // cleaned path -> entry; nil = tombstone
	skew    time.Duration        // virtual time slept
	// unmounted counts the unmounts this run answered, by mount point
	// (mounts.go); later Mounts calls hide that many layers.
	unmounted map[string]int
	// removedPods are the Pod sandboxes this run "removed" (CRI).
	removedPods map[string]bool
	// netfilter holds the packet-filter deletions (netfilter.go).
	netfilter *dryNetfilter

	etcdOnce sync.Once    // makes etcd on the first Etcd call
	etcd     *etcdOverlay // the run's etcd member changes (dryrun_etcd.go)
}

var _ Host = (*DryRun)(nil)

// NewDryRun wraps base: the live host for --dry-run (the CLI puts the
// Sandbox outside it, see Sandbox), or a Fake in tests. Its API factory
// reads through to base.Clients().
func NewDryRun(base Host) *DryRun {
	return &DryRun{base: base, clients: cluster.NewDryRun(base.Clients()), overlay: map[string]*memEntry{}}
}

// Overlay lists the paths the run would create or change (sorted) and the
// paths it would delete, for tests and summaries.
func (d *DryRun) Overlay() (written, deleted []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for p, e := range d.overlay {
		switch {
		case e == nil:
			deleted = append(deleted, p)
		case !e.mode.IsDir():
			written = append(written, p)
		}
	}
	sort.Strings(written)
	sort.Strings(deleted)
	return written, deleted
}

// stat answers for the merged view; the caller holds d.mu.
func (d *DryRun) stat(p string) (fs.FileInfo, error) {
	if e, ok := d.overlay[p]; ok {
		if e == nil {
			return nil, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
		}
		return memInfo{name: path.Base(p), e: e}, nil
	}
	return d.base.Stat(p)
}

// lstat is stat without following a symlink at p; the caller holds d.mu.
func (d *DryRun) lstat(p string) (fs.FileInfo, error) {
	if e, ok := d.overlay[p]; ok {
		if e == nil {
			return nil, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
		}
		return memInfo{name: path.Base(p), e: e}, nil
	}
	return d.baseLstat(p)
}

func (d *DryRun) baseLstat(p string) (fs.FileInfo, error) {
	if l, ok := d.base.(linkReader); ok {
		return l.Lstat(p)
	}
	return d.base.Stat(p)
}

func (d *DryRun) ReadFile(p string) ([]byte, error) {
	p = clean(p)
	d.mu.Lock()
	e, ok := d.overlay[p]
	d.mu.Unlock()
	if !ok {
		return d.base.ReadFile(p)
	}
	if e == nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	if e.mode.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errIsDir}
	}
	return append([]byte(nil), e.data...), nil
}

func (d *DryRun) Stat(p string) (fs.FileInfo, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stat(clean(p))
}

// Lstat and Readlink serve a Sandbox above: the overlay holds no symlinks.
func (d *DryRun) Lstat(p string) (fs.FileInfo, error) {
	p = clean(p)
	d.mu.Lock()
	e, ok := d.overlay[p]
	d.mu.Unlock()
	if ok {
		if e == nil {
			return nil, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
		}
		return memInfo{name: path.Base(p), e: e}, nil
	}
	if l, ok := d.base.(linkReader); ok {
		return l.Lstat(p)
	}
	return d.base.Stat(p)
}

func (d *DryRun) Readlink(p string) (string, error) {
	p = clean(p)
	d.mu.Lock()
	_, ok := d.overlay[p]
	d.mu.Unlock()
	if l, isL := d.base.(linkReader); isL && !ok {
		return l.Readlink(p)
	}
	return "", &fs.PathError{Op: "readlink", Path: p, Err: errors.New("not a symlink")}
}

// ReadDir merges the base listing with overlay entries and tombstones.
func (d *DryRun) ReadDir(p string) ([]fs.DirEntry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.readDir(clean(p))
}

func (d *DryRun) readDir(p string) ([]fs.DirEntry, error) {
	fi, err := d.stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: errNotDir}
	}
	// Start from the base listing (when the base has the directory; if
	// it was removed and re-created here, its base children are all
	// tombstoned), then apply overlay entries and tombstones.
	byName := map[string]fs.DirEntry{}
	if bfi, err := d.base.Stat(p); err == nil && bfi.IsDir() {
		base, err := d.base.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, de := range base {
			byName[de.Name()] = de
		}
	}
	prefix := strings.TrimSuffix(p, "/") + "/"
	for q, e := range d.overlay {
		if q == p || !strings.HasPrefix(q, prefix) || strings.Contains(q[len(prefix):], "/") {
			continue
		}
		name := q[len(prefix):]
		if e == nil {
			delete(byName, name)
		} else {
			byName[name] = fs.FileInfoToDirEntry(memInfo{name: name, e: e})
		}
	}
	out := make([]fs.DirEntry, 0, len(byName))
	for _, de := range byName {
		out = append(out, de)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// mkdirs records the missing directories of p (itself included, with
// mode; its parents with parentMode) in the overlay, failing where a file
// is in the way.
func (d *DryRun) mkdirs(p string, mode, parentMode fs.FileMode) (bool, error) {
	created := false
	p = clean(p)
	for _, a := range ancestors(p) {
		fi, err := d.stat(a)
		switch {
		case err == nil && !fi.IsDir():
			return false, &fs.PathError{Op: "mkdir", Path: a, Err: errNotDir}
		case err == nil:
			continue
		case !errors.Is(err, fs.ErrNotExist):
			return false, err
		}
		dm := parentMode
		if a == p {
			dm = mode
		}
		d.overlay[a] = &memEntry{mode: fs.ModeDir | exactMode(dm), mtime: d.now()}
		created = true
	}
	return created, nil
}

func (d *DryRun) WriteFile(p string, data []byte, mode, dirMode fs.FileMode) (WriteResult, error) {
	p = clean(p)
	d.mu.Lock()
	defer d.mu.Unlock()
	res := Created
	fi, err := d.stat(p)
	switch {
	case err == nil && fi.IsDir():
		return "", &fs.PathError{Op: "write", Path: p, Err: errIsDir}
	case err == nil:
		var old []byte
		if e := d.overlay[p]; e != nil {
			old = e.data
		} else {
			old, err = d.base.ReadFile(p)
		}
		if err == nil && exactMode(fi.Mode()) == exactMode(mode) && bytes.Equal(old, data) {
			return Unchanged, nil
		}
		res = Updated
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	if _, err := d.mkdirs(path.Dir(p), dirMode, dirMode); err != nil {
		return "", err
	}
	d.overlay[p] = &memEntry{data: append([]byte(nil), data...), mode: exactMode(mode), mtime: d.now()}
	return res, nil
}

func (d *DryRun) MkdirAll(p string, mode fs.FileMode) (WriteResult, error) {
	p = clean(p)
	d.mu.Lock()
	defer d.mu.Unlock()
	created, err := d.mkdirs(p, mode, ParentDirMode)
	if err != nil {
		return "", err
	}
	if created {
		return Created, nil
	}
	return Unchanged, nil
}

func (d *DryRun) Remove(p string) (WriteResult, error) {
	p = clean(p)
	d.mu.Lock()
	defer d.mu.Unlock()
	fi, err := d.lstat(p) // a symlink is removed, not its target
	if errors.Is(err, fs.ErrNotExist) {
		return Absent, nil
	}
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		entries, err := d.readDir(p)
		if err != nil {
			return "", err
		}
		if len(entries) > 0 {
			return "", &fs.PathError{Op: "remove", Path: p, Err: errNotEmpty}
		}
	}
	if _, err := d.baseLstat(p); err == nil {
		d.overlay[p] = nil // hide the base path (a dangling link too)
	} else {
		delete(d.overlay, p) // only the overlay had it
	}
	return Deleted, nil
}

// Service performs nothing for control actions (the builtin records them);
// is-active and is-enabled only read state, so they ask the base.
func (d *DryRun) Service(ctx context.Context, action, unit string) error {
	if err := CheckServicePolicy(action, unit); err != nil {
		return err
	}
	if action == "is-active" || action == "is-enabled" {
		return d.base.Service(ctx, action, unit)
	}
	return nil
}

func (d *DryRun) ServiceManager() string { return d.base.ServiceManager() }

func (d *DryRun) Hostname() (string, error)       { return d.base.Hostname() }
func (d *DryRun) DefaultRouteIP() (string, error) { return d.base.DefaultRouteIP() }
func (d *DryRun) EUID() int                       { return d.base.EUID() }
func (d *DryRun) NumCPU() int                     { return d.base.NumCPU() }
func (d *DryRun) MemoryMB() (int64, error)        { return d.base.MemoryMB() }
func (d *DryRun) KernelRelease() (string, error)  { return d.base.KernelRelease() }
func (d *DryRun) Environ() []string               { return d.base.Environ() }
func (d *DryRun) LookPath(name string) (string, error) {
	return d.base.LookPath(name)
}
func (d *DryRun) Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	return d.base.Exec(ctx, name, args...)
}
func (d *DryRun) PortFree(port int) (bool, error)          { return d.base.PortFree(port) }
func (d *DryRun) LookupHost(name string) ([]string, error) { return d.base.LookupHost(name) }

// Now is the base clock plus the time "slept" so far.
func (d *DryRun) Now() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.now()
}

func (d *DryRun) now() time.Time { return d.base.Now().Add(d.skew) }

// Sleep returns at once and moves the virtual clock, so a wait loop bounded
// by a deadline ends immediately instead of spinning or blocking.
func (d *DryRun) Sleep(ctx context.Context, dur time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	d.skew += dur
	d.mu.Unlock()
	return nil
}

func (d *DryRun) Rand() io.Reader { return d.base.Rand() }
func (d *DryRun) DryRun() bool    { return true }
func (d *DryRun) Live() bool      { return false }
