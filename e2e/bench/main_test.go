package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubelark/kubelark/e2e/internal/build"
	"github.com/kubelark/kubelark/e2e/internal/images"
	"github.com/kubelark/kubelark/e2e/internal/sysdeps"
	"github.com/kubelark/kubelark/e2e/node"
)

// workDir holds what the benchmarks share (the kubelark binary); removed
// when the test binary exits.
var workDir string

func TestMain(m *testing.M) {
	flag.Parse()
	benching := flag.Lookup("test.bench").Value.String() != ""
	if benching {
		WriteFacts(os.Stdout, "start")
	}
	var err error
	if workDir, err = os.MkdirTemp("", "kubelark-bench-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(workDir)
	if benching {
		WriteFacts(os.Stdout, "end")
	}
	os.Exit(code)
}

// Tools are the two programs compared.
type Tools struct {
	Kubeadm, Kubelark string
	BinDir            string // the e2e binary cache (kubeadm, kubelet, ...)
}

var tools struct {
	once sync.Once
	t    Tools
	err  error
}

// prepareTools checks for root, builds (or reuses) kubeadm v1.36.3 in the
// e2e cache and kubelark from this repository, once per test binary.
func prepareTools(b *testing.B) Tools {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Fatal("the benchmarks need root (private mount namespaces for kubeadm, test nodes); run them as root: make bench")
	}
	tools.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
		defer cancel()
		for _, p := range []string{"unshare", "mount", "sh", "nsenter"} {
			if _, err := exec.LookPath(p); err != nil {
				tools.err = fmt.Errorf("%s is not in PATH (util-linux): %w", p, err)
				return
			}
		}
		binDir, err := build.Ensure(ctx, build.Options{Log: os.Stderr, Nice: true})
		if err != nil {
			tools.err = fmt.Errorf("building kubeadm %s (cd e2e && go run ./cmd/build-binaries): %w", build.KubernetesVersion, err)
			return
		}
		root, err := repoRoot()
		if err != nil {
			tools.err = err
			return
		}
		kubelark := filepath.Join(workDir, "kubelark")
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", kubelark, "./cmd/kubelark")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			tools.err = fmt.Errorf("go build ./cmd/kubelark in %s: %w\n%s", root, err, out)
			return
		}
		tools.t = Tools{Kubeadm: filepath.Join(binDir, "kubeadm"), Kubelark: kubelark, BinDir: binDir}
	})
	if tools.err != nil {
		b.Fatal(tools.err)
	}
	return tools.t
}

// repoRoot is the kubelark module, two levels above this package.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root := filepath.Dir(filepath.Dir(wd))
	if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !bytes.Contains(b, []byte("module github.com/kubelark/kubelark\n")) {
		return "", fmt.Errorf("kubelark module not found at %s (the benchmarks run from e2e/bench)", root)
	}
	return root, nil
}

var nodePrep struct {
	once   sync.Once
	images []string
	err    error
}

// prepareNodes installs the node packages (containerd, runc) and the
// images, once per test binary.
func prepareNodes(b *testing.B) (Tools, []string) {
	b.Helper()
	t := prepareTools(b)
	if err := node.CheckHost(); err != nil {
		b.Fatal(err)
	}
	nodePrep.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		if nodePrep.err = sysdeps.Ensure(ctx, os.Stderr); nodePrep.err != nil {
			return
		}
		nodePrep.images, nodePrep.err = images.Ensure(ctx, t.BinDir, os.Stderr)
	})
	if nodePrep.err != nil {
		b.Fatalf("preparing the test nodes: %v", nodePrep.err)
	}
	return t, nodePrep.images
}

// rounds is the number of repetitions of benchmarks that cannot follow
// b.N (the API phases alternate the tools round by round): N of
// -benchtime Nx, else 3.
func rounds() int {
	f := flag.Lookup("test.benchtime")
	if f == nil {
		return 3
	}
	if n, err := strconv.Atoi(strings.TrimSuffix(f.Value.String(), "x")); err == nil && strings.HasSuffix(f.Value.String(), "x") && n > 0 {
		return n
	}
	return 3
}
