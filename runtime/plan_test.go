package runtime

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"go.starlark.net/starlark"
)

// TestRecordNamesBuiltinAndLines: builtin is the bare name, at the line
// that called it (here in the stdlib), recipe_at the operator's line that
// led to it.
func TestRecordNamesBuiltinAndLines(t *testing.T) {
	stdlib := fstest.MapFS{"lib.star": {Data: []byte("def make(p):\n    touch(p)\n")}}
	r := mustRun(t, runFiles(t, map[string]string{"main.star": `load("@stdlib//lib.star", "make")

def mine():
    make("/etc/kubernetes/a")

mine()
touch("/etc/kubernetes/b")
`}, Options{StdlibFS: stdlib}))
	a, b := r.plan.Actions[0], r.plan.Actions[1]
	if a.Builtin != "touch" || a.At != "@stdlib//lib.star:2" || !strings.HasSuffix(a.RecipeAt, "/main.star:4") {
		t.Errorf("stdlib call: builtin=%q at=%q recipe_at=%q", a.Builtin, a.At, a.RecipeAt)
	}
	if !strings.HasSuffix(b.At, "/main.star:7") || b.RecipeAt != b.At {
		t.Errorf("recipe call: at=%q recipe_at=%q", b.At, b.RecipeAt)
	}
	if r.plan.Version != PlanVersion {
		t.Errorf("version = %d", r.plan.Version)
	}
}

// TestWithPrefix: lines inside with_prefix() carry its prefix, lines after
// it the phase's again.
func TestWithPrefix(t *testing.T) {
	r := mustRun(t, runFiles(t, map[string]string{"main.star": `
phases(["wait-control-plane"])
def waits():
    info("Waiting for the kubelet")
    with_prefix("kubelet-check", lambda: [info("The kubelet is healthy"), touch("/x")])
    info("done")
phase("wait-control-plane", waits)
`}, Options{}))
	for _, want := range []string{"[wait-control-plane] Waiting for the kubelet\n", "[kubelet-check] The kubelet is healthy\n",
		"[kubelet-check] created file /x (0644)\n", "[wait-control-plane] done\n"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	r = runFiles(t, map[string]string{"main.star": `with_prefix("[x]", lambda: None)`}, Options{})
	wantErr(t, r.err, `with_prefix: prefix "[x]": give one word without brackets or spaces`)
}

// TestRootLinesSayWhereFilesGo: under --root the printed paths are the
// node's, so the line says they are under the root.
func TestRootLinesSayWhereFilesGo(t *testing.T) {
	r := mustRun(t, runFiles(t, map[string]string{"main.star": `touch("/etc/kubernetes/pki/ca.key")`}, Options{Root: "/tmp/img"}))
	if want := "created file /etc/kubernetes/pki/ca.key (0644, under --root /tmp/img)\n"; !strings.Contains(r.out, want) {
		t.Errorf("output lacks %q:\n%s", want, r.out)
	}
	r = mustRun(t, runFiles(t, map[string]string{"main.star": `touch("/etc/kubernetes/pki/ca.key")`}, Options{}))
	if strings.Contains(r.out, "--root") {
		t.Errorf("--root named without --root:\n%s", r.out)
	}
}

// TestDryRunWouldStop: a dry run that meets what would stop a real run
// plans on to the end, then fails with DryRunStopError and a summary that
// says why, instead of looking successful.
func TestDryRunWouldStop(t *testing.T) {
	reg := testRegistry()
	reg.Add(&Builtin{Name: "check", Signature: "check()", Doc: "a failing check, dry-run style",
		Fn: func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			env, _ := FromThread(thread)
			env.WouldStop("preflight would have failed: CRI")
			return starlark.None, nil
		}})
	r := runFiles(t, map[string]string{"main.star": `
phases(["preflight", "certs"])
phase("preflight", check)
phase("certs", lambda: touch("/etc/kubernetes/pki/ca.crt"))
`}, Options{DryRun: true, Registry: reg})
	var stop *DryRunStopError
	if !errors.As(r.err, &stop) {
		t.Fatalf("err = %v, want a *DryRunStopError", r.err)
	}
	wantErr(t, r.err, "a real run would stop at phase preflight (preflight would have failed: CRI)")
	if len(r.plan.Actions) != 1 || r.plan.WouldStop[0] != (Stop{Phase: "preflight", Reason: "preflight would have failed: CRI"}) {
		t.Errorf("the dry run did not go on, or lost the stop: %+v", r.plan)
	}
	for _, want := range []string{
		"[preflight] dry run: a real run would stop here (preflight would have failed: CRI)",
		"[summary] 1 created\n",
		"[summary] dry run: 1 action planned; preflight would have failed: CRI; a real run would stop at phase preflight\n",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, "run failed") {
		t.Errorf("a dry run that planned everything reads as failed:\n%s", r.out)
	}
}
