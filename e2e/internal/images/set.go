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

// NetcheckRef is the test image of cmd/netcheck (not a kubeadm image: a
// Pod using it sets imagePullPolicy Never).
const NetcheckRef = "kubelark.test/netcheck:v1"

// Refs returns the image references of the control plane, the sandbox and
// the addons, keyed by binary name ("pause" for the sandbox), plus the
// netcheck test image.
func Refs() map[string]string {
	return map[string]string{
		"kube-apiserver":          Registry + "/kube-apiserver:" + build.KubernetesVersion,
		"kube-controller-manager": Registry + "/kube-controller-manager:" + build.KubernetesVersion,
		"kube-scheduler":          Registry + "/kube-scheduler:" + build.KubernetesVersion,
		"etcd":                    Registry + "/etcd:" + build.EtcdImageTag,
		"pause":                   Registry + "/pause:" + build.PauseImageTag,
		"kube-proxy":              Registry + "/kube-proxy:" + build.KubernetesVersion,
		"coredns":                 Registry + "/coredns/coredns:" + build.CoreDNSVersion,
		"netcheck":                NetcheckRef,
	}
}

// image returns the image of one name of Refs: the binary at
// /usr/local/bin/<name> (kubeadm's manifests run the control-plane
// commands by name, kube-proxy as /usr/local/bin/kube-proxy), except for the
// programs whose upstream image runs them as its entrypoint at the root
// (/pause, /coredns: kubeadm's CoreDNS Deployment passes only args).
func image(ctx context.Context, binDir, name, ref string) (Image, error) {
	bin := filepath.Join(binDir, name)
	img := Image{Ref: ref, Files: []File{{Src: bin, Dest: "/usr/local/bin/" + name, Mode: 0o755}}}
	switch name {
	case "pause", "coredns", "netcheck":
		img.Files = []File{{Src: bin, Dest: "/" + name, Mode: 0o755}}
		img.Entrypoint = []string{"/" + name}
	case "kube-proxy":
		ipt, err := iptablesFiles(ctx)
		if err != nil {
			return Image{}, err
		}
		img.Files = append(img.Files, ipt...)
		// Debian's PATH: kube-proxy runs iptables-restore & co. by name,
		// and Debian puts them in /usr/sbin.
		img.Path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	return img, nil
}

// stamp identifies the sources of an image tarball: the first file (the
// binary) as before the addons existed, so cached control-plane tarballs
// stay valid, then every further file or link.
func stamp(img Image) (string, error) {
	var b strings.Builder
	for i, f := range img.Files {
		if f.Link != "" {
			fmt.Fprintf(&b, " %s->%s", f.Dest, f.Link)
			continue
		}
		st, err := os.Stat(f.Src)
		if err != nil {
			return "", fmt.Errorf("image %s: file %s missing: %w (run the e2e-binaries make target)", img.Ref, f.Src, err)
		}
		if i == 0 {
			fmt.Fprintf(&b, "%s %s %d %d", formatVersion, img.Ref, st.Size(), st.ModTime().UnixNano())
			continue
		}
		fmt.Fprintf(&b, " %s:%d:%d", f.Dest, st.Size(), st.ModTime().UnixNano())
	}
	if len(img.Entrypoint) > 0 && img.Entrypoint[0] != "/pause" {
		fmt.Fprintf(&b, " entrypoint=%s", strings.Join(img.Entrypoint, ","))
	}
	if img.Path != "" {
		fmt.Fprintf(&b, " path=%s", img.Path)
	}
	return b.String(), nil
}

// Ensure writes (or reuses) one tarball per image under binDir/images, after
// building the pause and netcheck programs into binDir. It returns the
// tarball paths.
func Ensure(ctx context.Context, binDir string, log io.Writer) ([]string, error) {
	if log == nil {
		log = io.Discard
	}
	for _, c := range []string{"pause", "netcheck"} {
		if err := buildCmd(ctx, binDir, c); err != nil {
			return nil, err
		}
	}
	dir := filepath.Join(binDir, "images")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for name, ref := range Refs() {
		img, err := image(ctx, binDir, name, ref)
		if err != nil {
			return nil, err
		}
		key, err := stamp(img)
		if err != nil {
			return nil, err
		}
		tarPath := filepath.Join(dir, name+".tar")
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

// buildCmd compiles e2e/cmd/<name> statically into binDir/<name>.
func buildCmd(ctx context.Context, binDir, name string) error {
	modDir, err := build.ModuleDir()
	if err != nil {
		return err
	}
	e2eDir := filepath.Dir(modDir)
	out := filepath.Join(binDir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out+".tmp", "./cmd/"+name)
	cmd.Dir = e2eDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/%s in %s: %w\n%s", name, e2eDir, err, b)
	}
	// Rename only when the content changed, so the image stamp (mtime) holds.
	if old, err := fileDigest(out); err == nil {
		if nw, err := fileDigest(out + ".tmp"); err == nil && nw == old {
			return os.Remove(out + ".tmp")
		}
	}
	return os.Rename(out+".tmp", out)
}
