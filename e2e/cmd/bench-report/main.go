// Command bench-report renders `go test -bench` output of e2e/bench (and of
// the root module's micro-benchmarks) as the kubelark-vs-kubeadm ratio
// table. It reads the files named as arguments, or stdin:
//
//	go test -run '^$' -bench . ./bench/ | tee bench.txt
//	go run ./cmd/bench-report bench.txt
//
// It only reports; it never judges a timing (use benchstat for that).
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kubelark/kubelark/e2e/bench"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "bench-report: %v\n", err)
		os.Exit(1)
	}
}

func run(files []string, stdin io.Reader, stdout io.Writer) error {
	var readers []io.Reader
	if len(files) == 0 {
		readers = append(readers, stdin)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return err
		}
		defer fh.Close()
		readers = append(readers, fh)
	}
	out, err := bench.Parse(io.MultiReader(readers...))
	if err != nil {
		return err
	}
	if len(out.Results) > 0 {
		bench.Render(stdout, out)
	}
	if len(out.Failures) > 0 {
		return fmt.Errorf("the benchmark run failed (see its output above):\n  %s", strings.Join(out.Failures, "\n  "))
	}
	if len(out.Results) == 0 {
		return fmt.Errorf("no benchmark results in the input (expected `go test -bench` output)")
	}
	return nil
}
