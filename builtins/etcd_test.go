package builtins

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// etcdPKI is a CA and a client certificate and key signed by it.
type etcdPKI struct{ ca, cert, key []byte }

func newEtcdPKI(t *testing.T, cn string) etcdPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "etcd-ca"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return etcdPKI{
		ca:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
}

const (
	ep1   = "https://10.0.0.10:2379"
	peer1 = "https://10.0.0.10:2380"
	ep2   = "https://10.0.0.11:2379"
	peer2 = "https://10.0.0.11:2380"
	ep3   = "https://10.0.0.12:2379"
	peer3 = "https://10.0.0.12:2380"
	peer4 = "https://10.0.0.13:2380"
)

// etcdClientSrc builds c against cp1's etcd with the files of newEtcdHost.
const etcdClientSrc = `c = etcd_client(["https://10.0.0.10:2379"], "/etc/kubernetes/pki/etcd/ca.crt",
    "/etc/kubernetes/pki/apiserver-etcd-client.crt", "/etc/kubernetes/pki/apiserver-etcd-client.key")
`

// newEtcdHost is a fake host holding the etcd client files, with a cluster
// of one started voter (cp1).
func newEtcdHost(t *testing.T) (*host.Fake, *host.FakeEtcd, etcdPKI) {
	t.Helper()
	h := host.NewFake()
	pki := newEtcdPKI(t, "kube-apiserver-etcd-client")
	for p, data := range map[string][]byte{
		"/etc/kubernetes/pki/etcd/ca.crt":               pki.ca,
		"/etc/kubernetes/pki/apiserver-etcd-client.crt": pki.cert,
		"/etc/kubernetes/pki/apiserver-etcd-client.key": pki.key,
	} {
		if _, err := h.WriteFile(p, data, 0o600, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h.FEtcd = host.NewFakeEtcd()
	h.FEtcd.AddVoter("cp1", peer1, ep1)
	return h, h.FEtcd, pki
}

func findAction(p *runtime.Plan, builtin string) []runtime.Action {
	var out []runtime.Action
	for _, a := range p.Actions {
		if a.Builtin == builtin {
			out = append(out, a)
		}
	}
	return out
}

func wantEtcdErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one with %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func TestEtcdMembersSortedAndSync(t *testing.T) {
	h, cl, _ := newEtcdHost(t)
	id2 := cl.AddVoter("cp2", peer2, ep2)
	g, _ := mustRunStar(t, h, etcdClientSrc+`
ms = c.members()
eps = c.sync()
after = c.endpoints
ident = c.identity
`)
	ms := g["ms"].(*starlark.List)
	if ms.Len() != 2 {
		t.Fatalf("members = %v", ms)
	}
	first := ms.Index(0)
	if got := attr(t, first, "id").(starlark.String); string(got) != memberHex(min(id2, cl.Members()[0].ID)) {
		t.Errorf("first id %s: not sorted by id", got)
	}
	for i := 0; i < ms.Len(); i++ {
		m := ms.Index(i)
		if len(string(attr(t, m, "id").(starlark.String))) != 16 {
			t.Errorf("id %v is not 16 hex digits", attr(t, m, "id"))
		}
		if attr(t, m, "learner") != starlark.False || attr(t, m, "name").(starlark.String) == "" {
			t.Errorf("member %v: want a named voter", m)
		}
	}
	if got := g["eps"].String(); got != `["`+ep1+`", "`+ep2+`"]` {
		t.Errorf("sync() = %s", got)
	}
	if g["after"].String() != g["eps"].String() {
		t.Errorf("endpoints after sync = %s, want %s", g["after"], g["eps"])
	}
	if g["ident"] != starlark.String("client certificate kube-apiserver-etcd-client") {
		t.Errorf("identity = %s", g["ident"])
	}
}

func TestEtcdAddLearnerIdempotent(t *testing.T) {
	h, cl, _ := newEtcdHost(t)
	g, p := mustRunStar(t, h, etcdClientSrc+`
r = c.add_learner("`+peer2+`")
again = c.add_learner("`+peer2+`")
`)
	m := attr(t, g["r"], "member")
	if attr(t, m, "learner") != starlark.True || attr(t, m, "name") != starlark.String("") {
		t.Errorf("added member %v: want an unstarted learner", m)
	}
	if n := attr(t, g["r"], "members").(*starlark.List).Len(); n != 2 {
		t.Errorf("members after add: %d, want 2", n)
	}
	if attr(t, attr(t, g["again"], "member"), "id") != attr(t, m, "id") {
		t.Errorf("second add returned %v, want the same member %v", attr(t, g["again"], "member"), m)
	}
	if len(cl.Writes) != 1 || cl.Writes[0] != "add-learner "+peer2 {
		t.Errorf("cluster writes = %q, want one add", cl.Writes)
	}
	acts := findAction(p, "etcd_member_add")
	if len(acts) != 2 {
		t.Fatalf("etcd_member_add actions = %+v", acts)
	}
	a := acts[0]
	if a.Op != "etcd.member-add" || a.Subject != peer2 || a.Target != peer2 || a.Result != "created" || a.Server != ep1 ||
		a.Credential != "client certificate kube-apiserver-etcd-client" || a.Summary["learner"] != true {
		t.Errorf("first action = %+v", a)
	}
	if acts[1].Result != "unchanged" {
		t.Errorf("second action result = %s, want unchanged", acts[1].Result)
	}
}

func TestEtcdAddLearnerRefusals(t *testing.T) {
	h, _, _ := newEtcdHost(t)
	_, _, err := runStar(t, h, etcdClientSrc+`
c.add_learner("`+peer2+`")
c.add_learner("`+peer3+`")
`)
	wantEtcdErr(t, err, "etcd member add", peer3, "another member is still a learner", ep1)
	_, _, err = runStar(t, h, etcdClientSrc+`c.add_learner("10.0.0.11:2380")`)
	wantEtcdErr(t, err, "etcd member add", `peer_url="10.0.0.11:2380"`, "https://10.0.0.11:2380")
}

func TestEtcdWaitStartedAndPromote(t *testing.T) {
	h, cl, _ := newEtcdHost(t)
	lists := 0
	cl.OnList = func(f *host.FakeEtcd) {
		lists++
		if lists == 5 { // the learner's etcd starts while wait_started polls
			for _, m := range f.Members() {
				if m.IsLearner {
					f.StartLearner(m.ID, "cp2", ep2)
				}
			}
		}
	}
	start := h.Clock
	g, p := mustRunStar(t, h, etcdClientSrc+`
m = c.add_learner("`+peer2+`").member
s = c.wait_started(m.id)
v = c.promote(m.id)
again = c.promote(m.id)
eps = c.sync()
ok = c.wait_endpoints()
`)
	if attr(t, g["s"], "name") != starlark.String("cp2") {
		t.Errorf("wait_started = %v", g["s"])
	}
	if h.Clock.Sub(start) < time.Second {
		t.Errorf("wait_started did not poll on the host clock (%s)", h.Clock.Sub(start))
	}
	if attr(t, g["v"], "learner") != starlark.False {
		t.Errorf("promote = %v", g["v"])
	}
	for _, m := range cl.Members() {
		if m.IsLearner {
			t.Errorf("member %+v is still a learner", m)
		}
	}
	if got := g["ok"].String(); got != `["`+ep1+`", "`+ep2+`"]` {
		t.Errorf("wait_endpoints = %s", got)
	}
	acts := findAction(p, "etcd_member_promote")
	if len(acts) != 2 || acts[0].Result != "updated" || acts[1].Result != "unchanged" || acts[0].Op != "etcd.member-promote" || acts[0].Target != peer2 {
		t.Errorf("promote actions = %+v", acts)
	}
	if n := len(cl.Writes); n != 2 {
		t.Errorf("writes = %q, want add + one promote", cl.Writes)
	}
}

func TestEtcdPromoteRetriesWhileNotInSync(t *testing.T) {
	h, cl, _ := newEtcdHost(t)
	cl.AddVoter("cp2", peer2, ep2)
	g, _ := mustRunStar(t, h, etcdClientSrc+`
m = c.add_learner("`+peer3+`").member
`)
	lid, _ := memberIDArg("t", attr(t, g["m"], "id"))
	cl.StartLearner(lid, "cp3", ep3)
	cl.SetLagging(lid, 3)
	_, _, err := runStar(t, h, etcdClientSrc+`c.promote("`+memberHex(lid)+`")`)
	if err != nil {
		t.Fatalf("promote of a lagging learner: %v", err)
	}
}

func TestEtcdPromoteNotStartedFails(t *testing.T) {
	h, cl, _ := newEtcdHost(t)
	g, _ := mustRunStar(t, h, etcdClientSrc+`m = c.add_learner("`+peer2+`").member`)
	id := string(attr(t, g["m"], "id").(starlark.String))
	_, _, err := runStar(t, h, strings.Replace(etcdClientSrc, `.key")`, `.key", timeout = "3s")`, 1)+`c.promote("`+id+`")`)
	wantEtcdErr(t, err, "etcd promote", id, "still a learner after 3s", "can only promote a learner member which is in sync with leader", "caught up")
	if len(cl.Writes) != 1 {
		t.Errorf("writes = %q, want only the add", cl.Writes)
	}
	_, _, err = runStar(t, h, etcdClientSrc+`c.wait_started("`+id+`", timeout = "2s")`)
	wantEtcdErr(t, err, "etcd wait-started", id, "did not start within 2s")
	_, _, err = runStar(t, h, etcdClientSrc+`c.promote("0000000000000abc")`)
	wantEtcdErr(t, err, "etcd promote", "not in the member list")
	_, _, err = runStar(t, h, etcdClientSrc+`c.promote("not hex")`)
	wantEtcdErr(t, err, "etcd promote", `id="not hex"`, "16 hex digits")
}

func TestEtcdQuorum(t *testing.T) {
	h, cl, _ := newEtcdHost(t)
	id2 := cl.AddVoter("cp2", peer2, ep2)
	id3 := cl.AddVoter("cp3", peer3, ep3)
	cl.SetDown(id3, true)
	src := strings.Replace(etcdClientSrc, `["https://10.0.0.10:2379"]`, `["`+ep1+`", "`+ep2+`", "`+ep3+`"]`, 1)
	g, _ := mustRunStar(t, h, src+`
st = c.status()
q = c.has_quorum()
c.check_quorum()
`)
	st := g["st"].(*starlark.Dict)
	if v, _, _ := st.Get(starlark.String(ep1)); v != starlark.None {
		t.Errorf("status[%s] = %v, want None", ep1, v)
	}
	if v, _, _ := st.Get(starlark.String(ep3)); v == starlark.None || !strings.Contains(v.String(), "connection refused") {
		t.Errorf("status[%s] = %v, want the error", ep3, v)
	}
	if g["q"] != starlark.True {
		t.Errorf("has_quorum with 2 of 3 = %v", g["q"])
	}

	cl.SetDown(id2, true)
	start := h.Clock
	g, _, err := runStar(t, h, strings.Replace(src, `.key")`, `.key", timeout = "10s")`, 1)+`q = c.has_quorum()
c.check_quorum()`)
	wantEtcdErr(t, err, "etcd check-quorum", "etcd cluster is not healthy: 0 of 3 members are healthy", "no leader", "majority (2)", ep2, ep3, "etcdctl member remove")
	if g["q"] != starlark.False {
		t.Errorf("has_quorum with 1 of 3 = %v", g["q"])
	}
	if d := h.Clock.Sub(start); d < 10*time.Second {
		t.Errorf("check_quorum gave up after %s, want the client timeout", d)
	}
	_, _, err = runStar(t, h, strings.Replace(src, `.key")`, `.key", timeout = "2s")`, 1)+`c.add_learner("`+peer4+`")`)
	wantEtcdErr(t, err, "etcd member add", peer4, "no leader", "a majority of its members is up")
	_, _, err = runStar(t, h, src+`c.wait_endpoints(timeout = "10s")`)
	wantEtcdErr(t, err, "etcd wait-endpoints", "after 10s", ep2, ep3)
	for _, w := range cl.Writes {
		t.Errorf("cluster without quorum received %q", w)
	}
}

func TestEtcdClientArgs(t *testing.T) {
	h, _, pki := newEtcdHost(t)
	other := newEtcdPKI(t, "other")
	if _, err := h.WriteFile("/etc/kubernetes/pki/other.key", other.key, 0o600, 0o755); err != nil {
		t.Fatal(err)
	}
	const files = `"/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/apiserver-etcd-client.crt"`
	for src, want := range map[string][]string{
		`etcd_client([], ` + files + `, "/k")`:                                                                                                            {"endpoints is empty"},
		`etcd_client("https://10.0.0.10:2379", ` + files + `, "/k")`:                                                                                      {"want list of strings"},
		`etcd_client(["http://10.0.0.10:2379"], ` + files + `, "/k")`:                                                                                     {`endpoints[0]="http://10.0.0.10:2379"`, "https URL"},
		`etcd_client(["https://10.0.0.10"], ` + files + `, "/k")`:                                                                                         {"host and port"},
		`etcd_client(["https://10.0.0.10:2379/x"], ` + files + `, "/k")`:                                                                                  {"only scheme, host and port"},
		`etcd_client(["https://10.0.0.10:2379"], "/nope", "/c", "/k")`:                                                                                    {`ca="/nope"`},
		`etcd_client(["https://10.0.0.10:2379"], ` + files + `, "/nope.key")`:                                                                             {`key="/nope.key"`},
		`etcd_client(["https://10.0.0.10:2379"], ` + files + `, "/etc/kubernetes/pki/other.key")`:                                                         {"private key does not match public key"},
		`etcd_client(["https://10.0.0.10:2379"], ` + files + `, 3)`:                                                                                       {"key: got int"},
		`etcd_client(["https://10.0.0.10:2379"], ` + files + `, "/etc/kubernetes/pki/apiserver-etcd-client.key", timeout = "soon")`:                       {`timeout="soon"`},
		`etcd_client(["https://10.0.0.10:2379"], ` + files + `, "/etc/kubernetes/pki/apiserver-etcd-client.key", timeout = "0s")`:                         {"positive duration"},
		`etcd_client(["https://10.0.0.10:2379"], "/etc/kubernetes/pki/apiserver-etcd-client.key", "/etc/kubernetes/pki/apiserver-etcd-client.crt", "/k")`: {"holds no PEM certificate"},
	} {
		_, _, err := runStar(t, h, src)
		wantEtcdErr(t, err, want...)
	}
	// PEM text for ca and cert works; the key as a secret works.
	mustRunStar(t, h, `c = etcd_client(["`+ep1+`"], """`+string(pki.ca)+`""", """`+string(pki.cert)+`""", read_file("/etc/kubernetes/pki/apiserver-etcd-client.key"))
c.members()`)
}

// TestEtcdKeyNeverLeaks: the key's bytes reach neither an error nor the
// plan nor the printed lines, whichever way it was given.
func TestEtcdKeyNeverLeaks(t *testing.T) {
	h, _, pki := newEtcdHost(t)
	other := newEtcdPKI(t, "other")
	keyBody := strings.Split(string(pki.key), "\n")[1]
	otherBody := strings.Split(string(other.key), "\n")[1]
	check := func(what string, env *runtime.Env, out string, err error) {
		t.Helper()
		plan, _ := json.Marshal(env.Plan())
		for _, s := range []string{string(plan), out, errString(env, err)} {
			if strings.Contains(s, keyBody) || strings.Contains(s, otherBody) {
				t.Errorf("%s: key material leaked in %q", what, s)
			}
		}
	}
	// plain PEM string: refused without echoing it.
	_, env, out, err := runStarEnv(t, h, `etcd_client(["`+ep1+`"], "/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/apiserver-etcd-client.crt", """`+string(other.key)+`""")`)
	wantEtcdErr(t, err, "PEM given as a plain string")
	check("plain PEM", env, out.String(), err)
	// mismatching secret key.
	if _, err := h.WriteFile("/etc/kubernetes/pki/other.key", other.key, 0o600, 0o755); err != nil {
		t.Fatal(err)
	}
	_, env, out, err = runStarEnv(t, h, `etcd_client(["`+ep1+`"], "/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/apiserver-etcd-client.crt", read_file("/etc/kubernetes/pki/other.key"))`)
	wantEtcdErr(t, err, "does not match")
	check("mismatch", env, out.String(), err)
	// a whole join-like sequence, with failures.
	_, env, out, err = runStarEnv(t, h, etcdClientSrc+`
c.add_learner("`+peer2+`")
c.add_learner("`+peer3+`")`)
	wantEtcdErr(t, err, "etcd member add")
	check("sequence", env, out.String(), err)
	if got := h.FEtcd.TLS.Key; string(got) != string(pki.key) {
		t.Errorf("the host got key %q, want the file's", got)
	}
}

func errString(env *runtime.Env, err error) string {
	if err == nil {
		return ""
	}
	return env.RedactError(err).Error()
}

// TestEtcdDryRun: under --dry-run reads reach the cluster, add and promote
// are recorded and answered, never sent, and waits do not wait.
func TestEtcdDryRun(t *testing.T) {
	h, cl, _ := newEtcdHost(t)
	d := host.NewDryRun(h)
	env, thread, _ := newTestEnv(t, d)
	g, err := execTest(thread, etcdClientSrc+`
before = c.members()
r = c.add_learner("`+peer2+`")
after = c.members()
s = c.wait_started(r.member.id)
v = c.promote(r.member.id)
final = c.members()
eps = c.wait_endpoints()
dry = c.dry_run
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Writes) != 0 {
		t.Errorf("dry run sent %q", cl.Writes)
	}
	if len(cl.Members()) != 1 {
		t.Errorf("dry run changed the cluster: %+v", cl.Members())
	}
	if g["dry"] != starlark.True {
		t.Error("dry_run = False")
	}
	id := attr(t, attr(t, g["r"], "member"), "id")
	if id != starlark.String("00000000000d1a01") {
		t.Errorf("placeholder id = %v", id)
	}
	if g["before"].(*starlark.List).Len() != 1 || g["after"].(*starlark.List).Len() != 2 {
		t.Errorf("members before/after = %v / %v", g["before"], g["after"])
	}
	final := g["final"].(*starlark.List)
	for i := 0; i < final.Len(); i++ {
		if attr(t, final.Index(i), "learner") != starlark.False {
			t.Errorf("after a dry-run promote %v is a learner", final.Index(i))
		}
	}
	p := env.Plan()
	for _, b := range []string{"etcd_member_add", "etcd_wait_started", "etcd_member_promote", "etcd_wait_endpoints"} {
		acts := findAction(p, b)
		if len(acts) != 1 || acts[0].Result != "recorded" || acts[0].Server != ep1 {
			t.Errorf("%s actions = %+v, want one recorded", b, acts)
		}
	}
}

// TestEtcdDryRunUnreachable: a dry run whose etcd does not answer says so
// at once (one try), without waiting for the client timeout.
func TestEtcdDryRunUnreachable(t *testing.T) {
	h, _, _ := newEtcdHost(t)
	h.FEtcd = host.NewFakeEtcd() // nobody listens
	d := host.NewDryRun(h)
	_, thread, _ := newTestEnv(t, d)
	start := d.Now()
	_, err := execTest(thread, etcdClientSrc+`c.members()`)
	wantEtcdErr(t, err, "etcd member list", "dry run", "connection refused", ep1)
	if el := d.Now().Sub(start); el > time.Second {
		t.Errorf("dry run waited %s", el)
	}
}
