package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// privateScript runs its arguments as commands in a private mount
// namespace whose /etc/kubernetes and /var/lib are empty tmpfs mounts and
// whose service managers are /bin/false, so kubeadm's writes (and its
// kubelet restart in kubelet-start) cannot reach the machine; the mounts
// vanish with the namespace. Every directory in $KUBELARK_BENCH_TMPFS
// (colon-separated; kubelark's --root) gets a tmpfs too, so both tools
// write to memory: kubelark fsyncs every file it writes, kubeadm does not,
// and on the machine's disk that alone would decide the comparison of the
// file phases. The same idea as e2e/parity's namespace
// script, which is not exported. Both tools run through it so its cost
// (unshare, sh, a few mounts: a few milliseconds) is the same on both
// sides. $@ = commands, each one word list joined by "\x1f"; the last one
// is exec'd so a single-command run measures that process itself.
const privateScript = `set -eu
mount -t tmpfs -o mode=0755 kubelark-bench /etc/kubernetes
mount -t tmpfs -o mode=0755 kubelark-bench /var/lib
if [ -n "${KUBELARK_BENCH_TMPFS:-}" ]; then
  IFS=:
  for d in $KUBELARK_BENCH_TMPFS; do mount -t tmpfs -o mode=0755 kubelark-bench "$d"; done
  unset IFS
fi
for s in systemctl rc-service service openrc; do
  if p=$(command -v "$s" 2>/dev/null); then mount --bind /bin/false "$(readlink -f "$p")"; fi
done
IFS=$(printf '\037')
set -f
n=$#
for step in "$@"; do
  n=$((n-1))
  if [ "$n" -eq 0 ]; then exec $step; fi
  $step
done
`

// hiddenDirs are covered by the private namespace's tmpfs mounts.
var hiddenDirs = []string{"/etc/kubernetes/", "/var/lib/"}

// PrivateCommand returns a command running steps (each an argv) one after
// the other in a fresh private mount namespace (see privateScript), with a
// tmpfs over each of tmpfs (existing directories). Paths the steps need
// must not be under /etc/kubernetes or /var/lib.
func PrivateCommand(ctx context.Context, env, tmpfs []string, steps ...[]string) (*exec.Cmd, error) {
	if len(steps) == 0 {
		return nil, fmt.Errorf("PrivateCommand: no command to run")
	}
	if err := os.MkdirAll("/etc/kubernetes", 0o755); err != nil {
		return nil, fmt.Errorf("creating the mount point /etc/kubernetes: %w", err)
	}
	args := []string{"-m", "--propagation", "private", "sh", "-c", privateScript, "kubelark-bench"}
	for _, s := range steps {
		for _, a := range s {
			for _, h := range hiddenDirs {
				if strings.HasPrefix(a, h) {
					return nil, fmt.Errorf("%s is under %s, which is hidden by a tmpfs while the benchmark runs; move it (set KUBELARK_E2E_CACHE for the binaries)", a, h)
				}
			}
			if strings.ContainsRune(a, '\x1f') {
				return nil, fmt.Errorf("argument %q contains the unit separator the script splits on", a)
			}
		}
		args = append(args, strings.Join(s, "\x1f"))
	}
	for _, d := range tmpfs {
		if strings.Contains(d, ":") {
			return nil, fmt.Errorf("tmpfs directory %q contains a colon, the list separator", d)
		}
	}
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.Env = append(slices.Clone(env), "KUBELARK_BENCH_TMPFS="+strings.Join(tmpfs, ":"))
	return cmd, nil
}

// CleanEnv is the environment of the local runs: nothing of the caller's
// (proxy variables would change the static Pods and cost time) leaks in.
func CleanEnv() []string {
	return []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C"}
}
