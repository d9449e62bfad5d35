package host

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// testEtcdTLS is a CA and a client pair it signed.
func testEtcdTLS(t *testing.T) EtcdTLS {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "etcd-ca"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	c := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return EtcdTLS{CA: c, Cert: c, Key: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})}
}

func TestFakeEtcdMembershipRules(t *testing.T) {
	ctx := context.Background()
	f := NewFake()
	f.FEtcd = NewFakeEtcd()
	v1 := f.FEtcd.AddVoter("cp1", "https://a:2380", "https://a:2379")
	e, err := f.Etcd([]string{"https://a:2379"}, testEtcdTLS(t))
	if err != nil {
		t.Fatal(err)
	}
	l, all, err := e.MemberAddAsLearner(ctx, "https://b:2380")
	if err != nil || !l.IsLearner || l.Name != "" || len(all) != 2 {
		t.Fatalf("add = %+v %+v %v", l, all, err)
	}
	if _, _, err := e.MemberAddAsLearner(ctx, "https://b:2380"); EtcdErrorKind(err) != EtcdPeerURLExists {
		t.Errorf("second add of a peer URL: %v", err)
	}
	if _, _, err := e.MemberAddAsLearner(ctx, "https://c:2380"); EtcdErrorKind(err) != EtcdTooManyLearners {
		t.Errorf("second learner: %v", err)
	}
	if err := e.MemberPromote(ctx, l.ID); EtcdErrorKind(err) != EtcdLearnerNotReady ||
		!strings.Contains(err.Error(), "can only promote a learner member which is in sync with leader") {
		t.Errorf("promote of an unstarted learner: %v", err)
	}
	if err := e.MemberPromote(ctx, v1); EtcdErrorKind(err) != EtcdNotLearner {
		t.Errorf("promote of a voter: %v", err)
	}
	if err := e.MemberPromote(ctx, 42); EtcdErrorKind(err) != EtcdMemberNotFound {
		t.Errorf("promote of nothing: %v", err)
	}
	f.FEtcd.StartLearner(l.ID, "cp2", "https://b:2379")
	if err := e.MemberPromote(ctx, l.ID); err != nil {
		t.Fatalf("promote of a started learner: %v", err)
	}
	eps, err := e.Sync(ctx)
	if err != nil || strings.Join(eps, ",") != "https://a:2379,https://b:2379" || strings.Join(e.Endpoints(), ",") != strings.Join(eps, ",") {
		t.Errorf("sync = %v %v (endpoints %v)", eps, err, e.Endpoints())
	}
	// two voters: one down is no quorum.
	f.FEtcd.SetDown(v1, true)
	if _, err := e.MemberList(ctx); EtcdErrorKind(err) != EtcdUnavailable || !strings.Contains(err.Error(), "no leader") {
		t.Errorf("list without quorum: %v", err)
	}
	if err := e.Status(ctx, "https://a:2379"); err == nil {
		t.Error("status of a down member answered")
	}
	if err := e.Status(ctx, "https://b:2379"); err == nil || !strings.Contains(err.Error(), "no leader") {
		t.Errorf("status of an up member without quorum: %v, want no leader", err)
	}
	f.FEtcd.SetDown(v1, false)
	if err := e.Status(ctx, "https://b:2379"); err != nil {
		t.Errorf("status of an up member: %v", err)
	}
	if got := strings.Join(f.FEtcd.Writes, "|"); got != "add-learner https://b:2380|promote "+hex16(l.ID) {
		t.Errorf("writes = %s", got)
	}
}

func hex16(id uint64) string { return fmt.Sprintf("%016x", id) }

func TestDryRunEtcdSendsNoWrite(t *testing.T) {
	ctx := context.Background()
	f := NewFake()
	f.FEtcd = NewFakeEtcd()
	f.FEtcd.AddVoter("cp1", "https://a:2380", "https://a:2379")
	d := NewDryRun(f)
	e, err := d.Etcd([]string{"https://a:2379"}, testEtcdTLS(t))
	if err != nil {
		t.Fatal(err)
	}
	if !e.DryRun() {
		t.Error("DryRun() = false")
	}
	l, all, err := e.MemberAddAsLearner(ctx, "https://b:2380")
	if err != nil || l.ID != DryRunEtcdMemberID || !l.IsLearner || len(all) != 2 {
		t.Fatalf("dry add = %+v %+v %v", l, all, err)
	}
	// a second client of the same run sees it.
	e2, _ := d.Etcd([]string{"https://a:2379"}, testEtcdTLS(t))
	ms, err := e2.MemberList(ctx)
	if err != nil || len(ms) != 2 {
		t.Fatalf("list after a dry add = %+v %v", ms, err)
	}
	if err := e2.MemberPromote(ctx, l.ID); err != nil {
		t.Fatal(err)
	}
	ms, _ = e.MemberList(ctx)
	for _, m := range ms {
		if m.IsLearner {
			t.Errorf("after a dry promote: %+v", m)
		}
	}
	if len(f.FEtcd.Writes) != 0 || len(f.FEtcd.Members()) != 1 {
		t.Errorf("the dry run reached the cluster: %q %+v", f.FEtcd.Writes, f.FEtcd.Members())
	}
	f.FEtcd.SetDown(f.FEtcd.Members()[0].ID, true)
	if _, err := e.MemberList(ctx); err == nil || !strings.Contains(err.Error(), "dry run: member list of etcd at https://a:2379 failed") {
		t.Errorf("dry list of a down cluster: %v", err)
	}
}

func TestSandboxRootEtcdHasNothingBehind(t *testing.T) {
	ctx := context.Background()
	f := NewFake()
	f.FEtcd = NewFakeEtcd()
	f.FEtcd.AddVoter("cp1", "https://a:2380", "https://a:2379")
	s, err := NewSandbox(f, SandboxOptions{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.Etcd([]string{"https://a:2379"}, testEtcdTLS(t))
	if err != nil {
		t.Fatal(err)
	}
	if ms, err := e.MemberList(ctx); err != nil || len(ms) != 0 {
		t.Errorf("list under --root = %+v %v, want only this run's (none)", ms, err)
	}
	if _, _, err := e.MemberAddAsLearner(ctx, "https://b:2380"); err != nil {
		t.Fatal(err)
	}
	if err := e.Status(ctx, "https://a:2379"); err == nil || !strings.Contains(err.Error(), "under --root") {
		t.Errorf("status under --root: %v", err)
	}
	if len(f.FEtcd.Writes) != 0 {
		t.Errorf("--root reached the cluster: %q", f.FEtcd.Writes)
	}
	// without --root the sandbox passes through.
	s, err = NewSandbox(f, SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e, _ = s.Etcd([]string{"https://a:2379"}, testEtcdTLS(t))
	if ms, err := e.MemberList(ctx); err != nil || len(ms) != 1 {
		t.Errorf("sandbox list = %+v %v", ms, err)
	}
}

// TestLiveEtcdUnreachableFailsWithinCtx: the live client does not block on
// its dial; a call to a port nobody listens on fails within its ctx, as an
// error the builtins retry (or a dry run reports).
func TestLiveEtcdUnreachableFailsWithinCtx(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	l := NewLive(LiveOptions{})
	start := time.Now()
	e, err := l.Etcd([]string{"https://" + addr}, testEtcdTLS(t))
	if err != nil {
		t.Fatalf("building the client: %v", err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = e.MemberList(ctx)
	if err == nil || EtcdErrorKind(err) != EtcdUnavailable {
		t.Errorf("list of nothing: %v (kind %q)", err, EtcdErrorKind(err))
	}
	if el := time.Since(start); el > 4*time.Second {
		t.Errorf("took %s", el)
	}
}

func TestEtcdTLSErrorsCarryNoKey(t *testing.T) {
	good := testEtcdTLS(t)
	other := testEtcdTLS(t)
	body := strings.Split(string(other.Key), "\n")[1]
	l := NewLive(LiveOptions{})
	for name, tl := range map[string]EtcdTLS{
		"mismatch": {CA: good.CA, Cert: good.Cert, Key: other.Key},
		"no CA":    {CA: []byte("x"), Cert: good.Cert, Key: good.Key},
		"bad key":  {CA: good.CA, Cert: good.Cert, Key: other.Key[:len(other.Key)/2]},
	} {
		_, err := l.Etcd([]string{"https://127.0.0.1:1"}, tl)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Error(), body) || strings.Contains(err.Error(), body[:20]) {
			t.Errorf("%s: key bytes in %q", name, err)
		}
	}
}

func TestEtcdErrorKind(t *testing.T) {
	for msg, want := range map[string]string{
		"etcdserver: can only promote a learner member which is in sync with leader": EtcdLearnerNotReady,
		"etcdserver: can only promote a learner member":                              EtcdNotLearner,
		"etcdserver: member not found":                                               EtcdMemberNotFound,
		"etcdserver: Peer URLs already exists":                                       EtcdPeerURLExists,
		"etcdserver: too many learner members in cluster":                            EtcdTooManyLearners,
		"context deadline exceeded":                                                  EtcdUnavailable,
		"etcdserver: no leader":                                                      EtcdUnavailable,
		"permission denied":                                                          "",
	} {
		if got := EtcdErrorKind(errors.New(msg)); got != want {
			t.Errorf("%q: kind %q, want %q", msg, got, want)
		}
	}
}
