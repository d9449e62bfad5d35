package builtins

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// The console family: reset asks the operator before it tears a node
// down, as kubeadm reset does ("Are you sure you want to proceed? [y/N]").
// Whether to ask (--force, dry run) is the recipe's decision; the builtin
// asks, and refuses when nobody can answer.

func init() { families = append(families, registerConsole) }

func registerConsole(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "confirm",
		Signature: `confirm(question, hint="")`,
		Doc: "Asks question on the terminal of the run (\"<question> [y/N]: \") and returns True for y or yes (any case), False for anything else, an empty line or end of input.\n" +
			"When stdin is not a terminal it fails: nobody can answer; hint says what to do instead (e.g. \"pass --force to reset without a prompt\").",
		Args: []runtime.Arg{
			{Name: "question", Type: "string", Doc: "the question, e.g. \"Are you sure you want to proceed?\""},
			{Name: "hint", Type: "string", Doc: "appended to the error when nobody can answer"},
		},
		DryRun: "Fails: a dry run asks nobody; a recipe skips the question in a dry run (reset does, as kubeadm).",
		Fn:     confirmBuiltin,
	})
}

func confirmBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var question, hint string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "question", &question, "hint?", &hint); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	question = strings.TrimSpace(question)
	if question == "" {
		return nil, fmt.Errorf("%s: question is empty; pass what the operator must agree to", b.Name())
	}
	if strings.ContainsAny(question, "\n\r\x1b") {
		return nil, fmt.Errorf("%s: question %q holds a newline or an escape character; pass one plain line", b.Name(), shortArg(question))
	}
	suffix := ""
	if hint != "" {
		suffix = "; " + hint
	}
	answer, err := env.Host.Ask(question + " [y/N]: ")
	switch {
	case errors.Is(err, host.ErrNoTerminal):
		return nil, fmt.Errorf("%s: stdin is not a terminal, so nobody can answer %q%s", b.Name(), question, suffix)
	case errors.Is(err, host.ErrDryRunPrompt):
		return nil, fmt.Errorf("%s: a dry run asks nobody %q; skip the question when run.dry_run is True%s", b.Name(), question, suffix)
	case err != nil:
		return nil, fmt.Errorf("%s: %q: %w", b.Name(), question, err)
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return starlark.True, nil
	}
	return starlark.False, nil
}
