package e2e

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// joinNetwork is TestKubelarkJoin's own test bridge, and its nodes have
// their own names, so it can run beside the other tests of this package's
// network (10.77.0: cp1, w1) and the parity suite's (10.78.0).
const joinNetwork = "10.79.0"

// printedJoin is the worker join command `kubelark run init` prints:
// "kubelark run join" and its --set lines joined by " \\\n\t".
var printedJoin = regexp.MustCompile(`(?m)^kubelark run join((?: \\\n\t--set \S+)+)`)

// printedKubeadmJoin is the kubeadm form of the worker join command init
// prints ("or, with kubeadm:").
var printedKubeadmJoin = regexp.MustCompile(`kubeadm join (\S+) --token (\S+) \\\n\t--discovery-token-ca-cert-hash (\S+)`)

// parsePrintedJoin returns the arguments after "kubelark" of the worker
// join command in init's output.
func parsePrintedJoin(t *testing.T, out string) []string {
	t.Helper()
	m := printedJoin.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("init printed no `kubelark run join --set ...` command:\n%s", out)
	}
	args := []string{"run", "join"}
	for _, f := range strings.Fields(m[1]) {
		if f != `\` {
			args = append(args, f)
		}
	}
	return args
}

// setValue is the value of `--set name=...` in args.
func setValue(t *testing.T, args []string, name string) string {
	t.Helper()
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--set" && strings.HasPrefix(args[i+1], name+"=") {
			return strings.TrimPrefix(args[i+1], name+"=")
		}
	}
	t.Fatalf("the printed join command has no --set %s=...: %v", name, args)
	return ""
}

// TestKubelarkJoin is issue 9's worker join end to end: `kubelark run
// init` on jcp1, then on jw1 the exact join command init printed (plus the
// node's own settings, as for kubeadm: its service command, CRI socket and
// the cgroup v1 check ignored). The real kubelet TLS-bootstraps; the Node
// registers under the kubelet's own certificate; a second join is refused
// in preflight without a change. On a fresh jw2, a wrong token, a wrong
// token secret and a wrong CA pin each fail in the step that found them
// and write nothing.
func TestKubelarkJoin(t *testing.T) {
	testStart := time.Now()
	kubelark := buildKubelark(t)
	nw := e2eutil.NewNetwork(t, joinNetwork)
	cp := newNode(t, nw, "jcp1")
	w := newWorker(t, nw, "jw1")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	start := time.Now()
	out := run(ctx, t, cp, kubelark, "run", "init", "--config", writeInitConfig(t, cp), "--service-command", cp.ServiceCommand())
	t.Logf("kubelark init took %s", time.Since(start).Round(time.Millisecond))
	cs := clientFor(t, cp, "/etc/kubernetes/admin.conf")
	waitReadyz(ctx, t, cs)

	printed := parsePrintedJoin(t, out)
	token, caHash := setValue(t, printed, "token"), setValue(t, printed, "ca_cert_hash")
	tokenID, _, _ := strings.Cut(token, ".")
	// The node's own settings, as TestKubeadmJoin gives kubeadm join.
	local := func(n *node.Node) []string {
		return []string{"--service-command", n.ServiceCommand(), "--cri-socket", "unix://" + node.ContainerdSocket,
			"--ignore-preflight-errors", "SystemVerification"}
	}
	joinArgs := append(append([]string{kubelark}, printed...), local(w)...)

	start = time.Now()
	run(ctx, t, w, append(joinArgs, "--plan", filepath.Join(w.Dir, "join-plan.json"))...)
	t.Logf("kubelark join took %s", time.Since(start).Round(time.Millisecond))

	waitNodeRegistered(ctx, t, cs, w.Name)
	t.Logf("Node %s registered %s after kubelark join started", w.Name, time.Since(start).Round(time.Millisecond))

	t.Run("KubeletCredentials", func(t *testing.T) { checkJoinedKubelet(ctx, t, cp, w) })
	t.Run("BootstrapCSRSigned", func(t *testing.T) {
		csrs, err := cs.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range csrs.Items {
			if c.Spec.SignerName == "kubernetes.io/kube-apiserver-client-kubelet" && c.Spec.Username == "system:bootstrap:"+tokenID && len(c.Status.Certificate) > 0 {
				return
			}
		}
		t.Errorf("no signed kubelet client CSR from system:bootstrap:%s among %d CSRs", tokenID, len(csrs.Items))
	})

	// A second join of the joined node: refused in preflight, nothing changes.
	t.Run("SecondJoinRefused", func(t *testing.T) {
		before := listNodeFiles(ctx, t, w, "/etc/kubernetes/kubelet.conf", "/var/lib/kubelet/config.yaml")
		plan := filepath.Join(w.Dir, "rejoin-plan.json")
		out, err := runStatus(ctx, t, w, append(joinArgs, "--plan", plan)...)
		if err == nil {
			t.Fatalf("a second join of %s succeeded; want a preflight failure", w.Name)
		}
		for _, check := range []string{"FileAvailable--etc-kubernetes-kubelet.conf", "FileAvailable--etc-kubernetes-pki-ca.crt", "Port-10250"} {
			if !strings.Contains(out, "[ERROR "+check+"]") {
				t.Errorf("the refused second join does not name the failing check %s", check)
			}
		}
		for _, a := range readPlan(t, plan).Actions {
			if a.Op != "check" {
				t.Errorf("the refused second join recorded %s %s (%s): nothing may happen after a failed preflight", a.Op, a.Target, a.Result)
			}
		}
		diffFiles(t, before, listNodeFiles(ctx, t, w, "/etc/kubernetes/kubelet.conf", "/var/lib/kubelet/config.yaml"))
	})

	// kubeadm's command line with one word changed joins too: the API
	// server endpoint as the argument, kubeadm's flags.
	t.Run("KubeadmCommandLine", func(t *testing.T) {
		m := printedKubeadmJoin.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("init printed no kubeadm join command:\n%s", out)
		}
		w3 := newWorker(t, nw, "jw3")
		start := time.Now()
		run(ctx, t, w3, append([]string{kubelark, "join", m[1], "--token", m[2], "--discovery-token-ca-cert-hash", m[3]}, local(w3)...)...)
		t.Logf("kubelark join (kubeadm's command line) took %s", time.Since(start).Round(time.Millisecond))
		checkJoinedKubelet(ctx, t, cp, w3)
		// The kubelet registers its Node a moment after its TLS bootstrap,
		// which can end within a second here.
		waitNodeRegistered(ctx, t, cs, w3.Name)
	})

	// kubeadm's own JoinConfiguration (TestKubeadmJoin's) works as --config.
	t.Run("KubeadmConfig", func(t *testing.T) {
		w4 := newWorker(t, nw, "jw4")
		cfg := filepath.Join(w4.Dir, "kubeadm-join.yaml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(joinConfig, setValue(t, printed, "api_server_endpoint"), token, caHash, w4.Name, node.ContainerdSocket)), 0o600); err != nil {
			t.Fatal(err)
		}
		run(ctx, t, w4, kubelark, "join", "--config", cfg, "--service-command", w4.ServiceCommand())
		checkJoinedKubelet(ctx, t, cp, w4)
	})

	// Failures on a fresh node: each names its step and writes nothing.
	w2 := newWorker(t, nw, "jw2")

	// A dry run against the reachable cluster discovers for real (the CA
	// pin is checked, the kubelet configuration read with the bootstrap
	// token) and writes nothing.
	t.Run("DryRunReadsCluster", func(t *testing.T) {
		before := listNodeFiles(ctx, t, w2)
		out := run(ctx, t, w2, append(append([]string{kubelark}, printed...), append(local(w2), "--dry-run")...)...)
		for _, want := range []string{"matches a pinned hash", "Cluster-info verified", "nothing on this machine was changed"} {
			if !strings.Contains(out, want) {
				t.Errorf("the dry run does not say %q", want)
			}
		}
		if strings.Contains(out, "placeholder") {
			t.Errorf("the dry run planned with placeholders although the cluster answers")
		}
		diffFiles(t, before, listNodeFiles(ctx, t, w2))
	})
	wrongPin := "sha256:" + strings.Repeat("0", 64)
	for _, tc := range []struct {
		name  string
		set   []string
		wants []string
	}{
		{"WrongToken", []string{"token=zzzzzz.zzzzzzzzzzzzzzzz", "timeout_discovery=10s"},
			[]string{"token discovery", `no signature for token id "zzzzzz"`, "may be wrong or expired", "token create"}},
		{"WrongTokenSecret", []string{"token=" + tokenID + ".zzzzzzzzzzzzzzzz", "timeout_discovery=30s"},
			[]string{"token discovery", "JWS signature", "does not verify"}},
		{"WrongCAHash", []string{"ca_cert_hash=" + wrongPin},
			[]string{"token discovery", "does not match any given ca_cert_hash", "found " + caHash, wrongPin}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{kubelark, "run", "join", "--set", "api_server_endpoint=" + setValue(t, printed, "api_server_endpoint"),
				"--set", "token=" + token, "--set", "ca_cert_hash=" + caHash}
			for _, s := range tc.set {
				name, _, _ := strings.Cut(s, "=")
				replaced := false
				for i := range args {
					if strings.HasPrefix(args[i], name+"=") {
						args[i], replaced = s, true
					}
				}
				if !replaced {
					args = append(args, "--set", s)
				}
			}
			plan := filepath.Join(w2.Dir, tc.name+"-plan.json")
			args = append(append(args, local(w2)...), "--plan", plan)
			before := listNodeFiles(ctx, t, w2)
			start := time.Now()
			out, err := runStatus(ctx, t, w2, args...)
			if err == nil {
				t.Fatalf("join with %v succeeded; want a failure", tc.set)
			}
			t.Logf("%s failed after %s", tc.name, time.Since(start).Round(time.Millisecond))
			for _, want := range tc.wants {
				if !strings.Contains(out, want) {
					t.Errorf("the error does not say %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, strings.SplitN(token, ".", 2)[1]) {
				t.Errorf("the output shows the token secret")
			}
			for _, a := range readPlan(t, plan).Actions {
				if strings.HasPrefix(a.Op, "file.") || strings.HasPrefix(a.Op, "dir.") || strings.HasPrefix(a.Op, "service.") {
					t.Errorf("the failed join recorded %s %s (%s): nothing may be written before discovery succeeds", a.Op, a.Target, a.Result)
				}
			}
			diffFiles(t, before, listNodeFiles(ctx, t, w2))
		})
	}
	t.Logf("TestKubelarkJoin: %s in all", time.Since(testStart).Round(time.Millisecond))
}

// checkJoinedKubelet: kubelet.conf points at the kubelet's rotated client
// certificate, which names the node (CN system:node:<name>, O
// system:nodes) and chains to the cluster CA; bootstrap-kubelet.conf is
// gone; the CA written by join is the cluster's.
func checkJoinedKubelet(ctx context.Context, t *testing.T, cp, w *node.Node) {
	t.Helper()
	kc, err := w.ReadFile("/etc/kubernetes/kubelet.conf")
	if err != nil || !strings.Contains(string(kc), "/var/lib/kubelet/pki/kubelet-client-current.pem") {
		t.Errorf("worker kubelet.conf after join: %v\n%s", err, kc)
	}
	if _, err := w.ReadFile("/etc/kubernetes/bootstrap-kubelet.conf"); err == nil {
		t.Errorf("bootstrap-kubelet.conf still present after join")
	}
	ca := nodeCA(t, cp)
	if got, err := w.ReadFile("/etc/kubernetes/pki/ca.crt"); err != nil || string(got) != string(ca) {
		t.Errorf("the worker's /etc/kubernetes/pki/ca.crt is not the cluster CA: %v", err)
	}
	// A symlink to the dated file, absolute inside the node.
	current := "/var/lib/kubelet/pki/kubelet-client-current.pem"
	if target, err := os.Readlink(w.HostPath(current)); err == nil {
		current = target
	}
	pemBytes, err := w.ReadFile(current)
	if err != nil {
		t.Fatalf("the kubelet's client certificate: %v", err)
	}
	var cert *x509.Certificate
	for rest := pemBytes; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			if cert, err = x509.ParseCertificate(b.Bytes); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if cert == nil {
		t.Fatalf("no certificate in kubelet-client-current.pem")
	}
	if cert.Subject.CommonName != "system:node:"+w.Name || len(cert.Subject.Organization) != 1 || cert.Subject.Organization[0] != "system:nodes" {
		t.Errorf("kubelet client certificate subject %s, want CN=system:node:%s, O=system:nodes", cert.Subject, w.Name)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("kubelet client certificate does not chain to the cluster CA: %v", err)
	}
}

// waitNodeRegistered waits until the Node name exists (the kubelet
// registers it once its TLS bootstrap is done), or fails when ctx ends.
func waitNodeRegistered(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	for {
		_, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Node %s not registered: %v", name, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
