package builtins

// Crash-safe certificate pairs. A certificate and its key are two files and
// no rename puts two files in place at once, so gen_cert journals the pair:
// a marker file BASE.kubelark-pending is written (atomically) before the
// key, and removed once the key and then the certificate are in place. A
// run killed in between leaves the marker, and the next run knows that
// whatever it finds of the pair is unfinished work of its own and makes the
// pair again, instead of refusing a key without its certificate.
//
// The order key-then-certificate is kept as well: ca.crt without ca.key is
// external CA mode, so that state must never exist transiently for a CA.
// The marker is the run's own bookkeeping and not part of the plan; a
// recovered pair shows in the plan as "updated" files and in a warning.

import (
	"fmt"

	"github.com/kubelark/kubelark/runtime"
)

// pendingSuffix names the marker of an unfinished pair (base path + suffix).
const pendingSuffix = ".kubelark-pending"

func pendingPath(base string) string { return base + pendingSuffix }

// pairInterrupted reports whether an earlier run was killed while writing
// the pair at base, and warns that the pair is made again.
func pairInterrupted(env *runtime.Env, bn, base string) (bool, error) {
	p := pendingPath(base)
	_, ok, err := readOptional(env, p)
	if err != nil {
		return false, fmt.Errorf("%s: reading %s: %w", bn, p, err)
	}
	if ok {
		env.Warnf("%s exists: an earlier run was interrupted while writing %s.{key,crt}; generating the pair again", p, base)
	}
	return ok, nil
}

// beginPair writes the pending marker of the pair at base; endPair removes
// it once both files are in place.
func beginPair(env *runtime.Env, bn, base string) error {
	p := pendingPath(base)
	note := fmt.Sprintf("kubelark is writing %s.key and %s.crt. If this file remains, that run was interrupted;\nthe next run generates the pair again and removes this file.\n", base, base)
	if _, err := env.Host.WriteFile(p, []byte(note), 0o600, 0o755); err != nil {
		return fmt.Errorf("%s: writing the pending marker %s: %w", bn, p, err)
	}
	return nil
}

func endPair(env *runtime.Env, bn, base string) error {
	p := pendingPath(base)
	if _, err := env.Host.Remove(p); err != nil {
		return fmt.Errorf("%s: removing the pending marker %s: %w; remove it by hand once %s.{key,crt} are in place", bn, p, err, base)
	}
	return nil
}
