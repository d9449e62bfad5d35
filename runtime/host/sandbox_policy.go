package host

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// The sandbox's policy lists. docs/security.md ("The sandbox") explains each entry;
// keep the two in step.

// ReadOnlyPaths are what a recipe may read besides its write roots: what
// preflight and the stdlib truly need. Each entry allows itself and
// everything below it. They are taken literally (never resolved through a
// symlink): a read is allowed when its resolved target lies under one, so
// a planted link cannot turn an entry into a window onto the rest of the
// machine. /etc/os-release is a link to ../usr/lib/os-release on most
// distributions, hence both; /etc/ssl/certs is a link to
// /etc/pki/tls/certs on Fedora, listed too.
var ReadOnlyPaths = []string{
	"/proc/sys",      // sysctls (preflight file_content of ip_forward, ...)
	"/proc/swaps",    // preflight swap
	"/sys/fs/cgroup", // preflight cgroups (cgroup.controllers)
	"/etc/os-release",
	"/usr/lib/os-release",
	// CA trust directories the control-plane Pods mount when present
	// (stdlib/controlplane.star CA_CERTS_DIR, CA_TRUST_DIRS).
	"/etc/ssl/certs",
	"/etc/pki/ca-trust",
	"/etc/pki/tls/certs",
	"/etc/ca-certificates",
	"/usr/share/ca-certificates",
	"/usr/local/share/ca-certificates",
}

// deniedTrees can never hold an allowed root, whatever the configuration:
// not the directory, nothing below it, and no ancestor of it (an ancestor
// would contain it). They hold the system's binaries and libraries, its
// kernel interfaces, its login and privilege configuration, and the users'
// homes: nothing kubeadm writes lives there, and a write there is how a
// fork would take over the machine.
var deniedTrees = []string{
	"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/usr", // binaries, libraries
	"/boot", "/dev", "/proc", "/sys", "/run", // boot loader, devices, kernel and runtime state
	"/root", "/home", // home directories (and the invoking user's $HOME, added at start-up)
	"/etc/ssh", "/etc/sudoers.d", "/etc/pam.d", "/etc/security", "/etc/systemd", // logins, privileges, units
	"/etc/cron.d", "/etc/profile.d", "/etc/ld.so.conf.d",
}

// deniedDirs can never be an allowed root, nor can any ancestor of them,
// but a directory below them can (/etc/kubernetes/pki-x, /var/lib/etcd-vz,
// /opt/etcd): they are the shared parents where kubeadm's own directories
// live, and allowing one whole would allow every neighbour. / is here
// through every entry. /tmp and /var/tmp themselves are refused; a scratch
// directory below them is the user's choice (tests and image builds use
// them) at the risk of other local users' links, so do not use one on a
// shared machine.
var deniedDirs = []string{
	"/etc", "/var", "/var/lib", "/var/log", "/var/spool", "/var/cache",
	"/opt", "/srv", "/mnt", "/media", "/tmp", "/var/tmp",
}

// OutsideRootsError is a read, write or removal the sandbox refused.
type OutsideRootsError struct {
	Op       string // "read", "write", "create directory", "remove"
	Path     string // as the recipe gave it
	Resolved string // after symlinks; == path.Clean(Path) without any
	Roots    []string
	ReadOnly bool // a read: the allowed read roots were consulted
}

func (e *OutsideRootsError) Error() string {
	what := e.Path
	if e.Resolved != path.Clean(e.Path) {
		what = fmt.Sprintf("%s (which resolves to %s through a symlink)", e.Path, e.Resolved)
	}
	dir := path.Dir(e.Resolved)
	if e.ReadOnly {
		return fmt.Sprintf("refusing to %s %s: it is outside the allowed read roots (the write roots %s and the read-only list in docs/security.md); to allow it, pass --allow-read %s",
			e.Op, what, strings.Join(e.Roots, ", "), e.Resolved)
	}
	how := "to allow it, pass --allow-root " + dir
	if err := checkRootPolicy(dir, nil); err != nil {
		how = fmt.Sprintf("no configuration can allow writes there (%v)", err)
	}
	return fmt.Sprintf("refusing to %s %s: it is outside the allowed roots %s; %s", e.Op, what, strings.Join(e.Roots, ", "), how)
}

// errDenied says why a root is refused by the deny-lists.
var errDenied = errors.New("a system directory")

// checkRootPolicy refuses a root (recipe-path space, cleaned) that the
// deny-lists forbid; homes are further home directories to deny (the
// invoking user's $HOME).
func checkRootPolicy(r string, homes []string) error {
	trees := append(append([]string(nil), deniedTrees...), homes...)
	for _, d := range deniedDirs {
		if r == d {
			return fmt.Errorf("%s is %s shared with the rest of the system (a subdirectory of it may be a root)", r, errDenied)
		}
	}
	for _, d := range trees {
		if within(r, d) {
			if r == d {
				return fmt.Errorf("%s is %s where nothing may be written by a recipe", r, errDenied)
			}
			return fmt.Errorf("%s is under %s, %s where nothing may be written by a recipe", r, d, errDenied)
		}
	}
	for _, d := range append(append([]string(nil), deniedDirs...), trees...) {
		if within(d, r) {
			return fmt.Errorf("%s contains %s, %s", r, d, errDenied)
		}
	}
	return nil
}

// homeDirs is the invoking user's home directory from env, when absolute.
func homeDirs(env []string) []string {
	var out []string
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == "HOME" && path.IsAbs(v) && path.Clean(v) != "/" {
			out = []string{path.Clean(v)}
		}
	}
	return out
}
