package host

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func names(t *testing.T, h Files, p string) []string {
	t.Helper()
	es, err := h.ReadDir(p)
	if err != nil {
		t.Fatalf("readdir %s: %v", p, err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestDryRunOverlay(t *testing.T) {
	base := NewFake()
	base.Put("/etc/kubernetes/pki/ca.crt", []byte("CA"), 0o644)
	base.Put("/etc/kubernetes/admin.conf", []byte("admin"), 0o600)
	d := NewDryRun(base)

	// Same content and mode as the base: unchanged, nothing in the overlay.
	if res, err := d.WriteFile("/etc/kubernetes/pki/ca.crt", []byte("CA"), 0o644, 0o755); err != nil || res != Unchanged {
		t.Fatalf("same write = %v, %v", res, err)
	}
	if res, _ := d.WriteFile("/etc/kubernetes/pki/ca.crt", []byte("CA"), 0o600, 0o755); res != Updated {
		t.Fatalf("mode change = %v", res)
	}
	if res, _ := d.WriteFile("/etc/kubernetes/pki/new.key", []byte("K"), 0o600, 0o700); res != Created {
		t.Fatalf("new file = %v", res)
	}
	// Later reads see the overlay; the base is untouched.
	if b, err := d.ReadFile("/etc/kubernetes/pki/new.key"); err != nil || string(b) != "K" {
		t.Fatalf("read back = %q, %v", b, err)
	}
	if fi, _ := d.Stat("/etc/kubernetes/pki/ca.crt"); fi.Mode().Perm() != 0o600 {
		t.Fatalf("overlay mode = %v", fi.Mode())
	}
	if _, _, ok := base.Get("/etc/kubernetes/pki/new.key"); ok {
		t.Fatal("dry-run wrote to the base")
	}
	if _, mode, _ := base.Get("/etc/kubernetes/pki/ca.crt"); mode != 0o644 {
		t.Fatal("dry-run changed the base")
	}
	// A write to a new directory creates it in the overlay with dirMode.
	d.WriteFile("/var/lib/etcd/member/x", []byte("x"), 0o600, 0o700)
	if fi, err := d.Stat("/var/lib/etcd"); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("overlay dir: %v %v", fi, err)
	}

	// Remove hides the base file (tombstone); ReadDir merges.
	if res, err := d.Remove("/etc/kubernetes/admin.conf"); err != nil || res != Deleted {
		t.Fatalf("remove = %v, %v", res, err)
	}
	if _, err := d.ReadFile("/etc/kubernetes/admin.conf"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("removed file still readable: %v", err)
	}
	if res, _ := d.Remove("/etc/kubernetes/admin.conf"); res != Absent {
		t.Fatalf("second remove = %v", res)
	}
	if _, _, ok := base.Get("/etc/kubernetes/admin.conf"); !ok {
		t.Fatal("dry-run removed from the base")
	}
	if got := names(t, d, "/etc/kubernetes"); !reflect.DeepEqual(got, []string{"pki"}) {
		t.Fatalf("readdir /etc/kubernetes = %v", got)
	}
	if got := names(t, d, "/etc/kubernetes/pki"); !reflect.DeepEqual(got, []string{"ca.crt", "new.key"}) {
		t.Fatalf("readdir pki = %v", got)
	}
	// Writing after a delete creates the file again.
	if res, _ := d.WriteFile("/etc/kubernetes/admin.conf", []byte("admin"), 0o600, 0o755); res != Created {
		t.Fatalf("write after delete = %v", res)
	}
	// Directory removal needs an empty merged directory.
	if _, err := d.Remove("/etc/kubernetes/pki"); err == nil {
		t.Fatal("removed a non-empty directory")
	}
	d.Remove("/etc/kubernetes/pki/ca.crt")
	d.Remove("/etc/kubernetes/pki/new.key")
	if res, err := d.Remove("/etc/kubernetes/pki"); err != nil || res != Deleted {
		t.Fatalf("remove emptied dir = %v, %v", res, err)
	}
	if res, _ := d.MkdirAll("/etc/kubernetes/pki", 0o755); res != Created {
		t.Fatalf("mkdir after delete = %v", res)
	}
	if got := names(t, d, "/etc/kubernetes/pki"); len(got) != 0 {
		t.Fatalf("re-created dir shows base entries: %v", got)
	}
	written, deleted := d.Overlay()
	if !reflect.DeepEqual(deleted, []string{"/etc/kubernetes/pki/ca.crt"}) || len(written) != 2 {
		t.Fatalf("overlay written=%v deleted=%v", written, deleted)
	}
}

func TestDryRunServicesClockMode(t *testing.T) {
	base := NewFake()
	base.FActiveUnits["firewalld"] = true
	d := NewDryRun(base)
	ctx := context.Background()
	if err := d.Service(ctx, "restart", "kubelet"); err != nil {
		t.Fatal(err)
	}
	if err := d.Service(ctx, "is-active", "firewalld"); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(base.Services, []string{"is-active firewalld"}) {
		t.Fatalf("base saw %v; want only the read-only query", base.Services)
	}
	start := d.Now()
	begin := time.Now()
	if err := d.Sleep(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if time.Since(begin) > time.Second || d.Now().Sub(start) != time.Hour {
		t.Fatal("dry-run sleep must return at once and advance the virtual clock")
	}
	if !d.DryRun() || d.Live() {
		t.Fatal("dry-run host must say DryRun and not Live")
	}
}

func TestDryRunOverLive(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("x"), 0o640)
	d := NewDryRun(NewLive(LiveOptions{Environ: []string{}}))
	if res, _ := d.WriteFile(p, []byte("x"), 0o640, 0o755); res != Unchanged {
		t.Fatalf("unchanged vs live base = %v", res)
	}
	if res, _ := d.WriteFile(p, []byte("y"), 0o640, 0o755); res != Updated {
		t.Fatalf("update = %v", res)
	}
	if b, _ := os.ReadFile(p); string(b) != "x" {
		t.Fatal("dry-run changed the real file")
	}
	if res, _ := d.Remove(p); res != Deleted {
		t.Fatal("remove")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal("dry-run removed the real file")
	}
	if got := names(t, d, dir); len(got) != 0 {
		t.Fatalf("merged listing = %v", got)
	}
}
