package builtins

// k8s_wait: poll API objects until a Starlark predicate holds, or until
// they are gone. Self-hosting needs three such waits kubeadm's old code had
// as Go functions (a DaemonSet's Pod running on this node, the mirror Pod
// gone, the Pod Ready again); what "done" means for each is the recipe's
// (a predicate in stdlib/selfhosting.star), the polling, the host clock,
// the tolerance of an API server that is restarting and the dry-run story
// are this builtin's.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/cluster"
)

func init() { families = append(families, registerWait) }

func registerWait(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "k8s_wait",
		Signature: `k8s_wait(client, api_version, kind, name="", namespace="", label_selector="", until=None, gone=False, timeout="2m0s", interval="500ms", what="")`,
		Doc: "Polls one object (name=) or the objects matching label_selector= until until(x) returns True, or with gone=True until the object " +
			"(every matching object) no longer exists. x is the object as a dict (None while it does not exist) or, with label_selector, the list of objects. " +
			"until may return a string instead of False: why it is not done yet, shown in the progress lines and in the timeout error. " +
			"While polling, answers of an API server that is down or restarting (connection refused, 5xx, timeouts) count as not done yet; Forbidden fails at once. " +
			"Prints `still waiting for <what>: <reason>` about every 10s. Returns the last object (or list) seen. Records one wait action.",
		Args: []runtime.Arg{
			{Name: "client", Type: "k8s_client", Doc: "from k8s_client()"},
			{Name: "api_version", Type: "string", Doc: `e.g. "v1", "apps/v1"`},
			{Name: "kind", Type: "string", Doc: `e.g. "Pod"`},
			{Name: "name", Type: "string", Doc: "the object; exclusive with label_selector"},
			{Name: "namespace", Type: "string", Doc: `"" = default for namespaced kinds`},
			{Name: "label_selector", Type: "string", Doc: `e.g. "k8s-app=self-hosted-kube-apiserver"; until gets the list`},
			{Name: "until", Type: "function", Doc: "called with the object (or None) or the list; True = done, False/None/a reason string = not yet"},
			{Name: "gone", Type: "bool", Doc: "wait until the object (every matching object) is gone; exclusive with until"},
			{Name: "timeout", Type: "duration", Doc: "overall limit (host clock)"},
			{Name: "interval", Type: "duration", Doc: "pause between polls"},
			{Name: "what", Type: "string", Doc: "what is awaited, for messages (default: the object reference)"},
		},
		DryRun: "Nothing is awaited: the objects are read once (the dry run's overlay, then the cluster if it answers), until is not called, one wait action is recorded with result \"recorded\" and what was read is returned (also when not live, e.g. under --root).",
		Fn:     k8sWaitFn,
	})
}

// waitTarget is what one k8s_wait polls.
type waitTarget struct {
	c                                    cluster.Client
	apiVersion, kind, name, ns, selector string
}

func (w waitTarget) ref() string {
	if w.name != "" {
		return cluster.Ref(w.apiVersion, w.kind, w.ns, w.name)
	}
	return strings.TrimSuffix(cluster.Ref(w.apiVersion, w.kind, w.ns, ""), "/") + "?labelSelector=" + w.selector
}

// read fetches the object (nil when absent) or the list.
func (w waitTarget) read(ctx context.Context) (obj *unstructured.Unstructured, list []*unstructured.Unstructured, err error) {
	if w.name != "" {
		obj, err = w.c.Get(ctx, w.apiVersion, w.kind, w.ns, w.name)
		if cluster.IsNotFound(err) {
			return nil, nil, nil
		}
		return obj, nil, err
	}
	list, err = w.c.List(ctx, w.apiVersion, w.kind, w.ns, w.selector)
	return nil, list, err
}

// value is what until() sees and k8s_wait returns.
func (w waitTarget) value(obj *unstructured.Unstructured, list []*unstructured.Unstructured) (starlark.Value, error) {
	if w.name != "" {
		return objectValue(obj)
	}
	out := make([]starlark.Value, len(list))
	for i, o := range list {
		v, err := objectValue(o)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return starlark.NewList(out), nil
}

func k8sWaitFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var clientV starlark.Value
	var untilV starlark.Value = starlark.None
	var w waitTarget
	var gone bool
	var what string
	timeoutS, intervalS := "2m0s", "500ms"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "client", &clientV, "api_version", &w.apiVersion, "kind", &w.kind,
		"name?", &w.name, "namespace?", &w.ns, "label_selector?", &w.selector, "until?", &untilV, "gone?", &gone,
		"timeout?", &timeoutS, "interval?", &intervalS, "what?", &what); err != nil {
		return nil, err
	}
	if w.c, err = toClient(b.Name(), clientV); err != nil {
		return nil, err
	}
	if w.apiVersion == "" || w.kind == "" {
		return nil, fmt.Errorf("%s: api_version and kind are required", b.Name())
	}
	if (w.name == "") == (w.selector == "") {
		return nil, fmt.Errorf("%s: give exactly one of name= (one object) and label_selector= (a list)", b.Name())
	}
	var until starlark.Callable
	if untilV != starlark.None {
		fn, ok := untilV.(starlark.Callable)
		if !ok {
			return nil, fmt.Errorf("%s: until: got %s, want a function of the object", b.Name(), untilV.Type())
		}
		until = fn
	}
	if gone == (until != nil) {
		return nil, fmt.Errorf("%s: give exactly one of until= (a function that returns True when done) and gone=True", b.Name())
	}
	timeout, interval, err := pollArgs(b.Name(), timeoutS, intervalS)
	if err != nil {
		return nil, err
	}
	if what == "" {
		what = w.ref()
	}
	condition := "until"
	if gone {
		condition = "gone"
	}
	action := apiAction(w.c, runtime.Action{Op: "wait", Target: w.ref(),
		Summary: map[string]any{"name": what, "condition": condition, "timeout": timeout.String()}})

	if !env.Host.Live() || env.Host.DryRun() {
		obj, list, err := w.read(env.Ctx)
		if err != nil && !cluster.IsNotFound(err) {
			// A dry run without a cluster behind it still plans the wait.
			obj, list = nil, nil
		}
		action.Result = "recorded"
		env.Record(thread, b.Name(), action)
		v, err := w.value(obj, list)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return v, nil
	}

	start := env.Host.Now()
	deadline := start.Add(timeout)
	lastReport := start
	env.Infof("Waiting for %s (up to %s)", what, timeout)
	for {
		done, reason, last, err := waitPoll(thread, env, w, until, gone, deadline)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %s", b.Name(), what, env.Redact(err.Error()))
		}
		now := env.Host.Now()
		if done {
			env.Infof("%s after %s", what, now.Sub(start).Round(time.Millisecond))
			action.Result = "performed"
			env.Record(thread, b.Name(), action)
			return last, nil
		}
		if !now.Before(deadline) {
			return nil, fmt.Errorf("%s: timed out after %s waiting for %s (%s on %s): %s", b.Name(), timeout, what, w.ref(), w.c.Server(), env.Redact(reason))
		}
		if now.Sub(lastReport) >= progressEvery {
			env.Infof("still waiting for %s: %s", what, env.Redact(reason))
			lastReport = now
		}
		if err := pollSleep(env, now, deadline, interval); err != nil {
			return nil, fmt.Errorf("%s: waiting for %s: %w", b.Name(), what, err)
		}
	}
}

// waitPoll reads once and judges: done, or why not (a transient API error
// is a reason; Forbidden and a failing or ill-typed predicate are errors).
func waitPoll(thread *starlark.Thread, env *runtime.Env, w waitTarget, until starlark.Callable, gone bool, deadline time.Time) (done bool, reason string, last starlark.Value, err error) {
	ctx := env.Ctx
	if rest := deadline.Sub(env.Host.Now()); rest > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, rest+time.Second)
		defer cancel()
	}
	obj, list, rerr := w.read(ctx)
	if rerr != nil {
		if cluster.IsForbidden(rerr) {
			return false, "", nil, rerr
		}
		if env.Ctx.Err() != nil {
			return false, "", nil, env.Ctx.Err()
		}
		return false, "the API server did not answer: " + rerr.Error(), nil, nil
	}
	if last, err = w.value(obj, list); err != nil {
		return false, "", nil, err
	}
	if gone {
		switch {
		case w.name != "" && obj != nil:
			return false, "it still exists", last, nil
		case w.name == "" && len(list) > 0:
			return false, fmt.Sprintf("%d still exist", len(list)), last, nil
		}
		return true, "", last, nil
	}
	res, err := starlark.Call(thread, until, starlark.Tuple{last}, nil)
	if err != nil {
		return false, "", nil, fmt.Errorf("until: %w", err)
	}
	switch r := res.(type) {
	case starlark.Bool:
		if r {
			return true, "", last, nil
		}
		return false, "until returned False", last, nil
	case starlark.NoneType:
		return false, "until returned None", last, nil
	case starlark.String:
		if r == "" {
			return false, "not yet", last, nil
		}
		return false, string(r), last, nil
	}
	return false, "", nil, fmt.Errorf("until returned %s; want True, False or a string saying why not yet", res.Type())
}
