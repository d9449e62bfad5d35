package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const phasesRecipe = `
P = params(skip_phases = param([], "phases to skip", flag = "skip-phases"))
phases(["preflight", "certs", "certs/ca", "certs/apiserver", "kubeconfig", "kubeconfig/admin"], skip = P.skip_phases)

def certs():
    touch("/certs/begin")
    phase("ca", lambda: touch("/certs/ca"))
    phase("apiserver", lambda: touch("/certs/apiserver"))
    return "certs done"

def kubeconfig():
    phase("admin", lambda: touch("/kubeconfig/admin"))

phase("preflight", lambda: touch("/preflight"))
r = phase("certs", certs)
info("certs returned %r" % r)
phase("kubeconfig", kubeconfig)
`

func ranPhases(p *Plan) []string {
	var out []string
	for _, ph := range p.Phases {
		if ph.Ran {
			out = append(out, ph.Name)
		}
	}
	return out
}

func targets(p *Plan) []string {
	var out []string
	for _, a := range p.Actions {
		out = append(out, a.Phase+" "+a.Target)
	}
	return out
}

func TestPhaseSelection(t *testing.T) {
	for _, tc := range []struct {
		name          string
		phases, skips []string
		wantRan       []string
		wantTargets   []string
	}{
		{
			name:    "all",
			wantRan: []string{"preflight", "certs", "certs/ca", "certs/apiserver", "kubeconfig", "kubeconfig/admin"},
			wantTargets: []string{"preflight /preflight", "certs /certs/begin", "certs/ca /certs/ca",
				"certs/apiserver /certs/apiserver", "kubeconfig/admin /kubeconfig/admin"},
		},
		{
			name:        "select child: ancestor runs, siblings do not",
			phases:      []string{"certs/ca"},
			wantRan:     []string{"certs", "certs/ca"},
			wantTargets: []string{"certs /certs/begin", "certs/ca /certs/ca"},
		},
		{
			name:        "select parent: all children",
			phases:      []string{"certs"},
			wantRan:     []string{"certs", "certs/ca", "certs/apiserver"},
			wantTargets: []string{"certs /certs/begin", "certs/ca /certs/ca", "certs/apiserver /certs/apiserver"},
		},
		{
			name:        "skip parent removes children",
			skips:       []string{"certs", "preflight"},
			wantRan:     []string{"kubeconfig", "kubeconfig/admin"},
			wantTargets: []string{"kubeconfig/admin /kubeconfig/admin"},
		},
		{
			name:        "select and skip",
			phases:      []string{"certs"},
			skips:       []string{"certs/apiserver"},
			wantRan:     []string{"certs", "certs/ca"},
			wantTargets: []string{"certs /certs/begin", "certs/ca /certs/ca"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRun(t, runFiles(t, map[string]string{"main.star": phasesRecipe}, Options{Phases: tc.phases, Flags: skipFlag(tc.skips...), Verbose: 1}))
			if d := cmp.Diff(tc.wantRan, ranPhases(r.plan)); d != "" {
				t.Errorf("ran phases (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantTargets, targets(r.plan)); d != "" {
				t.Errorf("actions (-want +got):\n%s", d)
			}
		})
	}
}

func TestPhaseReturnsResultOrNone(t *testing.T) {
	r := mustRun(t, runFiles(t, map[string]string{"main.star": phasesRecipe}, Options{}))
	if !strings.Contains(r.out, `[kubelark] certs returned "certs done"`) {
		t.Errorf("output:\n%s", r.out)
	}
	r = mustRun(t, runFiles(t, map[string]string{"main.star": phasesRecipe}, Options{Flags: skipFlag("certs"), Verbose: 1}))
	if !strings.Contains(r.out, "certs returned None") || !strings.Contains(r.out, "[phase] certs: skipped by --skip-phases certs") {
		t.Errorf("output:\n%s", r.out)
	}
}

func TestPhaseLinePrefix(t *testing.T) {
	r := mustRun(t, runFiles(t, map[string]string{"main.star": phasesRecipe}, Options{}))
	if !strings.Contains(r.out, "[certs] created file /certs/ca (0644)") {
		t.Errorf("action lines are not prefixed by the top phase:\n%s", r.out)
	}
	if strings.Contains(r.out, "[phase]") {
		t.Errorf("[phase] lines printed without -v:\n%s", r.out)
	}
}

func TestPhaseUnknownFlags(t *testing.T) {
	src := `touch("/before")` + "\n" + phasesRecipe
	for _, tc := range []struct {
		opts Options
		want []string
	}{
		{Options{Phases: []string{"cert"}}, []string{`--phases cert: unknown phase (did you mean "certs"?)`, "has phases: preflight, certs, certs/ca"}},
		{Options{Flags: skipFlag("certs/sa")}, []string{"--skip-phases certs/sa: unknown phase"}},
	} {
		r := runFiles(t, map[string]string{"main.star": src}, tc.opts)
		wantErr(t, r.err, tc.want...)
		if strings.Contains(r.err.Error(), "Traceback") {
			t.Errorf("an input error carries a recipe backtrace: %v", r.err)
		}
		if len(r.plan.Actions) != 1 {
			t.Errorf("the error came after work began: %v", targets(r.plan))
		}
	}
}

// skipFlag is --skip-phases with the given phases, as cmd/kubelark passes it.
func skipFlag(names ...string) []FlagValue {
	if len(names) == 0 {
		return nil
	}
	return []FlagValue{{Name: "skip-phases", Values: []string{strings.Join(names, ",")}}}
}

func TestSkipPhasesParam(t *testing.T) {
	src := phasesRecipe
	r := mustRun(t, runFiles(t, map[string]string{"main.star": src}, Options{Set: []string{"skip_phases=certs,kubeconfig"}}))
	if d := cmp.Diff([]string{"preflight"}, ranPhases(r.plan)); d != "" {
		t.Errorf("ran (-want +got):\n%s", d)
	}
	// The flag overrides the lower layers (--config, --values), as kubeadm's
	// overrides skipPhases: it is the same layer as --set.
	values := filepath.Join(t.TempDir(), "v.yaml")
	if err := os.WriteFile(values, []byte("skip_phases: [certs]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = mustRun(t, runFiles(t, map[string]string{"main.star": src}, Options{ValuesFile: values, Flags: skipFlag("preflight")}))
	if d := cmp.Diff([]string{"certs", "certs/ca", "certs/apiserver", "kubeconfig", "kubeconfig/admin"}, ranPhases(r.plan)); d != "" {
		t.Errorf("ran (-want +got):\n%s", d)
	}
	r = runFiles(t, map[string]string{"main.star": src}, Options{Set: []string{"skip_phases=bogus"}})
	wantErr(t, r.err, "parameter skip_phases bogus: unknown phase")
	// A skip list the recipe computes is named by the call.
	r = runFiles(t, map[string]string{"main.star": `phases(["a"], skip = ["b"])`}, Options{})
	wantErr(t, r.err, "phases(skip=...) b: unknown phase")
}

func TestPhaseDeclarationErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`phase("x", lambda: None)`, "no phases declared"},
		{`phases(["a"])` + "\n" + `phase("b", lambda: None)`, `"b" is not a declared phase`},
		{`phases(["a/b", "a"])`, `"a/b" comes before its parent "a"`},
		{`phases(["a", "a"])`, `"a" is declared twice`},
		{`phases(["a/"])`, "is not a phase path"},
		{`phases(["a"])` + "\n" + `phases(["a"])`, "called twice"},
		{`phases(["certs", "certs/ca"])` + "\n" + `phase("certs", lambda: phase("cs", lambda: 1))`, `"certs/cs" is not a declared phase (did you mean "certs/ca"?)`},
	} {
		r := runFiles(t, map[string]string{"main.star": tc.src}, Options{})
		wantErr(t, r.err, tc.want)
	}
}
