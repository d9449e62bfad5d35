package builtins

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// The CRI family: reset stops and removes the node's Pod sandboxes through
// the container runtime's gRPC API, as kubeadm's cleanup-node phase does
// (utilruntime.CRIRuntime.RemoveContainers: StopPodSandbox, then
// RemovePodSandbox, 5 tries each), with no crictl on the machine. Which
// Pods go is the recipe's choice; the builtin only lists and removes.

func init() { families = append(families, registerCRI) }

// criRemoveRetryWait is the pause between two tries of one sandbox.
const criRemoveRetryWait = time.Second

func registerCRI(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "cri_client",
		Signature: `cri_client(socket, timeout="1m0s")`,
		Doc: "Connects to the container runtime's CRI socket (the connection opens on the first call).\n" +
			"Returns a value of type cri_client with attribute socket and methods:\n" +
			"  pods() -> list of struct(id, name, namespace, uid, state) with state \"ready\" or \"notready\", sorted by namespace/name;\n" +
			"  containers() -> list of struct(id, name, pod_id, state) with state \"running\", \"exited\", \"created\" or \"unknown\", sorted by name;\n" +
			"  remove_pod(id, retries=5, fail_ok=False) -> True when the sandbox was stopped and removed, False when it was already gone; " +
			"each try stops then removes it (kubeadm: 5 tries), the last error is reported; with fail_ok=True a failure returns " +
			"that error's text (a string) instead of stopping the run, so a recipe can warn and go on as kubeadm reset does;\n" +
			"  close().",
		Args: []runtime.Arg{
			{Name: "socket", Type: "string", Doc: "unix:// URL or absolute path, e.g. unix:///run/containerd/containerd.sock"},
			{Name: "timeout", Type: "duration", Doc: "bound of each RPC"},
		},
		DryRun: "pods() and containers() ask the real runtime; remove_pod is recorded (cri.pod-remove, subject namespace/name) and not performed, and later pods() and containers() no longer list the sandbox or its containers.",
		Fn:     criClientFn,
	})
}

// criClient is the Starlark value holding a host.CRI.
type criClient struct {
	cri     host.CRI
	socket  string
	timeout time.Duration
	closed  bool
}

var _ starlark.HasAttrs = (*criClient)(nil)

func (c *criClient) String() string        { return fmt.Sprintf("<cri_client %s>", c.socket) }
func (c *criClient) Type() string          { return "cri_client" }
func (c *criClient) Freeze()               {}
func (c *criClient) Truth() starlark.Bool  { return starlark.True }
func (c *criClient) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: cri_client") }

var criMethods = map[string]func(c *criClient, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error){
	"pods":       (*criClient).pods,
	"containers": (*criClient).containers,
	"remove_pod": (*criClient).removePod,
	"close":      (*criClient).close,
}

func (c *criClient) AttrNames() []string {
	names := []string{"socket"}
	for n := range criMethods {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (c *criClient) Attr(name string) (starlark.Value, error) {
	if name == "socket" {
		return starlark.String(c.socket), nil
	}
	m, ok := criMethods[name]
	if !ok {
		return nil, nil
	}
	return starlark.NewBuiltin(name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if c.closed && name != "close" {
			return nil, fmt.Errorf("cri_client %s: %s after close(); make a new client", c.socket, name)
		}
		return m(c, thread, b, args, kwargs)
	}), nil
}

// criSocketArg takes a unix:// URL or an absolute path and returns the
// path of the socket.
func criSocketArg(fn, socket string) (string, error) {
	switch {
	case strings.HasPrefix(socket, "unix:///"):
		return strings.TrimPrefix(socket, "unix://"), nil
	case strings.HasPrefix(socket, "/"):
		return socket, nil
	}
	return "", fmt.Errorf("%s: socket %q is not a unix socket endpoint; pass e.g. unix:///run/containerd/containerd.sock (the kubelet's containerRuntimeEndpoint)", fn, shortArg(socket))
}

func criClientFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var socket string
	timeoutS := "1m0s"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "socket", &socket, "timeout?", &timeoutS); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	sockPath, err := criSocketArg(b.Name(), socket)
	if err != nil {
		return nil, err
	}
	timeout, err := durationArg(b.Name(), "timeout", timeoutS)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("%s: timeout must be positive", b.Name())
	}
	cl, err := env.Host.CRI(sockPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w; check that the container runtime runs and listens there", b.Name(), socket, err)
	}
	return &criClient{cri: cl, socket: socket, timeout: timeout}, nil
}

func (c *criClient) ctx(env *runtime.Env) (context.Context, context.CancelFunc) {
	return context.WithTimeout(env.Ctx, c.timeout)
}

func (c *criClient) listPods(env *runtime.Env) ([]*runtimeapi.PodSandbox, error) {
	ctx, cancel := c.ctx(env)
	defer cancel()
	ps, err := c.cri.ListPodSandbox(ctx)
	if err != nil {
		return nil, fmt.Errorf("cri list pods: %s: %w; check that the container runtime runs (systemctl status containerd)", c.socket, err)
	}
	return ps, nil
}

func podState(s runtimeapi.PodSandboxState) string {
	if s == runtimeapi.PodSandboxState_SANDBOX_READY {
		return "ready"
	}
	return "notready"
}

func containerState(s runtimeapi.ContainerState) string {
	switch s {
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		return "running"
	case runtimeapi.ContainerState_CONTAINER_EXITED:
		return "exited"
	case runtimeapi.ContainerState_CONTAINER_CREATED:
		return "created"
	}
	return "unknown"
}

func podMeta(p *runtimeapi.PodSandbox) (name, namespace, uid string) {
	if m := p.GetMetadata(); m != nil {
		return m.Name, m.Namespace, m.Uid
	}
	return "", "", ""
}

func (c *criClient) pods(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	ps, err := c.listPods(env)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(ps, func(i, j int) bool {
		ni, nsi, _ := podMeta(ps[i])
		nj, nsj, _ := podMeta(ps[j])
		if nsi != nsj {
			return nsi < nsj
		}
		if ni != nj {
			return ni < nj
		}
		return ps[i].Id < ps[j].Id
	})
	out := make([]starlark.Value, 0, len(ps))
	for _, p := range ps {
		name, ns, uid := podMeta(p)
		out = append(out, Struct(map[string]starlark.Value{
			"id": starlark.String(p.Id), "name": starlark.String(name), "namespace": starlark.String(ns),
			"uid": starlark.String(uid), "state": starlark.String(podState(p.State)),
		}))
	}
	return starlark.NewList(out), nil
}

func (c *criClient) containers(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.ctx(env)
	defer cancel()
	cs, err := c.cri.ListContainers(ctx)
	if err != nil {
		return nil, fmt.Errorf("cri list containers: %s: %w; check that the container runtime runs", c.socket, err)
	}
	name := func(x *runtimeapi.Container) string {
		if m := x.GetMetadata(); m != nil {
			return m.Name
		}
		return ""
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if name(cs[i]) != name(cs[j]) {
			return name(cs[i]) < name(cs[j])
		}
		return cs[i].Id < cs[j].Id
	})
	out := make([]starlark.Value, 0, len(cs))
	for _, x := range cs {
		out = append(out, Struct(map[string]starlark.Value{
			"id": starlark.String(x.Id), "name": starlark.String(name(x)), "pod_id": starlark.String(x.PodSandboxId),
			"state": starlark.String(containerState(x.State)),
		}))
	}
	return starlark.NewList(out), nil
}

func (c *criClient) removePod(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var id string
	retries := 5
	failOK := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "id", &id, "retries?", &retries, "fail_ok?", &failOK); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, fmt.Errorf("remove_pod: id is empty; pass a Pod sandbox id as pods() gives it")
	}
	if retries < 1 || retries > 100 {
		return nil, fmt.Errorf("remove_pod: retries=%d: want 1..100 (kubeadm tries 5 times)", retries)
	}
	ps, err := c.listPods(env)
	if err != nil {
		return nil, err
	}
	var pod *runtimeapi.PodSandbox
	for _, p := range ps {
		if p.Id == id {
			pod = p
		}
	}
	if pod == nil {
		return starlark.False, nil
	}
	name, ns, uid := podMeta(pod)
	subject := ns + "/" + name
	action := runtime.Action{Op: "cri.pod-remove", Target: subject, Subject: subject, Server: c.socket,
		Summary: map[string]any{"id": id, "uid": uid, "state": podState(pod.State)}}
	var last error
	for try := 1; try <= retries; try++ {
		if try > 1 {
			if err := env.Host.Sleep(env.Ctx, criRemoveRetryWait); err != nil {
				return nil, err
			}
		}
		ctx, cancel := c.ctx(env)
		err := c.cri.StopPodSandbox(ctx, id)
		if err == nil {
			err = c.cri.RemovePodSandbox(ctx, id)
		}
		cancel()
		switch {
		case err == nil:
			action.Result = string(host.Deleted)
			if env.Host.DryRun() {
				action.Result = "recorded"
			}
			env.Record(thread, "cri_remove_pod", action)
			return starlark.True, nil
		case host.IsNotFound(err):
			return starlark.False, nil // removed meanwhile (the kubelet, another run)
		}
		last = err
	}
	err = fmt.Errorf("remove_pod: %s (sandbox %s) through %s: %d tries failed, the last with: %v; stop it by hand with crictl stopp %s && crictl rmp %s",
		subject, id, c.socket, retries, last, id, id)
	if failOK {
		return starlark.String(err.Error()), nil
	}
	return nil, err
}

func (c *criClient) close(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	if c.closed {
		return starlark.None, nil
	}
	c.closed = true
	if err := c.cri.Close(); err != nil {
		return nil, fmt.Errorf("cri close: %s: %w", c.socket, err)
	}
	return starlark.None, nil
}
