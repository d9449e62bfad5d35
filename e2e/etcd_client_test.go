package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEtcdClientAgainstRealEtcd drives the etcd_client builtin family of
// the kubelark binary against the real etcd v3.6.8 of the e2e cache, on
// 127.0.0.1 ports 23790-23793 (no node needed): list, sync and quorum on a
// one-member cluster; add a learner (idempotently), start its etcd, wait for
// it, promote it (real etcd refuses until the learner is in sync: promote
// retries), wait for both endpoints; a dry run records an add and sends
// nothing; with one of two members stopped the quorum check fails as
// kubeadm's check-etcd does.
// The client and peer URLs of the two real etcd members the etcd tests
// run (the ports lockEtcdPorts holds).
const (
	etcdC1, etcdP1 = "https://127.0.0.1:23790", "https://127.0.0.1:23791"
	etcdC2, etcdP2 = "https://127.0.0.1:23792", "https://127.0.0.1:23793"
)

// etcdTestbed is the start of every test against real etcd: the ports
// locked, the kubelark binary built, client PKI in a scratch dir, member
// e1 running alone. It returns the etcd binary, the kubelark binary, the
// dir and the Starlark line that makes client c of e1.
func etcdTestbed(t *testing.T) (etcdBin, kubelark, dir, client string) {
	t.Helper()
	binDir, _ := prepare(t)
	lockEtcdPorts(t)
	etcdBin = filepath.Join(binDir, "etcd")
	kubelark = buildKubelark(t)
	dir = t.TempDir()
	writeEtcdPKI(t, dir)
	startEtcd(t, etcdBin, dir, "e1", etcdC1, etcdP1, "e1="+etcdP1, "new")
	client = fmt.Sprintf(`c = etcd_client([%q], %q, %q, %q, timeout = "60s")
`, etcdC1, dir+"/ca.crt", dir+"/client.crt", dir+"/client.key")
	return etcdBin, kubelark, dir, client
}

func TestEtcdClientAgainstRealEtcd(t *testing.T) {
	etcdBin, kubelark, dir, client := etcdTestbed(t)
	const (
		c1, p1 = etcdC1, etcdP1
		c2, p2 = etcdC2, etcdP2
		p3     = "https://127.0.0.1:23795"
	)
	out := runRecipe(t, kubelark, dir, "step1", client+`
ms = c.members()
print("MEMBERS", len(ms), ms[0].name, ms[0].learner)
print("SYNC", c.sync())
c.check_quorum()
r = c.add_learner("`+p2+`")
print("LEARNER", r.member.id, r.member.learner, r.member.name == "", len(r.members))
again = c.add_learner("`+p2+`")
print("AGAIN", again.member.id)
`)
	wantLines(t, out, "MEMBERS 1 e1 False", `SYNC ["`+c1+`"]`, "True True 2")
	id := regexp.MustCompile(`LEARNER ([0-9a-f]{16}) `).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no learner id in:\n%s", out)
	}
	wantLines(t, out, "AGAIN "+id[1])
	acts := planActions(t, filepath.Join(dir, "step1.plan.json"), "etcd_member_add")
	if len(acts) != 2 || acts[0]["result"] != "created" || acts[1]["result"] != "unchanged" || acts[0]["server"] != c1 ||
		acts[0]["credential"] != "client certificate kube-apiserver-etcd-client" || acts[0]["target"] != p2 {
		t.Errorf("etcd_member_add actions: %v", acts)
	}

	startEtcd(t, etcdBin, dir, "e2", c2, p2, "e1="+p1+",e2="+p2, "existing")
	out = runRecipe(t, kubelark, dir, "step2", client+`
m = c.wait_started("`+id[1]+`", timeout = "60s")
print("STARTED", m.name, m.learner)
p = c.promote("`+id[1]+`")
print("PROMOTED", p.learner)
print("SYNC", sorted(c.sync()))
print("ENDPOINTS", len(c.wait_endpoints(timeout = "60s", interval = "1s")))
print("VOTERS", len([x for x in c.members() if not x.learner]))
c.promote("`+id[1]+`")
`)
	wantLines(t, out, "STARTED e2 True", "PROMOTED False", `SYNC ["`+c1+`", "`+c2+`"]`, "ENDPOINTS 2", "VOTERS 2")
	acts = planActions(t, filepath.Join(dir, "step2.plan.json"), "etcd_member_promote")
	if len(acts) != 2 || acts[0]["result"] != "updated" || acts[1]["result"] != "unchanged" {
		t.Errorf("etcd_member_promote actions: %v", acts)
	}

	// A dry run reads the real cluster and sends no member change.
	out = runRecipe(t, kubelark, dir, "dry", client+`
r = c.add_learner("`+p3+`")
print("DRY", r.member.id, len(r.members), c.dry_run)
`, "--dry-run")
	wantLines(t, out, "DRY 00000000000d1a01 3 True")
	if acts := planActions(t, filepath.Join(dir, "dry.plan.json"), "etcd_member_add"); len(acts) != 1 || acts[0]["result"] != "recorded" {
		t.Errorf("dry-run etcd_member_add actions: %v", acts)
	}
	out = runRecipe(t, kubelark, dir, "after-dry", client+`print("COUNT", len(c.members()))`)
	wantLines(t, out, "COUNT 2")

	// A dry run whose etcd does not answer says so at once, without
	// retrying for the client timeout.
	start := time.Now()
	out, err := runRecipeStatus(t, kubelark, dir, "dry-dead", strings.Replace(client, c1, "https://127.0.0.1:23799", 1)+`c.members()`, "--dry-run")
	if err == nil {
		t.Fatalf("a dry run against a dead endpoint passed:\n%s", out)
	}
	wantLines(t, out, "etcd member list", "dry run: member list of etcd at https://127.0.0.1:23799 failed (reads go to the real cluster; none answered)")
	if el := time.Since(start); el > 30*time.Second {
		t.Errorf("the dry run took %s to give up, want about the 5s of one call", el)
	}

	// One of two members down: no quorum, as check-etcd reports it.
	stopEtcd(t, "e2")
	// (sync() needs a quorum too: its member list is linearizable, so the
	// client names both members itself.)
	both := strings.Replace(strings.Replace(client, `"60s"`, `"3s"`, 1), fmt.Sprintf("[%q]", c1), fmt.Sprintf("[%q, %q]", c1, c2), 1)
	out, err = runRecipeStatus(t, kubelark, dir, "noquorum", both+`
print("QUORUM", c.has_quorum())
c.check_quorum()
`)
	if err == nil {
		t.Fatalf("check_quorum with one of two members down passed:\n%s", out)
	}
	wantLines(t, out, "QUORUM False", "etcd check-quorum: etcd cluster is not healthy: 0 of 2 members are healthy", c1+": member "+c1+" is not healthy: etcdserver: no leader", c2)
	keyPEM, _ := os.ReadFile(filepath.Join(dir, "client.key"))
	if body := strings.Split(string(keyPEM), "\n")[1]; strings.Contains(out, body) {
		t.Error("the client key is in the output")
	}
}

// lockEtcdPorts holds a machine-wide lock on ports 23790-23799 for the
// test: two e2e runs at once (two worktrees) must not start their etcds on
// the same ports.
func lockEtcdPorts(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile("/tmp/kl-e2e-etcd-ports.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() })
}

// etcdProcs are the etcd processes of this test, by name.
var etcdProcs = map[string]*exec.Cmd{}

func startEtcd(t *testing.T, bin, dir, name, clientURL, peerURL, cluster, state string) {
	t.Helper()
	cmd := exec.Command(bin, "--name", name, "--data-dir", filepath.Join(dir, name+".data"),
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", cluster, "--initial-cluster-state", state,
		"--cert-file", dir+"/server.crt", "--key-file", dir+"/server.key", "--trusted-ca-file", dir+"/ca.crt", "--client-cert-auth",
		"--peer-cert-file", dir+"/server.crt", "--peer-key-file", dir+"/server.key", "--peer-trusted-ca-file", dir+"/ca.crt", "--peer-client-cert-auth")
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting etcd %s: %v", name, err)
	}
	etcdProcs[name] = cmd
	t.Cleanup(func() {
		stopEtcd(t, name)
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("etcd %s log (tail):\n%s", name, tail(string(b), 3000))
		}
	})
	if state == "new" { // a new one-member cluster answers at once; a joining one waits for its promotion
		deadline := time.Now().Add(30 * time.Second)
		for {
			conn, err := net.DialTimeout("tcp", strings.TrimPrefix(clientURL, "https://"), time.Second)
			if err == nil {
				conn.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("etcd %s does not listen on %s", name, clientURL)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func stopEtcd(t *testing.T, name string) {
	cmd := etcdProcs[name]
	if cmd == nil || cmd.Process == nil {
		return
	}
	delete(etcdProcs, name)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// runRecipe writes src as dir/<name>.star and runs it with the kubelark
// binary (reads allowed under dir), with its plan in dir/<name>.plan.json.
func runRecipe(t *testing.T, kubelark, dir, name, src string, extra ...string) string {
	t.Helper()
	out, err := runRecipeStatus(t, kubelark, dir, name, src, extra...)
	if err != nil {
		t.Fatalf("kubelark run %s: %v\n%s", name, err, out)
	}
	return out
}

func runRecipeStatus(t *testing.T, kubelark, dir, name, src string, extra ...string) (string, error) {
	t.Helper()
	p := filepath.Join(dir, name+".star")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := append([]string{"run", p, "--allow-read", dir, "--plan", filepath.Join(dir, name+".plan.json")}, extra...)
	start := time.Now()
	b, err := exec.CommandContext(ctx, kubelark, args...).CombinedOutput()
	t.Logf("kubelark %s: %s (%v)\n%s", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), err, b)
	return string(b), err
}

func wantLines(t *testing.T, out string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(out, p) {
			t.Errorf("output lacks %q:\n%s", p, out)
		}
	}
}

func planActions(t *testing.T, path, builtin string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var plan struct {
		Actions []map[string]any `json:"actions"`
	}
	if err := json.Unmarshal(b, &plan); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, a := range plan.Actions {
		if a["builtin"] == builtin {
			out = append(out, a)
		}
	}
	return out
}

// writeEtcdPKI writes ca.crt, server.crt/key (127.0.0.1, server and client
// auth: serving and peer) and client.crt/key (kube-apiserver-etcd-client).
func writeEtcdPKI(t *testing.T, dir string) {
	t.Helper()
	now := time.Now()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "etcd-ca"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	write := func(name string, block *pem.Block) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.crt", &pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	for i, c := range []struct {
		name string
		tmpl x509.Certificate
	}{
		{"server", x509.Certificate{Subject: pkix.Name{CommonName: "etcd"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}},
		{"client", x509.Certificate{Subject: pkix.Name{CommonName: "kube-apiserver-etcd-client"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}},
	} {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := c.tmpl
		tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = big.NewInt(int64(i+2)), now.Add(-time.Hour), now.Add(24*time.Hour)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		der, err := x509.CreateCertificate(rand.Reader, &tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kd, _ := x509.MarshalECPrivateKey(key)
		write(c.name+".crt", &pem.Block{Type: "CERTIFICATE", Bytes: der})
		write(c.name+".key", &pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
	}
}
