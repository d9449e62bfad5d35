package builtins

import (
	"strings"
	"testing"

	"github.com/kubelark/kubelark/runtime/host"
)

// A half pair with the pending marker is the run's own unfinished work: it
// is made again (CA and leaf alike) and the marker is gone afterwards.
func TestGenCertInterruptedPairIsRegenerated(t *testing.T) {
	for _, base := range []string{pki + "/ca", pki + "/apiserver"} {
		t.Run(base, func(t *testing.T) {
			h := host.NewFake()
			mustRunStar(t, h, caSrc+leafSrc)
			oldKey, _, _ := h.Get(base + ".key")
			h.Remove(base + ".crt")
			if base == pki+"/ca" { // the CA's leaves were never made after it
				h.Remove(pki + "/apiserver.crt")
				h.Remove(pki + "/apiserver.key")
			}
			h.Put(pendingPath(base), nil, 0o600)
			_, env, _, err := runStarEnv(t, h, caSrc+leafSrc)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, ok := h.Get(base + ".crt"); !ok {
				t.Error("the certificate was not made")
			}
			if newKey, _, _ := h.Get(base + ".key"); string(newKey) == string(oldKey) {
				t.Error("the unfinished key was kept")
			}
			if _, _, ok := h.Get(pendingPath(base)); ok {
				t.Error("the pending marker is left")
			}
			if !strings.Contains(strings.Join(env.Warnings(), "\n"), "interrupted while writing "+base) {
				t.Errorf("no warning about the interrupted pair: %q", env.Warnings())
			}
		})
	}
}

// A completed gen_cert leaves no marker behind.
func TestGenCertLeavesNoMarker(t *testing.T) {
	h := host.NewFake()
	mustRunStar(t, h, caSrc+leafSrc)
	for _, base := range []string{pki + "/ca", pki + "/apiserver"} {
		if _, _, ok := h.Get(pendingPath(base)); ok {
			t.Errorf("%s left", pendingPath(base))
		}
	}
}
