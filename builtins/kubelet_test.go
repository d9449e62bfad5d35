package builtins

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// hostStar runs src with this package's builtins on h and returns the
// globals, the plan and the printed output.
func hostStar(t *testing.T, h host.Host, src string) (starlark.StringDict, *runtime.Plan, string, error) {
	t.Helper()
	env, thread, out := newTestEnv(t, h)
	g, err := execTest(thread, src)
	return g, env.Plan(), out.String(), err
}

func planOps(p *runtime.Plan) []string {
	var out []string
	for _, a := range p.Actions {
		out = append(out, a.Op+" "+a.Target+" "+a.Result)
	}
	return out
}

// liveFake returns a Fake that claims to be the running system, so service
// actions are performed; actions on failUnit fail.
func liveFake(failUnit string) *host.Fake {
	h := host.NewFake()
	h.FLive = true
	h.FServiceErr = func(action, unit string) error {
		if unit == failUnit {
			return errors.New("Unit " + unit + ".service not found.")
		}
		return nil
	}
	return h
}

func TestKubeletRestartLive(t *testing.T) {
	h := liveFake("")
	g, plan, _, err := hostStar(t, h, "r = kubelet_restart()\ns = kubelet_stop()\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"daemon-reload kubelet", "restart kubelet", "stop kubelet"}; !reflect.DeepEqual(h.Services, want) {
		t.Fatalf("services = %v, want %v", h.Services, want)
	}
	want := []string{"service.daemon-reload kubelet performed", "service.restart kubelet performed", "service.stop kubelet performed"}
	if got := planOps(plan); !reflect.DeepEqual(got, want) {
		t.Fatalf("plan = %v", got)
	}
	if s, _ := g["r"].(starlarkStruct).Attr("status"); s != starlark.String("performed") {
		t.Fatalf("status = %v", s)
	}
}

type starlarkStruct interface {
	Attr(string) (starlark.Value, error)
}

func TestKubeletDryRunAndRoot(t *testing.T) {
	f := host.NewFake()
	f.FDryRun = true
	_, plan, out, err := hostStar(t, f, "kubelet_restart()\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Services) != 0 {
		t.Fatalf("dry-run performed %v", f.Services)
	}
	if got := planOps(plan); !reflect.DeepEqual(got, []string{"service.daemon-reload kubelet recorded", "service.restart kubelet recorded"}) {
		t.Fatalf("plan = %v", got)
	}
	if !strings.Contains(out, "recorded service.restart kubelet") {
		t.Fatalf("output = %q", out)
	}

	// --root: the sandbox is not live and not dry-run.
	s, _ := host.NewSandbox(liveFake(""), host.SandboxOptions{Root: t.TempDir()})
	_, plan, _, err = hostStar(t, s, "service('kubelet', 'start')\nq = service('kubelet', 'is-active')\n")
	if err != nil {
		t.Fatal(err)
	}
	a := plan.Actions[0]
	if a.Result != "skipped" || !strings.Contains(a.Summary["reason"].(string), "--root") {
		t.Fatalf("action = %+v", a)
	}
	if plan.Actions[1].Result != "skipped" {
		t.Fatalf("query under --root = %+v", plan.Actions[1])
	}
}

func TestServiceErrors(t *testing.T) {
	h := liveFake("kubelet")
	_, _, _, err := hostStar(t, h, "kubelet_restart()\n")
	if err == nil || !strings.Contains(err.Error(), "daemon-reload kubelet (service manager systemd)") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("err = %v", err)
	}
	// kubelet_stop only warns, like kubeadm.
	g, plan, out, err := hostStar(t, h, "s = kubelet_stop()\n")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := g["s"].(starlarkStruct).Attr("status"); st != starlark.String("failed") || !strings.Contains(out, "[WARNING]") || plan.Actions[0].Result != "failed" {
		t.Fatalf("status=%v out=%q plan=%v", st, out, planOps(plan))
	}
	// Queries return ok instead of failing.
	h.FActiveUnits["containerd"] = true
	g, _, _, err = hostStar(t, h, "a = service('kubelet', 'is-active')\nb = service('containerd', 'is-enabled')\n")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := g["a"].(starlarkStruct).Attr("ok"); ok != starlark.False {
		t.Fatalf("ok = %v", ok)
	}
	if ok, _ := g["b"].(starlarkStruct).Attr("ok"); ok != starlark.True {
		t.Fatalf("ok = %v", ok)
	}
	for src, frag := range map[string]string{
		"service('kubelet', 'reboot')": `unknown service action "reboot"`,
		"service('', 'restart')":       "the unit name is empty",
		"service('kubelet')":           "missing argument for action",
		"kubelet_restart(1)":           "got 1 arguments, want at most 0",
	} {
		if _, _, _, err := hostStar(t, h, src); err == nil || !strings.Contains(err.Error(), frag) {
			t.Errorf("%s: err = %v, want %q", src, err, frag)
		}
	}
}
