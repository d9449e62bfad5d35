package images

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// resolve follows p through the image's own symlinks, as the dynamic
// loader would inside the container, and returns the regular file's path.
func resolve(t *testing.T, files map[string]File, p string) string {
	t.Helper()
	for depth := 0; depth < 32; depth++ {
		parts := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
		moved := false
		for i := range parts {
			prefix := "/" + strings.Join(parts[:i+1], "/")
			f, ok := files[prefix]
			if !ok || f.Link == "" {
				continue
			}
			target := f.Link
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(prefix), target)
			}
			p = path.Join(target, strings.Join(parts[i+1:], "/"))
			moved = true
			break
		}
		if !moved {
			if f, ok := files[p]; ok && f.Link == "" {
				return p
			}
			t.Fatalf("%s: not in the image", p)
		}
	}
	t.Fatalf("%s: symlink loop", p)
	return ""
}

// TestIptablesFiles checks that the kube-proxy image's iptables commands,
// their program interpreter and every library ldd names resolve inside the
// image to regular files copied from this machine.
func TestIptablesFiles(t *testing.T) {
	if _, err := os.Stat(xtablesMulti); err != nil {
		t.Fatalf("%s missing: install Debian's iptables (sysdeps.Ensure does it for the e2e suite)", xtablesMulti)
	}
	files, err := iptablesFiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byDest := map[string]File{}
	for _, f := range files {
		if _, dup := byDest[f.Dest]; dup {
			t.Errorf("%s twice in the file list", f.Dest)
		}
		byDest[f.Dest] = f
	}
	for _, n := range iptablesNames {
		if got := resolve(t, byDest, "/usr/sbin/"+n); got != xtablesMulti {
			t.Errorf("/usr/sbin/%s resolves to %s, want %s", n, got, xtablesMulti)
		}
	}
	libs, err := sharedLibs(context.Background(), []string{xtablesMulti})
	if err != nil {
		t.Fatal(err)
	}
	var sawInterp bool
	for _, l := range libs {
		got := resolve(t, byDest, l)
		if byDest[got].Src != got {
			t.Errorf("%s resolves to %s, copied from %q", l, got, byDest[got].Src)
		}
		sawInterp = sawInterp || strings.Contains(l, "ld-linux")
	}
	if !sawInterp {
		t.Errorf("ldd named no program interpreter among %v", libs)
	}
	if got := resolve(t, byDest, filepath.Join(xtablesExtDir, "libxt_comment.so")); got == "" {
		t.Error("libxt_comment.so (kube-proxy's rule comments) missing")
	}
}

// TestWriteLayerSymlink checks that a Link file becomes a tar symlink and
// that no directory is created where a symlink is.
func TestWriteLayerSymlink(t *testing.T) {
	src := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(src, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err := writeLayer(&buf, []File{
		{Dest: "/lib", Link: "usr/lib"},
		{Src: src, Dest: "/usr/lib/x/prog", Mode: 0o755},
		{Dest: "/usr/sbin/iptables", Link: "prog"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*tar.Header{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = h
	}
	if h := got["lib"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "usr/lib" {
		t.Errorf("lib: %+v, want a symlink to usr/lib", h)
	}
	if got["lib/"] != nil {
		t.Error("a directory lib/ beside the symlink lib")
	}
	if h := got["usr/sbin/iptables"]; h == nil || h.Typeflag != tar.TypeSymlink {
		t.Errorf("usr/sbin/iptables: %+v, want a symlink", h)
	}
	if h := got["usr/lib/x/prog"]; h == nil || h.Typeflag != tar.TypeReg || h.Mode != 0o755 {
		t.Errorf("usr/lib/x/prog: %+v, want a regular 0755 file", h)
	}
	if err := writeLayer(io.Discard, []File{{Dest: "/usr", Link: "x"}}); err == nil {
		t.Error("a symlink over the layer's /usr directory was accepted")
	}
}
