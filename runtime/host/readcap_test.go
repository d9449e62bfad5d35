package host

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadInputFile(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	if err := os.WriteFile(ok, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadInputFile(ok, 4); err != nil || string(b) != "data" {
		t.Errorf("ReadInputFile(4 bytes, max 4) = %q, %v", b, err)
	}
	if _, err := ReadInputFile(ok, 3); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadInputFile(4 bytes, max 3): %v, want ErrTooLarge", err)
	}
	if _, err := ReadInputFile(dir, 100); err == nil || !strings.Contains(err.Error(), "not a regular file (a directory)") {
		t.Errorf("directory: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err == nil {
		if _, err := ReadInputFile(fifo, 100); err == nil || !strings.Contains(err.Error(), "a FIFO") {
			t.Errorf("FIFO: %v", err)
		}
	}
	if _, err := ReadInputFile("/dev/zero", 100); err == nil || !strings.Contains(err.Error(), "a character device") {
		t.Errorf("/dev/zero: %v", err)
	}
	if _, err := ReadInputFile(filepath.Join(dir, "missing"), 100); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	// /proc files report size 0 and are read to EOF, within the cap.
	if b, err := ReadInputFile("/proc/self/status", MaxInputFileSize); err == nil && len(b) == 0 {
		t.Errorf("/proc/self/status read empty")
	}
}
