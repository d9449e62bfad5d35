package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Etcd under --dry-run: reads go to the base's etcd (the real cluster, when
// it answers), writes are answered by the run's one etcd overlay and never
// sent, so a dry run of a control-plane join lists the real members and
// shows the learner it would add and promote.
func (d *DryRun) Etcd(endpoints []string, t EtcdTLS) (Etcd, error) {
	base, err := d.base.Etcd(endpoints, t)
	if err != nil {
		return nil, err
	}
	d.etcdOnce.Do(func() { d.etcd = newEtcdOverlay() })
	return &dryEtcd{base: base, ov: d.etcd, endpoints: endpoints}, nil
}

// EtcdUnread is a dry-run etcd client with no cluster behind it, for a dry
// run whose discovery found no cluster (placeholders): nothing is dialled,
// the member list holds only this run's changes, so the member add and
// promote a real run would make are still planned.
func (d *DryRun) EtcdUnread(endpoints []string, t EtcdTLS) (Etcd, error) {
	if _, err := etcdTLSConfig(t); err != nil {
		return nil, err
	}
	d.etcdOnce.Do(func() { d.etcd = newEtcdOverlay() })
	return &dryEtcd{ov: d.etcd, endpoints: append([]string(nil), endpoints...)}, nil
}

// etcdOverlay holds the member changes a dry run would have made, shared by
// every etcd client of the run.
type etcdOverlay struct {
	mu       sync.Mutex
	next     uint64
	added    []EtcdMember
	promoted map[uint64]bool
	removed  map[uint64]bool
}

// errNoEtcdBehind answers reads when no cluster is behind the overlay.
var errNoEtcdBehind = errors.New("there is no etcd cluster behind this run: under --root the tree is not the running system, so only this run's member changes are known")

// dryEtcd is the overlay over a base client. Under --root there is no base:
// the member list holds only this run's additions, Status and Sync fail.
type dryEtcd struct {
	base      Etcd
	ov        *etcdOverlay
	endpoints []string
}

func (e *dryEtcd) DryRun() bool { return true }

func (e *dryEtcd) Endpoints() []string {
	if e.base != nil {
		return e.base.Endpoints()
	}
	return append([]string(nil), e.endpoints...)
}

func (e *dryEtcd) Close() error {
	if e.base != nil {
		return e.base.Close()
	}
	return nil
}

// read wraps a failed read so a dry run says why it could not look.
func (e *dryEtcd) read(what string, err error) error {
	return fmt.Errorf("dry run: %s of etcd at %s failed (reads go to the real cluster; none answered): %w", what, strings.Join(e.Endpoints(), ","), err)
}

func (e *dryEtcd) MemberList(ctx context.Context) ([]EtcdMember, error) {
	var ms []EtcdMember
	if e.base != nil {
		var err error
		if ms, err = e.base.MemberList(ctx); err != nil {
			return nil, e.read("member list", err)
		}
	}
	e.ov.mu.Lock()
	defer e.ov.mu.Unlock()
	all := append(cloneMembers(ms), cloneMembers(e.ov.added)...)
	ms = all[:0]
	for _, m := range all {
		if e.ov.removed[m.ID] {
			continue
		}
		if e.ov.promoted[m.ID] {
			m.IsLearner = false
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// MemberAddAsLearner sends nothing: the learner gets the next placeholder
// ID and is listed from now on.
func (e *dryEtcd) MemberAddAsLearner(ctx context.Context, peerURL string) (EtcdMember, []EtcdMember, error) {
	ms, err := e.MemberList(ctx)
	if err != nil {
		return EtcdMember{}, nil, err
	}
	for _, m := range ms {
		for _, u := range m.PeerURLs {
			if u == peerURL {
				return EtcdMember{}, nil, fmt.Errorf("etcdserver: %s", etcdMsgPeerURLExist)
			}
		}
	}
	e.ov.mu.Lock()
	m := EtcdMember{ID: e.ov.next, PeerURLs: []string{peerURL}, IsLearner: true}
	e.ov.next++
	e.ov.added = append(e.ov.added, m)
	e.ov.mu.Unlock()
	return cloneMembers([]EtcdMember{m})[0], append(ms, m), nil
}

// MemberPromote sends nothing: a listed learner is a voter from now on.
func (e *dryEtcd) MemberPromote(ctx context.Context, id uint64) error {
	ms, err := e.MemberList(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.ID != id {
			continue
		}
		if !m.IsLearner {
			return fmt.Errorf("etcdserver: %s", etcdMsgNotLearner)
		}
		e.ov.mu.Lock()
		e.ov.promoted[id] = true
		e.ov.mu.Unlock()
		return nil
	}
	return fmt.Errorf("etcdserver: %s", etcdMsgMemberNotFound)
}

// MemberRemove sends nothing: a listed member is not listed from now on.
func (e *dryEtcd) MemberRemove(ctx context.Context, id uint64) error {
	ms, err := e.MemberList(ctx)
	if err != nil {
		return err
	}
	if _, ok := findEtcdMember(ms, id); !ok {
		return fmt.Errorf("etcdserver: %s", etcdMsgMemberNotFound)
	}
	e.ov.mu.Lock()
	e.ov.removed[id] = true
	e.ov.mu.Unlock()
	return nil
}

func findEtcdMember(ms []EtcdMember, id uint64) (EtcdMember, bool) {
	for _, m := range ms {
		if m.ID == id {
			return m, true
		}
	}
	return EtcdMember{}, false
}

func (e *dryEtcd) Status(ctx context.Context, endpoint string) error {
	if e.base == nil {
		return e.read("status", errNoEtcdBehind)
	}
	if err := e.base.Status(ctx, endpoint); err != nil {
		return e.read("status", err)
	}
	return nil
}

// Sync is a read: the base client's endpoints follow the real members (a
// placeholder learner has no client URL).
func (e *dryEtcd) Sync(ctx context.Context) ([]string, error) {
	if e.base == nil {
		return nil, e.read("sync", errNoEtcdBehind)
	}
	eps, err := e.base.Sync(ctx)
	if err != nil {
		return nil, e.read("sync", err)
	}
	return eps, nil
}

func newEtcdOverlay() *etcdOverlay {
	return &etcdOverlay{next: DryRunEtcdMemberID, promoted: map[uint64]bool{}, removed: map[uint64]bool{}}
}
