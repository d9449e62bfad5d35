package host

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// grpcCRI is the live CRI client over a unix socket, as kubeadm's
// utilruntime.CRIRuntime (cri-client) talks to the runtime.
type grpcCRI struct {
	conn *grpc.ClientConn
	rt   runtimeapi.RuntimeServiceClient
	img  runtimeapi.ImageServiceClient
}

// maxCRIMessage is the gRPC receive limit, kubeadm's (cri-client's) 16 MiB.
const maxCRIMessage = 16 * 1024 * 1024

// dialCRI makes a client for the socket at sockPath; the connection opens
// on the first RPC, whose context bounds the dial.
func dialCRI(sockPath string) (CRI, error) {
	dialer := func(ctx context.Context, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sockPath)
	}
	conn, err := grpc.NewClient("passthrough:///"+sockPath,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(dialer),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxCRIMessage)))
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

func (g *grpcCRI) ListPodSandbox(ctx context.Context) ([]*runtimeapi.PodSandbox, error) {
	r, err := g.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return nil, err
	}
	return r.Items, nil
}

func (g *grpcCRI) ListContainers(ctx context.Context) ([]*runtimeapi.Container, error) {
	r, err := g.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
	if err != nil {
		return nil, err
	}
	return r.Containers, nil
}

func (g *grpcCRI) StopPodSandbox(ctx context.Context, id string) error {
	_, err := g.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id})
	return err
}

func (g *grpcCRI) RemovePodSandbox(ctx context.Context, id string) error {
	_, err := g.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id})
	return err
}

func (g *grpcCRI) Close() error { return g.conn.Close() }
