package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/kubelark/kubelark/runtime/host"
)

var backtraceFiles = map[string]string{
	"main.star": `load("lib.star", "setup")

def step():
    setup("certs")

step()
`,
	"lib.star": `
def setup(what):
    refuse(what)
`,
}

// TestErrorMessageFirst: an error leads with the failing builtin's message
// and says where; the backtrace is for -v.
func TestErrorMessageFirst(t *testing.T) {
	r := runFiles(t, backtraceFiles, Options{})
	if !strings.HasPrefix(r.err.Error(), `refuse: "certs" is not allowed; do something else`+"\n") {
		t.Errorf("error does not lead with the message:\n%v", r.err)
	}
	wantErr(t, r.err, "lib.star:3:11 in setup (run with -v for the Starlark backtrace)")
	if strings.Contains(r.err.Error(), "main.star:6:5") {
		t.Errorf("backtrace shown without -v:\n%v", r.err)
	}
	var re *RecipeError
	if !errors.As(r.err, &re) {
		t.Fatalf("error %T is not a *RecipeError", r.err)
	}
}

func TestErrorBacktraceVerbose(t *testing.T) {
	r := runFiles(t, backtraceFiles, Options{Verbose: 1})
	if !strings.HasPrefix(r.err.Error(), `refuse: "certs" is not allowed; do something else`+"\nStarlark backtrace (most recent call last):\n") {
		t.Errorf("error does not lead with the message:\n%v", r.err)
	}
	wantErr(t, r.err, "main.star:6:5: in <toplevel>", "main.star:4:10: in step", "lib.star:3:11: in setup")
}

// TestErrorWhereNamesTheRecipeLine: a failure deep in the stdlib names the
// stdlib line and the operator's own line that led to it.
func TestErrorWhereNamesTheRecipeLine(t *testing.T) {
	pos := func(file string, line int32) syntax.Position { return syntax.MakePosition(&file, line, 3) }
	stack := starlark.CallStack{
		{Name: "<toplevel>", Pos: pos("init.star", 130)},
		{Name: "run", Pos: pos("@stdlib//pki.star", 140)},
		{Name: "ensure", Pos: pos("@stdlib//pki.star", 114)},
		{Name: "gen_cert", Pos: syntax.MakePosition(nil, 0, 0)},
	}
	if got, want := where(stack), "at @stdlib//pki.star:114:3 in ensure, from init.star:130:3 in <toplevel>"; got != want {
		t.Errorf("where = %q, want %q", got, want)
	}
}

// TestErrorFailMessage: fail() messages are the stdlib's words to the
// operator, shown without the "fail: " prefix.
func TestErrorFailMessage(t *testing.T) {
	r := runFiles(t, map[string]string{"main.star": "def f():\n    fail(\"admin.conf does not exist; run the kubeconfig phase first\")\nf()\n"}, Options{})
	if !strings.HasPrefix(r.err.Error(), "admin.conf does not exist; run the kubeconfig phase first\nat ") {
		t.Errorf("error:\n%v", r.err)
	}
}

func TestErrorInLoadedModuleTopLevel(t *testing.T) {
	r := runFiles(t, map[string]string{
		"main.star": "x = 1\nload(\"lib.star\", \"y\")\n",
		"lib.star":  "y = 1 // 0\n",
	}, Options{Verbose: 1})
	wantErr(t, r.err, "main.star:2:1: in <toplevel>", "lib.star:1:7: in <toplevel>", "floored division by zero")
}

func TestCompileErrors(t *testing.T) {
	r := runFiles(t, map[string]string{"main.star": "x = undefined_name\ny = other\n"}, Options{})
	wantErr(t, r.err, "main.star:1:5: undefined: undefined_name", "main.star:2:5: undefined: other")
	r = runFiles(t, map[string]string{"main.star": "def f(:\n"}, Options{})
	wantErr(t, r.err, "main.star:1:8: syntax error")
	// The strict dialect: no while, no recursion, no global reassignment.
	r = runFiles(t, map[string]string{"main.star": "x = 1\nx = 2\n"}, Options{})
	wantErr(t, r.err, "cannot reassign global x")
	r = runFiles(t, map[string]string{"main.star": "def f():\n    while True:\n        pass\n"}, Options{})
	wantErr(t, r.err, "does not support while loops", "loop over data")
	r = runFiles(t, map[string]string{"main.star": "def f(n):\n    return f(n)\nf(1)\n"}, Options{})
	wantErr(t, r.err, "called recursively", "recursion is off")
}

func TestPanicRecovered(t *testing.T) {
	r := runFiles(t, map[string]string{"main.star": "def f():\n    boom()\nf()\n"}, Options{})
	wantErr(t, r.err, "main.star:2:9 in f", "boom: internal error: assignment to entry in nil map", "kubelark bug")
	if strings.Contains(r.err.Error(), "goroutine") {
		t.Errorf("Go stack shown below -v 2: %v", r.err)
	}
}

func TestStepLimit(t *testing.T) {
	r := runFiles(t, map[string]string{"main.star": "def f():\n    for i in range(1000000):\n        pass\nf()\n"}, Options{MaxSteps: 10000})
	wantErr(t, r.err, "exceeded 10000 Starlark execution steps", "main.star:")
	r = mustRun(t, runFiles(t, map[string]string{"main.star": "def f():\n    for i in range(1000):\n        pass\nf()\n"}, Options{MaxSteps: 10000}))
}

func TestCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := testRegistry()
	reg.Add(&Builtin{Name: "interrupt", Signature: "interrupt()", Doc: "cancels the run's context",
		Fn: func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			cancel()
			time.Sleep(10 * time.Millisecond) // let the watcher observe Done
			return starlark.None, nil
		}})
	dir := writeTree(t, map[string]string{"main.star": `
def spin():
    for i in range(100000000):
        pass
interrupt()
spin()
`})
	start := time.Now()
	r := runIn(t, ctx, filepath.Join(dir, "main.star"), Options{Registry: reg})
	wantErr(t, r.err, "interrupted: context canceled")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancellation took %v", d)
	}
	// A context done before the start stops the run at once.
	r = runIn(t, ctx, filepath.Join(dir, "main.star"), Options{Registry: reg})
	wantErr(t, r.err, "interrupted before the recipe started")
}

func TestPlanOutputsRedacted(t *testing.T) {
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.json")
	var jsonOut bytes.Buffer
	r := mustRun(t, runFiles(t, map[string]string{"main.star": `
s = secret("abcdef.0123456789abcdef")
touch("/etc/kubernetes/" + s)
output("kubeadm join --token " + s)
warn("careful")
`}, Options{PlanFile: planFile, JSON: &jsonOut, DryRun: true}))
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, jsonOut.Bytes()) {
		t.Errorf("--plan and -o json differ")
	}
	for _, text := range []string{string(data), r.out} {
		if strings.Contains(text, "0123456789abcdef") {
			t.Errorf("secret leaked:\n%s", text)
		}
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	if p.Actions[0].Target != "/etc/kubernetes/<redacted>" || p.Output[0] != "kubeadm join --token <redacted>" || !p.DryRun {
		t.Errorf("plan: %+v", p)
	}
	for _, want := range []string{"[summary] 1 created; 1 warning", "[summary] dry run: 1 action planned; nothing on this machine was changed"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
}

func TestPlanWrittenOnFailure(t *testing.T) {
	planFile := filepath.Join(t.TempDir(), "plan.json")
	r := runFiles(t, map[string]string{"main.star": "touch(\"/a\")\nrefuse(\"b\")\n"}, Options{PlanFile: planFile})
	wantErr(t, r.err, "refuse")
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"target": "/a"`) || !strings.Contains(r.out, "[summary] run failed after: 1 created") {
		t.Errorf("plan:\n%s\noutput:\n%s", data, r.out)
	}
}

func TestRunStructAndPredeclared(t *testing.T) {
	r := mustRun(t, runFiles(t, map[string]string{"main.star": `
info("dry=%r live=%r root=%r" % (run.dry_run, run.live, run.root))
info("double=%d" % net.double(21))
s = struct(a = 1)
info(json.encode({"b": [s.a, True]}))
`}, Options{DryRun: true, Root: "/tmp/r"}))
	for _, want := range []string{`dry=True live=False root="/tmp/r"`, "double=42", `{"b":[1,true]}`} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
}

func TestPredeclaredClash(t *testing.T) {
	reg := NewRegistry()
	noop := func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return starlark.None, nil
	}
	reg.Add(&Builtin{Name: "info", Signature: "info()", Doc: "clash", Fn: noop})
	if _, err := predeclared(reg, runInfo{}); err == nil || !strings.Contains(err.Error(), `"info" is defined by both the runtime and the registry`) {
		t.Errorf("err = %v", err)
	}
	reg = NewRegistry()
	reg.Add(&Builtin{Name: "yaml.extra", Signature: "yaml.extra()", Doc: "joins the yaml module", Fn: noop})
	reg.Add(&Builtin{Name: "len", Signature: "len()", Doc: "hides a universal", Fn: noop})
	if _, err := predeclared(reg, runInfo{}); err == nil || !strings.Contains(err.Error(), `"len" would hide`) {
		t.Errorf("err = %v", err)
	}
	r := runIn(t, context.Background(), "x", Options{Registry: reg, RecipeFS: fstest.MapFS{"x.star": {Data: []byte("")}}})
	wantErr(t, r.err, "would hide")
}

func TestPredeclaredForBuiltinTests(t *testing.T) {
	// The helper builtin authors use: an Env-only thread, no run.
	var buf bytes.Buffer
	thread := &starlark.Thread{}
	NewEnv(context.Background(), host.NewFake(), nil, &buf).Attach(thread)
	_, err := starlark.ExecFileOptions(fileOptions, thread, "t.star", `info(yaml.encode({"b": 1, "a": [1]}))`+"\nparams()\n", Predeclared(testRegistry()))
	wantErr(t, err, "params: only available in a recipe executed by `kubelark run`")
	if !strings.Contains(buf.String(), "a:\n- 1\nb: 1") {
		t.Errorf("output:\n%s", buf.String())
	}
}
