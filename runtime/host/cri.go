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
	Close() error
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
