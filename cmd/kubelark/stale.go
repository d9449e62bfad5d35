package main

import (
	"fmt"
	"io"

	"github.com/kubelark/kubelark/runtime/host"
)

// removeStaleTemps clears the temp files interrupted runs left under the
// host's write roots (host.RemoveStaleTemps), once before the recipe runs,
// and says what it removed. A host without roots (a test's fake) is left
// alone. Under --dry-run the removal lands in the overlay only.
func removeStaleTemps(h host.Host, out io.Writer) error {
	r, ok := h.(interface{ Roots() []string })
	if !ok {
		return nil
	}
	removed, err := host.RemoveStaleTemps(h, r.Roots())
	verb := "removed"
	if h.DryRun() {
		verb = "would remove"
	}
	for _, p := range removed {
		fmt.Fprintf(out, "[cleanup] %s %s: the temp file of a write an earlier run did not finish\n", verb, p)
	}
	if err != nil {
		return fmt.Errorf("removing the temp files of interrupted runs under %v: %w; remove files named .NAME.kubelark-<digits> there by hand", r.Roots(), err)
	}
	return nil
}
