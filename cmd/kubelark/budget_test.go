package main

import (
	"strings"
	"testing"
)

func TestParseMemory(t *testing.T) {
	for in, want := range map[string]int64{"1Gi": 1 << 30, "512Mi": 512 << 20, "0": 0} {
		if got, err := parseMemory(in); err != nil || got != want {
			t.Errorf("parseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]string{"lots": "write a size such as 1Gi", "1Mi": "at least 64Mi", "-1Gi": "between 0"} {
		if _, err := parseMemory(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseMemory(%q): %v, want an error containing %q", in, err, want)
		}
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[uint64]string{2149600264: "2.0 GiB", 512 << 20: "512.0 MiB", 100: "100 bytes"} {
		if got := size(n); got != want {
			t.Errorf("size(%d) = %q, want %q", n, got, want)
		}
	}
}
