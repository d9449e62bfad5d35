package runtime

import (
	"fmt"

	"go.starlark.net/starlark"
)

// RecipeAPI returns the runtime-provided part of the recipe environment,
// documented like registry builtins so `kubelark builtins` prints one
// reference. Entries without Fn are values (run, struct) documented here
// and installed by the runtime.
func RecipeAPI() []*Builtin {
	api := []*Builtin{
		{
			Name:      "param",
			Signature: `param(default, doc, type=None, choices=None, secret=False, flag="", merge=False)`,
			Doc:       "Declares one recipe parameter for params(). The type is inferred from default unless given; a None default needs an explicit type.",
			Args: []Arg{
				{Name: "default", Type: "any", Doc: "value used when no layer sets the parameter"},
				{Name: "doc", Type: "string", Doc: "what the parameter means (shown in errors and docs)"},
				{Name: "type", Type: "string", Doc: `"string", "int", "bool", "list" or "dict"`},
				{Name: "choices", Type: "list", Doc: "allowed values; anything else is an error naming the source"},
				{Name: "secret", Type: "bool", Doc: "a token or key: redacted from the plan and from every printed line"},
				{Name: "flag", Type: "string", Doc: `command-line flag the parameter answers to, without "--" (kubeadm's name, e.g. "pod-network-cidr"); same as --set name=value, listed by --help and 'kubelark phases'`},
				{Name: "merge", Type: "bool", Doc: "list parameter with a flag: the flag's items are added to the configured list instead of replacing it"},
			},
			DryRun: "pure; same as a live run",
			Fn:     paramBuiltin,
		},
		{
			Name:      "params",
			Signature: `params(config=None, **decls)`,
			Doc:       "Resolves the declared parameters (default <- --config <- --values <- --set) and returns them as a frozen struct. Once per run, in the main recipe. Unknown keys and type errors name the key, the source and the nearest declared name.",
			Args:      []Arg{{Name: "config", Type: "function", Doc: "the recipe's kubeadm config mapping: called with the --config documents (dict kind -> document), returns struct(params, sources, warnings, errors); e.g. kubeadmconfig.init_params of @stdlib//kubeadmconfig.star. Without it --config is an error"}, {Name: "decls", Type: "param", Doc: "one param(...) per parameter name"}},
			DryRun:    "same as a live run; the resolved values go to the plan (parameters declared secret=True redacted)",
			Fn:        paramsBuiltin,
		},
		{
			Name:      "phase_decl",
			Signature: `phase_decl(name, doc, children=[])`,
			Doc:       "Declares one phase and its sub-phases as data (nothing runs). A stdlib module exports its PHASE this way, children derived from the table that drives them; the recipe composes the declarations in phases(). Attributes name, doc, children.",
			Args: []Arg{
				{Name: "name", Type: "string", Doc: `one path segment, e.g. "ca"`},
				{Name: "doc", Type: "string", Doc: "one line: what the phase does (kubeadm's phase help text)"},
				{Name: "children", Type: "list of phase_decl", Doc: "sub-phases, in order"},
			},
			DryRun: "pure; same as a live run",
			Fn:     phaseDeclBuiltin,
		},
		{
			Name:      "phases",
			Signature: `phases(tree, skip=[])`,
			Doc:       `Declares the phase tree once: phase_decl values (or, in small recipes, slash paths with parents first, e.g. ["certs", "certs/ca"]). --phases and the skips are checked against it at once. 'kubelark phases RECIPE' and 'run RECIPE --help' list it without running anything: a recipe stops there when described.`,
			Args: []Arg{
				{Name: "tree", Type: "list", Doc: "phase_decl values, or phase paths"},
				{Name: "skip", Type: "list of strings", Doc: "phases to skip with everything under them, e.g. P.skip_phases (kubeadm's --skip-phases / skipPhases)"},
			},
			DryRun: "same as a live run",
			Fn:     phasesBuiltin,
		},
		{
			Name:      "phase",
			Signature: `phase(name, fn)`,
			Doc:       "Runs fn() as phase name (relative to the enclosing phase) when --phases and phases(skip=...) select it; returns fn's result, or None when skipped. A phase that is an ancestor of a --phases selection runs, but only its selected children do.",
			Args: []Arg{
				{Name: "name", Type: "string", Doc: "declared phase name, relative to the enclosing phase"},
				{Name: "fn", Type: "callable", Doc: "function of no arguments"},
			},
			DryRun: "same as a live run",
			Fn:     phaseBuiltin,
		},
		{
			Name:      "info",
			Signature: `info(msg)`,
			Doc:       `Prints a progress line "[<top phase>] msg" (secrets redacted).`,
			Args:      []Arg{{Name: "msg", Type: "string", Doc: "the line"}},
			DryRun:    "printed as in a live run",
			Fn:        infoBuiltin,
		},
		{
			Name:      "warn",
			Signature: `warn(msg)`,
			Doc:       `Prints "[WARNING] msg" and counts it in the summary.`,
			Args:      []Arg{{Name: "msg", Type: "string", Doc: "the warning"}},
			DryRun:    "printed as in a live run",
			Fn:        warnBuiltin,
		},
		{
			Name:      "output",
			Signature: `output(msg, reveal=False)`,
			Doc: "Prints a line meant for the operator (the join command...). The plan keeps the redacted form; stdout shows secrets only with reveal=True on a live run.\n" +
				"Build a line that carries a secret with + (\"--token \" + tok.token is a secret whose public parts stay readable); % and str() of a secret give <redacted>.",
			Args: []Arg{
				{Name: "msg", Type: "string or secret", Doc: "the line"},
				{Name: "reveal", Type: "bool", Doc: "print secrets in the line on a live run"},
			},
			DryRun: "printed redacted",
			Fn:     outputBuiltin,
		},
		{
			Name:      "with_prefix",
			Signature: `with_prefix(prefix, fn)`,
			Doc:       `Runs fn() with every line it prints (info, recorded actions) prefixed "[prefix]" instead of "[<top phase>]", where kubeadm's output names a step rather than its phase ("[kubelet-check]" inside wait-control-plane, "[addons]" for phase addon). Returns fn's result.`,
			Args: []Arg{
				{Name: "prefix", Type: "string", Doc: `the word between the brackets, e.g. "kubelet-check"`},
				{Name: "fn", Type: "callable", Doc: "function of no arguments"},
			},
			DryRun: "same as a live run",
			Fn:     withPrefixBuiltin,
		},
		{
			Name:      "run",
			Signature: `run.dry_run, run.live, run.root, run.recipe`,
			Doc:       "Facts about this run: dry_run (--dry-run), live (acting on this machine: not dry-run, no --root), root (--root), recipe (the name or path run).",
			DryRun:    "run.dry_run is True",
		},
		{
			Name:      "struct",
			Signature: `struct(**fields)`,
			Doc:       "Makes an immutable record (go.starlark.net/starlarkstruct).",
			DryRun:    "pure; same as a live run",
		},
	}
	api = append(api, jsonAPI()...)
	api = append(api, yamlAPI...)
	return api
}

// oneString unpacks the single message argument of info/warn; a non-string
// is printed as str() would print it.
func oneString(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (string, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return "", err
	}
	if s, ok := starlark.AsString(v); ok {
		return s, nil
	}
	return v.String(), nil
}

func infoBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	msg, err := oneString(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	env, err := FromThread(thread)
	if err != nil {
		return nil, err
	}
	env.Infof("%s", msg)
	return starlark.None, nil
}

func warnBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	msg, err := oneString(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	env, err := FromThread(thread)
	if err != nil {
		return nil, err
	}
	env.Warnf("%s", msg)
	return starlark.None, nil
}

func outputBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var msg starlark.Value
	var reveal bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "msg", &msg, "reveal?", &reveal); err != nil {
		return nil, err
	}
	env, err := FromThread(thread)
	if err != nil {
		return nil, err
	}
	switch m := msg.(type) {
	case *Secret:
		env.OutputSecret(m, reveal)
	case starlark.String:
		env.Output(string(m), reveal)
	default:
		return nil, fmt.Errorf("%s: msg is a %s; pass a string or a secret (a line built with + from secrets)", b.Name(), msg.Type())
	}
	return starlark.None, nil
}
