package host

import (
	"context"
	"crypto/tls"

	"github.com/kubelark/kubelark/runtime/cluster"
)

// Network is the host's door to servers: the API server, the health
// endpoints of the node's components, and the container runtime. Each host
// answers it once per run in its own way, so builtins never choose:
//
//   - Live: client-go clients on the host's clock, real HTTP GETs, gRPC to
//     the runtime's socket.
//   - DryRun: API writes land in an overlay and reads pass through to the
//     base's cluster when it answers; probes and read-only CRI queries pass
//     through; PullImage is refused.
//   - Sandbox: passes through; under --root (not the running system) API
//     clients are a dry-run overlay with nothing behind it.
//   - Fake: what the test put in FClients, FHTTP, FCRI and FEtcd.
type Network interface {
	// Clients is the run's API client factory. It is the same value for
	// every call, so one run shares one dry-run overlay.
	Clients() cluster.Factory
	// HTTPGet does one GET of url (no proxy: probes go to the node's own
	// components) with tlsCfg, and returns the status and at most
	// MaxProbeBody bytes of the body.
	HTTPGet(ctx context.Context, url string, tlsCfg *tls.Config) (HTTPResponse, error)
	// CRI connects to the container runtime listening on the unix socket
	// at path. The caller closes it.
	CRI(path string) (CRI, error)
	// Etcd is a client of the etcd cluster at endpoints (https client
	// URLs) with this TLS material (see Etcd for what each host does).
	// It does not wait for a connection: the first call that cannot reach
	// a member fails within its ctx. The caller closes it.
	Etcd(endpoints []string, tls EtcdTLS) (Etcd, error)
}

// HTTPResponse is the answer to a probe.
type HTTPResponse struct {
	Status int
	Body   []byte
}

// MaxProbeBody bounds the body HTTPGet reads: health answers are short.
const MaxProbeBody = 64 << 10
