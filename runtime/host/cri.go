package host

import (
	"context"
	"errors"
	"fmt"
	"sync"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// CRI is the part of the container runtime's gRPC API that preflight uses
// (kubeadm's utilruntime.CRIRuntime calls the same RPCs).
type CRI interface {
	Status(ctx context.Context, verbose bool) (*runtimeapi.StatusResponse, error)
	RuntimeConfig(ctx context.Context) (*runtimeapi.RuntimeConfigResponse, error)
	ImageStatus(ctx context.Context, image string) (*runtimeapi.ImageStatusResponse, error)
	PullImage(ctx context.Context, image string) error
	Close() error
}

// CRIConnector is an optional interface, outside Host, for hosts that
// answer the CRI themselves instead of through the real socket: the Fake,
// and the wrappers (DryRun, Sandbox) that pass the question to their base.
// Builtins use it when present and dial the socket over gRPC otherwise, so
// unit and golden tests never reach the machine's container runtime.
type CRIConnector interface {
	ConnectCRI(endpoint string) (CRI, error)
}

// ErrNoCRIConnector means a wrapper's base has no CRIConnector: the caller
// dials the real socket.
var ErrNoCRIConnector = errors.New("host has no in-process CRI; dial the socket")

func connectCRIOf(base Host, endpoint string) (CRI, error) {
	if c, ok := base.(CRIConnector); ok {
		return c.ConnectCRI(endpoint)
	}
	return nil, ErrNoCRIConnector
}

// ConnectCRI passes through to the base host.
func (d *DryRun) ConnectCRI(endpoint string) (CRI, error) { return connectCRIOf(d.base, endpoint) }

// ConnectCRI passes through to the base host (the socket is not relocated
// by --root: the runtime is the machine's).
func (s *Sandbox) ConnectCRI(endpoint string) (CRI, error) { return connectCRIOf(s.base, endpoint) }

// ConnectCRI returns FCRI, or "connection refused" when it is nil (a
// fake machine without a container runtime).
func (f *Fake) ConnectCRI(endpoint string) (CRI, error) {
	if f.FCRI == nil {
		return nil, fmt.Errorf("dial unix %s: connect: connection refused", endpoint)
	}
	return f.FCRI, nil
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
