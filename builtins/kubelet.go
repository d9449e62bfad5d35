package builtins

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

func init() { families = append(families, registerKubelet) }

const serviceDryRunDoc = "Nothing is performed: the action is recorded with result \"recorded\" " +
	"(--dry-run) or \"skipped\" (--root: the relocated tree is not the running system). " +
	"is-active/is-enabled only read state and are answered by the real machine under --dry-run."

func registerKubelet(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "kubelet_restart",
		Signature: "kubelet_restart()",
		Doc: "Reloads the service manager and restarts the kubelet (systemctl daemon-reload && systemctl restart kubelet; " +
			"OpenRC: rc-service kubelet restart; otherwise --service-command). Fails if the restart fails: every later " +
			"step waits for the kubelet. Returns struct(status) with status performed, recorded or skipped.",
		DryRun: serviceDryRunDoc,
		Fn:     kubeletRestartBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "kubelet_stop",
		Signature: "kubelet_stop()",
		Doc: "Stops the kubelet before its files are rewritten. As in kubeadm, a failure (no kubelet unit yet, no " +
			"service manager) is a warning, not an error. Returns struct(status): performed, failed, recorded or skipped.",
		DryRun: serviceDryRunDoc,
		Fn:     kubeletStopBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "service",
		Signature: "service(unit, action)",
		Doc: "Runs a service action on a unit through the host's service manager. Control actions fail on error. " +
			"The queries is-active and is-enabled never fail: they return struct(status, ok) with ok True/False " +
			"(None when the state is unknown, under --root).",
		Args: []runtime.Arg{
			{Name: "unit", Type: "string", Doc: "service name (systemd unit name syntax, NAME or NAME.service): control actions on kubelet only; queries also on containerd, crio, docker, cri-docker, firewalld"},
			{Name: "action", Type: "string", Doc: "daemon-reload, restart, stop, start, is-active or is-enabled"},
		},
		DryRun: serviceDryRunDoc,
		Fn:     serviceBuiltin,
	})
}

func kubeletRestartBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	if _, err := serviceControl(thread, env, b.Name(), "kubelet", "daemon-reload"); err != nil {
		return nil, err
	}
	status, err := serviceControl(thread, env, b.Name(), "kubelet", "restart")
	if err != nil {
		return nil, err
	}
	return Struct(map[string]starlark.Value{"status": starlark.String(status)}), nil
}

func kubeletStopBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	status, err := serviceControl(thread, env, b.Name(), "kubelet", "stop")
	if err != nil {
		env.Warnf("%v", err)
		env.Record(thread, b.Name(), runtime.Action{Op: "service.stop", Target: "kubelet", Result: "failed",
			Summary: map[string]any{"error": err.Error()}})
		status = "failed"
	}
	return Struct(map[string]starlark.Value{"status": starlark.String(status)}), nil
}

func serviceBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var unit, action string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "unit", &unit, "action", &action); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	if err := host.CheckServicePolicy(action, unit); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	if slices.Contains(host.QueryActions, action) {
		return serviceQuery(thread, env, b.Name(), unit, action)
	}
	status, err := serviceControl(thread, env, b.Name(), unit, action)
	if err != nil {
		return nil, err
	}
	return Struct(map[string]starlark.Value{"status": starlark.String(status)}), nil
}

func ctxOf(env *runtime.Env) context.Context {
	if env.Ctx != nil {
		return env.Ctx
	}
	return context.Background()
}

// serviceControl performs (on a live host) or records a control action and
// records one service.<action> Action. It returns the Action's result.
func serviceControl(thread *starlark.Thread, env *runtime.Env, builtin, unit, action string) (string, error) {
	// Checked before anything is recorded, so that a dry run refuses what
	// the live run would (the host checks again before running a command).
	if err := host.CheckServicePolicy(action, unit); err != nil {
		return "", fmt.Errorf("%s: %w", builtin, err)
	}
	h := env.Host
	a := runtime.Action{Op: "service." + action, Target: unit}
	switch {
	case h.Live():
		if err := h.Service(ctxOf(env), action, unit); err != nil {
			return "", fmt.Errorf("%s: %s %s (service manager %s): %w", builtin, action, unit, h.ServiceManager(), err)
		}
		a.Result = "performed"
	case h.DryRun():
		a.Result = "recorded"
	default:
		a.Result = "skipped"
		a.Summary = map[string]any{"reason": "--root: the target is not the running system"}
	}
	env.Record(thread, builtin, a)
	return a.Result, nil
}

// serviceQuery asks the host (queries are read-only, so a dry run asks the
// real machine too) and records the answer.
func serviceQuery(thread *starlark.Thread, env *runtime.Env, builtin, unit, action string) (starlark.Value, error) {
	if err := host.CheckServicePolicy(action, unit); err != nil {
		return nil, fmt.Errorf("%s: %w", builtin, err)
	}
	h := env.Host
	a := runtime.Action{Op: "service." + action, Target: unit, Result: "performed"}
	var ok starlark.Value
	err := h.Service(ctxOf(env), action, unit)
	switch {
	case errors.Is(err, host.ErrNotLive):
		a.Result = "skipped"
		a.Summary = map[string]any{"reason": "--root: the target is not the running system"}
		ok = starlark.None
	case err != nil:
		a.Summary = map[string]any{"ok": false, "detail": err.Error()}
		ok = starlark.False
	default:
		a.Summary = map[string]any{"ok": true}
		ok = starlark.True
	}
	env.Record(thread, builtin, a)
	return Struct(map[string]starlark.Value{"status": starlark.String(a.Result), "ok": ok}), nil
}
