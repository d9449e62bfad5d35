package host

import (
	"context"
	"crypto/tls"
	"fmt"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kubelark/kubelark/runtime/cluster"
)

// Clients is cluster.NewDryRun over the base's factory, made once by
// NewDryRun: writes land in the overlay, reads see the overlay and then the
// real cluster when it answers, so an object that already exists and
// matches is reported unchanged.
func (d *DryRun) Clients() cluster.Factory { return d.clients }

// HTTPGet passes through: a GET changes nothing. (The builtins do not
// probe when the host is not Live; a recipe's reads may.)
func (d *DryRun) HTTPGet(ctx context.Context, url string, tlsCfg *tls.Config) (HTTPResponse, error) {
	return d.base.HTTPGet(ctx, url, tlsCfg)
}

// CRI is the base's runtime with every mutating call held back, so
// preflight in a dry run queries the real runtime but pulls nothing, and
// reset's sandbox removals are answered, remembered by the DryRun (one set
// for every client of the run) and hidden from later listings.
func (d *DryRun) CRI(path string) (CRI, error) {
	c, err := d.base.CRI(path)
	if err != nil {
		return nil, err
	}
	return readOnlyCRI{CRI: c, d: d}, nil
}

// readOnlyCRI answers queries and refuses PullImage.
type readOnlyCRI struct {
	CRI
	d *DryRun
}

func (readOnlyCRI) PullImage(ctx context.Context, image string) error {
	return fmt.Errorf("dry run: not pulling image %s (pulling changes the machine)", image)
}

func (r readOnlyCRI) removed(id string) bool {
	r.d.mu.Lock()
	defer r.d.mu.Unlock()
	return r.d.removedPods[id]
}

func (r readOnlyCRI) ListPodSandbox(ctx context.Context) ([]*runtimeapi.PodSandbox, error) {
	ps, err := r.CRI.ListPodSandbox(ctx)
	if err != nil {
		return nil, err
	}
	var out []*runtimeapi.PodSandbox
	for _, p := range ps {
		if !r.removed(p.Id) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (r readOnlyCRI) ListContainers(ctx context.Context) ([]*runtimeapi.Container, error) {
	cs, err := r.CRI.ListContainers(ctx)
	if err != nil {
		return nil, err
	}
	var out []*runtimeapi.Container
	for _, c := range cs {
		if !r.removed(c.PodSandboxId) {
			out = append(out, c)
		}
	}
	return out, nil
}

// StopPodSandbox is not performed.
func (r readOnlyCRI) StopPodSandbox(ctx context.Context, id string) error { return nil }

// RemovePodSandbox is not performed; later listings hide the sandbox.
func (r readOnlyCRI) RemovePodSandbox(ctx context.Context, id string) error {
	r.d.mu.Lock()
	defer r.d.mu.Unlock()
	if r.d.removedPods == nil {
		r.d.removedPods = map[string]bool{}
	}
	r.d.removedPods[id] = true
	return nil
}
