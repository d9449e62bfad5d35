package host

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/kubelark/kubelark/runtime/cluster"
)

// DefaultRoots are the directories a recipe may write under unless the
// operator allows more: everything kubeadm init/join/reset writes or cleans
// (/etc/kubernetes incl. pki and manifests, the kubelet's files, the local
// etcd data dir), and the CNI's configuration and state directories, which
// reset's cleanup_cni=true empties (kubeadm only tells the operator to do
// it): /etc/cni/net.d holds the network configuration the user installed
// and /var/lib/cni the plugins' IP allocations and caches of the Pods that
// are gone after reset. No kubelark recipe writes CNI files; only reset
// removes there, and only when asked. A custom cert_dir or etcd_data_dir
// set by the user's configuration is added by the run (AllowUserRoots);
// --allow-root adds any other.
var DefaultRoots = []string{"/etc/kubernetes", "/var/lib/kubelet", "/var/lib/etcd", "/etc/cni/net.d", "/var/lib/cni"}

// SandboxOptions configures the sandbox policy.
type SandboxOptions struct {
	// Roots are the directories writes and removals are confined to;
	// nil means DefaultRoots.
	Roots []string
	// AllowRoots are added to Roots (the CLI's repeatable --allow-root DIR).
	AllowRoots []string
	// AllowReads are paths a recipe may read besides the roots and
	// ReadOnlyPaths (the CLI's repeatable --allow-read PATH).
	AllowReads []string
	// Root relocates every path (--root DIR): the recipe path /etc/x is
	// DIR/etc/x for reads and writes alike. "" or "/" means no relocation.
	Root string
}

// ErrNotLive answers service state queries under --root: the relocated
// tree is not the running system, so its service state is unknown.
var ErrNotLive = errors.New("service state unknown: --root: the target is not the running system")

// linkReader is implemented by hosts whose files can be symlinks (Live, and
// DryRun passing through to it); the sandbox resolves symlinks through it.
type linkReader interface {
	Lstat(p string) (fs.FileInfo, error)
	Readlink(p string) (string, error)
}

// Sandbox enforces the read and write policy and the --root relocation
// over a base.
//
// Writes and removals are confined to the write roots; reads (ReadFile,
// Stat, ReadDir) to the write roots, ReadOnlyPaths and the user's read
// paths (sandbox_policy.go, docs/security.md). Every path is cleaned and
// must be absolute; symlinks are resolved before the check, so a link
// inside /etc/kubernetes pointing at /etc cannot smuggle a write out or a
// read in. The roots themselves were resolved once, when they were added,
// and refused if they lead to an ancestor of themselves or a denied system
// directory (sandbox_roots.go). With Root set, symlinks are resolved inside Root as
// if chrooted there: an absolute target is taken relative to Root, and a
// relative target that climbs above Root is refused.
//
// The CLI composes Sandbox(DryRun(Live)) for --dry-run and Sandbox(Live)
// otherwise. The sandbox is outermost so that a dry run refuses exactly
// what a real run would refuse (an overlay above the sandbox would swallow
// the write before the policy saw it), and relocation then applies to the
// dry-run overlay and to the reads it passes through, since the DryRun
// only ever sees relocated paths.
type Sandbox struct {
	base Host
	// roots are the write roots, reads the extra read roots (beyond the
	// write roots and ReadOnlyPaths); both resolved once, at start-up or
	// when the run adds the user's roots (AllowUserRoots).
	roots []allowedRoot
	reads []allowedRoot
	added []RootInfo // the user's, for the plan
	homes []string
	root  string
	// relocated is the API factory under --root (see Clients).
	relocated cluster.Factory
	// relocatedEtcd is the etcd overlay under --root (sandbox_etcd.go).
	relocatedEtcd *etcdOverlay
}

var _ Host = (*Sandbox)(nil)

// NewSandbox validates opts and wraps base. Every root is resolved
// through its symlinks now, once, and refused if it resolves to a place
// the deny-lists forbid or to an ancestor of itself (ROOT/etc/kubernetes
// -> / would otherwise make every path "under" it); see allowedRoot.
func NewSandbox(base Host, opts SandboxOptions) (*Sandbox, error) {
	roots := opts.Roots
	if roots == nil {
		roots = DefaultRoots
	}
	s := &Sandbox{base: base, homes: homeDirs(base.Environ())}
	if opts.Root != "" {
		r, err := filepath.Abs(opts.Root)
		if err != nil {
			return nil, fmt.Errorf("--root %q: %w", opts.Root, err)
		}
		if r != "/" {
			s.root = r
			s.relocated = cluster.NewDryRun(nil)
			s.relocatedEtcd = newEtcdOverlay()
		}
	}
	for _, r := range roots {
		if err := s.addRoot(UserRoot{Path: r, Source: builtinSource}, opts.Roots != nil); err != nil {
			return nil, err
		}
	}
	for _, r := range opts.AllowRoots {
		if err := s.addRoot(UserRoot{Path: r, Source: "--allow-root"}, true); err != nil {
			return nil, err
		}
	}
	for _, r := range opts.AllowReads {
		if err := s.addRoot(UserRoot{Path: r, Source: "--allow-read", Read: true}, true); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Roots returns the allowed write roots (recipe paths, as given).
func (s *Sandbox) Roots() []string {
	out := make([]string, len(s.roots))
	for i, r := range s.roots {
		out[i] = r.claimed
	}
	return out
}

// Root returns the relocation directory, or "".
func (s *Sandbox) Root() string { return s.root }

// real maps a recipe path to the base host's path.
func (s *Sandbox) real(p string) string {
	if s.root == "" {
		return p
	}
	return path.Join(s.root, p)
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// maxLinks bounds symlink chains, as the kernel's ELOOP limit does.
const maxLinks = 40

// resolve cleans p and follows every symlink in it (recipe-path space).
// The part of p that does not exist yet is appended as is.
func (s *Sandbox) resolve(p string) (string, error) {
	lr, ok := s.base.(linkReader)
	if !ok {
		if !strings.HasPrefix(p, "/") {
			return "", fmt.Errorf("path %q is relative; recipes must use absolute paths", p)
		}
		return path.Clean(p), nil // an in-memory base has no symlinks
	}
	return resolveIn(lr, p, s.root)
}

// resolveParent resolves all but the last element, for operations on a
// directory entry itself (removing a symlink removes the link).
func (s *Sandbox) resolveParent(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("path %q is relative; recipes must use absolute paths", p)
	}
	p = path.Clean(p)
	if p == "/" {
		return p, nil
	}
	dir, err := s.resolve(path.Dir(p))
	if err != nil {
		return "", err
	}
	return path.Join(dir, path.Base(p)), nil
}

func within(p, root string) bool {
	return root == "/" || p == root || strings.HasPrefix(p, root+"/")
}

// allow checks a resolved write target against the write roots, resolved
// at start-up: a root that is itself a symlink (/var/lib/kubelet ->
// /data/kubelet) allows its target, and only that.
func (s *Sandbox) allow(op, orig, resolved string) error {
	for _, r := range s.roots {
		if within(resolved, r.resolved) {
			return nil
		}
	}
	return &OutsideRootsError{Op: op, Path: orig, Resolved: resolved, Roots: s.Roots()}
}

// allowRead checks a resolved read target: under a write root, under an
// entry of ReadOnlyPaths (taken literally), or under a read root the user
// gave. The recipe tree is not here: the loader reads it, not the Host.
func (s *Sandbox) allowRead(op, orig, resolved string) error {
	if s.allow(op, orig, resolved) == nil {
		return nil
	}
	for _, r := range ReadOnlyPaths {
		if within(resolved, r) {
			return nil
		}
	}
	for _, r := range s.reads {
		if within(resolved, r.resolved) {
			return nil
		}
	}
	return &OutsideRootsError{Op: op, Path: orig, Resolved: resolved, Roots: s.Roots(), ReadOnly: true}
}

// resolveRead resolves p and checks it may be read.
func (s *Sandbox) resolveRead(op, p string) (string, error) {
	v, err := s.resolve(p)
	if err != nil {
		return "", err
	}
	if err := s.allowRead(op, p, v); err != nil {
		return "", err
	}
	return v, nil
}

func (s *Sandbox) ReadFile(p string) ([]byte, error) {
	v, err := s.resolveRead("read", p)
	if err != nil {
		return nil, err
	}
	return s.base.ReadFile(s.real(v))
}

func (s *Sandbox) Stat(p string) (fs.FileInfo, error) {
	v, err := s.resolveRead("stat", p)
	if err != nil {
		return nil, err
	}
	return s.base.Stat(s.real(v))
}

func (s *Sandbox) ReadDir(p string) ([]fs.DirEntry, error) {
	v, err := s.resolveRead("list", p)
	if err != nil {
		return nil, err
	}
	return s.base.ReadDir(s.real(v))
}

func (s *Sandbox) WriteFile(p string, data []byte, mode, dirMode fs.FileMode) (WriteResult, error) {
	v, err := s.resolve(p)
	if err != nil {
		return "", err
	}
	if err := s.allow("write", p, v); err != nil {
		return "", err
	}
	return s.base.WriteFile(s.real(v), data, mode, dirMode)
}

func (s *Sandbox) MkdirAll(p string, mode fs.FileMode) (WriteResult, error) {
	v, err := s.resolve(p)
	if err != nil {
		return "", err
	}
	if err := s.allow("create directory", p, v); err != nil {
		return "", err
	}
	return s.base.MkdirAll(s.real(v), mode)
}

func (s *Sandbox) Remove(p string) (WriteResult, error) {
	v, err := s.resolveParent(p)
	if err != nil {
		return "", err
	}
	if err := s.allow("remove", p, v); err != nil {
		return "", err
	}
	return s.base.Remove(s.real(v))
}

// Service passes through unless the tree is relocated: then control actions
// are not performed (the builtin records them as skipped) and state queries
// return ErrNotLive.
func (s *Sandbox) Service(ctx context.Context, action, unit string) error {
	if s.root == "" {
		return s.base.Service(ctx, action, unit)
	}
	if err := validServiceAction(action); err != nil {
		return err
	}
	if action == "is-active" || action == "is-enabled" {
		return ErrNotLive
	}
	return nil
}

func (s *Sandbox) ServiceManager() string {
	if s.root != "" {
		return "none"
	}
	return s.base.ServiceManager()
}

// Facts describe the machine kubelark runs on, also under --root.
func (s *Sandbox) Hostname() (string, error)            { return s.base.Hostname() }
func (s *Sandbox) DefaultRouteIP() (string, error)      { return s.base.DefaultRouteIP() }
func (s *Sandbox) EUID() int                            { return s.base.EUID() }
func (s *Sandbox) NumCPU() int                          { return s.base.NumCPU() }
func (s *Sandbox) MemoryMB() (int64, error)             { return s.base.MemoryMB() }
func (s *Sandbox) KernelRelease() (string, error)       { return s.base.KernelRelease() }
func (s *Sandbox) Environ() []string                    { return s.base.Environ() }
func (s *Sandbox) LookPath(name string) (string, error) { return s.base.LookPath(name) }
func (s *Sandbox) Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	return s.base.Exec(ctx, name, args...)
}
func (s *Sandbox) PortFree(port int) (bool, error)                  { return s.base.PortFree(port) }
func (s *Sandbox) LookupHost(name string) ([]string, error)         { return s.base.LookupHost(name) }
func (s *Sandbox) Now() time.Time                                   { return s.base.Now() }
func (s *Sandbox) Sleep(ctx context.Context, d time.Duration) error { return s.base.Sleep(ctx, d) }
func (s *Sandbox) Rand() io.Reader                                  { return s.base.Rand() }
func (s *Sandbox) DryRun() bool                                     { return s.base.DryRun() }

// Live is false under --root: the relocated tree is not the running system.
func (s *Sandbox) Live() bool { return s.root == "" && s.base.Live() }

// Clients passes through, except under --root: the relocated tree is not
// the running system, and its kubeconfigs may name a cluster that is not
// this run's (an image being built), so API clients are a dry-run overlay
// with no cluster behind it: writes are recorded, reads see only them.
func (s *Sandbox) Clients() cluster.Factory {
	if s.relocated != nil {
		return s.relocated
	}
	return s.base.Clients()
}

// HTTPGet passes through (the builtins probe only a Live host).
func (s *Sandbox) HTTPGet(ctx context.Context, url string, tlsCfg *tls.Config) (HTTPResponse, error) {
	return s.base.HTTPGet(ctx, url, tlsCfg)
}

// CRI passes through, also under --root: the socket is not relocated, the
// container runtime is the machine's.
func (s *Sandbox) CRI(path string) (CRI, error) { return s.base.CRI(path) }
