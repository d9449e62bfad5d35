package builtins

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kubelark/kubelark/runtime/host"
)

// The checks that talk to the container runtime (kubeadm v1.36.3
// app/preflight/checks.go CRICheck, ContainerRuntimeVersionCheck,
// ImagePullCheck; app/util/runtime/runtime.go).

// pfPullImageRetry is kubeadm's constants.PullImageRetry.
const pfPullImageRetry = 5

// pfCRITimeout bounds each CRI RPC, like kubeadm's defaultTimeout.
const pfCRITimeout = 5 * time.Second

// criSocketPath reads the "socket" field: unix://path or an absolute path.
func criSocketPath(a *pfArgs) (socket, path string) {
	socket = a.str("socket", true, "")
	if a.err != nil {
		return socket, ""
	}
	switch {
	case strings.HasPrefix(socket, "unix://"):
		path = strings.TrimPrefix(socket, "unix://")
	case strings.HasPrefix(socket, "/"):
		path = socket
	default:
		a.err = fmt.Errorf("%s: field \"socket\": %q is not a unix socket endpoint (e.g. unix:///var/run/containerd/containerd.sock)", a.whereOr(), socket)
	}
	return socket, path
}

// withCRI connects through the host (Network.CRI: the real socket, a
// read-only view of it in a dry run, FCRI in tests), runs fn, and closes; a
// connection failure becomes one error finding with prefix.
func withCRI(c *pfCtx, path, prefix string, fn func(cri criRPC) []pfFinding) []pfFinding {
	cl, err := c.h.CRI(path)
	if err != nil {
		return []pfFinding{pfError("%s: %v", prefix, err)}
	}
	defer cl.Close()
	return fn(criRPC{cl: cl, ctx: c.ctx})
}

// criRPC bounds each call by kubeadm's timeout.
type criRPC struct {
	cl  host.CRI
	ctx context.Context
}

func (r criRPC) timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.ctx, pfCRITimeout)
}

func parseCRI(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	_, path := criSocketPath(a)
	return "CRI", func(c *pfCtx) []pfFinding {
		return withCRI(c, path, "container runtime is not running", func(r criRPC) []pfFinding {
			ctx, cancel := r.timeout()
			defer cancel()
			res, err := r.cl.Status(ctx, false)
			if err != nil {
				return []pfFinding{pfError("container runtime is not running: %v", err)}
			}
			for _, cond := range res.GetStatus().GetConditions() {
				// NetworkReady is not tested on purpose (no CNI yet).
				if cond.GetType() == runtimeapi.RuntimeReady && !cond.GetStatus() {
					return []pfFinding{pfError("container runtime condition %q is not true. reason: %s, message: %s",
						cond.GetType(), cond.GetReason(), cond.GetMessage())}
				}
			}
			return nil
		})
	}
}

func parseContainerRuntimeVersion(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	_, path := criSocketPath(a)
	return "ContainerRuntimeVersion", func(c *pfCtx) []pfFinding {
		return withCRI(c, path, "could not connect to the container runtime", func(r criRPC) []pfFinding {
			ctx, cancel := r.timeout()
			defer cancel()
			_, err := r.cl.RuntimeConfig(ctx)
			if err == nil {
				return nil
			}
			if host.IsUnimplemented(err) {
				return []pfFinding{pfWarning("You must update your container runtime to a version that supports the CRI method RuntimeConfig. " +
					"Falling back to using cgroupDriver from kubelet config will be removed in 1.37. " +
					"For more information, see https://git.k8s.io/enhancements/keps/sig-node/4033-group-driver-detection-over-cri")}
			}
			return []pfFinding{pfError("could not check if the runtime config is available: failed to call RuntimeConfig gRPC method: %v", err)}
		})
	}
}

func parseImagePull(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	_, path := criSocketPath(a)
	images := a.strs("images", true)
	policy := a.str("policy", false, "IfNotPresent")
	serial := a.boolean("serial", true)
	sandbox := a.str("sandbox_image", false, "")
	if a.err == nil {
		switch policy {
		case "Always", "IfNotPresent", "Never":
		default:
			a.err = fmt.Errorf("%s: field \"policy\": %q is not a pull policy; use Always, IfNotPresent or Never", a.whereOr(), policy)
		}
	}
	return "ImagePull", func(c *pfCtx) []pfFinding {
		// Pulling changes the machine: a dry run only plans, and Never
		// leaves the images to the operator (kubeadm does not connect then).
		if c.h.DryRun() || policy == "Never" || len(images) == 0 {
			return nil
		}
		return withCRI(c, path, "could not connect to the container runtime", func(r criRPC) []pfFinding {
			if sandbox != "" {
				if got, err := criSandboxImage(r); err == nil && got != sandbox {
					c.env.Warnf("detected that the sandbox image %q of the container runtime is inconsistent with that used by kubeadm. "+
						"It is recommended to use %q as the CRI sandbox image.", got, sandbox)
				}
			}
			errs := make([]error, len(images))
			pull := func(i int) { errs[i] = pullOne(r, images[i], policy == "IfNotPresent") }
			if serial {
				for i := range images {
					pull(i)
				}
			} else {
				var wg sync.WaitGroup
				for i := range images {
					wg.Add(1)
					go func() { defer wg.Done(); pull(i) }()
				}
				wg.Wait()
			}
			var out []pfFinding
			for _, err := range errs {
				if err != nil {
					out = append(out, pfError("%v", err))
				}
			}
			return out
		})
	}
}

// pullOne pulls image unless ifNotPresent and the runtime has it; a failed
// ImageStatus counts as missing, as kubeadm's ImageExists.
func pullOne(r criRPC, image string, ifNotPresent bool) error {
	if ifNotPresent {
		ctx, cancel := r.timeout()
		res, err := r.cl.ImageStatus(ctx, image)
		cancel()
		if err == nil && res.GetImage() != nil {
			return nil
		}
	}
	var err error
	for range pfPullImageRetry {
		if err = r.cl.PullImage(r.ctx, image); err == nil {
			return nil
		}
		if r.ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("failed to pull image %s: %v", image, err)
}

// criSandboxImage reads the runtime's sandbox image from the verbose Status
// info["config"] (containerd and CRI-O report sandboxImage there).
func criSandboxImage(r criRPC) (string, error) {
	ctx, cancel := r.timeout()
	defer cancel()
	res, err := r.cl.Status(ctx, true)
	if err != nil {
		return "", err
	}
	raw, ok := res.GetInfo()["config"]
	if !ok {
		return "", fmt.Errorf("no 'config' field in CRI info")
	}
	var cfg struct {
		SandboxImage string `json:"sandboxImage,omitempty"`
	}
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return "", err
	}
	if cfg.SandboxImage == "" {
		return "", fmt.Errorf("no 'sandboxImage' field in CRI info config")
	}
	return cfg.SandboxImage, nil
}
