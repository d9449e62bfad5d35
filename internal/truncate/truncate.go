// Package truncate shortens values echoed in error messages. An error
// that quotes the operator's input helps only while it stays readable: a
// 50 MB clusterName (or a hostile recipe's fail(huge)) must not be printed
// whole, flood a terminal or a CI log, or be copied into every line of a
// plan file.
package truncate

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxValue is how much of one echoed value an error shows: enough for any
// real name, CIDR, URL or path (a DNS name is at most 253 bytes).
const MaxValue = 256

// MaxLine is how much of one line of an error message is printed; longer
// lines come from echoed values that no helper shortened.
const MaxLine = 2048

// Value returns s, or its first MaxValue bytes (cut at a rune boundary)
// followed by "…(N more bytes)" so the reader sees that it was cut and by
// how much.
func Value(s string) string { return cut(s, MaxValue) }

// Words shortens every run of non-space bytes in msg that is longer than
// MaxValue, keeping the words around it: a validation message built as
// `"<value>" is not a DNS name; use ...` keeps its field, its reason and
// its hint while a huge value in it is cut. Helpers apply it to messages
// they build from input, so no call site has to remember to.
func Words(msg string) string {
	if len(msg) <= MaxValue {
		return msg
	}
	var b strings.Builder
	start := -1
	flush := func(end int) {
		if start >= 0 {
			b.WriteString(cut(msg[start:end], MaxValue))
			start = -1
		}
	}
	for i := 0; i < len(msg); i++ {
		if c := msg[i]; c == ' ' || c == '\n' || c == '\t' {
			flush(i)
			b.WriteByte(c)
			continue
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(msg))
	return b.String()
}

// Lines shortens every line of msg to MaxLine bytes: the last line of
// defence where an error is printed.
func Lines(msg string) string {
	if len(msg) <= MaxLine {
		return msg
	}
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		lines[i] = cut(l, MaxLine)
	}
	return strings.Join(lines, "\n")
}

func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%s…(%d more bytes)", s[:n], len(s)-n)
}
