package host

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// CRI is the part of the container runtime's gRPC API that preflight uses
// (kubeadm's utilruntime.CRIRuntime calls the same RPCs). Hosts hand it out
// through Network.CRI: Live dials the socket (cri_grpc.go), DryRun wraps
// its base's in a read-only view, Fake returns FCRI.
type CRI interface {
	Status(ctx context.Context, verbose bool) (*runtimeapi.StatusResponse, error)
	RuntimeConfig(ctx context.Context) (*runtimeapi.RuntimeConfigResponse, error)
	ImageStatus(ctx context.Context, image string) (*runtimeapi.ImageStatusResponse, error)
	PullImage(ctx context.Context, image string) error
	// ListPodSandbox lists every Pod sandbox of the runtime (reset).
	ListPodSandbox(ctx context.Context) ([]*runtimeapi.PodSandbox, error)
	// ListContainers lists every container (reset reports what is left).
	ListContainers(ctx context.Context) ([]*runtimeapi.Container, error)
	// StopPodSandbox stops the sandbox and its containers; RemovePodSandbox
	// removes them (kubeadm's RemoveContainers calls both, 5 tries).
	StopPodSandbox(ctx context.Context, id string) error
	RemovePodSandbox(ctx context.Context, id string) error
	Close() error
}

// IsNotFound reports whether a CRI call failed because the sandbox or
// container is gone (removed meanwhile).
func IsNotFound(err error) bool {
	s, ok := status.FromError(err)
	return ok && s.Code() == codes.NotFound
}

// IsUnimplemented reports whether a CRI call failed because the runtime
// does not know the method (an older runtime without RuntimeConfig), so
// callers need not speak gRPC status codes themselves.
func IsUnimplemented(err error) bool {
	s, ok := status.FromError(err)
	return ok && s.Code() == codes.Unimplemented
}

// FakeCRI is an in-memory container runtime for tests. The zero value is a
// ready runtime that implements RuntimeConfig and has no images.
type FakeCRI struct {
	NotReady         bool             // RuntimeReady condition false
	StatusErr        error            // Status fails
	RuntimeConfigErr error            // RuntimeConfig fails (e.g. status.Error(codes.Unimplemented, ...))
	SandboxImage     string           // reported in Status(verbose) info["config"] when set
	PullErr          map[string]error // per image
	mu               sync.Mutex
	images           map[string]bool
	Pulled           []string // images pulled, in order
	// Pods and Containers are the runtime's sandboxes and containers;
	// RemovePodSandbox drops a Pod and its containers. StopErr and
	// RemoveErr fail the first calls for an id (a slice of errors, one per
	// call, consumed in order). Stopped and Removed record the ids.
	Pods       []*runtimeapi.PodSandbox
	Containers []*runtimeapi.Container
	StopErr    map[string][]error
	RemoveErr  map[string][]error
	Stopped    []string
	Removed    []string
}

// AddImages marks images as present.
func (f *FakeCRI) AddImages(images ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.images == nil {
		f.images = map[string]bool{}
	}
	for _, i := range images {
		f.images[i] = true
	}
}

func (f *FakeCRI) Status(ctx context.Context, verbose bool) (*runtimeapi.StatusResponse, error) {
	if f.StatusErr != nil {
		return nil, f.StatusErr
	}
	st := &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{
		{Type: runtimeapi.RuntimeReady, Status: !f.NotReady},
		{Type: runtimeapi.NetworkReady, Status: false, Reason: "NetworkPluginNotReady", Message: "cni config uninitialized"},
	}}
	if f.NotReady {
		st.Conditions[0].Reason = "RuntimeNotReady"
		st.Conditions[0].Message = "the fake runtime is not ready"
	}
	resp := &runtimeapi.StatusResponse{Status: st}
	if verbose && f.SandboxImage != "" {
		resp.Info = map[string]string{"config": fmt.Sprintf(`{"sandboxImage":%q}`, f.SandboxImage)}
	}
	return resp, nil
}

func (f *FakeCRI) RuntimeConfig(ctx context.Context) (*runtimeapi.RuntimeConfigResponse, error) {
	if f.RuntimeConfigErr != nil {
		return nil, f.RuntimeConfigErr
	}
	return &runtimeapi.RuntimeConfigResponse{Linux: &runtimeapi.LinuxRuntimeConfiguration{CgroupDriver: runtimeapi.CgroupDriver_SYSTEMD}}, nil
}

func (f *FakeCRI) ImageStatus(ctx context.Context, image string) (*runtimeapi.ImageStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.images[image] {
		return &runtimeapi.ImageStatusResponse{Image: &runtimeapi.Image{Id: "sha256:fake", RepoTags: []string{image}}}, nil
	}
	return &runtimeapi.ImageStatusResponse{}, nil
}

func (f *FakeCRI) PullImage(ctx context.Context, image string) error {
	if err := f.PullErr[image]; err != nil {
		return err
	}
	f.mu.Lock()
	f.Pulled = append(f.Pulled, image)
	f.mu.Unlock()
	f.AddImages(image)
	return nil
}

func (f *FakeCRI) Close() error { return nil }

func (f *FakeCRI) ListPodSandbox(ctx context.Context) ([]*runtimeapi.PodSandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*runtimeapi.PodSandbox(nil), f.Pods...), nil
}

func (f *FakeCRI) ListContainers(ctx context.Context) ([]*runtimeapi.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*runtimeapi.Container(nil), f.Containers...), nil
}

// nextErr pops the next scripted error for id; the caller holds f.mu.
func nextErr(m map[string][]error, id string) error {
	if errs := m[id]; len(errs) > 0 {
		m[id] = errs[1:]
		return errs[0]
	}
	return nil
}

func (f *FakeCRI) StopPodSandbox(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := nextErr(f.StopErr, id); err != nil {
		return err
	}
	for _, p := range f.Pods {
		if p.Id == id {
			p.State = runtimeapi.PodSandboxState_SANDBOX_NOTREADY
			for _, c := range f.Containers {
				if c.PodSandboxId == id && c.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
					c.State = runtimeapi.ContainerState_CONTAINER_EXITED
				}
			}
			f.Stopped = append(f.Stopped, id)
			return nil
		}
	}
	return status.Errorf(codes.NotFound, "an error occurred when try to find sandbox %q: not found", id)
}

func (f *FakeCRI) RemovePodSandbox(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := nextErr(f.RemoveErr, id); err != nil {
		return err
	}
	for i, p := range f.Pods {
		if p.Id == id {
			f.Pods = append(f.Pods[:i:i], f.Pods[i+1:]...)
			var keep []*runtimeapi.Container
			for _, c := range f.Containers {
				if c.PodSandboxId != id {
					keep = append(keep, c)
				}
			}
			f.Containers = keep
			f.Removed = append(f.Removed, id)
			return nil
		}
	}
	return nil // containerd: removing a missing sandbox succeeds
}
