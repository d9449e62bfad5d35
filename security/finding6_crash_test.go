package security

import (
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// crashInitArgs runs every phase of init that writes files under --root.
// ECDSA keys keep one run well under a second, so many kill points fit in
// the suite's time; the write sequence is the same as with RSA.
func crashInitArgs(root string) []string {
	return []string{"run", "init", "--root", root,
		"--phases", "preflight,certs,kubeconfig,etcd,control-plane,kubelet-start",
		"--ignore-preflight-errors", "all", "--set", "encryption_algorithm=ECDSA-P256"}
}

// crashTries is how many runs TestFinding6KilledInitConverges kills.
const crashTries = 40

// TestFinding6KilledInitConverges kills a --root init with SIGKILL at random
// moments of its run and asserts that the next run converges (exit 0)
// without anyone removing anything, leaves no temp file or pending marker
// behind, and that every key has its certificate.
func TestFinding6KilledInitConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 40 runs; skipped with -short")
	}
	// The run's duration on this machine bounds the kill delays.
	start := time.Now()
	if r := kubelark(t, crashInitArgs(t.TempDir())...); r.Code != 0 {
		t.Fatalf("an uninterrupted init failed (exit %d):\n%s", r.Code, r.Output())
	}
	span := time.Since(start)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("one run takes %s; kill delays are random in [0, %s), seed %d", span, span, seed)
	unfinished := 0 // kills that left a half pair, a marker or a temp file
	defer func() { t.Logf("%d of %d kills left an unfinished tree for the re-run", unfinished, crashTries) }()
	for i := 0; i < crashTries; i++ {
		root := t.TempDir()
		delay := time.Duration(rng.Int64N(int64(span)))
		cmd := exec.Command(bin, crashInitArgs(root)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Kill() // SIGKILL; the run may already have ended
		_ = cmd.Wait()
		if len(crashLeftovers(t, root)) > 0 {
			unfinished++
		}
		r := kubelark(t, crashInitArgs(root)...)
		if r.Code != 0 {
			t.Errorf("try %d (killed after %s): the re-run failed (exit %d):\n%s", i, delay, r.Code, r.Output())
			continue
		}
		for _, problem := range crashLeftovers(t, root) {
			t.Errorf("try %d (killed after %s): after the re-run %s", i, delay, problem)
		}
	}
}

// crashLeftovers lists what a converged tree must not hold: a temp file or
// pending marker of kubelark, or a key without its certificate (sa.key has
// sa.pub instead).
func crashLeftovers(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if strings.Contains(name, ".kubelark-") {
			out = append(out, "left "+p)
		}
		if strings.HasSuffix(name, ".key") {
			mate := strings.TrimSuffix(p, ".key") + ".crt"
			if name == "sa.key" {
				mate = strings.TrimSuffix(p, ".key") + ".pub"
			}
			if _, err := os.Stat(mate); err != nil {
				out = append(out, p+" has no "+filepath.Base(mate))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
