//go:build linux

package host

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLiveConsoleTerminal asks on a real pseudo-terminal: the prompt goes
// to stdout, the typed line comes back, one line per question.
func TestLiveConsoleTerminal(t *testing.T) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening a pseudo-terminal: %v", err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()
	var out strings.Builder
	l := NewLive(LiveOptions{Stdin: slave, Stdout: &out})
	if _, err := master.WriteString("yes\nno\n"); err != nil {
		t.Fatal(err)
	}
	a1, err := l.Ask("Proceed? [y/N]: ")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := l.Ask("Again? [y/N]: ")
	if err != nil {
		t.Fatal(err)
	}
	if a1 != "yes" || a2 != "no" || out.String() != "Proceed? [y/N]: Again? [y/N]: " {
		t.Errorf("answers %q %q, prompts %q", a1, a2, out.String())
	}
}
