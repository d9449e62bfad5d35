package runtime

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kubelark/kubelark/runtime/cluster"
	"github.com/kubelark/kubelark/runtime/host"
)

// The API request count is printed at -v once an API client was made (the
// benchmarks read it), and never without -v.
func TestSummaryRequestCount(t *testing.T) {
	for _, verbose := range []int{0, 1} {
		var out bytes.Buffer
		env := NewEnv(context.Background(), host.NewFake(), nil, &out)
		env.Verbose = verbose
		env.Clients = cluster.NewDryRun(nil)
		if err := writePlanOutputs(&Options{}, env, &Plan{}, nil, &out); err != nil {
			t.Fatal(err)
		}
		got := strings.Contains(out.String(), "[summary] 0 API requests")
		if got != (verbose >= 1) {
			t.Errorf("-v=%d: request count printed=%v:\n%s", verbose, got, out.String())
		}
	}
	var out bytes.Buffer
	env := NewEnv(context.Background(), host.NewFake(), nil, &out)
	env.Verbose = 1
	if err := writePlanOutputs(&Options{}, env, &Plan{}, nil, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "API requests") {
		t.Errorf("no client was made, yet a request count was printed:\n%s", out.String())
	}
}
