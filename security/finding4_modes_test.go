package security

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubelark/kubelark/runtime"
)

// Finding 4: modes. mkdir(mode=0o1777) reported "(1777)" but created 0777
// and created the missing parents 0777 too; write_file(mode=0o4755)
// dropped the setuid bit silently; under --root, parents /var and /var/lib
// were created 0700.

func statMode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

func TestFinding4MkdirStickyMode(t *testing.T) {
	root := t.TempDir()
	err := runOn(t, rootHost(t, root), recipeFile(t, `mkdir("/etc/kubernetes/shared", mode = 0o1777)`), time.Minute, runtime.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := statMode(t, filepath.Join(root, "etc/kubernetes/shared")), fs.ModeSticky|0o777; got != want {
		t.Errorf("mkdir(mode=0o1777) made %v, want %v", got, want)
	}
}

func TestFinding4MkdirParentsNotWithChildMode(t *testing.T) {
	root := t.TempDir()
	err := runOn(t, rootHost(t, root), recipeFile(t, `mkdir("/etc/kubernetes/shared", mode = 0o1777)`), time.Minute, runtime.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	for _, parent := range []string{"etc", "etc/kubernetes"} {
		if got := statMode(t, filepath.Join(root, parent)); got != 0o755 {
			t.Errorf("missing parent /%s was created %v, want 0755", parent, got)
		}
	}
}

func TestFinding4RootParentsNot0700(t *testing.T) {
	root := t.TempDir()
	err := runOn(t, rootHost(t, root), recipeFile(t, `mkdir("/var/lib/etcd", mode = 0o700)`), time.Minute, runtime.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	for _, parent := range []string{"var", "var/lib"} {
		if got := statMode(t, filepath.Join(root, parent)); got != 0o755 {
			t.Errorf("under --root, parent /%s was created %v, want 0755", parent, got)
		}
	}
	if got := statMode(t, filepath.Join(root, "var/lib/etcd")); got != 0o700 {
		t.Errorf("/var/lib/etcd is %v, want 0700", got)
	}
}

func TestFinding4WriteFileSetuidNotDropped(t *testing.T) {
	root := t.TempDir()
	err := runOn(t, rootHost(t, root), recipeFile(t, `write_file("/etc/kubernetes/tool", "#!/bin/sh\n", mode = 0o4755)`), time.Minute, runtime.Options{Root: root})
	// Refused with a clear error: a recipe may not write a setuid file.
	wantErr(t, err, "setuid (0o4000)", "0o4755", "use 0o755")
	if _, serr := os.Stat(filepath.Join(root, "etc/kubernetes/tool")); serr == nil {
		t.Errorf("the file was written although the mode was refused")
	}
}

func TestFinding4WriteFileSetgidRefused(t *testing.T) {
	root := t.TempDir()
	err := runOn(t, rootHost(t, root), recipeFile(t, `write_file("/etc/kubernetes/tool", "x", mode = 0o2755)`), time.Minute, runtime.Options{Root: root})
	wantErr(t, err, "setgid (0o2000)")
}

func TestFinding4DirModeSetgidKept(t *testing.T) {
	// Where a special bit is allowed (setgid on a directory), it is set
	// exactly, not dropped.
	root := t.TempDir()
	err := runOn(t, rootHost(t, root), recipeFile(t, `write_file("/var/lib/kubelet/shared/f", "x", mode = 0o640, dir_mode = 0o2750)`), time.Minute, runtime.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := statMode(t, filepath.Join(root, "var/lib/kubelet/shared")), fs.ModeSetgid|0o750; got != want {
		t.Errorf("dir_mode 0o2750 made %v, want %v", got, want)
	}
	if got := statMode(t, filepath.Join(root, "var/lib/kubelet/shared/f")); got != 0o640 {
		t.Errorf("file is %v, want 0640", got)
	}
}

func TestFinding4MkdirSetuidRefused(t *testing.T) {
	root := t.TempDir()
	err := runOn(t, rootHost(t, root), recipeFile(t, `mkdir("/etc/kubernetes/x", mode = 0o4700)`), time.Minute, runtime.Options{Root: root})
	wantErr(t, err, "setuid (0o4000)", "directories")
}
