package images

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kubelark/kubelark/e2e/internal/build"
)

// Registry is the repository prefix kubeadm (and kubelark) default to.
const Registry = "registry.k8s.io"

// formatVersion changes when Write changes, to rebuild cached tarballs.
const formatVersion = "1"

// Refs returns the image references of the control plane and the sandbox,
// keyed by binary name ("pause" for the sandbox).
func Refs() map[string]string {
	return map[string]string{
		"kube-apiserver":          Registry + "/kube-apiserver:" + build.KubernetesVersion,
		"kube-controller-manager": Registry + "/kube-controller-manager:" + build.KubernetesVersion,
		"kube-scheduler":          Registry + "/kube-scheduler:" + build.KubernetesVersion,
		"etcd":                    Registry + "/etcd:" + build.EtcdImageTag,
		"pause":                   Registry + "/pause:" + build.PauseImageTag,
	}
}

// Ensure writes (or reuses) one tarball per image under binDir/images, after
// building the pause program into binDir. It returns the tarball paths.
func Ensure(ctx context.Context, binDir string, log io.Writer) ([]string, error) {
	if log == nil {
		log = io.Discard
	}
	if err := buildPause(ctx, binDir); err != nil {
		return nil, err
	}
	dir := filepath.Join(binDir, "images")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for name, ref := range Refs() {
		bin := filepath.Join(binDir, name)
		st, err := os.Stat(bin)
		if err != nil {
			return nil, fmt.Errorf("image %s: binary %s missing: %w (run the e2e-binaries make target)", ref, bin, err)
		}
		img := Image{Ref: ref, Files: []File{{Src: bin, Dest: "/usr/local/bin/" + name, Mode: 0o755}}}
		if name == "pause" {
			img.Files = []File{{Src: bin, Dest: "/pause", Mode: 0o755}}
			img.Entrypoint = []string{"/pause"}
		}
		tarPath := filepath.Join(dir, name+".tar")
		key := fmt.Sprintf("%s %s %d %d", formatVersion, ref, st.Size(), st.ModTime().UnixNano())
		if got, err := os.ReadFile(tarPath + ".stamp"); err == nil && strings.TrimSpace(string(got)) == key {
			if _, err := os.Stat(tarPath); err == nil {
				out = append(out, tarPath)
				continue
			}
		}
		fmt.Fprintf(log, "writing image %s\n", ref)
		if err := Write(tarPath, img); err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, err)
		}
		if err := os.WriteFile(tarPath+".stamp", []byte(key+"\n"), 0o644); err != nil {
			return nil, err
		}
		out = append(out, tarPath)
	}
	return out, nil
}

// buildPause compiles e2e/cmd/pause statically into binDir/pause.
func buildPause(ctx context.Context, binDir string) error {
	modDir, err := build.ModuleDir()
	if err != nil {
		return err
	}
	e2eDir := filepath.Dir(modDir)
	out := filepath.Join(binDir, "pause")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out+".tmp", "./cmd/pause")
	cmd.Dir = e2eDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/pause in %s: %w\n%s", e2eDir, err, b)
	}
	// Rename only when the content changed, so the image stamp (mtime) holds.
	if old, err := fileDigest(out); err == nil {
		if nw, err := fileDigest(out + ".tmp"); err == nil && nw == old {
			return os.Remove(out + ".tmp")
		}
	}
	return os.Rename(out+".tmp", out)
}
