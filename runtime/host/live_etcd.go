package host

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// etcdDialTimeout bounds how long the client waits for a connection to a
// member (kubeadm's etcdTimeout); each call's ctx bounds the call.
const etcdDialTimeout = 2 * time.Second

// Etcd builds a clientv3 client. It does not block on the connection, so
// an unreachable cluster shows up as the first call's error, within that
// call's ctx.
func (l *Live) Etcd(endpoints []string, t EtcdTLS) (Etcd, error) { return dialEtcd(endpoints, t) }

// etcdTLSConfig turns the PEM into a client TLS config. Its errors never
// carry key bytes: the standard library's pair errors name only what is
// wrong.
func etcdTLSConfig(t EtcdTLS) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(t.CA) {
		return nil, errors.New("the etcd CA holds no PEM certificate")
	}
	pair, err := tls.X509KeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, fmt.Errorf("the etcd client certificate and key: %v", err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

func dialEtcd(endpoints []string, t EtcdTLS) (Etcd, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("no etcd endpoints")
	}
	cfg, err := etcdTLSConfig(t)
	if err != nil {
		return nil, err
	}
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   append([]string(nil), endpoints...),
		DialTimeout: etcdDialTimeout,
		TLS:         cfg,
		// The run prints what matters; clientv3's own logging would
		// interleave JSON lines with the recipe's output.
		Logger: zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd client for %s: %w", strings.Join(endpoints, ","), err)
	}
	return &liveEtcd{c: c}, nil
}

// liveEtcd is the clientv3 client behind the Etcd door.
type liveEtcd struct{ c *clientv3.Client }

func (e *liveEtcd) Endpoints() []string { return e.c.Endpoints() }
func (e *liveEtcd) DryRun() bool        { return false }
func (e *liveEtcd) Close() error        { return e.c.Close() }

func (e *liveEtcd) MemberList(ctx context.Context) ([]EtcdMember, error) {
	resp, err := e.c.MemberList(ctx)
	if err != nil {
		return nil, err
	}
	return fromPBMembers(resp.Members), nil
}

func (e *liveEtcd) MemberAddAsLearner(ctx context.Context, peerURL string) (EtcdMember, []EtcdMember, error) {
	resp, err := e.c.MemberAddAsLearner(ctx, []string{peerURL})
	if err != nil {
		return EtcdMember{}, nil, err
	}
	var added EtcdMember
	if resp.Member != nil {
		added = fromPBMembers([]*etcdPBMember{resp.Member})[0]
	}
	return added, fromPBMembers(resp.Members), nil
}

func (e *liveEtcd) MemberPromote(ctx context.Context, id uint64) error {
	_, err := e.c.MemberPromote(ctx, id)
	return err
}

func (e *liveEtcd) MemberRemove(ctx context.Context, id uint64) error {
	_, err := e.c.MemberRemove(ctx, id)
	return err
}

func (e *liveEtcd) Status(ctx context.Context, endpoint string) error {
	resp, err := e.c.Status(ctx, endpoint)
	if err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("member %s is not healthy: %s", endpoint, strings.Join(resp.Errors, ", "))
	}
	return nil
}

func (e *liveEtcd) Sync(ctx context.Context) ([]string, error) {
	if err := e.c.Sync(ctx); err != nil {
		return nil, err
	}
	return e.c.Endpoints(), nil
}

type etcdPBMember = etcdserverpb.Member

func fromPBMembers(ms []*etcdserverpb.Member) []EtcdMember {
	out := make([]EtcdMember, 0, len(ms))
	for _, m := range ms {
		if m == nil {
			continue
		}
		out = append(out, EtcdMember{ID: m.ID, Name: m.Name, PeerURLs: append([]string(nil), m.PeerURLs...),
			ClientURLs: append([]string(nil), m.ClientURLs...), IsLearner: m.IsLearner})
	}
	return out
}
