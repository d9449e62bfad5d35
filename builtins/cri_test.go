package builtins

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.starlark.net/starlark"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kubelark/kubelark/runtime/host"
)

func fakeRuntime() *host.FakeCRI {
	pod := func(id, ns, name string, ready bool) *runtimeapi.PodSandbox {
		st := runtimeapi.PodSandboxState_SANDBOX_NOTREADY
		if ready {
			st = runtimeapi.PodSandboxState_SANDBOX_READY
		}
		return &runtimeapi.PodSandbox{Id: id, State: st, Metadata: &runtimeapi.PodSandboxMetadata{Name: name, Namespace: ns, Uid: "uid-" + id}}
	}
	ctr := func(id, pod, name string, st runtimeapi.ContainerState) *runtimeapi.Container {
		return &runtimeapi.Container{Id: id, PodSandboxId: pod, State: st, Metadata: &runtimeapi.ContainerMetadata{Name: name}}
	}
	return &host.FakeCRI{
		Pods: []*runtimeapi.PodSandbox{
			pod("p3", "kube-system", "kube-proxy-abcde", true),
			pod("p1", "kube-system", "etcd-node1", true),
			pod("p2", "default", "web", false),
		},
		Containers: []*runtimeapi.Container{
			ctr("c1", "p1", "etcd", runtimeapi.ContainerState_CONTAINER_RUNNING),
			ctr("c3", "p3", "kube-proxy", runtimeapi.ContainerState_CONTAINER_EXITED),
			ctr("c2", "p2", "nginx", runtimeapi.ContainerState_CONTAINER_CREATED),
		},
	}
}

func TestCRIClientListAndRemove(t *testing.T) {
	h := host.NewFake()
	h.FCRI = fakeRuntime()
	run := mustExecStar(t, h, `
c = cri_client("unix:///run/containerd/containerd.sock")
before = ["%s/%s %s %s" % (p.namespace, p.name, p.id, p.state) for p in c.pods()]
ctrs = ["%s %s %s" % (x.name, x.pod_id, x.state) for x in c.containers()]
removed = [c.remove_pod(p.id) for p in c.pods()]
again = c.remove_pod("p1")
after = c.pods()
left = c.containers()
c.close()
`)
	if diff := cmp.Diff(`["default/web p2 notready", "kube-system/etcd-node1 p1 ready", "kube-system/kube-proxy-abcde p3 ready"]`, run.globals["before"].String()); diff != "" {
		t.Errorf("pods (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(`["etcd p1 running", "kube-proxy p3 exited", "nginx p2 created"]`, run.globals["ctrs"].String()); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}
	if s := run.globals["removed"].String(); s != "[True, True, True]" {
		t.Errorf("removed = %s", s)
	}
	if run.globals["again"] != starlarkFalse() || run.globals["after"].String() != "[]" || run.globals["left"].String() != "[]" {
		t.Errorf("again=%s after=%s left=%s", run.globals["again"], run.globals["after"], run.globals["left"])
	}
	f := h.FCRI.(*host.FakeCRI)
	if diff := cmp.Diff([]string{"p2", "p1", "p3"}, f.Removed); diff != "" {
		t.Errorf("removed in order (-want +got):\n%s", diff)
	}
	acts := run.env.Plan().Actions
	if len(acts) != 3 || acts[0].Op != "cri.pod-remove" || acts[0].Subject != "default/web" || acts[0].Server != "unix:///run/containerd/containerd.sock" ||
		acts[0].Summary["id"] != "p2" || acts[0].Result != "deleted" {
		t.Errorf("actions = %+v", acts)
	}
}

func TestCRIRemoveRetries(t *testing.T) {
	h := host.NewFake()
	f := fakeRuntime()
	f.StopErr = map[string][]error{"p1": {errors.New("device busy"), errors.New("device busy")}}
	f.RemoveErr = map[string][]error{"p3": {errors.New("a"), errors.New("b"), errors.New("c"), errors.New("d"), errors.New("still busy")}}
	h.FCRI = f
	start := h.Clock
	run := mustExecStar(t, h, `
c = cri_client("/run/containerd/containerd.sock", timeout = "5s")
ok = c.remove_pod("p1")
`)
	if run.globals["ok"] != starlarkTrue() || h.Clock.Sub(start).Seconds() != 2 {
		t.Errorf("ok=%s after %s", run.globals["ok"], h.Clock.Sub(start))
	}
	wantErr(t, h, `cri_client("unix:///run/c.sock").remove_pod("p3")`, "remove_pod: kube-system/kube-proxy-abcde (sandbox p3)", "5 tries failed", "still busy", "crictl stopp p3")
	f.StopErr = map[string][]error{"p2": {status.Error(codes.NotFound, "gone")}}
	run = mustExecStar(t, h, `r = cri_client("unix:///run/c.sock").remove_pod("p2")`)
	if run.globals["r"] != starlarkFalse() {
		t.Errorf("a sandbox removed meanwhile: %s", run.globals["r"])
	}
}

func TestCRIClientErrors(t *testing.T) {
	h := host.NewFake()
	wantErr(t, h, `cri_client("unix:///run/c.sock")`, "cri_client: unix:///run/c.sock", "connection refused", "container runtime runs")
	h.FCRI = fakeRuntime()
	wantErr(t, h, `cri_client("tcp://1.2.3.4:1")`, "cri_client", "not a unix socket endpoint")
	wantErr(t, h, `cri_client("run/c.sock")`, "not a unix socket endpoint")
	wantErr(t, h, `cri_client("/run/c.sock", timeout = "soon")`, "timeout", "not a duration")
	wantErr(t, h, `cri_client("/run/c.sock", timeout = "0s")`, "timeout must be positive")
	wantErr(t, h, `cri_client("/run/c.sock").remove_pod("")`, "id is empty")
	wantErr(t, h, `cri_client("/run/c.sock").remove_pod("p1", retries = 0)`, "retries=0")
	wantErr(t, h, `cri_client("/run/c.sock").remove_pod(1)`, "remove_pod", "id")
	wantErr(t, h, `
c = cri_client("/run/c.sock")
c.close()
c.pods()`, "pods after close()")
}

// TestCRIDryRun: removals are recorded, not performed; later listings do
// not show them, on every client of the run.
func TestCRIDryRun(t *testing.T) {
	fake := host.NewFake()
	f := fakeRuntime()
	fake.FCRI = f
	h, err := host.NewSandbox(host.NewDryRun(fake), host.SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	run := mustExecStar(t, h, `
c = cri_client("unix:///run/containerd/containerd.sock")
r = c.remove_pod("p1")
pods = [p.id for p in cri_client("unix:///run/containerd/containerd.sock").pods()]
ctrs = [x.id for x in c.containers()]
again = c.remove_pod("p1")
`)
	if run.globals["r"] != starlarkTrue() || run.globals["pods"].String() != `["p2", "p3"]` || run.globals["ctrs"].String() != `["c3", "c2"]` || run.globals["again"] != starlarkFalse() {
		t.Errorf("r=%s pods=%s ctrs=%s again=%s", run.globals["r"], run.globals["pods"], run.globals["ctrs"], run.globals["again"])
	}
	if len(f.Pods) != 3 || len(f.Stopped) != 0 || len(f.Removed) != 0 {
		t.Errorf("the dry run touched the runtime: stopped %v removed %v", f.Stopped, f.Removed)
	}
	if a := run.env.Plan().Actions; len(a) != 1 || a[0].Result != "recorded" || a[0].Subject != "kube-system/etcd-node1" {
		t.Errorf("plan = %+v", a)
	}
}

func starlarkTrue() starlark.Value  { return starlark.True }
func starlarkFalse() starlark.Value { return starlark.False }
