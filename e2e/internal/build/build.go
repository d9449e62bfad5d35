// Package build compiles the real control-plane binaries the e2e nodes run:
// etcd and the Kubernetes components, from their pinned release modules, with
// the version stamps a release build carries (kubeadm and the kubelet check
// versions), into a cache directory that survives between runs.
package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Versions the e2e suite is pinned to. They must agree with e2e/build/go.mod.
const (
	KubernetesVersion = "v1.36.3"
	EtcdVersion       = "v3.6.8"
	// EtcdImageTag and PauseImageTag are the tags kubeadm v1.36.3 uses.
	EtcdImageTag  = "3.6.8-0"
	PauseImageTag = "3.10.2"
	// CoreDNSVersion is the CoreDNS kubeadm v1.36.3 deploys; it must agree
	// with e2e/build/coredns/go.mod. The image tag is the version itself.
	CoreDNSVersion = "v1.14.2"
)

// CacheEnv overrides DefaultCacheDir.
const CacheEnv = "KUBELARK_E2E_CACHE"

// DefaultCacheDir holds the built binaries between runs.
const DefaultCacheDir = "/var/cache/kubelark-e2e/bin-" + KubernetesVersion

// CacheDir returns the binary cache directory ($KUBELARK_E2E_CACHE or the default).
func CacheDir() string {
	if d := os.Getenv(CacheEnv); d != "" {
		return d
	}
	return DefaultCacheDir
}

// Binary is one program to build from the build module.
type Binary struct {
	Name    string // output file name
	Package string // import path or ./relative path inside the build module
	// Module is a subdirectory of the build module with its own go.mod, for
	// programs whose dependencies conflict with Kubernetes' (CoreDNS pins
	// its own client-go); "" is the build module itself.
	Module string
}

// Binaries lists every program the nodes need, kube-apiserver first because it
// is the largest and warms the Go build cache for the others.
var Binaries = []Binary{
	{"kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver", ""},
	{"kubelet", "k8s.io/kubernetes/cmd/kubelet", ""},
	{"kube-controller-manager", "k8s.io/kubernetes/cmd/kube-controller-manager", ""},
	{"kube-scheduler", "k8s.io/kubernetes/cmd/kube-scheduler", ""},
	{"kubeadm", "k8s.io/kubernetes/cmd/kubeadm", ""},
	{"kube-proxy", "k8s.io/kubernetes/cmd/kube-proxy", ""},
	{"etcd", "./etcd", ""},
	{"coredns", ".", "coredns"},
}

// Names returns the names of Binaries.
func Names() []string {
	var n []string
	for _, b := range Binaries {
		n = append(n, b.Name)
	}
	return n
}

// fakeCommit stands in for the git commit a release build records; there is
// no git checkout here, only the module zip.
const fakeCommit = "0000000000000000000000000000000000000000"

// LDFlags returns the linker flags that stamp the version into every
// component, the way Kubernetes' hack/lib/version.sh does.
func LDFlags() string {
	minor := strings.Split(strings.TrimPrefix(KubernetesVersion, "v"), ".")[1]
	vars := map[string]string{
		"gitVersion":   KubernetesVersion,
		"gitMajor":     "1",
		"gitMinor":     minor,
		"gitCommit":    fakeCommit,
		"gitTreeState": "clean",
		"buildDate":    "2026-01-01T00:00:00Z",
	}
	var parts []string
	parts = append(parts, "-s", "-w")
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		for _, k := range []string{"gitVersion", "gitMajor", "gitMinor", "gitCommit", "gitTreeState", "buildDate"} {
			parts = append(parts, "-X", pkg+"."+k+"="+vars[k])
		}
	}
	parts = append(parts, "-X", "go.etcd.io/etcd/api/v3/version.GitSHA="+fakeCommit[:7])
	return strings.Join(parts, " ")
}

// ModuleDir finds e2e/build (the build module) from the working directory or
// any parent (tests run in e2e/, tools from the repo root).
func ModuleDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		for _, c := range []string{filepath.Join(d, "build"), filepath.Join(d, "e2e", "build")} {
			if b, err := os.ReadFile(filepath.Join(c, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/kubelark/kubelark/e2e/build")) {
				return c, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("build module e2e/build/go.mod not found above %s; run from the kubelark repository", wd)
		}
	}
}

// stampKey identifies what a cached binary was built from; a different key
// means rebuild.
func stampKey(modDir string, b Binary) (string, error) {
	h := sha256.New()
	if b.Module != "" {
		for _, f := range []string{"go.mod", "go.sum", "main.go"} {
			data, err := os.ReadFile(filepath.Join(modDir, b.Module, f))
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%s/%s %x\n", b.Module, f, sha256.Sum256(data))
		}
		fmt.Fprintf(h, "%s %s %s %s/%s\n", b.Package, b.ldflags(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	for _, f := range []string{"go.mod", "go.sum", "etcd/main.go"} {
		data, err := os.ReadFile(filepath.Join(modDir, f))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %x\n", f, sha256.Sum256(data))
	}
	fmt.Fprintf(h, "%s %s %s %s %s/%s\n", b.Package, LDFlags(), runtime.Version(), KubernetesVersion+EtcdVersion, runtime.GOOS, runtime.GOARCH)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Options tune Ensure.
type Options struct {
	Dir   string    // output directory; default CacheDir()
	Log   io.Writer // progress; default io.Discard
	Nice  bool      // run the compiler under nice -n 10 (shared machines)
	Force bool      // rebuild even when the stamp matches
}

// Ensure builds every binary that is missing or stale in the cache and
// returns the cache directory. Binaries are built one after the other: the
// Go build cache makes each later build mostly linking, and a 2-core machine
// gains nothing from running two compilers at once.
func Ensure(ctx context.Context, o Options) (string, error) {
	if o.Dir == "" {
		o.Dir = CacheDir()
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	modDir, err := ModuleDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return "", fmt.Errorf("binary cache %s: %w (set %s to a writable directory)", o.Dir, err, CacheEnv)
	}
	unlock, err := lockDir(o.Dir)
	if err != nil {
		return "", err
	}
	defer unlock()
	for _, b := range Binaries {
		key, err := stampKey(modDir, b)
		if err != nil {
			return "", fmt.Errorf("build module %s: %w", modDir, err)
		}
		out := filepath.Join(o.Dir, b.Name)
		stamp := out + ".stamp"
		if !o.Force {
			if got, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(got)) == key {
				if _, err := os.Stat(out); err == nil {
					continue
				}
			}
		}
		start := time.Now()
		fmt.Fprintf(o.Log, "building %s (%s)...\n", b.Name, b.Package)
		if err := goBuild(ctx, modDir, b, out+".tmp", o); err != nil {
			return "", err
		}
		if err := os.Rename(out+".tmp", out); err != nil {
			return "", err
		}
		if err := os.WriteFile(stamp, []byte(key+"\n"), 0o644); err != nil {
			return "", err
		}
		fmt.Fprintf(o.Log, "built %s in %s\n", b.Name, time.Since(start).Round(time.Second))
	}
	return o.Dir, nil
}

// ldflags are LDFlags for the Kubernetes and etcd programs; a program of its
// own module gets only the stripping flags and its commit stamp (CoreDNS
// prints GitCommit in its version line).
func (b Binary) ldflags() string {
	if b.Module == "coredns" {
		return "-s -w -X github.com/coredns/coredns/coremain.GitCommit=" + fakeCommit[:7]
	}
	if b.Module != "" {
		return "-s -w"
	}
	return LDFlags()
}

func goBuild(ctx context.Context, modDir string, b Binary, out string, o Options) error {
	if b.Module != "" {
		modDir = filepath.Join(modDir, b.Module)
		if !filepath.IsAbs(out) {
			return fmt.Errorf("build %s: output path %s must be absolute", b.Name, out)
		}
	}
	args := []string{"build", "-trimpath", "-mod=readonly", "-ldflags", b.ldflags(), "-o", out, b.Package}
	name := "go"
	if o.Nice {
		args = append([]string{"-n", "10", "go"}, args...)
		name = "nice"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = modDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stdout = o.Log
	cmd.Stderr = io.MultiWriter(o.Log, &stderr)
	if err := cmd.Run(); err != nil {
		os.Remove(out)
		return fmt.Errorf("go build %s in %s: %w\n%s", b.Package, modDir, err, lastLines(stderr.String(), 30))
	}
	return nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

var lockMu sync.Mutex
