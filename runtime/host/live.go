package host

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/kubelark/kubelark/runtime/cluster"
)

// LiveOptions configures the live host.
type LiveOptions struct {
	// ServiceCommand runs service actions on machines without systemd or
	// OpenRC (the e2e nodes), e.g. "/usr/local/bin/node-svc {action} {unit}".
	// It is split on white space; {action} and {unit} are replaced in every
	// field. Without placeholders the action and unit are appended. It is
	// called for every action, daemon-reload included (with the unit the
	// builtin names, "kubelet").
	ServiceCommand string
	// Environ is the environment of facts, LookPath (its PATH) and the
	// commands the host runs; nil means os.Environ(). Tests set PATH here to
	// put fake systemctl/rc-service scripts first.
	Environ []string
	// SystemdMarker is the directory whose existence says systemd is the
	// running init system; "" means /run/systemd/system (as sd_booted(3)).
	// A systemctl binary alone is not enough: containers and this project's
	// test VMs ship systemctl without running systemd.
	SystemdMarker string
	// Stdin and Stdout are the terminal the console door asks on; nil
	// means os.Stdin and os.Stdout.
	Stdin  *os.File
	Stdout io.Writer
}

// Live acts on the real machine. It is used alone for a real run, under a
// DryRun overlay for --dry-run, and under a Sandbox always (the CLI never
// hands a bare Live host to a recipe).
type Live struct {
	opts    LiveOptions
	environ []string
	clients *cluster.Live
	console *liveConsole
}

var _ Host = (*Live)(nil)

// NewLive returns the host of the running system.
func NewLive(opts LiveOptions) *Live {
	env := opts.Environ
	if env == nil {
		env = os.Environ()
	}
	if opts.SystemdMarker == "" {
		opts.SystemdMarker = "/run/systemd/system"
	}
	l := &Live{opts: opts, environ: append([]string(nil), env...), console: &liveConsole{in: opts.Stdin, out: opts.Stdout}}
	if l.console.in == nil {
		l.console.in = os.Stdin
	}
	if l.console.out == nil {
		l.console.out = os.Stdout
	}
	l.clients = cluster.NewLive(cluster.LiveOptions{Clock: l})
	return l
}

// Timeouts of commands the host runs: fact commands are quick reads; a
// service restart may wait for the unit to stop.
const (
	execTimeout    = 30 * time.Second
	serviceTimeout = 2 * time.Minute
)

// ---- files ----

func absPath(op, p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", &fs.PathError{Op: op, Path: p, Err: errors.New("path is not absolute")}
	}
	return filepath.Clean(p), nil
}

// ReadFile reads a regular file of at most MaxInputFileSize bytes (see
// ReadInputFile): a recipe cannot make kubelark read /dev/zero.
func (l *Live) ReadFile(p string) ([]byte, error) {
	p, err := absPath("open", p)
	if err != nil {
		return nil, err
	}
	return ReadInputFile(p, MaxInputFileSize)
}

func (l *Live) Stat(p string) (fs.FileInfo, error) {
	p, err := absPath("stat", p)
	if err != nil {
		return nil, err
	}
	return os.Stat(p)
}

// Lstat and Readlink let a Sandbox resolve symlinks on the real tree.
func (l *Live) Lstat(p string) (fs.FileInfo, error) {
	p, err := absPath("lstat", p)
	if err != nil {
		return nil, err
	}
	return os.Lstat(p)
}

func (l *Live) Readlink(p string) (string, error) {
	p, err := absPath("readlink", p)
	if err != nil {
		return "", err
	}
	return os.Readlink(p)
}

func (l *Live) ReadDir(p string) ([]fs.DirEntry, error) {
	p, err := absPath("readdir", p)
	if err != nil {
		return nil, err
	}
	return os.ReadDir(p)
}

// WriteFile replaces p atomically: a reader sees the old or the new file,
// never a half-written one, and a crash leaves no partial key or manifest
// (the kubelet watches the manifests directory and would start a truncated
// Pod). The mode is set with chmod, so the umask cannot widen or narrow it,
// and the setuid, setgid and sticky bits are set as asked. Missing parent
// directories are created with dirMode.
func (l *Live) WriteFile(p string, data []byte, mode, dirMode fs.FileMode) (WriteResult, error) {
	p, err := absPath("write", p)
	if err != nil {
		return "", err
	}
	// Write through a symlink to its target, as os.WriteFile does;
	// renaming over the link would replace the link itself.
	if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if t, err := filepath.EvalSymlinks(p); err == nil {
			p = t
		}
	}
	res := Created
	switch fi, err := os.Stat(p); {
	case err == nil && fi.IsDir():
		return "", &fs.PathError{Op: "write", Path: p, Err: errIsDir}
	case err == nil:
		old, rerr := os.ReadFile(p)
		if rerr == nil && exactMode(fi.Mode()) == exactMode(mode) && bytes.Equal(old, data) {
			return Unchanged, nil
		}
		res = Updated
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	dir := filepath.Dir(p)
	if _, err := mkdirAllExact(dir, dirMode, dirMode); err != nil {
		return "", err
	}
	if err := writeAtomic(p, data, mode); err != nil {
		return "", err
	}
	return res, nil
}

// writeAtomic writes data to a temp file beside p, syncs it, sets the exact
// mode, renames it over p and syncs the directory so the rename is durable.
func writeAtomic(p string, data []byte, mode fs.FileMode) (err error) {
	dir := filepath.Dir(p)
	f, err := os.CreateTemp(dir, "."+filepath.Base(p)+".kubelark-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(exactMode(mode)); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, p); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err // some file systems cannot fsync a directory (EINVAL): not fatal
	}
	return nil
}

// mkdirAllExact creates p with exactly mode and its missing parents with
// exactly parentMode, chmod-ing each created directory (os.MkdirAll would
// apply the umask and drop the setuid/setgid/sticky bits).
func mkdirAllExact(p string, mode, parentMode fs.FileMode) (bool, error) {
	fi, err := os.Stat(p)
	if err == nil {
		if !fi.IsDir() {
			return false, &fs.PathError{Op: "mkdir", Path: p, Err: errNotDir}
		}
		return false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if parent := filepath.Dir(p); parent != p {
		if _, err := mkdirAllExact(parent, parentMode, parentMode); err != nil {
			return false, err
		}
	}
	if err := os.Mkdir(p, mode.Perm()); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil // created concurrently
		}
		return false, err
	}
	if err := os.Chmod(p, exactMode(mode)); err != nil {
		return true, err
	}
	return true, nil
}

func (l *Live) MkdirAll(p string, mode fs.FileMode) (WriteResult, error) {
	p, err := absPath("mkdir", p)
	if err != nil {
		return "", err
	}
	created, err := mkdirAllExact(p, mode, ParentDirMode)
	if err != nil {
		return "", err
	}
	if created {
		return Created, nil
	}
	return Unchanged, nil
}

func (l *Live) Remove(p string) (WriteResult, error) {
	p, err := absPath("remove", p)
	if err != nil {
		return "", err
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Absent, nil
		}
		return "", err
	}
	return Deleted, nil
}

// ---- facts ----

func (l *Live) Hostname() (string, error) { return os.Hostname() }

// DefaultRouteIP uses the same routine as kubeadm (ChooseHostInterface):
// the default-route interface from /proc/net/route (IPv4 first, then
// /proc/net/ipv6_route) and its first global unicast address.
func (l *Live) DefaultRouteIP() (string, error) {
	ip, err := utilnet.ChooseHostInterface()
	if err != nil {
		return "", fmt.Errorf("finding the default-route address: %w; set advertise_address", err)
	}
	return ip.String(), nil
}

func (l *Live) EUID() int   { return os.Geteuid() }
func (l *Live) NumCPU() int { return goruntime.NumCPU() }

func (l *Live) Environ() []string { return append([]string(nil), l.environ...) }

func (l *Live) getenv(key string) string {
	v := ""
	for _, kv := range l.environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val // the last one wins, as in os/exec
		}
	}
	return v
}

// LookPath searches the PATH of Environ (not of the process), so tests can
// inject fake binaries. Relative PATH entries are skipped, as os/exec does.
func (l *Live) LookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		if isExecutable(name) {
			return name, nil
		}
		return "", fmt.Errorf("exec: %q: not an executable file", name)
	}
	for _, dir := range filepath.SplitList(l.getenv("PATH")) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

func (l *Live) command(ctx context.Context, name string, args ...string) ([]byte, error) {
	bin, err := l.LookPath(name)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = l.Environ()
	// A service script that starts a daemon in the background may leave it
	// holding our output pipe; once the script itself has exited, stop
	// waiting for the pipe after a short delay instead of hanging.
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	return out, err
}

// Exec runs a read-only fact command with a 30 s timeout.
func (l *Live) Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, execTimeout)
	defer cancel()
	return l.command(ctx, name, args...)
}

// PortFree binds ":port" (all addresses) like kubeadm's port check. A port
// in use is (false, nil); any other failure is returned.
func (l *Live) PortFree(port int) (bool, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return false, nil
		}
		return false, err
	}
	ln.Close()
	return true, nil
}

func (l *Live) LookupHost(name string) ([]string, error) { return net.LookupHost(name) }

// ---- clock, randomness, mode ----

func (l *Live) Now() time.Time { return cluster.WallClock{}.Now() }

func (l *Live) Sleep(ctx context.Context, d time.Duration) error {
	return cluster.WallClock{}.Sleep(ctx, d)
}

func (l *Live) Rand() io.Reader { return rand.Reader }
func (l *Live) DryRun() bool    { return false }
func (l *Live) Live() bool      { return true }
