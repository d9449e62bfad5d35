package truncate

import (
	"strings"
	"testing"
)

func TestValue(t *testing.T) {
	if got := Value("short"); got != "short" {
		t.Errorf("Value(short) = %q", got)
	}
	long := strings.Repeat("é", 1000) // 2000 bytes, 2-byte runes
	got := Value(long)
	if len(got) > MaxValue+40 || !strings.HasSuffix(got, "more bytes)") {
		t.Errorf("Value(long) = %q (%d bytes)", got, len(got))
	}
	if !strings.HasPrefix(got, "éé") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("Value cut inside a rune: %q", got[:10])
	}
}

func TestLines(t *testing.T) {
	msg := "first\n" + strings.Repeat("x", 10*MaxLine) + "\nlast"
	got := Lines(msg)
	if !strings.HasPrefix(got, "first\n") || !strings.HasSuffix(got, "\nlast") || len(got) > MaxLine+100 {
		t.Errorf("Lines kept %d bytes: %.80q", len(got), got)
	}
}

func TestWords(t *testing.T) {
	msg := "ClusterConfiguration.clusterName: \"" + strings.Repeat("a", 50<<20) + "\" is not a DNS subdomain; use lower case"
	got := Words(msg)
	if len(got) > 600 || !strings.HasPrefix(got, "ClusterConfiguration.clusterName: \"aaa") || !strings.HasSuffix(got, "is not a DNS subdomain; use lower case") {
		t.Errorf("Words kept %d bytes: %.100q ... %q", len(got), got, got[len(got)-60:])
	}
	if s := "a short message"; Words(s) != s {
		t.Errorf("Words changed a short message")
	}
}
