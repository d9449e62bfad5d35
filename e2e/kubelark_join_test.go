package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/retry"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// joinNetwork is TestKubelarkJoin's own test bridge, and its nodes have
// their own names, so it can run beside the other tests of this package's
// network (10.77.0: cp1, w1), the parity suite's (10.78.0) and the bench's
// (10.79.0).
const joinNetwork = "10.80.0"

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
// in preflight without a change. Then, in parallel: kubeadm's command line
// (jw3), kubeadm's JoinConfiguration (jw4), file discovery and its dry run
// (jw5), and on a fresh jw2 one after another a dry run and every failure
// the test network can produce (wrong token, token secret and CA pin,
// cluster-info tampered by a proxy, expired token, unreachable host,
// closed port, a Ready Node of the name), each failing in the step that
// found it and writing nothing.
func TestKubelarkJoin(t *testing.T) {
	testStart := time.Now()
	kubelark := buildKubelark(t)
	nw := e2eutil.NewNetwork(t, joinNetwork)
	cp := newNode(t, nw, "jcp1")
	w := newWorker(t, nw, "jw1")
	// Every node up front (the network hands out addresses one at a time):
	// jw2 for the failures, jw3-jw5 for the other joins.
	w2, w3, w4, w5 := newWorker(t, nw, "jw2"), newWorker(t, nw, "jw3"), newWorker(t, nw, "jw4"), newWorker(t, nw, "jw5")
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

	// The remaining joins are independent: each on its own node, in parallel.
	m := printedKubeadmJoin.FindStringSubmatch(out)
	endpoint := setValue(t, printed, "api_server_endpoint")
	t.Run("Independent", func(t *testing.T) {
		// kubeadm's command line with one word changed joins too: the API
		// server endpoint as the argument, kubeadm's flags.
		t.Run("KubeadmCommandLine", func(t *testing.T) {
			t.Parallel()
			if m == nil {
				t.Fatalf("init printed no kubeadm join command:\n%s", out)
			}
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
			t.Parallel()
			cfg := filepath.Join(w4.Dir, "kubeadm-join.yaml")
			if err := os.WriteFile(cfg, []byte(fmt.Sprintf(joinConfig, endpoint, token, caHash, w4.Name, node.ContainerdSocket)), 0o600); err != nil {
				t.Fatal(err)
			}
			run(ctx, t, w4, kubelark, "join", "--config", cfg, "--service-command", w4.ServiceCommand())
			checkJoinedKubelet(ctx, t, cp, w4)
		})

		// File discovery: a kubeconfig copied from cluster-info, the TLS
		// bootstrap token given apart (kubeadm join --discovery-file
		// --tls-bootstrap-token). Its dry run reads the cluster and writes
		// nothing; the join then TLS-bootstraps as token discovery does.
		// (HTTPS discovery is unit-tested only: it verifies with the
		// node's system CA bundle, which is the host's and must not change.)
		t.Run("FileDiscovery", func(t *testing.T) {
			t.Parallel()
			ci, err := cs.CoreV1().ConfigMaps("kube-public").Get(ctx, "cluster-info", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(w5.HostPath("/etc/kubernetes/discovery.conf"), []byte(ci.Data["kubeconfig"]), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{kubelark, "run", "join", "--set", "discovery_file=/etc/kubernetes/discovery.conf", "--set", "tls_bootstrap_token=" + token}, local(w5)...)
			before := listNodeFiles(ctx, t, w5)
			dry := run(ctx, t, w5, append(args, "--dry-run")...)
			for _, want := range []string{"Validating discovery_file /etc/kubernetes/discovery.conf", "nothing on this machine was changed"} {
				if !strings.Contains(dry, want) {
					t.Errorf("the file-discovery dry run does not say %q", want)
				}
			}
			if strings.Contains(dry, "placeholder") {
				t.Errorf("the file-discovery dry run planned with placeholders although the cluster answers")
			}
			diffFiles(t, before, listNodeFiles(ctx, t, w5))
			start := time.Now()
			run(ctx, t, w5, args...)
			t.Logf("kubelark join (file discovery) took %s", time.Since(start).Round(time.Millisecond))
			checkJoinedKubelet(ctx, t, cp, w5)
			waitNodeRegistered(ctx, t, cs, w5.Name)
		})

		t.Run("Failures", func(t *testing.T) {
			t.Parallel()
			joinFailures(ctx, t, failureEnv{kubelark: kubelark, cp: cp, w: w2, cs: cs, printed: printed, token: token, caHash: caHash, local: local(w2)})
		})
	})
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

// failureEnv is what joinFailures needs of TestKubelarkJoin.
type failureEnv struct {
	kubelark      string
	cp, w         *node.Node
	cs            kubernetes.Interface
	printed       []string
	token, caHash string
	local         []string
}

// joinFailures runs, one after another on the fresh node e.w, a dry run
// against the reachable cluster and every join failure the test network
// can produce. Each must fail in the step that found it, say so, and
// leave the node as it was: a failure in discovery (or in kubelet-start's
// Node check) comes before any write.
func joinFailures(ctx context.Context, t *testing.T, e failureEnv) {
	w := e.w
	endpoint := setValue(t, e.printed, "api_server_endpoint")
	tokenID, tokenSecret, _ := strings.Cut(e.token, ".")

	// A dry run against the reachable cluster discovers for real (the CA
	// pin is checked, the kubelet configuration read with the bootstrap
	// token) and writes nothing.
	t.Run("DryRunReadsCluster", func(t *testing.T) {
		before := listNodeFiles(ctx, t, w)
		out := run(ctx, t, w, append(append([]string{e.kubelark}, e.printed...), append(e.local, "--dry-run")...)...)
		for _, want := range []string{"matches a pinned hash", "Cluster-info verified", "nothing on this machine was changed"} {
			if !strings.Contains(out, want) {
				t.Errorf("the dry run does not say %q", want)
			}
		}
		if strings.Contains(out, "placeholder") {
			t.Errorf("the dry run planned with placeholders although the cluster answers")
		}
		diffFiles(t, before, listNodeFiles(ctx, t, w))
	})

	// The tampering proxy listens inside w's network namespace and forwards
	// to the API server, altering the CA in cluster-info's kubeconfig.
	proxyAddr := startTamperingProxy(ctx, t, w, e.cp)
	expired := expiredToken(ctx, t, e.cs)
	wrongPin := "sha256:" + strings.Repeat("0", 64)
	quick := []string{"timeout_discovery=5s", "timeout_kubernetes_api_call=2s"}
	for _, tc := range []struct {
		name  string
		set   []string
		pre   func(t *testing.T)
		wants []string
	}{
		{name: "WrongToken", set: []string{"token=zzzzzz.zzzzzzzzzzzzzzzz", "timeout_discovery=10s"},
			wants: []string{"token discovery", `no signature for token id "zzzzzz"`, "may be wrong or expired", "token create"}},
		{name: "WrongTokenSecret", set: []string{"token=" + tokenID + ".zzzzzzzzzzzzzzzz", "timeout_discovery=30s"},
			wants: []string{"token discovery", "JWS signature", "does not verify"}},
		{name: "WrongCAHash", set: []string{"ca_cert_hash=" + wrongPin},
			wants: []string{"token discovery", "does not match any given ca_cert_hash", "found " + e.caHash, wrongPin}},
		// The altered CA breaks the JWS (the signature covers the kubeconfig).
		{name: "TamperedClusterInfo", set: []string{"api_server_endpoint=" + proxyAddr, "timeout_discovery=30s"},
			wants: []string{"token discovery", "JWS signature", "altered cluster-info"}},
		// An expired token: not signed by the bootstrapsigner, deleted by
		// the tokencleaner, refused by the API server.
		{name: "ExpiredToken", set: []string{"token=" + expired, "timeout_discovery=10s"},
			wants: []string{"token discovery", `no signature for token id "` + strings.SplitN(expired, ".", 2)[0] + `"`, "refuses that token (401 Unauthorized)", "wrong or expired", "token create"}},
		// Nothing at that address on the bridge, and a closed port.
		{name: "UnreachableHost", set: append([]string{"api_server_endpoint=" + joinNetwork + ".250:6443"}, quick...),
			wants: []string{"token discovery", "cannot reach the API server at https://" + joinNetwork + ".250:6443", "check"}},
		{name: "ClosedPort", set: append([]string{"api_server_endpoint=" + e.cp.IP + ":6444"}, quick...),
			wants: []string{"token discovery", "cannot reach the API server at https://" + e.cp.IP + ":6444", "connection refused"}},
		// A Ready Node of the name: refused in kubelet-start before it writes.
		{name: "ReadyNodeName", set: []string{"node_name=jready"}, pre: func(t *testing.T) { readyNodeObject(ctx, t, e.cs, "jready") },
			wants: []string{"kubelet-start", `a Node with name "jready" and status "Ready" already exists`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{e.kubelark, "run", "join", "--set", "api_server_endpoint=" + endpoint,
				"--set", "token=" + e.token, "--set", "ca_cert_hash=" + e.caHash}
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
			plan := filepath.Join(w.Dir, tc.name+"-plan.json")
			args = append(append(args, e.local...), "--plan", plan)
			before := listNodeFiles(ctx, t, w)
			if tc.pre != nil {
				tc.pre(t)
			}
			start := time.Now()
			out, err := runStatus(ctx, t, w, args...)
			if err == nil {
				t.Fatalf("join with %v succeeded; want a failure", tc.set)
			}
			t.Logf("%s failed after %s", tc.name, time.Since(start).Round(time.Millisecond))
			for _, want := range tc.wants {
				if !strings.Contains(out, want) {
					t.Errorf("the error does not say %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, tokenSecret) || strings.Contains(out, strings.SplitN(expired, ".", 2)[1]) {
				t.Errorf("the output shows a token secret")
			}
			for _, a := range readPlan(t, plan).Actions {
				if strings.HasPrefix(a.Op, "file.") || strings.HasPrefix(a.Op, "dir.") || strings.HasPrefix(a.Op, "service.") {
					t.Errorf("the failed join recorded %s %s (%s): nothing may be written before the failing step", a.Op, a.Target, a.Result)
				}
			}
			diffFiles(t, before, listNodeFiles(ctx, t, w))
		})
	}
}

// expiredToken creates a bootstrap token whose expiration is past, as
// `kubelark token create --ttl` leaves one once its time is up, and
// returns it.
func expiredToken(ctx context.Context, t *testing.T, cs kubernetes.Interface) string {
	t.Helper()
	id, secret := "exp0d1", "x0123456789expdx"
	_, err := cs.CoreV1().Secrets("kube-system").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-" + id, Namespace: "kube-system"},
		Type:       "bootstrap.kubernetes.io/token",
		StringData: map[string]string{
			"token-id": id, "token-secret": secret,
			"expiration":                     time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
			"usage-bootstrap-authentication": "true", "usage-bootstrap-signing": "true",
			"auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return id + "." + secret
}

// readyNodeObject makes a Node name exist with Ready=True (no kubelet
// behind it: the node lifecycle controller marks it Unknown after its
// grace period, so this runs right before the join).
func readyNodeObject(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	// The node lifecycle controller updates a new Node too (taints): set
	// the condition on the latest version.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.Now()
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			Message: "set by TestKubelarkJoin", LastHeartbeatTime: now, LastTransitionTime: now}}
		_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// startTamperingProxy serves HTTPS at 127.0.0.1:16443 inside n's network
// namespace (its own self-signed certificate: token discovery's first read
// does not verify), forwarding each GET to the API server on cp and
// replacing the CA in the answer of kube-public/cluster-info with another
// one. It returns the address, for api_server_endpoint on n.
func startTamperingProxy(ctx context.Context, t *testing.T, n, cp *node.Node) string {
	t.Helper()
	const addr = "127.0.0.1:16443"
	ln, err := listenInNetns("/run/netns/"+n.NetNS, addr)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("tampering-proxy", []net.IP{net.ParseIP("127.0.0.1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	otherCA, _, err := certutil.GenerateSelfSignedCertKey("not-the-cluster-ca", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	upstream := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: cp.DialContext,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the test's own probe of its own cluster
	caData := regexp.MustCompile(`certificate-authority-data: \S+`)
	srv := &http.Server{TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}}, Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		resp, err := upstream.Get("https://" + cp.IP + ":6443" + r.URL.RequestURI())
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if r.URL.Path == "/api/v1/namespaces/kube-public/configmaps/cluster-info" && resp.StatusCode == http.StatusOK {
			var cm map[string]any
			if json.Unmarshal(body, &cm) == nil {
				if data, ok := cm["data"].(map[string]any); ok {
					if kc, ok := data["kubeconfig"].(string); ok {
						data["kubeconfig"] = caData.ReplaceAllString(kc, "certificate-authority-data: "+base64.StdEncoding.EncodeToString(otherCA))
					}
				}
				body, _ = json.Marshal(cm)
			}
		}
		rw.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		rw.WriteHeader(resp.StatusCode)
		_, _ = rw.Write(body)
	})}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return addr
}

// listenInNetns opens a TCP listener inside the network namespace at
// nsPath (a socket keeps the namespace it was created in), as
// node.DialContext dials.
func listenInNetns(nsPath, addr string) (net.Listener, error) {
	target, err := os.Open(nsPath)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	type result struct {
		ln  net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, fmt.Errorf("setns %s: %w", nsPath, err)}
			return
		}
		ln, err := net.Listen("tcp", addr)
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{ln, err}
	}()
	r := <-ch
	return r.ln, r.err
}
