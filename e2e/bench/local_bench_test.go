package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// localAddress and localNode only fill the configuration of the local
// benchmarks: nothing listens there (the dry run and the file phases never
// dial it). They match node bn1 of the node benchmarks.
const (
	localAddress = "10.79.0.11"
	localNode    = "bn1"
)

// kubeadmLocalSkip skips every phase of kubeadm init but the file phases
// kubelark runs with --phases certs,kubeconfig,etcd,control-plane,kubelet-start.
const kubeadmLocalSkip = "preflight,wait-control-plane,upload-config,upload-certs,mark-control-plane,bootstrap-token,kubelet-finalize,addon,show-join-command"

// localPhases are kubelark's file phases of init, and kubeadmPhaseArgs the
// `kubeadm init phase` commands that do the same (as in e2e/parity).
var (
	localPhases      = "certs,kubeconfig,etcd,control-plane,kubelet-start"
	kubeadmPhaseArgs = [][]string{
		{"init", "phase", "certs", "all"},
		{"init", "phase", "kubeconfig", "all"},
		{"init", "phase", "etcd", "local"},
		{"init", "phase", "control-plane", "all"},
		{"init", "phase", "kubelet-start"},
	}
)

// BenchmarkDryRunInit: `kubelark run init --dry-run` vs `kubeadm init
// --dry-run` (every phase, nothing changed; kubeadm writes into a temporary
// directory under /etc/kubernetes/tmp, a tmpfs here), preflight errors
// ignored on both sides. Output goes to a file: kubeadm prints every file
// and object it would write.
func BenchmarkDryRunInit(b *testing.B) {
	t := prepareTools(b)
	cfg, err := WriteConfig(b.TempDir(), "init.yaml", ConfigOptions{Address: localAddress, NodeName: localNode})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("tool=kubelark", func(b *testing.B) {
		benchLocal(b, func(string) [][]string {
			return [][]string{{t.Kubelark, "run", "init", "--dry-run", "--config", cfg, "--ignore-preflight-errors=all"}}
		})
	})
	b.Run("tool=kubeadm", func(b *testing.B) {
		benchLocal(b, func(string) [][]string {
			return [][]string{{t.Kubeadm, "init", "--dry-run", "--config", cfg, "--ignore-preflight-errors=all"}}
		})
	})
}

// BenchmarkLocalPhases: the phases that only write files (certs,
// kubeconfig, etcd, control-plane, kubelet-start) for real: kubelark with
// --root into a fresh directory, kubeadm on the empty tmpfs of its private
// namespace, once as one `kubeadm init --skip-phases` process (tool=kubeadm,
// like kubelark's one process) and once as five `kubeadm init phase`
// processes (tool=kubeadm-phases). RSA-2048 and ECDSA-P256: key generation
// dominates with RSA.
func BenchmarkLocalPhases(b *testing.B) {
	t := prepareTools(b)
	for _, alg := range []string{"RSA-2048", "ECDSA-P256"} {
		b.Run("alg="+alg, func(b *testing.B) {
			cfg, err := WriteConfig(b.TempDir(), "init.yaml", ConfigOptions{Address: localAddress, NodeName: localNode, Algorithm: alg})
			if err != nil {
				b.Fatal(err)
			}
			b.Run("tool=kubelark", func(b *testing.B) {
				benchLocal(b, func(root string) [][]string {
					return [][]string{{t.Kubelark, "run", "init", "--config", cfg, "--root", root, "--phases", localPhases}}
				})
			})
			b.Run("tool=kubeadm", func(b *testing.B) {
				benchLocal(b, func(string) [][]string {
					return [][]string{{t.Kubeadm, "init", "--config", cfg, "--skip-phases", kubeadmLocalSkip}}
				})
			})
			b.Run("tool=kubeadm-phases", func(b *testing.B) {
				benchLocal(b, func(string) [][]string {
					var steps [][]string
					for _, a := range kubeadmPhaseArgs {
						steps = append(steps, append(append([]string{t.Kubeadm}, a...), "--config", cfg))
					}
					return steps
				})
			})
		})
	}
}

// benchLocal runs the steps steps(root) return in a fresh private mount
// namespace per iteration; root is a new empty tmpfs each time, for
// kubelark's --root (kubeadm writes to the namespace's tmpfs mounts). Unlike
// e2e/parity, the host's CA-bundle directories are not mirrored into root:
// they add a few volumes to kubeadm's manifests, not measurable work.
func benchLocal(b *testing.B, steps func(root string) [][]string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	base := b.TempDir()
	var samples []Sample
	i := 0
	for b.Loop() {
		root := filepath.Join(base, fmt.Sprint(i))
		i++
		if err := os.MkdirAll(root, 0o755); err != nil {
			b.Fatal(err)
		}
		cmd, err := PrivateCommand(ctx, CleanEnv(), []string{root}, steps(root)...)
		if err != nil {
			b.Fatal(err)
		}
		s, err := Measure(cmd)
		if err != nil {
			b.Fatal(err)
		}
		samples = append(samples, s)
		os.Remove(root) // the tmpfs went away with the namespace
	}
	Report(b, samples, nil)
}
