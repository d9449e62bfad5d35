package builtins

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kubelark/kubelark/runtime/host"
)

const criSock = `S = "unix:///run/containerd/containerd.sock"
`

func runCRIChecks(t *testing.T, h host.Host, checks string) (string, error) {
	t.Helper()
	_, _, out, err := hostStar(t, h, criSock+"r = preflight_check("+checks+")\n")
	return out, err
}

func TestPreflightCRIStatus(t *testing.T) {
	for name, tc := range map[string]struct {
		cri  *host.FakeCRI
		want string // "" = passes
	}{
		"ready":        {&host.FakeCRI{}, ""},
		"not ready":    {&host.FakeCRI{NotReady: true}, `[ERROR CRI]: container runtime condition "RuntimeReady" is not true. reason: RuntimeNotReady, message: the fake runtime is not ready`},
		"status fails": {&host.FakeCRI{StatusErr: status.Error(codes.Unavailable, "connection error")}, "[ERROR CRI]: container runtime is not running: rpc error: code = Unavailable desc = connection error"},
		"unreachable":  {nil, "[ERROR CRI]: container runtime is not running: dial unix /run/containerd/containerd.sock: connect: connection refused"},
	} {
		t.Run(name, func(t *testing.T) {
			f := host.NewFake()
			if tc.cri != nil {
				f.FCRI = tc.cri
			}
			_, err := runCRIChecks(t, f, `[{"kind": "cri", "socket": S}]`)
			if tc.want == "" && err != nil {
				t.Fatal(err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPreflightContainerRuntimeVersion(t *testing.T) {
	f := host.NewFake()
	f.FCRI = &host.FakeCRI{}
	out, err := runCRIChecks(t, f, `[{"kind": "container_runtime_version", "socket": S}]`)
	if err != nil || strings.Contains(out, "WARNING") {
		t.Fatalf("implemented: out=%q err=%v", out, err)
	}

	f.FCRI = &host.FakeCRI{RuntimeConfigErr: status.Error(codes.Unimplemented, "unknown method RuntimeConfig")}
	out, err = runCRIChecks(t, f, `[{"kind": "container_runtime_version", "socket": S}]`)
	if err != nil || !strings.Contains(out, "[WARNING ContainerRuntimeVersion]: You must update your container runtime to a version that supports the CRI method RuntimeConfig.") {
		t.Fatalf("unimplemented: out=%q err=%v", out, err)
	}

	f.FCRI = &host.FakeCRI{RuntimeConfigErr: status.Error(codes.Internal, "boom")}
	_, err = runCRIChecks(t, f, `[{"kind": "container_runtime_version", "socket": S}]`)
	if err == nil || !strings.Contains(err.Error(), "[ERROR ContainerRuntimeVersion]: could not check if the runtime config is available: failed to call RuntimeConfig gRPC method: rpc error: code = Internal desc = boom") {
		t.Fatalf("other error: err=%v", err)
	}

	f.FCRI = nil
	_, err = runCRIChecks(t, f, `[{"kind": "container_runtime_version", "socket": S}]`)
	if err == nil || !strings.Contains(err.Error(), "[ERROR ContainerRuntimeVersion]: could not connect to the container runtime: dial unix") {
		t.Fatalf("unreachable: err=%v", err)
	}
}

const pullImages = `I = ["registry.k8s.io/kube-apiserver:v1.36.3", "registry.k8s.io/pause:3.10.2", "registry.k8s.io/etcd:3.6.8-0"]
`

func TestPreflightImagePull(t *testing.T) {
	for name, tc := range map[string]struct {
		policy  string
		serial  string
		present []string
		pullErr string // image whose pull fails
		dryRun  bool
		pulled  []string
		wantErr string
	}{
		"if not present pulls missing": {policy: "IfNotPresent", serial: "True", present: []string{"registry.k8s.io/pause:3.10.2"},
			pulled: []string{"registry.k8s.io/kube-apiserver:v1.36.3", "registry.k8s.io/etcd:3.6.8-0"}},
		"all present pulls nothing": {policy: "IfNotPresent", serial: "True",
			present: []string{"registry.k8s.io/kube-apiserver:v1.36.3", "registry.k8s.io/pause:3.10.2", "registry.k8s.io/etcd:3.6.8-0"}},
		"always pulls all": {policy: "Always", serial: "True", present: []string{"registry.k8s.io/pause:3.10.2"},
			pulled: []string{"registry.k8s.io/kube-apiserver:v1.36.3", "registry.k8s.io/pause:3.10.2", "registry.k8s.io/etcd:3.6.8-0"}},
		"never pulls nothing":   {policy: "Never", serial: "True"},
		"dry run pulls nothing": {policy: "Always", serial: "True", dryRun: true},
		"pull failure names the image": {policy: "IfNotPresent", serial: "True", pullErr: "registry.k8s.io/etcd:3.6.8-0",
			pulled:  []string{"registry.k8s.io/kube-apiserver:v1.36.3", "registry.k8s.io/pause:3.10.2"},
			wantErr: "[ERROR ImagePull]: failed to pull image registry.k8s.io/etcd:3.6.8-0: no such manifest"},
		"parallel pull failure": {policy: "Always", serial: "False", pullErr: "registry.k8s.io/pause:3.10.2",
			wantErr: "[ERROR ImagePull]: failed to pull image registry.k8s.io/pause:3.10.2: no such manifest"},
	} {
		t.Run(name, func(t *testing.T) {
			f := host.NewFake()
			cri := &host.FakeCRI{}
			cri.AddImages(tc.present...)
			if tc.pullErr != "" {
				cri.PullErr = map[string]error{tc.pullErr: errors.New("no such manifest")}
			}
			f.FCRI = cri
			var h host.Host = f
			if tc.dryRun {
				h = host.NewDryRun(f)
			}
			_, plan, _, err := hostStar(t, h, criSock+pullImages+
				`r = preflight_check([{"kind": "image_pull", "socket": S, "images": I, "policy": "`+tc.policy+`", "serial": `+tc.serial+`}])`+"\n")
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && !tc.dryRun && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if tc.serial == "True" && strings.Join(cri.Pulled, ",") != strings.Join(tc.pulled, ",") {
				t.Errorf("pulled %v, want %v", cri.Pulled, tc.pulled)
			}
			if tc.dryRun && len(plan.Actions) != 1 {
				t.Errorf("dry run recorded %d actions, want only the check: %+v", len(plan.Actions), plan.Actions)
			}
		})
	}
}

func TestPreflightImagePullSandboxWarning(t *testing.T) {
	f := host.NewFake()
	f.FCRI = &host.FakeCRI{SandboxImage: "registry.k8s.io/pause:3.8"}
	env, thread, out := newTestEnv(t, f)
	_ = env
	_, err := execTest(thread, criSock+`preflight_check([{"kind": "image_pull", "socket": S, "images": ["a:1"], "sandbox_image": "registry.k8s.io/pause:3.10.2"}])`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `detected that the sandbox image "registry.k8s.io/pause:3.8" of the container runtime is inconsistent with that used by kubeadm. It is recommended to use "registry.k8s.io/pause:3.10.2" as the CRI sandbox image.`) {
		t.Errorf("output = %q", out.String())
	}
}

func TestPreflightImagePullBadPolicy(t *testing.T) {
	f := host.NewFake()
	_, err := runCRIChecks(t, f, `[{"kind": "image_pull", "socket": S, "images": [], "policy": "Sometimes"}]`)
	if err == nil || !strings.Contains(err.Error(), `field "policy": "Sometimes" is not a pull policy`) {
		t.Fatalf("err = %v", err)
	}
}
