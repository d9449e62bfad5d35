package builtins

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kubelark/kubelark/runtime/host"
)

// pfCRITimeout bounds each CRI RPC, like kubeadm's defaultTimeout.
const pfCRITimeout = 5 * time.Second

// newCRIClient connects to the container runtime at endpoint (a unix
// socket path). A host that answers the CRI itself (host.CRIConnector: the
// Fake, and DryRun/Sandbox over it) is used as is, so tests never touch the
// machine; otherwise the socket is dialled over gRPC. Tests may replace it.
var newCRIClient = func(h host.Host, endpoint string) (host.CRI, error) {
	if c, ok := h.(host.CRIConnector); ok {
		cl, err := c.ConnectCRI(endpoint)
		if !errors.Is(err, host.ErrNoCRIConnector) {
			return cl, err
		}
	}
	return dialCRI(h, endpoint)
}

// grpcCRI is the live CRI client over a unix socket. The connection is
// opened through the host (Host.DialTimeout), as the old socket check did.
type grpcCRI struct {
	conn *grpc.ClientConn
	rt   runtimeapi.RuntimeServiceClient
	img  runtimeapi.ImageServiceClient
}

func dialCRI(h host.Host, sockPath string) (host.CRI, error) {
	dialer := func(ctx context.Context, _ string) (net.Conn, error) {
		c, err := h.DialTimeout("unix", sockPath, pfCRITimeout)
		if err != nil {
			return nil, err
		}
		nc, ok := c.(net.Conn)
		if !ok {
			c.Close()
			return nil, fmt.Errorf("dial unix %s: this host cannot carry a gRPC connection", sockPath)
		}
		return nc, nil
	}
	conn, err := grpc.NewClient("passthrough:///"+sockPath,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(dialer),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16*1024*1024)))
	if err != nil {
		return nil, fmt.Errorf("cannot create a gRPC client for %s: %w", sockPath, err)
	}
	return &grpcCRI{conn: conn, rt: runtimeapi.NewRuntimeServiceClient(conn), img: runtimeapi.NewImageServiceClient(conn)}, nil
}

func (g *grpcCRI) Status(ctx context.Context, verbose bool) (*runtimeapi.StatusResponse, error) {
	return g.rt.Status(ctx, &runtimeapi.StatusRequest{Verbose: verbose})
}

func (g *grpcCRI) RuntimeConfig(ctx context.Context) (*runtimeapi.RuntimeConfigResponse, error) {
	return g.rt.RuntimeConfig(ctx, &runtimeapi.RuntimeConfigRequest{})
}

func (g *grpcCRI) ImageStatus(ctx context.Context, image string) (*runtimeapi.ImageStatusResponse, error) {
	return g.img.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: image}})
}

func (g *grpcCRI) PullImage(ctx context.Context, image string) error {
	_, err := g.img.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: image}})
	return err
}

func (g *grpcCRI) Close() error { return g.conn.Close() }
