package host

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"
)

// Console is the host's door to the operator at the terminal of the run:
// reset asks before it tears a node down, as kubeadm reset does.
//
//   - Live: kubelark's own stdin and stdout; a stdin that is not a
//     terminal (a pipe, /dev/null, CI) is ErrNoTerminal: nobody can answer,
//     and reading a script's input as consent would be wrong.
//   - DryRun: ErrDryRunPrompt (a dry run asks nobody; reset skips the
//     prompt in a dry run as kubeadm does).
//   - Sandbox: passes through (also under --root: the operator is the
//     same).
//   - Fake: FConsole (scripted answers), nil = no terminal.
type Console interface {
	// Ask writes prompt to the terminal and returns the line typed (end
	// of input is an empty answer).
	Ask(prompt string) (string, error)
}

// ErrNoTerminal: stdin is not a terminal.
var ErrNoTerminal = errors.New("stdin is not a terminal")

// ErrDryRunPrompt: a dry-run host never asks.
var ErrDryRunPrompt = errors.New("a dry run asks nobody")

// maxAnswer bounds one answer line.
const maxAnswer = 4096

// liveConsole reads lines from one buffered reader over stdin, so input
// typed ahead is not lost between two questions.
type liveConsole struct {
	mu  sync.Mutex
	in  *os.File
	out io.Writer
	rd  *bufio.Reader
}

func (c *liveConsole) ask(prompt string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.in == nil || !term.IsTerminal(int(c.in.Fd())) {
		return "", ErrNoTerminal
	}
	if _, err := io.WriteString(c.out, prompt); err != nil {
		return "", err
	}
	if c.rd == nil {
		c.rd = bufio.NewReader(c.in)
	}
	var line strings.Builder
	for line.Len() < maxAnswer {
		b, err := c.rd.ReadByte()
		if err == io.EOF {
			return line.String(), nil
		}
		if err != nil {
			return "", fmt.Errorf("reading the answer: %w", err)
		}
		if b == '\n' {
			break
		}
		line.WriteByte(b)
	}
	return strings.TrimRight(line.String(), "\r"), nil
}

// Ask asks on kubelark's stdin and stdout (LiveOptions.Stdin/Stdout).
func (l *Live) Ask(prompt string) (string, error) { return l.console.ask(prompt) }

// Ask refuses: see Console.
func (d *DryRun) Ask(prompt string) (string, error) { return "", ErrDryRunPrompt }

// Ask passes through.
func (s *Sandbox) Ask(prompt string) (string, error) { return s.base.Ask(prompt) }

// FakeConsole scripts the operator: each Ask records the prompt and takes
// the next answer (none left: end of input, ""). NoTTY makes Ask fail with
// ErrNoTerminal.
type FakeConsole struct {
	Answers []string
	NoTTY   bool
	Asked   []string
}

// Ask answers from FConsole; a nil FConsole is a stdin that is no terminal.
func (f *Fake) Ask(prompt string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.FConsole
	if c == nil || c.NoTTY {
		return "", ErrNoTerminal
	}
	c.Asked = append(c.Asked, prompt)
	if len(c.Answers) == 0 {
		return "", nil
	}
	a := c.Answers[0]
	c.Answers = c.Answers[1:]
	return a, nil
}
