package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"go.starlark.net/starlark"

	"github.com/google/go-cmp/cmp"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// testApp is the real app with the host swapped for the in-memory fake
// (the live host is the lead's to wire) and a registry holding one
// documented builtin.
func testApp(t *testing.T) (*app, *bytes.Buffer, *bytes.Buffer, *[]hostOptions) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := newApp(&stdout, &stderr)
	// A tiny fixture recipe tree keeps these CLI tests independent of the
	// real recipes (tested in recipes/).
	a.recipes = os.DirFS("testdata/recipes")
	a.stdlib = os.DirFS("testdata/stdlib")
	var seen []hostOptions
	a.newHost = func(o hostOptions) (host.Host, error) {
		seen = append(seen, o)
		f := host.NewFake()
		f.FDryRun = o.DryRun
		return f, nil
	}
	a.registry = func() *runtime.Registry {
		r := runtime.NewRegistry()
		r.Add(&runtime.Builtin{
			Name: "net.is_ip", Signature: "net.is_ip(s)", Doc: "Reports whether s is an IP address.",
			Args:   []runtime.Arg{{Name: "s", Type: "string", Doc: "text | to test"}},
			DryRun: "pure",
			Fn: func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
				return starlark.True, nil
			},
		})
		return r
	}
	return a, &stdout, &stderr, &seen
}

func TestBuiltinsCommand(t *testing.T) {
	a, stdout, _, _ := testApp(t)
	if code := execute(context.Background(), a, []string{"builtins"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Recipe API (runtime)", `param(default, doc, type=None, choices=None, secret=False, flag="", merge=False)`, "phase_decl(name, doc, children=[])", "yaml.decode_all(s)",
		"Builtins\n========", "net.is_ip(s)", "      s (string): text | to test", "    Dry run: pure"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("text reference lacks %q", want)
		}
	}

	a, stdout, _, _ = testApp(t)
	if code := execute(context.Background(), a, []string{"builtins", "--format", "markdown", "net"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	md := stdout.String()
	if !strings.Contains(md, "### `net.is_ip`") || !strings.Contains(md, `| `+"`s`"+` | string | text \| to test |`) || strings.Contains(md, "`param`") {
		t.Errorf("markdown:\n%s", md)
	}

	a, _, stderr, _ := testApp(t)
	if code := execute(context.Background(), a, []string{"builtins", "nosuch"}); code != 1 || !strings.Contains(stderr.String(), `no builtin named "nosuch"`) {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
}

func TestBuiltinsRealRegistry(t *testing.T) {
	// Whatever families are linked in, the reference must render and every
	// entry must be documented (Registry.Add enforces Signature and Doc).
	var stdout, stderr bytes.Buffer
	if code := execute(context.Background(), newApp(&stdout, &stderr), []string{"builtins", "--format", "markdown"}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

func TestRecipesCommands(t *testing.T) {
	a, stdout, _, _ := testApp(t)
	if code := execute(context.Background(), a, []string{"recipes", "list"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stdout.String(), "hello") {
		t.Errorf("list:\n%s", stdout)
	}

	a, stdout, _, _ = testApp(t)
	a.recipes = fstest.MapFS{
		"init.star":          {Data: []byte("\"\"\"kubeadm init, as a recipe.\n\nMore.\"\"\"\nx = 1\n")},
		"examples/site.star": {Data: []byte("# A site fork.\nx = 1\n")},
	}
	if code := execute(context.Background(), a, []string{"recipes", "list"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	want := "examples/site  A site fork.\ninit           kubeadm init, as a recipe.\n"
	if stdout.String() != want {
		t.Errorf("list:\n%q\nwant\n%q", stdout, want)
	}

	a, stdout, _, _ = testApp(t)
	if code := execute(context.Background(), a, []string{"recipes", "show", "hello"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stdout.String(), `phases([phase_decl("greet"`) {
		t.Errorf("show:\n%s", stdout)
	}
	a, stdout, _, _ = testApp(t)
	if code := execute(context.Background(), a, []string{"recipes", "show", "@stdlib//greeting.star"}); code != 0 || !strings.Contains(stdout.String(), "def greeting") {
		t.Errorf("show stdlib: exit %d\n%s", code, stdout)
	}
	a, _, stderr, _ := testApp(t)
	if code := execute(context.Background(), a, []string{"recipes", "show", "nope"}); code != 1 || !strings.Contains(stderr.String(), `no embedded recipe "nope" (embedded: hello)`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestRecipesExport(t *testing.T) {
	dir := t.TempDir()
	a, stdout, _, _ := testApp(t)
	if code := execute(context.Background(), a, []string{"recipes", "export", dir, "--with-stdlib"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"hello.star", "stdlib/greeting.star"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not exported: %v\n%s", f, err, stdout)
		}
	}
	// Refused without --force, and nothing is half-written.
	if err := os.WriteFile(filepath.Join(dir, "hello.star"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _, stderr, _ := testApp(t)
	if code := execute(context.Background(), a, []string{"recipes", "export", dir}); code != 1 || !strings.Contains(stderr.String(), "use --force to overwrite") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "hello.star")); string(b) != "mine" {
		t.Errorf("existing file overwritten without --force")
	}
	a, _, _, _ = testApp(t)
	if code := execute(context.Background(), a, []string{"recipes", "export", dir, "--force"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "hello.star")); string(b) == "mine" {
		t.Errorf("--force did not overwrite")
	}

	// The exported fork runs from disk with the exported stdlib.
	a, stdout, stderr, _ = testApp(t)
	if code := execute(context.Background(), a, []string{"run", filepath.Join(dir, "hello.star"), "--stdlib", filepath.Join(dir, "stdlib"), "--set", "name=fork"}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout.String(), "[greet] hello, fork") {
		t.Errorf("output:\n%s", stdout)
	}
}

func TestRunDryRun(t *testing.T) {
	a, stdout, stderr, seen := testApp(t)
	planFile := filepath.Join(t.TempDir(), "plan.json")
	code := execute(context.Background(), a, []string{"run", "hello", "--dry-run", "--set", "name=kubelark", "--plan", planFile, "-v",
		"--root", "/tmp/r", "--service-command", "svc {action} {unit}"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"[phase] greet", "[greet] hello, kubelark", "[summary] no actions", "[summary] dry run"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if got := (*seen)[0]; !got.DryRun || got.Root != "/tmp/r" || got.ServiceCommand != "svc {action} {unit}" {
		t.Errorf("host options %+v", got)
	}
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	var p runtime.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	if p.Recipe != "hello" || !p.DryRun || p.Params["name"] != "kubelark" || len(p.Phases) != 1 || !p.Phases[0].Ran {
		t.Errorf("plan %+v", p)
	}
}

func TestRunJSONOutput(t *testing.T) {
	a, stdout, stderr, _ := testApp(t)
	if code := execute(context.Background(), a, []string{"run", "hello", "--dry-run", "-o", "json"}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var p runtime.Plan
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
		t.Fatalf("stdout is not the plan JSON: %v\n%s", err, stdout)
	}
	if !strings.Contains(stderr.String(), "[greet] hello, world") {
		t.Errorf("progress not on stderr:\n%s", stderr)
	}
}

func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "requires at least 1 arg(s), only received 0"},
		{[]string{"run", "hello", "--bogus"}, "unknown flag: --bogus\nRun 'kubelark run --help' for usage."},
		{[]string{"run", "hello", "-o", "yaml"}, "-o yaml: unknown output format"},
		{[]string{"run", "hello", "--set", "nmae=x"}, `unknown parameter "nmae" (did you mean "name"?)`},
		{[]string{"run", "hello", "--phases", "gret"}, `--phases gret: unknown phase (did you mean "greet"?)`},
		{[]string{"run", "hello", "--ignore-preflight-errors", "all"}, "unknown flag: --ignore-preflight-errors"},
		{[]string{"run", "hello", "--skip-phases", "gret"}, `--skip-phases gret: unknown phase (did you mean "greet"?)`},
		{[]string{"run", "hello", "--name", "a", "--set", "name=b"}, "--name and --set name=... both set parameter name; give it once"},
		// Arguments after the recipe are its positional parameters; hello has none.
		{[]string{"hello", "extra"}, `recipe hello takes no arguments after its name, got "extra"`},
		{[]string{"run", "hello", "--config", "/nonexistent/c.yaml"}, "--config /nonexistent/c.yaml: open /nonexistent/c.yaml: no such file"},
		{[]string{"run", "nosuch"}, `recipe "nosuch": no such file, and no embedded recipe of that name (embedded: hello)`},
		{[]string{"run", "hello", "--max-steps", "10"}, "exceeded 10 Starlark execution steps"},
		{[]string{"version", "extra"}, "unknown command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	} {
		a, _, stderr, _ := testApp(t)
		if code := execute(context.Background(), a, tc.args); code != 1 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr:\n%s\nwant %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestRunRealHostDryRun goes through newHost (live host, dry-run overlay,
// sandbox) rather than an injected fake.
func TestRunRealHostDryRun(t *testing.T) {
	var stdout, stderr bytes.Buffer
	a := newApp(&stdout, &stderr)
	args := []string{"run", "init", "--dry-run", "--root", t.TempDir(), "--ignore-preflight-errors", "all", "--set", "node_name=node1", "--set", "advertise_address=10.0.0.10"}
	if code := execute(context.Background(), a, args); code != 0 || !strings.Contains(stdout.String(), "dry run") {
		t.Errorf("exit %d: stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}

func TestVersion(t *testing.T) {
	a, stdout, _, _ := testApp(t)
	if code := execute(context.Background(), a, []string{"version"}); code != 0 || !strings.HasPrefix(stdout.String(), "kubelark ") {
		t.Errorf("exit %d: %s", code, stdout)
	}
}

func TestCompletion(t *testing.T) {
	a, stdout, _, _ := testApp(t)
	if code := execute(context.Background(), a, []string{"completion", "bash"}); code != 0 || !strings.Contains(stdout.String(), "bash completion") {
		t.Errorf("exit %d: %.200s", code, stdout)
	}
}

func TestRunConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nclusterName: prod\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _, stderr, _ := testApp(t)
	code := execute(context.Background(), a, []string{"run", "hello", "--dry-run", "--config", cfg})
	// hello's params() names no config mapping: the config cannot apply.
	if code != 1 || !strings.Contains(stderr.String(), "--config "+cfg+": recipe hello does not read kubeadm configs") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if err := os.WriteFile(cfg, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nclusterNmae: prod\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _, stderr, _ = testApp(t)
	if code := execute(context.Background(), a, []string{"run", "hello", "--config", cfg}); code != 1 || !strings.Contains(stderr.String(), "clusterNmae") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestVerbosityLevels(t *testing.T) {
	for _, args := range [][]string{{"-vv"}, {"-v=2"}, {"-v", "-v"}, {"--verbose=2"}} {
		a, stdout, stderr, _ := testApp(t)
		if code := execute(context.Background(), a, append([]string{"run", "hello", "--dry-run"}, args...)); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		if !strings.Contains(stdout.String(), "[phase] greet done in") {
			t.Errorf("%v: no -v 2 timing line:\n%s", args, stdout)
		}
	}
}

func TestRecipeFlags(t *testing.T) {
	// A recipe flag is --set of its parameter; the alias runs the same.
	for _, args := range [][]string{
		{"run", "hello", "--name", "flag", "--dry-run"},
		{"run", "--name", "flag", "hello", "--dry-run"},
		{"run", "--dry-run", "-o", "text", "hello", "--name=flag"},
		{"hello", "--name", "flag", "--dry-run"},
	} {
		a, stdout, stderr, _ := testApp(t)
		if code := execute(context.Background(), a, args); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		if !strings.Contains(stdout.String(), "[greet] hello, flag") {
			t.Errorf("%v: output:\n%s", args, stdout)
		}
	}
	a, stdout, stderr, _ := testApp(t)
	if code := execute(context.Background(), a, []string{"hello", "--skip-phases", "greet", "-v"}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout.String(), "[phase] greet: skipped by --skip-phases greet") {
		t.Errorf("output:\n%s", stdout)
	}
}

func TestRecipeFlagCollision(t *testing.T) {
	dir := t.TempDir()
	recipe := filepath.Join(dir, "bad.star")
	if err := os.WriteFile(recipe, []byte(`P = params(dry = param(False, "Pretend.", flag = "dry-run"))`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _, stderr, _ := testApp(t)
	code := execute(context.Background(), a, []string{"run", recipe})
	want := `parameter dry declares flag = "dry-run", which is a built-in flag of 'kubelark run'; give the parameter another flag`
	if code != 1 || !strings.Contains(stderr.String(), want) {
		t.Errorf("exit %d: %s\nwant %q", code, stderr, want)
	}
	a, _, stderr, _ = testApp(t)
	if code := execute(context.Background(), a, []string{"phases", recipe}); code != 1 || !strings.Contains(stderr.String(), want) {
		t.Errorf("phases: exit %d: %s\nwant %q", code, stderr, want)
	}
	// A recipe that cannot be read: its flags are unknown, and the error says why.
	if err := os.WriteFile(recipe, []byte("P = params(\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _, stderr, _ = testApp(t)
	code = execute(context.Background(), a, []string{"run", recipe, "--name", "x"})
	if code != 1 || !strings.Contains(stderr.String(), "unknown flag: --name (the recipe's own flags are unknown because it could not be read:") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestAliases(t *testing.T) {
	a, stdout, _, _ := testApp(t)
	a.recipes = fstest.MapFS{
		"init.star":          {Data: []byte("\"\"\"kubeadm init, as a recipe.\"\"\"\ninfo(\"init ran\")\n")},
		"run.star":           {Data: []byte("info(\"shadowed by the run command\")\n")},
		"examples/site.star": {Data: []byte("info(\"nested recipes get no alias\")\n")},
	}
	if code := execute(context.Background(), a, []string{"--help"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	help := stdout.String()
	if !strings.Contains(help, "Embedded recipes (each the same as 'kubelark run NAME'):\n  init        kubeadm init, as a recipe (= kubelark run init)") || strings.Contains(help, "site") {
		t.Errorf("help:\n%s", help)
	}
	a2, stdout, stderr, _ := testApp(t)
	a2.recipes = a.recipes
	if code := execute(context.Background(), a2, []string{"init", "--dry-run"}); code != 0 || !strings.Contains(stdout.String(), "init ran") {
		t.Errorf("exit %d: %s%s", code, stdout, stderr)
	}
}

func TestPhasesCommand(t *testing.T) {
	a, stdout, stderr, _ := testApp(t)
	if code := execute(context.Background(), a, []string{"phases", "hello"}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := `Phases of hello (run some with --phases, skip with --skip-phases):

  greet  Print the greeting

Parameters of hello (--set NAME=VALUE or the flag; --config and --values set them too):

  name (string, default "world", flag --name)
      Who to greet.
  skip_phases (list, default [], flag --skip-phases)
      Phases to skip.
`
	if d := cmp.Diff(want, stdout.String()); d != "" {
		t.Errorf("phases hello (-want +got):\n%s", d)
	}
	// The same text is in the recipe's --help, with its flags.
	a, stdout, _, _ = testApp(t)
	if code := execute(context.Background(), a, []string{"run", "hello", "--help"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"  greet  Print the greeting", "--name string", "Who to greet (parameter name)", `(default "world")`} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("run hello --help lacks %q:\n%s", w, stdout)
		}
	}
	a, stdout, _, _ = testApp(t)
	if code := execute(context.Background(), a, []string{"run", "--help", "hello"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"  greet  Print the greeting", "--name string"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("run hello --help lacks %q:\n%s", w, stdout)
		}
	}
}

// Listing a recipe runs none of its phases: this one would fail in its
// first phase and write in its second.
func TestPhasesCommandRunsNothing(t *testing.T) {
	dir := t.TempDir()
	recipe := filepath.Join(dir, "r.star")
	src := `P = params(x = param(1, "x", flag = "x"))
phases([phase_decl("a", "fails"), phase_decl("b", "calls a builtin")])
phase("a", lambda: fail("phase a ran"))
phase("b", lambda: net.is_ip("10.0.0.1"))
`
	if err := os.WriteFile(recipe, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	a, stdout, stderr, seen := testApp(t)
	if code := execute(context.Background(), a, []string{"phases", recipe}); code != 0 || !strings.Contains(stdout.String(), "  a  fails\n  b  calls a builtin") {
		t.Errorf("exit %d: %s%s", code, stdout, stderr)
	}
	if len(*seen) != 0 {
		t.Errorf("a host was built: %+v", *seen)
	}
	a, stdout, stderr, _ = testApp(t)
	if code := execute(context.Background(), a, []string{"run", recipe, "--help"}); code != 0 || !strings.Contains(stdout.String(), "--x int") {
		t.Errorf("exit %d: %s%s", code, stdout, stderr)
	}
}

func TestCompletePhases(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{cobraComplete, "run", "hello", "--phases", ""}, "greet\tPrint the greeting\n"},
		{[]string{cobraComplete, "hello", "--skip-phases", "gr"}, "greet\tPrint the greeting\n"},
		{[]string{cobraComplete, "hello", "--phases", "greet,g"}, "greet,greet\tPrint the greeting\n"},
		{[]string{cobraComplete, "hello", "--na"}, "--name\tWho to greet (parameter name)\n"},
		{[]string{cobraComplete, "run", "hel"}, "hello\n"},
	} {
		a, stdout, stderr, _ := testApp(t)
		if code := execute(context.Background(), a, tc.args); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		if !strings.HasPrefix(stdout.String(), tc.want) {
			t.Errorf("%v: completions:\n%s\nwant prefix %q", tc.args, stdout, tc.want)
		}
	}
}

const cobraComplete = "__complete"
