package builtins

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// The etcd family: the verbs a control-plane join needs from the etcd
// cluster (kubeadm's check-etcd and etcd-join phases). The Go side only
// talks: which peer URL to add, which endpoints to ask, when to promote and
// what to do about a failure is the recipe's. Every call goes through the
// Host's Etcd door, so a dry run reads the real cluster and only records
// the member changes.

func init() { families = append(families, registerEtcd) }

const (
	// etcdCallTimeout bounds one RPC (a member that does not answer
	// within it is retried, or reported).
	etcdCallTimeout = 5 * time.Second
	// etcdRetryInterval is kubeadm's EtcdAPICallRetryInterval.
	etcdRetryInterval = 500 * time.Millisecond
)

func registerEtcd(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "etcd_client",
		Signature: `etcd_client(endpoints, ca, cert, key, timeout="2m0s", unread=False)`,
		Doc: "Builds a client of the etcd cluster at endpoints, authenticated with a client certificate " +
			"(kubeadm uses the API server's apiserver-etcd-client or etcd's healthcheck-client).\n" +
			"Returns a value of type etcd_client with attributes endpoints (the current client URLs), identity " +
			"(\"client certificate CN\", never a secret), dry_run, and methods:\n" +
			"  members() -> list of struct(id = \"<16 hex>\", name, peer_urls, client_urls, learner), sorted by id " +
			"(a learner that has not started has name \"\" and no client_urls);\n" +
			"  sync() -> the endpoints, replaced by the client URLs of the started voting members (kubeadm syncs before checking quorum);\n" +
			"  status() -> dict endpoint -> None (answers) or the error string, one Status call per endpoint;\n" +
			"  has_quorum() -> bool: more than half of the endpoints answer Status without errors (an answer saying \"no leader\" is not healthy, as in kubeadm);\n" +
			"  check_quorum() -> None, or fails with \"etcd cluster is not healthy\" naming the healthy and the total members " +
			"(retried until the client timeout);\n" +
			"  add_learner(peer_url) -> struct(member, members): adds a non-voting member; when a member with that first peer URL " +
			"already exists it is returned and nothing is added (a re-run after a crash), as kubeadm does;\n" +
			"  wait_started(id, timeout=\"2m0s\", interval=\"500ms\") -> member: polls the member list until the member has a name (its etcd started);\n" +
			"  promote(id) -> member: makes a learner a voter, retried while etcd says it is not in sync with the leader " +
			"(until the client timeout); a member that already votes is fine;\n" +
			"  wait_endpoints(timeout=\"40s\", interval=\"5s\") -> endpoints: until every endpoint answers Status (kubeadm: 8 x 5s);\n" +
			"  remove(id, fail_ok=False) -> True when member id (as members() gives it) was removed, False when no member has that id (already removed; reset's remove-etcd-member); " +
			"with fail_ok=True a failure returns its error text (a string) instead of stopping the run (reset warns with the etcdctl command and goes on, as kubeadm does);\n" +
			"  close().\n" +
			"Calls that fail to reach etcd are retried every 500ms until the client timeout; every error names the step " +
			"(\"etcd member add\", \"etcd promote\"...), the endpoints and what to do.",
		Args: []runtime.Arg{
			{Name: "endpoints", Type: "list of strings", Doc: `https client URLs, e.g. ["https://10.0.0.10:2379"]`},
			{Name: "ca", Type: "string", Doc: "etcd's CA certificate: a path, or PEM text (read through the host: a dry run sees files it would have written)"},
			{Name: "cert", Type: "string", Doc: "client certificate: a path, or PEM text"},
			{Name: "key", Type: "string or secret", Doc: "client key: a path (read as a secret), or the PEM as a secret (e.g. read_file(path)); never plain text"},
			{Name: "timeout", Type: "duration", Doc: "how long a call retries an unreachable cluster, and how long promote waits for the learner to catch up (kubeadm's timeouts.etcdAPICall)"},
			{Name: "unread", Type: "bool", Doc: "dry run only: there is no cluster to read (discovery gave placeholders); nothing is dialled and members() lists only this run's changes, so add_learner and promote are still planned"},
		},
		DryRun: "The client is built and reads (members, sync, status, quorum) go to the real cluster when it answers; a cluster that does " +
			"not answer fails the read at once (no retries). add_learner, promote and remove are not sent: they are recorded (etcd.member-add, " +
			"etcd.member-promote, etcd.member-remove, result recorded) and answered as if done (an added learner gets the placeholder id 00000000000d1a01, " +
			"later members() lists it; a removed member is no longer listed); the waits are recorded, not performed. Under --root, or with unread=True, there is no cluster behind: members() lists only this run's additions.",
		Fn: etcdClientFn,
	})
}

// etcdClient is the Starlark value holding a host.Etcd.
type etcdClient struct {
	e        host.Etcd
	timeout  time.Duration
	identity string
}

var _ starlark.HasAttrs = (*etcdClient)(nil)

func (c *etcdClient) String() string {
	return fmt.Sprintf("<etcd_client %s>", strings.Join(c.e.Endpoints(), ","))
}
func (c *etcdClient) Type() string          { return "etcd_client" }
func (c *etcdClient) Freeze()               {}
func (c *etcdClient) Truth() starlark.Bool  { return starlark.True }
func (c *etcdClient) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: etcd_client") }

// etcdMethods are the methods of an etcd_client, by name.
var etcdMethods = map[string]func(c *etcdClient, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error){
	"members":        (*etcdClient).members,
	"sync":           (*etcdClient).sync,
	"status":         (*etcdClient).status,
	"has_quorum":     (*etcdClient).hasQuorum,
	"check_quorum":   (*etcdClient).checkQuorum,
	"add_learner":    (*etcdClient).addLearner,
	"wait_started":   (*etcdClient).waitStarted,
	"promote":        (*etcdClient).promote,
	"wait_endpoints": (*etcdClient).waitEndpoints,
	"remove":         (*etcdClient).remove,
	"close":          (*etcdClient).close,
}

func (c *etcdClient) AttrNames() []string {
	names := []string{"dry_run", "endpoints", "identity"}
	for n := range etcdMethods {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (c *etcdClient) Attr(name string) (starlark.Value, error) {
	switch name {
	case "endpoints":
		return stringList(c.e.Endpoints()), nil
	case "identity":
		return starlark.String(c.identity), nil
	case "dry_run":
		return starlark.Bool(c.e.DryRun()), nil
	}
	m, ok := etcdMethods[name]
	if !ok {
		return nil, nil
	}
	return starlark.NewBuiltin(name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		return m(c, thread, b, args, kwargs)
	}), nil
}

func stringList(ss []string) *starlark.List {
	out := make([]starlark.Value, len(ss))
	for i, s := range ss {
		out[i] = starlark.String(s)
	}
	return starlark.NewList(out)
}

func etcdClientFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var endpointsV, keyV starlark.Value
	var ca, cert string
	timeoutS := "2m0s"
	unread := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "endpoints", &endpointsV, "ca", &ca, "cert", &cert, "key", &keyV, "timeout?", &timeoutS, "unread?", &unread); err != nil {
		return nil, err
	}
	var unreadHost interface {
		EtcdUnread([]string, host.EtcdTLS) (host.Etcd, error)
	}
	if unread {
		h, ok := env.Host.(interface {
			EtcdUnread([]string, host.EtcdTLS) (host.Etcd, error)
		})
		if !ok {
			return nil, fmt.Errorf("%s: unread=True is for a dry run with no cluster to read; a real run must reach etcd: drop unread", b.Name())
		}
		unreadHost = h
	}
	endpoints, err := Strings(b.Name()+": endpoints", endpointsV)
	if err != nil {
		return nil, err
	}
	if len(endpoints) == 0 {
		return nil, fmt.Errorf("%s: endpoints is empty; give etcd's client URLs, e.g. [\"https://10.0.0.10:2379\"]", b.Name())
	}
	for i, ep := range endpoints {
		if err := etcdURL(ep, "https"); err != nil {
			return nil, fmt.Errorf("%s: endpoints[%d]=%q: %v; give etcd's client URL, e.g. \"https://10.0.0.10:2379\"", b.Name(), i, shortArg(ep), err)
		}
	}
	timeout, err := durationArg(b.Name(), "timeout", timeoutS)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("%s: timeout=%q: want a positive duration like \"2m0s\"", b.Name(), timeoutS)
	}
	caPEM, err := pemArg(env, b.Name(), "ca", ca)
	if err != nil {
		return nil, err
	}
	if !x509.NewCertPool().AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s: ca=%q holds no PEM certificate; give etcd's CA (/etc/kubernetes/pki/etcd/ca.crt)", b.Name(), shortArg(ca))
	}
	certPEM, err := pemArg(env, b.Name(), "cert", cert)
	if err != nil {
		return nil, err
	}
	keyPEM, err := etcdKeyArg(env, b.Name(), keyV)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The standard library's message says what is wrong, never the bytes.
		return nil, fmt.Errorf("%s: cert=%q and key: %v; give a client certificate and its own key", b.Name(), shortArg(cert), err)
	}
	identity := "client certificate"
	if leaf, err := x509.ParseCertificate(pair.Certificate[0]); err == nil {
		identity += " " + leaf.Subject.CommonName
	}
	t := host.EtcdTLS{CA: caPEM, Cert: certPEM, Key: keyPEM}
	var e host.Etcd
	if unreadHost != nil {
		e, err = unreadHost.EtcdUnread(endpoints, t)
	} else {
		e, err = env.Host.Etcd(endpoints, t)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", b.Name(), strings.Join(endpoints, ","), err)
	}
	return &etcdClient{e: e, timeout: timeout, identity: identity}, nil
}

// etcdKeyArg reads the client key: a path (its content becomes a registered
// secret) or a Secret holding the PEM. PEM as a plain string is refused: it
// would already have been printable.
func etcdKeyArg(env *runtime.Env, fn string, v starlark.Value) ([]byte, error) {
	s, secret, ok := runtime.AsSecretOrString(v)
	if !ok {
		return nil, fmt.Errorf("%s: key: got %s, want a path or a secret", fn, v.Type())
	}
	if secret {
		env.RegisterSecretValue(v)
		if !strings.Contains(s, "-----BEGIN") {
			return nil, fmt.Errorf("%s: key: the secret holds no PEM; give the key's PEM as a secret (read_file(path)) or its path as a string", fn)
		}
		return []byte(s), nil
	}
	if strings.Contains(s, "-----BEGIN") {
		env.RegisterSecret(s)
		return nil, fmt.Errorf("%s: key: PEM given as a plain string; give the key's path, or its PEM as a secret (read_file(path))", fn)
	}
	data, err := env.Host.ReadFile(s)
	if err != nil {
		return nil, fmt.Errorf("%s: key=%q: %w; give the path of the client key (e.g. /etc/kubernetes/pki/apiserver-etcd-client.key)", fn, shortArg(s), err)
	}
	env.RegisterSecret(string(data))
	if b, _ := pem.Decode(data); b == nil {
		return nil, fmt.Errorf("%s: key=%q holds no PEM key", fn, shortArg(s))
	}
	return data, nil
}

// etcdURL checks a client (https) or peer (http or https) URL: scheme,
// host and port, nothing else.
func etcdURL(s string, schemes ...string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL (%v)", err)
	}
	okScheme := false
	for _, sc := range schemes {
		okScheme = okScheme || u.Scheme == sc
	}
	switch {
	case !okScheme:
		return fmt.Errorf("want a %s URL", strings.Join(schemes, " or "))
	case u.Hostname() == "" || u.Port() == "":
		return errors.New("want host and port")
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return errors.New("want only scheme, host and port")
	}
	if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("port %q is not 1-65535", u.Port())
	}
	return nil
}

// where names the endpoints a failed step talked to.
func (c *etcdClient) where() string { return strings.Join(c.e.Endpoints(), ",") }

// call runs fn with a per-call timeout, retrying while etcd is unavailable
// (no answer, no leader) until the client timeout. A dry run tries once:
// it must say at once that it cannot read, not hang.
func (c *etcdClient) call(env *runtime.Env, fn func(ctx context.Context) error) error {
	deadline := env.Host.Now().Add(c.timeout)
	for {
		ctx, cancel := context.WithTimeout(env.Ctx, etcdCallTimeout)
		err := fn(ctx)
		cancel()
		if err == nil || c.e.DryRun() || host.EtcdErrorKind(err) != host.EtcdUnavailable || !env.Host.Now().Before(deadline) {
			return err
		}
		if err := env.Host.Sleep(env.Ctx, etcdRetryInterval); err != nil {
			return err
		}
	}
}

func (c *etcdClient) list(env *runtime.Env) ([]host.EtcdMember, error) {
	var ms []host.EtcdMember
	err := c.call(env, func(ctx context.Context) error {
		var err error
		ms, err = c.e.MemberList(ctx)
		return err
	})
	return ms, err
}

// unreachableHint is the hint for a cluster that does not answer.
func unreachableHint(err error) string {
	if host.EtcdErrorKind(err) == host.EtcdUnavailable {
		return "; check that etcd runs and listens there, that a majority of its members is up, and that the CA and client certificate are etcd's"
	}
	return ""
}

func memberHex(id uint64) string { return fmt.Sprintf("%016x", id) }

func memberValue(m host.EtcdMember) starlark.Value {
	return Struct(map[string]starlark.Value{
		"id":          starlark.String(memberHex(m.ID)),
		"name":        starlark.String(m.Name),
		"peer_urls":   stringList(m.PeerURLs),
		"client_urls": stringList(m.ClientURLs),
		"learner":     starlark.Bool(m.IsLearner),
	})
}

func membersValue(ms []host.EtcdMember) *starlark.List {
	ms = append([]host.EtcdMember(nil), ms...)
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	out := make([]starlark.Value, len(ms))
	for i, m := range ms {
		out[i] = memberValue(m)
	}
	return starlark.NewList(out)
}

func findMember(ms []host.EtcdMember, id uint64) (host.EtcdMember, bool) {
	for _, m := range ms {
		if m.ID == id {
			return m, true
		}
	}
	return host.EtcdMember{}, false
}

func firstPeer(m host.EtcdMember) string {
	if len(m.PeerURLs) > 0 {
		return m.PeerURLs[0]
	}
	return ""
}

// memberIDArg takes a member id as members() gives it (hex) or an int.
func memberIDArg(step string, v starlark.Value) (uint64, error) {
	switch v := v.(type) {
	case starlark.String:
		s := string(v)
		if len(s) >= 1 && len(s) <= 16 {
			if id, err := strconv.ParseUint(s, 16, 64); err == nil {
				return id, nil
			}
		}
		return 0, fmt.Errorf("%s: id=%q: want the member id as members() gives it (16 hex digits)", step, shortArg(s))
	case starlark.Int:
		if id, ok := v.Uint64(); ok {
			return id, nil
		}
	}
	return 0, fmt.Errorf("%s: id: got %s %s, want the member id as members() gives it (16 hex digits)", step, v.Type(), shortArg(v.String()))
}

func (c *etcdClient) record(thread *starlark.Thread, env *runtime.Env, builtin string, a runtime.Action) {
	a.Server, a.Credential = c.where(), c.identity
	env.Record(thread, builtin, a)
}

func (c *etcdClient) members(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	ms, err := c.list(env)
	if err != nil {
		return nil, fmt.Errorf("etcd member list: %s: %w%s", c.where(), err, unreachableHint(err))
	}
	return membersValue(ms), nil
}

func (c *etcdClient) sync(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	before := c.where()
	var eps []string
	err = c.call(env, func(ctx context.Context) error {
		var err error
		eps, err = c.e.Sync(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("etcd sync: %s: %w%s", before, err, unreachableHint(err))
	}
	return stringList(eps), nil
}

// statuses asks every endpoint once; errs[ep] is nil when it answers.
func (c *etcdClient) statuses(env *runtime.Env) ([]string, map[string]error) {
	eps := c.e.Endpoints()
	errs := map[string]error{}
	for _, ep := range eps {
		ctx, cancel := context.WithTimeout(env.Ctx, etcdCallTimeout)
		errs[ep] = c.e.Status(ctx, ep)
		cancel()
	}
	return eps, errs
}

func healthy(eps []string, errs map[string]error) int {
	n := 0
	for _, ep := range eps {
		if errs[ep] == nil {
			n++
		}
	}
	return n
}

// failures lists the endpoints that did not answer, with why.
func failures(eps []string, errs map[string]error) string {
	var out []string
	for _, ep := range eps {
		if errs[ep] != nil {
			out = append(out, ep+": "+errs[ep].Error())
		}
	}
	return strings.Join(out, "; ")
}

func (c *etcdClient) status(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	eps, errs := c.statuses(env)
	d := starlark.NewDict(len(eps))
	for _, ep := range eps {
		var v starlark.Value = starlark.None
		if errs[ep] != nil {
			v = starlark.String(errs[ep].Error())
		}
		if err := d.SetKey(starlark.String(ep), v); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (c *etcdClient) hasQuorum(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	eps, errs := c.statuses(env)
	return starlark.Bool(healthy(eps, errs) > len(eps)/2), nil
}

func (c *etcdClient) checkQuorum(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	deadline := env.Host.Now().Add(c.timeout)
	for {
		eps, errs := c.statuses(env)
		n := healthy(eps, errs)
		if n > len(eps)/2 {
			return starlark.None, nil
		}
		if c.e.DryRun() || !env.Host.Now().Before(deadline) {
			return nil, fmt.Errorf("etcd check-quorum: etcd cluster is not healthy: %d of %d members are healthy, a majority (%d) is needed before a member can be added (%s); "+
				"bring the failed members back, or remove the dead ones (etcdctl member remove ID), then run the join again",
				n, len(eps), len(eps)/2+1, failures(eps, errs))
		}
		if err := env.Host.Sleep(env.Ctx, etcdRetryInterval); err != nil {
			return nil, err
		}
	}
}

func (c *etcdClient) addLearner(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	const step = "etcd member add"
	var peer string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "peer_url", &peer); err != nil {
		return nil, err
	}
	if err := etcdURL(peer, "https", "http"); err != nil {
		return nil, fmt.Errorf("%s: peer_url=%q: %v; give this node's etcd peer URL, e.g. \"https://10.0.0.11:2380\"", step, shortArg(peer), err)
	}
	var added host.EtcdMember
	var all []host.EtcdMember
	existed := false
	err = c.call(env, func(ctx context.Context) error {
		ms, err := c.e.MemberList(ctx)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if firstPeer(m) == peer {
				added, all, existed = m, ms, true
				return nil
			}
		}
		added, all, err = c.e.MemberAddAsLearner(ctx, peer)
		if host.EtcdErrorKind(err) == host.EtcdPeerURLExists {
			// Added meanwhile (another run, or a call of ours whose
			// answer was lost): the member is there now.
			ms, lerr := c.e.MemberList(ctx)
			if lerr != nil {
				return lerr
			}
			for _, m := range ms {
				if firstPeer(m) == peer {
					added, all, existed = m, ms, true
					return nil
				}
			}
		}
		return err
	})
	if err != nil {
		hint := unreachableHint(err)
		switch host.EtcdErrorKind(err) {
		case host.EtcdTooManyLearners:
			hint = "; another member is still a learner (a join in progress, or one that failed): let it finish, or remove it (etcdctl member remove ID), then run the join again"
		case host.EtcdPeerURLExists:
			hint = "; another member lists this URL among its peer URLs: give this node's own address, or remove that member (etcdctl member remove ID)"
		}
		return nil, fmt.Errorf("%s: adding %s as a learner through %s: %w%s", step, peer, c.where(), err, hint)
	}
	result := "created"
	switch {
	case existed:
		result = "unchanged"
		env.Infof("etcd member %s (%s) already exists; not adding it again", memberHex(added.ID), peer)
	case c.e.DryRun():
		result = "recorded"
	}
	c.record(thread, env, "etcd_member_add", runtime.Action{Op: "etcd.member-add", Target: peer, Subject: peer, Result: result,
		Summary: map[string]any{"id": memberHex(added.ID), "learner": added.IsLearner}})
	return Struct(map[string]starlark.Value{"member": memberValue(added), "members": membersValue(all)}), nil
}

// waitStarted polls the member list until member id has a name: its etcd
// started and joined (a learner added by add_learner has none until then).
func (c *etcdClient) waitStarted(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	const step = "etcd wait-started"
	var idV starlark.Value
	timeoutS, intervalS := "2m0s", "500ms"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "id", &idV, "timeout?", &timeoutS, "interval?", &intervalS); err != nil {
		return nil, err
	}
	id, err := memberIDArg(step, idV)
	if err != nil {
		return nil, err
	}
	timeout, interval, err := pollArgs(step, timeoutS, intervalS)
	if err != nil {
		return nil, err
	}
	action := runtime.Action{Op: "wait", Target: "etcd member " + memberHex(id),
		Summary: map[string]any{"name": "etcd learner " + memberHex(id) + " started", "timeout": timeout.String()}}
	start := env.Host.Now()
	deadline := start.Add(timeout)
	var last error
	for {
		ctx, cancel := context.WithTimeout(env.Ctx, etcdCallTimeout)
		ms, err := c.e.MemberList(ctx)
		cancel()
		switch {
		case err == nil:
			m, ok := findMember(ms, id)
			if !ok {
				return nil, fmt.Errorf("%s: member %s is not in the member list of %s: it was removed; add it again (add_learner) and start its etcd", step, memberHex(id), c.where())
			}
			if m.Name != "" || c.e.DryRun() {
				action.Result = "performed"
				if c.e.DryRun() {
					action.Result = "recorded"
				}
				c.record(thread, env, "etcd_wait_started", action)
				return memberValue(m), nil
			}
			last = errors.New("it has no name yet: its etcd has not joined")
		case c.e.DryRun() || host.EtcdErrorKind(err) != host.EtcdUnavailable:
			return nil, fmt.Errorf("%s: listing the members of %s: %w%s", step, c.where(), err, unreachableHint(err))
		default:
			last = err
		}
		now := env.Host.Now()
		if !now.Before(deadline) {
			return nil, fmt.Errorf("%s: etcd member %s did not start within %s (%v); check this node's etcd static Pod (crictl ps -a, crictl logs) "+
				"and that its peer port is reachable from the other members", step, memberHex(id), timeout, last)
		}
		if err := pollSleep(env, now, deadline, interval); err != nil {
			return nil, err
		}
	}
}

func (c *etcdClient) promote(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	const step = "etcd promote"
	var idV starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "id", &idV); err != nil {
		return nil, err
	}
	id, err := memberIDArg(step, idV)
	if err != nil {
		return nil, err
	}
	deadline := env.Host.Now().Add(c.timeout)
	var last error
	for {
		ctx, cancel := context.WithTimeout(env.Ctx, etcdCallTimeout)
		ms, err := c.e.MemberList(ctx)
		if err == nil {
			m, ok := findMember(ms, id)
			if !ok {
				cancel()
				return nil, fmt.Errorf("%s: member %s is not in the member list of %s: it was removed; add it again (add_learner), start its etcd, then promote it", step, memberHex(id), c.where())
			}
			if !m.IsLearner {
				cancel()
				c.record(thread, env, "etcd_member_promote", runtime.Action{Op: "etcd.member-promote", Target: firstPeer(m), Subject: memberHex(id), Result: "unchanged",
					Summary: map[string]any{"id": memberHex(id)}})
				return memberValue(m), nil
			}
			if err = c.e.MemberPromote(ctx, id); err == nil {
				cancel()
				result := "updated"
				if c.e.DryRun() {
					result = "recorded"
				}
				c.record(thread, env, "etcd_member_promote", runtime.Action{Op: "etcd.member-promote", Target: firstPeer(m), Subject: memberHex(id), Result: result,
					Summary: map[string]any{"id": memberHex(id)}})
				m.IsLearner = false
				return memberValue(m), nil
			}
		}
		cancel()
		kind := host.EtcdErrorKind(err)
		switch {
		case kind == host.EtcdNotLearner:
			// Promoted meanwhile: the next list says so.
		case c.e.DryRun() || (kind != host.EtcdLearnerNotReady && kind != host.EtcdUnavailable):
			return nil, fmt.Errorf("%s: member %s through %s: %w%s", step, memberHex(id), c.where(), err, unreachableHint(err))
		}
		last = err
		if !env.Host.Now().Before(deadline) {
			hint := unreachableHint(last)
			if host.EtcdErrorKind(last) == host.EtcdLearnerNotReady {
				hint = "; the learner has not caught up with the leader: check this node's etcd (crictl logs) and the network between the members, then run the join again (promotion is idempotent)"
			}
			return nil, fmt.Errorf("%s: member %s is still a learner after %s: %v%s", step, memberHex(id), c.timeout, last, hint)
		}
		if err := env.Host.Sleep(env.Ctx, etcdRetryInterval); err != nil {
			return nil, err
		}
	}
}

func (c *etcdClient) waitEndpoints(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	const step = "etcd wait-endpoints"
	timeoutS, intervalS := "40s", "5s"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "timeout?", &timeoutS, "interval?", &intervalS); err != nil {
		return nil, err
	}
	timeout, interval, err := pollArgs(step, timeoutS, intervalS)
	if err != nil {
		return nil, err
	}
	action := runtime.Action{Op: "wait", Target: "etcd " + c.where(), Summary: map[string]any{"name": "etcd endpoints", "timeout": timeout.String()}}
	if c.e.DryRun() {
		action.Result = "recorded"
		c.record(thread, env, "etcd_wait_endpoints", action)
		return stringList(c.e.Endpoints()), nil
	}
	deadline := env.Host.Now().Add(timeout)
	for {
		eps, errs := c.statuses(env)
		if healthy(eps, errs) == len(eps) {
			action.Result = "performed"
			c.record(thread, env, "etcd_wait_endpoints", action)
			return stringList(eps), nil
		}
		now := env.Host.Now()
		if !now.Before(deadline) {
			return nil, fmt.Errorf("%s: not every etcd endpoint answers after %s: %s; check those members' etcd (crictl ps -a, crictl logs) and the network to them",
				step, timeout, failures(eps, errs))
		}
		if err := pollSleep(env, now, deadline, interval); err != nil {
			return nil, err
		}
	}
}

func (c *etcdClient) close(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	if err := c.e.Close(); err != nil {
		return nil, fmt.Errorf("etcd close: %w", err)
	}
	return starlark.None, nil
}

// remove is reset's remove-etcd-member: kubeadm's RemoveMember, retried
// while etcd is unavailable; an id no member has is "already removed"
// (rpctypes.ErrMemberNotFound), so a second reset finds nothing to do.
func (c *etcdClient) remove(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	const step = "etcd member remove"
	var idV starlark.Value
	failOK := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "id", &idV, "fail_ok?", &failOK); err != nil {
		return nil, err
	}
	id, err := memberIDArg(step, idV)
	if err != nil {
		return nil, err
	}
	// failed is what a call that reached etcd and failed returns: the
	// error, or with fail_ok its text for the recipe's warning.
	failed := func(err error) (starlark.Value, error) {
		if failOK {
			return starlark.String(err.Error()), nil
		}
		return nil, err
	}
	ms, err := c.list(env)
	if err != nil {
		return failed(fmt.Errorf("%s: member %s: listing the members of %s: %w%s", step, memberHex(id), c.where(), err, unreachableHint(err)))
	}
	m, ok := findMember(ms, id)
	if !ok {
		return starlark.False, nil
	}
	err = c.call(env, func(ctx context.Context) error { return c.e.MemberRemove(ctx, id) })
	if host.EtcdErrorKind(err) == host.EtcdMemberNotFound {
		return starlark.False, nil // removed meanwhile
	}
	if err != nil {
		return failed(fmt.Errorf("%s: member %s (%s) through %s: %w%s", step, memberHex(id), m.Name, c.where(), err, unreachableHint(err)))
	}
	result := string(host.Deleted)
	if c.e.DryRun() {
		result = "recorded"
	}
	c.record(thread, env, "etcd_member_remove", runtime.Action{Op: "etcd.member-remove", Target: firstPeer(m), Subject: memberHex(id), Result: result,
		Summary: map[string]any{"id": memberHex(id), "name": m.Name}})
	return starlark.True, nil
}
