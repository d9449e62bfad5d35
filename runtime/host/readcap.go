package host

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxInputFileSize caps every file kubelark reads: --config, --values and
// the files recipes read through read_file (certificates, kubeconfigs,
// manifests, /proc/sys values). The largest real input is a kubeconfig or
// a CA bundle of a few hundred KiB; 16 MiB is ample headroom and keeps a
// hostile recipe or a mistyped flag (--config /dev/zero, a disk image) from
// reading until memory runs out.
const MaxInputFileSize = 16 << 20

// ReadInputFile reads the regular file p, refusing anything else (devices,
// FIFOs and sockets can be endless or block forever) and anything larger
// than max bytes. The open is non-blocking, so naming a FIFO fails at once
// instead of waiting for a writer. Errors are *fs.PathError naming p.
func ReadInputFile(p string, max int64) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat() // of the file opened, so no swap between check and read
	if err != nil {
		return nil, err
	}
	if err := regularWithin(p, fi, max); err != nil {
		return nil, err
	}
	// Files in /proc and /sys report size 0 and are read to EOF; the
	// limit holds for them, and for a file that grows while it is read.
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &fs.PathError{Op: "read", Path: p, Err: &tooLargeError{max: max}}
	}
	return data, nil
}

// ErrTooLarge is the cause of a ReadInputFile refusal for size.
var ErrTooLarge = errors.New("file too large")

// tooLargeError says how large a file is (when known) against the cap.
type tooLargeError struct{ size, max int64 }

func (e *tooLargeError) Error() string {
	what := "larger than"
	if e.size > 0 {
		what = fmt.Sprintf("%d bytes, over", e.size)
	}
	return fmt.Sprintf("%s the %d MiB that kubelark reads from one input file; pass the file it needs, not a device, a log or an archive", what, e.max>>20)
}

func (e *tooLargeError) Unwrap() error { return ErrTooLarge }

func regularWithin(p string, fi fs.FileInfo, max int64) error {
	if !fi.Mode().IsRegular() {
		return &fs.PathError{Op: "read", Path: p, Err: fmt.Errorf("not a regular file (%s); kubelark reads only regular files, not devices, FIFOs or directories", fileKind(fi.Mode()))}
	}
	if fi.Size() > max {
		return &fs.PathError{Op: "read", Path: p, Err: &tooLargeError{size: fi.Size(), max: max}}
	}
	return nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}
