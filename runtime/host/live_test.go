package host

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestLiveWriteFileAtomicExactMode(t *testing.T) {
	old := syscall.Umask(0o077) // a restrictive umask must not narrow 0644
	defer syscall.Umask(old)
	dir := t.TempDir()
	l := NewLive(LiveOptions{Environ: []string{}})
	p := filepath.Join(dir, "etc/kubernetes/pki/ca.crt")

	res, err := l.WriteFile(p, []byte("one"), 0o644, 0o755)
	if err != nil || res != Created {
		t.Fatalf("first write = %v, %v; want created", res, err)
	}
	assertMode(t, p, 0o644)
	assertMode(t, filepath.Dir(p), 0o755)
	assertMode(t, filepath.Join(dir, "etc"), 0o755)

	if res, err := l.WriteFile(p, []byte("one"), 0o644, 0o755); err != nil || res != Unchanged {
		t.Fatalf("same write = %v, %v; want unchanged", res, err)
	}
	if res, err := l.WriteFile(p, []byte("one"), 0o600, 0o755); err != nil || res != Updated {
		t.Fatalf("mode change = %v, %v; want updated", res, err)
	}
	assertMode(t, p, 0o600)
	if res, err := l.WriteFile(p, []byte("two"), 0o600, 0o755); err != nil || res != Updated {
		t.Fatalf("content change = %v, %v; want updated", res, err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Fatalf("content = %q", b)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("temp files left behind: %v", names)
	}
}

func TestLiveWriteFileErrors(t *testing.T) {
	dir := t.TempDir()
	l := NewLive(LiveOptions{Environ: []string{}})
	if _, err := l.WriteFile("relative/x", nil, 0o644, 0o755); err == nil {
		t.Fatal("relative path accepted")
	}
	if _, err := l.WriteFile(dir, nil, 0o644, 0o755); !errors.Is(err, errIsDir) {
		t.Fatalf("write over a directory: %v", err)
	}
	f := filepath.Join(dir, "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := l.WriteFile(filepath.Join(f, "x"), nil, 0o644, 0o755); err == nil {
		t.Fatal("write below a file accepted")
	}
}

func TestLiveWriteThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	l := NewLive(LiveOptions{Environ: []string{}})
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("a"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	if _, err := l.WriteFile(link, []byte("b"), 0o644, 0o755); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("the symlink was replaced")
	}
	if b, _ := os.ReadFile(target); string(b) != "b" {
		t.Fatalf("target = %q", b)
	}
}

func TestLiveMkdirAllRemove(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	l := NewLive(LiveOptions{Environ: []string{}})
	p := filepath.Join(dir, "a/b")
	if res, err := l.MkdirAll(p, 0o770); err != nil || res != Created {
		t.Fatalf("mkdir = %v, %v", res, err)
	}
	assertMode(t, p, 0o770) // umask 022 would give 0750
	if res, err := l.MkdirAll(p, 0o700); err != nil || res != Unchanged {
		t.Fatalf("mkdir again = %v, %v", res, err)
	}
	assertMode(t, p, 0o770) // existing directory mode left alone
	if res, err := l.Remove(filepath.Join(dir, "a")); err == nil {
		t.Fatalf("removed a non-empty dir: %v", res)
	}
	if res, err := l.Remove(p); err != nil || res != Deleted {
		t.Fatalf("remove = %v, %v", res, err)
	}
	if res, err := l.Remove(p); err != nil || res != Absent {
		t.Fatalf("remove again = %v, %v", res, err)
	}
}

func TestLiveFacts(t *testing.T) {
	l := NewLive(LiveOptions{})
	if h, err := l.Hostname(); err != nil || h == "" {
		t.Fatalf("hostname %q %v", h, err)
	}
	if mb, err := l.MemoryMB(); err != nil || mb <= 0 {
		t.Fatalf("memory %d %v", mb, err)
	}
	if k, err := l.KernelRelease(); err != nil || !strings.Contains(k, ".") {
		t.Fatalf("kernel %q %v", k, err)
	}
	if l.NumCPU() < 1 {
		t.Fatal("no CPUs")
	}
	if route, err := os.ReadFile("/proc/net/route"); err == nil && strings.Contains(string(route), "\t00000000\t") {
		ip, err := l.DefaultRouteIP()
		if err != nil || net.ParseIP(ip) == nil {
			t.Fatalf("default route ip %q %v", ip, err)
		}
	}
	if !l.Live() || l.DryRun() {
		t.Fatal("live host must say Live and not DryRun")
	}
}

func TestLivePortFree(t *testing.T) {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	l := NewLive(LiveOptions{})
	if free, err := l.PortFree(port); err != nil || free {
		t.Fatalf("busy port reported free=%v err=%v", free, err)
	}
	ln.Close()
	if free, err := l.PortFree(port); err != nil || !free {
		t.Fatalf("free port reported free=%v err=%v", free, err)
	}
}

func TestLiveExecUsesEnvironPath(t *testing.T) {
	bin := t.TempDir()
	writeScript(t, bin, "hello", `echo "hi $GREETING"`)
	l := NewLive(LiveOptions{Environ: []string{"PATH=" + bin, "GREETING=there"}})
	out, err := l.Exec(context.Background(), "hello")
	if err != nil || strings.TrimSpace(string(out)) != "hi there" {
		t.Fatalf("exec = %q, %v", out, err)
	}
	if _, err := l.LookPath("sh"); err == nil {
		t.Fatal("LookPath searched the process PATH instead of Environ's")
	}
}

func assertMode(t *testing.T, p string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Fatalf("%s mode = %04o, want %04o", p, got, want)
	}
}

func writeScript(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestLiveConsoleNoTerminal: a pipe on stdin is not a terminal: nobody is
// asked, nothing is written.
func TestLiveConsoleNoTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var out strings.Builder
	l := NewLive(LiveOptions{Stdin: r, Stdout: &out})
	if _, err := l.Ask("Proceed? [y/N]: "); !errors.Is(err, ErrNoTerminal) {
		t.Errorf("Ask on a pipe = %v, want ErrNoTerminal", err)
	}
	if out.Len() != 0 {
		t.Errorf("wrote %q", out.String())
	}
}
