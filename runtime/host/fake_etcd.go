package host

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Etcd returns a client of FEtcd (nil = a cluster with no members, made on
// first use: every call is refused, like a live client of nothing). The TLS
// material is checked as the live host checks it. With FDryRun the client
// is DryRun's overlay over FEtcd (one overlay per FakeEtcd).
func (f *Fake) Etcd(endpoints []string, t EtcdTLS) (Etcd, error) {
	if len(endpoints) == 0 {
		return nil, fmt.Errorf("no etcd endpoints")
	}
	if _, err := etcdTLSConfig(t); err != nil {
		return nil, err
	}
	f.mu.Lock()
	if f.FEtcd == nil {
		f.FEtcd = NewFakeEtcd()
	}
	c := f.FEtcd
	f.mu.Unlock()
	c.mu.Lock()
	c.TLS = EtcdTLS{CA: slices.Clone(t.CA), Cert: slices.Clone(t.Cert), Key: slices.Clone(t.Key)}
	if c.dry == nil {
		c.dry = newEtcdOverlay()
	}
	ov := c.dry
	c.mu.Unlock()
	client := &fakeEtcdClient{c: c, endpoints: slices.Clone(endpoints)}
	if f.FDryRun {
		// A fake that claims to be a dry run behaves like DryRun's
		// etcd: reads reach the cluster, member changes do not.
		return &dryEtcd{base: client, ov: ov, endpoints: slices.Clone(endpoints)}, nil
	}
	return client, nil
}

// FakeEtcd is an in-memory etcd cluster with real etcd's membership rules:
// a learner is added without a name and gets one when its etcd starts
// (StartLearner); promoting a learner that has not started, or is still
// catching up (SetLagging), fails with etcd's "can only promote a learner
// member which is in sync with leader"; a voter cannot be promoted; at most
// MaxLearners learners; a peer URL only once. Members can be set down
// (SetDown): they answer nothing, and without a majority of voters up the
// cluster refuses MemberList, MemberAddAsLearner, MemberPromote and Sync
// (etcd's "no leader"), and the Status of a member that is up reports
// "no leader" as real etcd's answer does. A client reaches the cluster only through an
// endpoint that is the client URL of a member that is up.
type FakeEtcd struct {
	mu      sync.Mutex
	members []*fakeEtcdMember
	nextID  uint64
	dry     *etcdOverlay // the changes of FDryRun clients

	// MaxLearners is etcd's --max-learners (1 by default).
	MaxLearners int
	// Writes lists the changes the cluster received, in order:
	// "add-learner <peer URL>", "promote <id hex>", "remove <id hex>". A dry-run test checks
	// it stays empty.
	Writes []string
	// TLS is the material the last client was made with.
	TLS EtcdTLS
	// OnList, when set, is called (without the lock) before each
	// MemberList is answered: a test starts a learner "meanwhile".
	OnList func(*FakeEtcd)
	// OnAdd, when set, is called (without the lock) before each
	// MemberAddAsLearner is answered: a test adds a member "meanwhile".
	OnAdd func(*FakeEtcd)
	// RemoveErr, when set, is what every MemberRemove answers (etcd
	// refusing a removal the member list and quorum allowed).
	RemoveErr error
}

type fakeEtcdMember struct {
	EtcdMember
	down    bool
	lagging int // promotions to refuse although started
}

// NewFakeEtcd returns a cluster with no members.
func NewFakeEtcd() *FakeEtcd {
	return &FakeEtcd{MaxLearners: 1, nextID: 0x8e9e05c52164694d}
}

// AddVoter adds a started voting member and returns its ID.
func (f *FakeEtcd) AddVoter(name, peerURL, clientURL string) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.newID()
	f.members = append(f.members, &fakeEtcdMember{EtcdMember: EtcdMember{ID: id, Name: name, PeerURLs: []string{peerURL}, ClientURLs: []string{clientURL}}})
	return id
}

func (f *FakeEtcd) newID() uint64 {
	id := f.nextID
	f.nextID += 0x1111111111
	return id
}

// AddLearner adds an unstarted learner with these peer URLs (the first
// is the one kubeadm matches) and returns its ID, as another join would.
func (f *FakeEtcd) AddLearner(peerURLs ...string) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.newID()
	f.members = append(f.members, &fakeEtcdMember{EtcdMember: EtcdMember{ID: id, PeerURLs: append([]string(nil), peerURLs...), IsLearner: true}})
	return id
}

// StartLearner is the learner's etcd starting: it gets its name and client
// URL, and can be promoted (unless lagging).
func (f *FakeEtcd) StartLearner(id uint64, name, clientURL string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.find(id); m != nil {
		m.Name, m.ClientURLs = name, []string{clientURL}
	}
}

// SetLagging makes the next n promotions of id fail as "not in sync" even
// though it started.
func (f *FakeEtcd) SetLagging(id uint64, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.find(id); m != nil {
		m.lagging = n
	}
}

// SetDown stops (true) or restarts (false) a member.
func (f *FakeEtcd) SetDown(id uint64, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.find(id); m != nil {
		m.down = down
	}
}

// Members returns a copy of the member list, in order of addition.
func (f *FakeEtcd) Members() []EtcdMember {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.list()
}

func (f *FakeEtcd) list() []EtcdMember {
	out := make([]EtcdMember, 0, len(f.members))
	for _, m := range f.members {
		out = append(out, m.EtcdMember)
	}
	return cloneMembers(out)
}

func (f *FakeEtcd) find(id uint64) *fakeEtcdMember {
	for _, m := range f.members {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// byClientURL is the member serving endpoint, or nil.
func (f *FakeEtcd) byClientURL(endpoint string) *fakeEtcdMember {
	for _, m := range f.members {
		if slices.Contains(m.ClientURLs, endpoint) {
			return m
		}
	}
	return nil
}

// reach fails unless one of endpoints is a member that is up, and, when
// quorum is needed, unless a majority of the voters is up.
func (f *FakeEtcd) reach(endpoints []string, quorum bool) error {
	reachable := false
	for _, ep := range endpoints {
		if m := f.byClientURL(ep); m != nil && !m.down {
			reachable = true
			break
		}
	}
	if !reachable {
		return fmt.Errorf("dial %s: connection refused", strings.Join(endpoints, ","))
	}
	if !quorum {
		return nil
	}
	voters, up := 0, 0
	for _, m := range f.members {
		if !m.IsLearner {
			voters++
			if !m.down {
				up++
			}
		}
	}
	if up <= voters/2 {
		return fmt.Errorf("%s", etcdMsgNoQuorum)
	}
	return nil
}

// fakeEtcdClient is one client of a FakeEtcd.
type fakeEtcdClient struct {
	c         *FakeEtcd
	mu        sync.Mutex
	endpoints []string
}

func (e *fakeEtcdClient) eps() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.endpoints)
}

func (e *fakeEtcdClient) Endpoints() []string { return e.eps() }
func (e *fakeEtcdClient) DryRun() bool        { return false }
func (e *fakeEtcdClient) Close() error        { return nil }

func (e *fakeEtcdClient) MemberList(ctx context.Context) ([]EtcdMember, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if e.c.OnList != nil {
		e.c.OnList(e.c)
	}
	e.c.mu.Lock()
	defer e.c.mu.Unlock()
	if err := e.c.reach(e.eps(), true); err != nil {
		return nil, err
	}
	return e.c.list(), nil
}

func (e *fakeEtcdClient) MemberAddAsLearner(ctx context.Context, peerURL string) (EtcdMember, []EtcdMember, error) {
	if err := ctx.Err(); err != nil {
		return EtcdMember{}, nil, err
	}
	if e.c.OnAdd != nil {
		e.c.OnAdd(e.c)
	}
	e.c.mu.Lock()
	defer e.c.mu.Unlock()
	if err := e.c.reach(e.eps(), true); err != nil {
		return EtcdMember{}, nil, err
	}
	learners := 0
	for _, m := range e.c.members {
		if slices.Contains(m.PeerURLs, peerURL) {
			return EtcdMember{}, nil, fmt.Errorf("etcdserver: %s", etcdMsgPeerURLExist)
		}
		if m.IsLearner {
			learners++
		}
	}
	if learners >= e.c.MaxLearners {
		return EtcdMember{}, nil, fmt.Errorf("etcdserver: %s", etcdMsgTooManyLearners)
	}
	m := &fakeEtcdMember{EtcdMember: EtcdMember{ID: e.c.newID(), PeerURLs: []string{peerURL}, IsLearner: true}}
	e.c.members = append(e.c.members, m)
	e.c.Writes = append(e.c.Writes, "add-learner "+peerURL)
	return cloneMembers([]EtcdMember{m.EtcdMember})[0], e.c.list(), nil
}

func (e *fakeEtcdClient) MemberPromote(ctx context.Context, id uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.c.mu.Lock()
	defer e.c.mu.Unlock()
	if err := e.c.reach(e.eps(), true); err != nil {
		return err
	}
	m := e.c.find(id)
	switch {
	case m == nil:
		return fmt.Errorf("etcdserver: %s", etcdMsgMemberNotFound)
	case !m.IsLearner:
		return fmt.Errorf("etcdserver: %s", etcdMsgNotLearner)
	case m.Name == "" || m.down || m.lagging > 0:
		if m.lagging > 0 {
			m.lagging--
		}
		return fmt.Errorf("etcdserver: %s", etcdMsgLearnerNotReady)
	}
	m.IsLearner = false
	e.c.Writes = append(e.c.Writes, fmt.Sprintf("promote %016x", id))
	return nil
}

// MemberRemove drops the member (it needs a quorum, as etcd does).
func (e *fakeEtcdClient) MemberRemove(ctx context.Context, id uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.c.mu.Lock()
	defer e.c.mu.Unlock()
	if err := e.c.reach(e.eps(), true); err != nil {
		return err
	}
	if e.c.RemoveErr != nil {
		return e.c.RemoveErr
	}
	for i, m := range e.c.members {
		if m.ID == id {
			e.c.members = append(e.c.members[:i:i], e.c.members[i+1:]...)
			e.c.Writes = append(e.c.Writes, fmt.Sprintf("remove %016x", id))
			return nil
		}
	}
	return fmt.Errorf("etcdserver: %s", etcdMsgMemberNotFound)
}

func (e *fakeEtcdClient) Status(ctx context.Context, endpoint string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.c.mu.Lock()
	defer e.c.mu.Unlock()
	if m := e.c.byClientURL(endpoint); m == nil || m.down {
		return fmt.Errorf("dial %s: connection refused", endpoint)
	}
	if err := e.c.reach([]string{endpoint}, true); err != nil {
		// etcd answers, and reports it has no leader (as the live
		// Status does, from the answer's errors).
		return fmt.Errorf("member %s is not healthy: %v", endpoint, err)
	}
	return nil
}

func (e *fakeEtcdClient) Sync(ctx context.Context) ([]string, error) {
	ms, err := e.MemberList(ctx)
	if err != nil {
		return nil, err
	}
	var eps []string
	for _, m := range ms {
		if m.Name != "" && !m.IsLearner {
			eps = append(eps, m.ClientURLs...)
		}
	}
	e.mu.Lock()
	e.endpoints = eps
	e.mu.Unlock()
	return slices.Clone(eps), nil
}
