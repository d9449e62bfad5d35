package parity

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Tools are the two programs compared.
type Tools struct {
	Kubeadm  string // kubeadm v1.36.3 binary
	Kubelark string // kubelark binary built from this repository
}

// Workflow is one kubeadm command and its kubelark recipe: how each tool is
// run for a config so that it leaves its files in an Output, and which
// collectors read them.
//
// Join is not a Workflow: a join needs a running cluster and real nodes,
// so TestParityJoin (join_test.go, joinrun.go) runs the configs of
// testdata/parity/join-configs ("join-worker", "join-control-plane" by
// LoadConfigs) on nodes of its own and reads them with JoinCollectors.
type Workflow struct {
	Name       string
	Kubeadm    func(ctx context.Context, t Tools, c *Config, out *Output) error
	Kubelark   func(ctx context.Context, t Tools, c *Config, out *Output) error
	Collectors []Collector
}

// Workflows by name; a config whose workflow is missing here fails.
var Workflows = map[string]*Workflow{
	"init": {
		Name:       "init",
		Kubeadm:    kubeadmInitFiles,
		Kubelark:   kubelarkInitFiles,
		Collectors: FileCollectors(),
	},
}

// FileCollectors are the collectors of everything written on the node.
func FileCollectors() []Collector {
	content := []fileCollector{certCollector, kubeconfigCollector, manifestCollector, kubeletCollector}
	cs := []Collector{treeCollector{}}
	for _, c := range content {
		cs = append(cs, c)
	}
	return append(cs, rawCollector{others: content})
}

// InitPhases are the phases of init that only write files; both tools run
// exactly these (preflight needs a prepared machine, the later phases a
// running control plane).
var InitPhases = []string{"certs", "kubeconfig", "etcd", "control-plane", "kubelet-start"}

// kubeadmInitArgs are the kubeadm invocations matching InitPhases.
var kubeadmInitArgs = [][]string{
	{"init", "phase", "certs", "all"},
	{"init", "phase", "kubeconfig", "all"},
	{"init", "phase", "etcd", "local"}, // a no-op with external etcd
	{"init", "phase", "control-plane", "all"},
	{"init", "phase", "kubelet-start"},
}

// namespaceScript runs kubeadm where its writes cannot reach the host: in a
// private mount namespace, with tmpfs over /etc/kubernetes and /var/lib (so
// kubeadm creates /var/lib/kubelet and /var/lib/etcd itself and their modes
// are its own), and with every service manager replaced by /bin/false (so
// kubelet-start's stop/restart of the kubelet fails with a warning, as it
// does on a machine without systemd, instead of touching a real kubelet).
// kubeadm's output goes to stderr; the three directories are written as a
// tar stream to stdout before the namespace (and its tmpfs) goes away.
// $1 = kubeadm, $2 = config, the rest = "phase args" words separated by "|".
const namespaceScript = `set -eu
kubeadm="$1"; config="$2"; shift 2
exec 3>&1 1>&2
mount -t tmpfs -o mode=0755 parity-etc-kubernetes /etc/kubernetes
mount -t tmpfs -o mode=0755 parity-var-lib /var/lib
for s in systemctl rc-service service openrc; do
  if p=$(command -v "$s" 2>/dev/null); then mount --bind /bin/false "$(readlink -f "$p")"; fi
done
for step in "$@"; do
  IFS=' '; set -f
  echo "+ kubeadm $step --config $config"
  "$kubeadm" $step --config "$config"
  set +f
done
dirs=""
for d in etc/kubernetes var/lib/kubelet var/lib/etcd; do
  if [ -e "/$d" ]; then dirs="$dirs $d"; fi
done
tar -C / -cf - $dirs >&3
`

// cleanEnv is the environment both tools run with: nothing from the
// caller's environment leaks in (proxy variables would end up in the static
// Pods), only what the config asks for.
func cleanEnv(c *Config) []string {
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C"}
	return append(env, c.Env...)
}

func kubeadmInitFiles(ctx context.Context, t Tools, c *Config, out *Output) error {
	for _, p := range []string{t.Kubeadm, c.Path} {
		for _, hidden := range []string{"/etc/kubernetes/", "/var/lib/"} {
			if strings.HasPrefix(p, hidden) {
				return fmt.Errorf("%s is under %s, which the harness hides under a tmpfs while kubeadm runs; move it (or set %s for the kubeadm build)", p, hidden, "KUBELARK_E2E_CACHE")
			}
		}
	}
	if err := ensureDir("/etc/kubernetes"); err != nil {
		return err
	}
	args := []string{"-m", "--propagation", "private", "sh", "-c", namespaceScript, "parity", t.Kubeadm, c.Path}
	for _, a := range kubeadmInitArgs {
		args = append(args, strings.Join(a, " "))
	}
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.Env = cleanEnv(c)
	var tarStream, log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &tarStream, &log
	err := cmd.Run()
	out.Log = log.String()
	if err != nil {
		return fmt.Errorf("kubeadm in a private mount namespace: %w\n%s", err, log.String())
	}
	untar := exec.CommandContext(ctx, "tar", "-x", "-p", "--same-owner", "-C", out.Root)
	untar.Stdin = &tarStream
	if b, err := untar.CombinedOutput(); err != nil {
		return fmt.Errorf("extracting kubeadm's files into %s: %w\n%s", out.Root, err, b)
	}
	return nil
}

// hostDirs are the host directories whose existence changes what init
// writes: kubeadm mounts each CA-bundle directory into the API server and
// the controller-manager only when it exists (kubeadm v1.36.3
// app/phases/controlplane/volumes.go caCertsExtraVolumePaths). kubeadm sees
// the real host; kubelark under --root sees only the root, so the harness
// mirrors these facts (empty directories) into kubelark's root.
var hostDirs = []string{
	"/etc/pki/ca-trust",
	"/etc/pki/tls/certs",
	"/etc/ca-certificates",
	"/usr/share/ca-certificates",
	"/usr/local/share/ca-certificates",
}

func kubelarkInitFiles(ctx context.Context, t Tools, c *Config, out *Output) error {
	for _, d := range hostDirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			if err := os.MkdirAll(out.hostPath(d), 0o755); err != nil {
				return err
			}
		}
	}
	cmd := exec.CommandContext(ctx, t.Kubelark, "run", "init", "--config", c.Path, "--root", out.Root,
		"--phases", strings.Join(InitPhases, ","))
	cmd.Env = cleanEnv(c)
	b, err := cmd.CombinedOutput()
	out.Log = string(b)
	if err != nil {
		return fmt.Errorf("kubelark run init --root %s: %w\n%s", out.Root, err, b)
	}
	return nil
}

// ensureDir creates a mount point the harness needs (on a machine that
// never had Kubernetes, /etc/kubernetes does not exist). It stays empty:
// everything is written to the tmpfs mounted over it.
func ensureDir(p string) error {
	if err := os.MkdirAll(p, 0o755); err != nil {
		return fmt.Errorf("creating mount point %s: %w", p, err)
	}
	return nil
}
