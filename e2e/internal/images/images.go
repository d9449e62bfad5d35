// Package images writes container images for the locally built binaries as
// `docker save` tarballs, which `ctr images import` loads: the e2e nodes have
// no registry, and with imagePullPolicy IfNotPresent the kubelet never pulls
// an image that is already present under the exact name a manifest uses.
package images

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"time"
)

// File is one regular file placed in an image.
type File struct {
	Src  string // path on this machine
	Dest string // absolute path inside the image, e.g. /usr/local/bin/etcd
	Mode int64  // e.g. 0o755
	// Link, when set, makes Dest a symbolic link to Link (Src and Mode
	// unused): Debian's library and iptables names are symlinks.
	Link string
}

// Image is a single-layer image.
type Image struct {
	Ref        string   // full reference, e.g. registry.k8s.io/kube-apiserver:v1.36.3
	Files      []File   //
	Entrypoint []string // optional
	// Path replaces the default PATH (imagePath), e.g. for an image whose
	// programs live in sbin directories as on Debian.
	Path string
}

// imagePath is where every component finds its binary by name, as the
// kubeadm manifests run `kube-apiserver`, `etcd`, ... without a path.
const imagePath = "PATH=/usr/local/bin:/usr/bin:/bin"

// epoch fixes every timestamp so the same binaries give the same image ID.
var epoch = time.Unix(1767225600, 0).UTC() // 2026-01-01

// Write writes img as a docker-save tarball to out (atomically).
func Write(out string, img Image) error {
	tmpDir := filepath.Dir(out)
	layer, err := os.CreateTemp(tmpDir, ".layer-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(layer.Name())
	defer layer.Close()
	h := sha256.New()
	if err := writeLayer(io.MultiWriter(layer, h), img.Files); err != nil {
		return fmt.Errorf("image %s: layer: %w", img.Ref, err)
	}
	diffID := "sha256:" + hex.EncodeToString(h.Sum(nil))
	layerSize, err := layer.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := layer.Seek(0, io.SeekStart); err != nil {
		return err
	}

	env := imagePath
	if img.Path != "" {
		env = "PATH=" + img.Path
	}
	cfg := map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"created":      epoch.Format(time.RFC3339),
		"config": map[string]any{
			"Env":        []string{env},
			"Entrypoint": img.Entrypoint,
			"WorkingDir": "/",
		},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{diffID}},
		"history": []map[string]any{{"created": epoch.Format(time.RFC3339), "created_by": "kubelark e2e images.Write"}},
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	cfgName := fmt.Sprintf("%x.json", sha256.Sum256(cfgJSON))
	layerName := diffID[len("sha256:"):] + "/layer.tar"
	manifest, err := json.Marshal([]map[string]any{{
		"Config":   cfgName,
		"RepoTags": []string{img.Ref},
		"Layers":   []string{layerName},
	}})
	if err != nil {
		return err
	}

	f, err := os.CreateTemp(tmpDir, ".image-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	tw := tar.NewWriter(f)
	if err := addBytes(tw, cfgName, cfgJSON); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: path.Dir(layerName) + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch}); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: layerName, Typeflag: tar.TypeReg, Mode: 0o644, Size: layerSize, ModTime: epoch}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, layer); err != nil {
		return err
	}
	if err := addBytes(tw, "manifest.json", manifest); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), out)
}

func addBytes(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data)), ModTime: epoch}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// writeLayer writes the layer: the usual top-level directories (/tmp for
// programs that want scratch space, /etc and /var for bind-mount targets) and
// each file with its parent directories.
func writeLayer(w io.Writer, files []File) error {
	tw := tar.NewWriter(w)
	dirs := map[string]bool{}
	addDir := func(d string, mode int64) error {
		if d == "." || d == "/" || dirs[d] {
			return nil
		}
		dirs[d] = true
		return tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: mode, ModTime: epoch})
	}
	for _, d := range []string{"etc", "var", "usr", "usr/bin", "usr/local", "usr/local/bin", "bin"} {
		if err := addDir(d, 0o755); err != nil {
			return err
		}
	}
	if err := addDir("tmp", 0o1777); err != nil {
		return err
	}
	for _, fl := range files {
		rel := path.Clean(fl.Dest)[1:]
		var parents []string
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			parents = append([]string{d}, parents...)
		}
		for _, d := range parents {
			if err := addDir(d, 0o755); err != nil {
				return err
			}
		}
		if fl.Link != "" {
			if dirs[rel] {
				return fmt.Errorf("%s: a symlink where the layer already has a directory", fl.Dest)
			}
			dirs[rel] = true // nothing may later create a directory here
			if err := tw.WriteHeader(&tar.Header{Name: rel, Typeflag: tar.TypeSymlink, Linkname: fl.Link, Mode: 0o777, ModTime: epoch}); err != nil {
				return err
			}
			continue
		}
		if err := addFile(tw, fl.Src, rel, fl.Mode); err != nil {
			return err
		}
	}
	return tw.Close()
}

func addFile(tw *tar.Writer, src, name string, mode int64) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: st.Size(), ModTime: epoch}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

// fileDigest is the sha256 of a file, used to decide whether an image tarball
// is stale.
func fileDigest(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var h hash.Hash = sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
