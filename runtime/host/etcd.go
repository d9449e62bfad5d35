package host

import (
	"context"
	"strings"
)

// Etcd is the host's door to an etcd cluster, for a control-plane join:
// kubeadm's check-etcd and etcd-join phases list the members, check that a
// majority answers, add the new member as a learner and promote it once it
// has caught up. Each host answers Network.Etcd in its own way:
//
//   - Live: go.etcd.io/etcd/client/v3 over TLS with the given PEM.
//   - DryRun: reads (MemberList, Status, Sync) go to the base's etcd;
//     writes are not sent: MemberAddAsLearner answers with a learner with a
//     placeholder ID (DryRunEtcdMemberID...) that later MemberList calls
//     see, MemberPromote marks it (or a real learner) a voter in the
//     overlay, MemberRemove hides the member from later lists.
//   - Sandbox: passes through; under --root (not the running system) a
//     dry-run overlay with no cluster behind it.
//   - Fake: FEtcd, an in-memory cluster (FakeEtcd).
//
// Every call takes its own ctx; the caller bounds each with a timeout.
type Etcd interface {
	// Endpoints are the client URLs calls go to (those given, or those of
	// the last Sync).
	Endpoints() []string
	// MemberList lists the members (learners included).
	MemberList(ctx context.Context) ([]EtcdMember, error)
	// MemberAddAsLearner adds a non-voting member with this peer URL and
	// returns it (no name yet: it has not started) and the new list.
	MemberAddAsLearner(ctx context.Context, peerURL string) (added EtcdMember, all []EtcdMember, err error)
	// MemberPromote makes learner id a voting member. etcd refuses while
	// the learner is not in sync with the leader (EtcdLearnerNotReady).
	MemberPromote(ctx context.Context, id uint64) error
	// MemberRemove removes member id (reset's remove-etcd-member); etcd
	// answers "member not found" (EtcdMemberNotFound) for an unknown id.
	MemberRemove(ctx context.Context, id uint64) error
	// Status asks the one member at endpoint for its status; an error
	// when it does not answer or reports errors (no leader, corrupt...).
	Status(ctx context.Context, endpoint string) error
	// Sync replaces the endpoints with the client URLs of the started
	// voting members (clientv3's Sync, which kubeadm calls) and returns
	// them.
	Sync(ctx context.Context) ([]string, error)
	// DryRun reports whether writes are only answered, not sent.
	DryRun() bool
	Close() error
}

// EtcdTLS is the client's TLS material, PEM. Key is secret: no host puts
// it, or anything derived from it, in an error.
type EtcdTLS struct {
	CA, Cert, Key []byte
}

// EtcdMember is one member of the cluster. A learner that has not started
// has no Name and no ClientURLs yet.
type EtcdMember struct {
	ID         uint64
	Name       string
	PeerURLs   []string
	ClientURLs []string
	IsLearner  bool
}

// DryRunEtcdMemberID is the ID a dry run gives the first learner it
// pretends to add (the next one gets +1, ...): real IDs are random 64-bit
// numbers, this one reads as a placeholder in a plan ("00000000000d1a01").
const DryRunEtcdMemberID uint64 = 0xd1a01

// The etcd server's refusals the builtins tell apart, as etcd words them
// (go.etcd.io/etcd/api/v3/v3rpc/rpctypes); the Fake uses the same words.
const (
	etcdMsgLearnerNotReady = "can only promote a learner member which is in sync with leader"
	etcdMsgNotLearner      = "can only promote a learner member"
	etcdMsgMemberNotFound  = "member not found"
	etcdMsgPeerURLExist    = "Peer URLs already exists"
	etcdMsgTooManyLearners = "too many learner members in cluster"
	etcdMsgNoQuorum        = "etcdserver: no leader"
)

// Kinds of etcd errors (EtcdErrorKind).
const (
	EtcdLearnerNotReady = "learner-not-ready"
	EtcdNotLearner      = "not-learner"
	EtcdMemberNotFound  = "member-not-found"
	EtcdPeerURLExists   = "peer-url-exists"
	EtcdTooManyLearners = "too-many-learners"
	// EtcdUnavailable is a failure worth retrying: no answer, no leader,
	// a deadline, a closed connection.
	EtcdUnavailable = "unavailable"
)

// EtcdErrorKind classifies an error of an Etcd call by etcd's own words,
// so the live client (gRPC status errors) and the fake agree; "" = none of
// the known kinds (do not retry).
func EtcdErrorKind(err error) string {
	if err == nil {
		return ""
	}
	m := err.Error()
	switch {
	case strings.Contains(m, etcdMsgLearnerNotReady):
		return EtcdLearnerNotReady
	case strings.Contains(m, etcdMsgNotLearner):
		return EtcdNotLearner
	case strings.Contains(m, etcdMsgMemberNotFound):
		return EtcdMemberNotFound
	case strings.Contains(m, etcdMsgPeerURLExist):
		return EtcdPeerURLExists
	case strings.Contains(m, etcdMsgTooManyLearners):
		return EtcdTooManyLearners
	}
	for _, s := range []string{"no leader", "deadline exceeded", "connection refused", "Unavailable", "unavailable",
		"leader changed", "timed out", "transport is closing", "connection reset", "i/o timeout", "no route to host",
		"not capable", "too many requests",
		// rpctypes.ErrUnhealthy: a member change that would leave too few
		// members connected for etcd's 5 s health window (a member that
		// just joined); kubeadm's RemoveMember retries it.
		"unhealthy cluster"} {
		if strings.Contains(m, s) {
			return EtcdUnavailable
		}
	}
	return ""
}

func cloneMembers(ms []EtcdMember) []EtcdMember {
	out := make([]EtcdMember, len(ms))
	for i, m := range ms {
		m.PeerURLs = append([]string(nil), m.PeerURLs...)
		m.ClientURLs = append([]string(nil), m.ClientURLs...)
		out[i] = m
	}
	return out
}
