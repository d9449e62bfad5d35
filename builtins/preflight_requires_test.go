package builtins

import (
	"strings"
	"testing"

	"github.com/kubelark/kubelark/runtime/host"
)

// TestPreflightRequiresSkipsDependents: with no container runtime, the CRI
// check fails once and ImagePull (requires CRI) is skipped with one line
// instead of one error per image.
func TestPreflightRequiresSkipsDependents(t *testing.T) {
	f := host.NewFake() // no FCRI: nothing listens on the socket
	checks := `[{"kind": "cri", "socket": S},
	{"kind": "image_pull", "socket": S, "images": ["a:1", "b:1", "c:1"], "requires": ["CRI"]}]`
	_, plan, out, err := hostStar(t, f, criSock+"r = preflight_check("+checks+")\n")
	if err == nil || !strings.Contains(err.Error(), "[ERROR CRI]") {
		t.Fatalf("err = %v, want the CRI error", err)
	}
	if strings.Contains(err.Error(), "ImagePull") {
		t.Errorf("ImagePull ran after the CRI check failed: %v", err)
	}
	if n := strings.Count(out, "Skipping the ImagePull check: the CRI check failed"); n != 1 {
		t.Errorf("skip line printed %d times:\n%s", n, out)
	}
	if got := plan.Actions[0].Summary["skipped"]; len(got.([]string)) != 1 {
		t.Errorf("summary skipped = %v", got)
	}

	// With the runtime there, the dependent check runs.
	f.FCRI = &host.FakeCRI{}
	_, _, out, err = hostStar(t, f, criSock+"r = preflight_check("+checks+")\n")
	if err != nil || strings.Contains(out, "Skipping") {
		t.Fatalf("healthy runtime: out=%q err=%v", out, err)
	}
}

func TestPreflightRequiresNamesEarlierCheck(t *testing.T) {
	_, _, _, err := hostStar(t, host.NewFake(), criSock+`preflight_check([{"kind": "image_pull", "socket": S, "images": ["a:1"], "requires": ["CRl"]}])`)
	if err == nil || !strings.Contains(err.Error(), `checks[0] (ImagePull): requires "CRl", but no earlier check has that name`) {
		t.Fatalf("err = %v", err)
	}
}
