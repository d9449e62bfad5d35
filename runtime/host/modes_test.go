package host

import (
	"io/fs"
	"testing"
)

// The overlay and in-memory hosts follow the live host's mode rules:
// the exact mode (special bits too) on the directory asked for, 0755 on
// the parents it creates, dirMode on a file's parents.
func TestModesInMemoryHosts(t *testing.T) {
	for name, h := range map[string]Files{"memfs": NewMemFS(nil), "dryrun": NewDryRun(NewFake())} {
		if _, err := h.MkdirAll("/a/b/c", fs.ModeSticky|0o777); err != nil {
			t.Fatal(err)
		}
		check := func(p string, want fs.FileMode) {
			t.Helper()
			fi, err := h.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := exactMode(fi.Mode()); got != want {
				t.Errorf("%s: %s is %v, want %v", name, p, got, want)
			}
		}
		check("/a/b/c", fs.ModeSticky|0o777)
		check("/a", ParentDirMode)
		check("/a/b", ParentDirMode)
		if _, err := h.WriteFile("/x/y/f", []byte("z"), 0o600, 0o750); err != nil {
			t.Fatal(err)
		}
		check("/x", 0o750)
		check("/x/y", 0o750)
		check("/x/y/f", 0o600)
	}
}
