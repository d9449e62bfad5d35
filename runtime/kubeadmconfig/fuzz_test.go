package kubeadmconfig

import (
	"strings"
	"testing"

	"github.com/kubelark/kubelark/internal/fuzzseed"
)

// FuzzLoad feeds arbitrary files to the kubeadm config decoder: it must
// return a config or an error, never panic (Load turns a panic into an
// "internal error", which fails here too), and an error must not echo
// more than a bounded part of its input.
func FuzzLoad(f *testing.F) {
	fuzzseed.Bytes(f, "kubeadmconfig")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		cfg, err := Load(data)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("Load: %v", err)
			}
			if cfg != nil {
				t.Fatalf("Load returned a config and an error")
			}
			return
		}
		if cfg == nil {
			t.Fatalf("Load returned neither a config nor an error")
		}
	})
}
