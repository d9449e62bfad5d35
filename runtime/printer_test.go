package runtime

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kubelark/kubelark/runtime/cluster"
	"github.com/kubelark/kubelark/runtime/host"
)

// sentRequests is a factory that has sent n requests.
type sentRequests struct {
	cluster.Factory
	n int64
}

func (s sentRequests) RequestCount() int64 { return s.n }

// The API request count is printed at -v once API requests were sent (the
// benchmarks read it), and never without -v.
func TestSummaryRequestCount(t *testing.T) {
	for _, verbose := range []int{0, 1} {
		var out bytes.Buffer
		f := host.NewFake()
		f.FClients = sentRequests{Factory: cluster.NewDryRun(nil), n: 7}
		env := NewEnv(context.Background(), f, nil, &out)
		env.Verbose = verbose
		if err := writePlanOutputs(&Options{}, env, &Plan{}, nil, &out); err != nil {
			t.Fatal(err)
		}
		got := strings.Contains(out.String(), "[summary] 7 API requests")
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
		t.Errorf("no request was sent, yet a request count was printed:\n%s", out.String())
	}
}
