// Package fuzzseed feeds the seed corpus in testdata/fuzz/<name>/ (at the
// repository root, one input per file) to a Go fuzz target with f.Add. The
// seeds live in one reviewed place instead of each package's
// testdata/fuzz/FuzzX, whose files must be in Go's corpus encoding; inputs
// the fuzzer finds failing are still written there by `go test -fuzz`, as
// Go does, and should be minimized into a seed file here once fixed.
package fuzzseed

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// Dir returns testdata/fuzz/name at the root of the module (the directory
// holding go.mod above the test's working directory).
func Dir(f *testing.F, name string) string {
	f.Helper()
	wd, err := os.Getwd()
	if err != nil {
		f.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "testdata", "fuzz", name)
		}
		if filepath.Dir(d) == d {
			f.Fatalf("no go.mod above %s", wd)
		}
	}
}

// Read returns the seed files of testdata/fuzz/name, sorted by file name;
// a corpus without seeds is a mistake.
func Read(f *testing.F, name string) [][]byte {
	f.Helper()
	dir := Dir(f, name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		f.Fatalf("no seeds in %s", dir)
	}
	return out
}

// Bytes adds every seed of testdata/fuzz/name as a []byte input.
func Bytes(f *testing.F, name string) {
	f.Helper()
	for _, b := range Read(f, name) {
		f.Add(b)
	}
}

// Strings adds every seed of testdata/fuzz/name as a string input.
func Strings(f *testing.F, name string) {
	f.Helper()
	for _, b := range Read(f, name) {
		f.Add(string(b))
	}
}
