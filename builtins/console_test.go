package builtins

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubelark/kubelark/runtime/host"
)

func TestConfirm(t *testing.T) {
	h := host.NewFake()
	h.FConsole = &host.FakeConsole{Answers: []string{"y", " YES ", "yes please", "", "n"}}
	run := mustExecStar(t, h, `
q = "Are you sure you want to proceed?"
got = [confirm(q) for i in range(6)]
`)
	if s := run.globals["got"].String(); s != "[True, True, False, False, False, False]" {
		t.Errorf("answers = %s", s)
	}
	if diff := cmp.Diff("Are you sure you want to proceed? [y/N]: ", h.FConsole.Asked[0]); diff != "" {
		t.Errorf("prompt (-want +got):\n%s", diff)
	}
	if len(run.env.Plan().Actions) != 0 {
		t.Errorf("confirm recorded actions: %v", ops(run.env))
	}
}

func TestConfirmRefusals(t *testing.T) {
	h := host.NewFake()
	wantErr(t, h, `confirm("Reset this node?", hint = "pass --force to reset without a prompt")`,
		`confirm: stdin is not a terminal, so nobody can answer "Reset this node?"; pass --force to reset without a prompt`)
	h.FConsole = &host.FakeConsole{NoTTY: true}
	msg := wantErr(t, h, `confirm("Reset this node?")`, `nobody can answer "Reset this node?"`)
	if msg != `confirm: stdin is not a terminal, so nobody can answer "Reset this node?"` {
		t.Errorf("without a hint: %q", msg)
	}
	h.FConsole = &host.FakeConsole{Answers: []string{"y"}}
	wantErr(t, h, `confirm("")`, "question is empty")
	wantErr(t, h, `confirm("a\nb")`, "newline")
	wantErr(t, h, `confirm(1)`, "confirm", "question")
	d, err := host.NewSandbox(host.NewDryRun(h), host.SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, d, `confirm("Reset?", hint = "pass --force")`, "a dry run asks nobody", "; pass --force")
	if len(h.FConsole.Asked) != 0 {
		t.Errorf("a refused call asked: %q", h.FConsole.Asked)
	}
}
