package runtime

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// describeRecipe's phase functions and its builtins would fail or write:
// describing it must reach none of them.
const describeRecipe = `
load("m.star", "m")

P = params(
    skip_phases = param([], "phases to skip", flag = "skip-phases"),
    token = param("abcdef.0123456789abcdef", "bootstrap token", secret = True, flag = "token"),
    port = param(6443, "API server port"),
)

phases([
    phase_decl("preflight", "Run pre-flight checks"),
    m.PHASE,
], skip = P.skip_phases)

touch("/after-declarations")
phase("preflight", lambda: refuse("preflight"))
phase("certs", lambda: fail("a phase ran while describing"))
`

const describeModule = `
CERTS = [("ca", "the CA"), ("apiserver", "the API server certificate")]
PHASE = phase_decl("certs", "Certificate generation", children = [phase_decl(n, "Generate " + d) for n, d in CERTS])
m = struct(PHASE = PHASE)
`

func describeFiles(t *testing.T, files map[string]string) (*Description, error) {
	t.Helper()
	dir := writeTree(t, files)
	return Describe(context.Background(), Options{Recipe: filepath.Join(dir, "main.star"), Registry: testRegistry()})
}

func TestDescribe(t *testing.T) {
	d, err := describeFiles(t, map[string]string{"main.star": describeRecipe, "m.star": describeModule})
	if err != nil {
		t.Fatal(err)
	}
	wantPhases := []PhaseInfo{
		{Path: "preflight", Doc: "Run pre-flight checks"},
		{Path: "certs", Doc: "Certificate generation"},
		{Path: "certs/ca", Depth: 1, Doc: "Generate the CA"},
		{Path: "certs/apiserver", Depth: 1, Doc: "Generate the API server certificate"},
	}
	if diff := cmp.Diff(wantPhases, d.Phases); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	wantParams := []ParamInfo{
		{Name: "port", Type: "int", Default: int64(6443), Doc: "API server port"},
		{Name: "skip_phases", Type: "list", Default: []any{}, Doc: "phases to skip", Flag: "skip-phases"},
		{Name: "token", Type: "string", Default: Redacted, Doc: "bootstrap token", Flag: "token", Secret: true},
	}
	if diff := cmp.Diff(wantParams, d.Params); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
	if d.SkipParam != "skip_phases" {
		t.Errorf("SkipParam = %q, want skip_phases", d.SkipParam)
	}
}

// Inputs are not read while describing: a --set of an unknown key, or a
// --skip-phases of an unknown phase, would fail a run, not a description.
func TestDescribeIgnoresInputs(t *testing.T) {
	dir := writeTree(t, map[string]string{"main.star": describeRecipe, "m.star": describeModule})
	_, err := Describe(context.Background(), Options{
		Recipe: filepath.Join(dir, "main.star"), Registry: testRegistry(),
		Set: []string{"nope=1"}, Flags: []FlagValue{{Name: "skip-phases", Values: []string{"bogus"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDescribeStopsAtFirstPhase(t *testing.T) {
	// phases() before params(): describing goes on to params(), and stops
	// at the first phase() at the latest.
	src := `
phases(["a", "b"])
P = params(x = param(1, "x"))
phase("a", lambda: fail("phase a ran"))
`
	d, err := describeFiles(t, map[string]string{"main.star": src})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Phases) != 2 || len(d.Params) != 1 {
		t.Errorf("description: %+v", d)
	}
	d, err = describeFiles(t, map[string]string{"main.star": `phases(["a"])` + "\n" + `phase("a", lambda: fail("phase a ran"))`})
	if err != nil || len(d.Phases) != 1 {
		t.Errorf("description %+v, err %v", d, err)
	}
}

func TestDescribeRefusesBuiltins(t *testing.T) {
	_, err := describeFiles(t, map[string]string{"main.star": `touch("/x")` + "\n" + describeRecipe, "m.star": describeModule})
	wantErr(t, err, "touch: not available while the recipe is described")
	_, err = describeFiles(t, map[string]string{"main.star": describeRecipe + "\nbad(", "m.star": describeModule})
	wantErr(t, err, "main.star:")
	// Declaration errors show up when describing.
	_, err = describeFiles(t, map[string]string{"main.star": `params(a = param(1, "x", flag = "f"), b = param(2, "y", flag = "f"))`})
	wantErr(t, err, `both declare flag = "f"`)
}

func TestPhaseDecl(t *testing.T) {
	src := `
d = phase_decl("certs", "Certificate generation", children = [phase_decl("ca", "the CA"), phase_decl("sa", "keys")])
fork = phase_decl(d.name, d.doc, [c for c in d.children if c.name != "sa"])
phases([fork, "certs/extra"])
phase("certs", lambda: phase("extra", lambda: info("extra ran")))
`
	r := mustRun(t, runFiles(t, map[string]string{"main.star": src}, Options{}))
	if diff := cmp.Diff([]string{"certs", "certs/extra"}, ranPhases(r.plan)); diff != "" {
		t.Errorf("ran (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ src, want string }{
		{`phase_decl("a/b", "x")`, `name "a/b": want one path segment`},
		{`phase_decl("a", " ")`, `"a": doc is empty`},
		{`phase_decl("a", "x", children = ["b"])`, `children[0]: got string, want a phase_decl(...)`},
		{`phases([phase_decl("a", "x"), phase_decl("a", "y")])`, `"a" is declared twice`},
		{`phases([1])`, "[0]: got int, want a phase_decl(...) or a phase path string"},
		{`phases(["a"], skip = "a")`, "skip: got string, want a list of phase paths"},
	} {
		r := runFiles(t, map[string]string{"main.star": tc.src}, Options{})
		wantErr(t, r.err, tc.want)
	}
}
