package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// haNetwork is TestKubelarkHA's own test bridge; its nodes (hlb, hcp1-3,
// hw1)
// have their own names, so it runs beside the other e2e tests.
const haNetwork = "10.82.0"

// The HA cluster's addresses: the load balancer, then the three
// control-plane nodes.
const (
	haLBIP = haNetwork + ".10"
	haLB   = haLBIP + ":6443"
)

var haCPs = []struct{ Name, IP string }{
	{"hcp1", haNetwork + ".11"},
	{"hcp2", haNetwork + ".12"},
	{"hcp3", haNetwork + ".13"},
}

// haproxyConfig is the load balancer of the Kubernetes HA guide
// (kubeadm/docs/ha-considerations.md, "Options for Software Load
// Balancing", haproxy 2.1+): TCP passthrough to the API servers on :6443,
// each health-checked with GET /healthz over TLS (the serving certificate
// is not verified: the check only asks whether the server is healthy),
// round robin, a server out after 3 failed checks and back after 2. The
// check interval is 1s instead of the default 2s, so a stopped node is
// taken out within seconds; a connection that fails is redispatched to
// another server.
const haproxyConfig = `global
    maxconn 2000

defaults
    mode                    http
    option                  http-server-close
    option                  redispatch
    retries                 1
    timeout http-request    10s
    timeout queue           20s
    timeout connect         5s
    timeout client          35s
    timeout server          35s
    timeout http-keep-alive 10s
    timeout check           10s

frontend apiserver
    bind *:6443
    mode tcp
    default_backend apiserverbackend

backend apiserverbackend
    option httpchk
    http-check connect ssl
    http-check send meth GET uri /healthz
    http-check expect status 200
    mode tcp
    balance roundrobin
%s`

// haproxyServer is one backend line: check over TLS, not verified.
const haproxyServer = "    server %s %s:6443 check check-ssl verify none inter 1s fall 3 rise 2\n"

// printedKubeadmCPJoin (kubelark_cpjoin_test.go) is the kubeadm form of
// the control-plane join command init prints.

// haTimings records how long each step of the HA test took.
type haTimings struct {
	mu    sync.Mutex
	steps []string
}

func (h *haTimings) add(t *testing.T, what string, start time.Time) {
	d := time.Since(start).Round(time.Millisecond)
	t.Logf("phase %s: %s", what, d)
	h.mu.Lock()
	h.steps = append(h.steps, fmt.Sprintf("%-28s %s", what, d))
	h.mu.Unlock()
}

// cpJoiner joins node n as a control-plane node, given init's output.
type cpJoiner struct {
	tool string
	join func(ctx context.Context, t *testing.T, n *node.Node, initOut string)
}

// kubeadmCPJoin runs kubeadm's own `join --control-plane` with the command
// line init printed (kubeadm form), plus the node's own settings. It proved
// the harness before kubelark joined control planes (a kubelark-made
// cluster takes kubeadm's joins); select it in TestKubelarkHA to compare.
// ImagePull is ignored besides SystemVerification (cgroup v1): a
// control-plane join's preflight pulls every image of the cluster, and the
// kube-proxy and CoreDNS images are not built (there is no registry); the
// control-plane images are imported into the node.
func kubeadmCPJoin() cpJoiner {
	return cpJoiner{"kubeadm", func(ctx context.Context, t *testing.T, n *node.Node, initOut string) {
		m := printedKubeadmCPJoin.FindStringSubmatch(initOut)
		if m == nil {
			t.Fatalf("init printed no kubeadm control-plane join command (with --certificate-key):\n%s", initOut)
		}
		run(ctx, t, n, "kubeadm", "join", m[1], "--token", m[2], "--discovery-token-ca-cert-hash", m[3],
			"--control-plane", "--certificate-key", m[4],
			"--apiserver-advertise-address", n.IP, "--node-name", n.Name,
			"--cri-socket", "unix://"+node.ContainerdSocket, "--ignore-preflight-errors", "SystemVerification,ImagePull")
	}}
}

// kubelarkCPJoin runs the control-plane join command `kubelark run init`
// printed (kubelark's form: --set control_plane=true and the certificate
// key), plus the node's own settings as for the worker joins (service
// command, CRI socket, cgroup v1 check ignored; ImagePull too, as for
// kubeadm: the add-on images are not built). The node's advertise address
// is its default-route address, as kubeadm picks it.
func kubelarkCPJoin(kubelark string) cpJoiner {
	return cpJoiner{"kubelark", func(ctx context.Context, t *testing.T, n *node.Node, initOut string) {
		printed := printedKubelarkJoin(t, initOut, true)
		if setValue(t, printed, "certificate_key") == "" {
			t.Fatalf("the control-plane join command init printed has no certificate key: %v", printed)
		}
		args := append(append([]string{kubelark}, printed...),
			"--service-command", n.ServiceCommand(), "--cri-socket", "unix://"+node.ContainerdSocket,
			"--ignore-preflight-errors", "SystemVerification", "--ignore-preflight-errors", "ImagePull",
			"--set", "image_pull_policy=Never")
		run(ctx, t, n, args...)
	}}
}

// haWorker is the worker that joins through the load balancer.
const haWorker = "hw1"

// printedKubelarkJoins are the join commands in kubelark's form that init
// prints ("kubelark run join" and its --set lines joined by " \\\n\t"),
// indented or not.
var printedKubelarkJoins = regexp.MustCompile(`(?m)^[ \t]*kubelark run join((?: \\\n\t--set \S+)+)`)

// printedKubelarkJoin is the control-plane (or else the worker) join
// command init printed in kubelark's form, as arguments after "kubelark".
func printedKubelarkJoin(t *testing.T, out string, controlPlane bool) []string {
	t.Helper()
	for _, m := range printedKubelarkJoins.FindAllStringSubmatch(out, -1) {
		if strings.Contains(m[1], "--set control_plane=true") != controlPlane {
			continue
		}
		args := []string{"run", "join"}
		for _, f := range strings.Fields(m[1]) {
			if f != `\` {
				args = append(args, f)
			}
		}
		return args
	}
	t.Fatalf("init printed no `kubelark run join` command (control plane: %t):\n%s", controlPlane, out)
	return nil
}

// haInitConfig is the e2e init configuration of a working cluster (a Pod
// subnet, so the controller-manager allocates node CIDRs for the CNI, and
// e2eutil.KubeProxyConfig) with the load balancer as controlPlaneEndpoint.
func haInitConfig(t *testing.T, n *node.Node) string {
	t.Helper()
	cfg := initConfig(n) + e2eutil.KubeProxyConfig
	if !strings.Contains(cfg, "podSubnet: "+clusterPodSubnet) {
		t.Fatalf("the e2e init configuration does not set podSubnet %s:\n%s", clusterPodSubnet, cfg)
	}
	withCPE := strings.Replace(cfg, "clusterName: kubernetes\n", "clusterName: kubernetes\ncontrolPlaneEndpoint: "+haLB+"\n", 1)
	if withCPE == cfg {
		t.Fatal("the e2e init configuration has no clusterName line to put controlPlaneEndpoint after")
	}
	p := filepath.Join(n.Dir, "kubeadm-init.yaml")
	if err := os.WriteFile(p, []byte(withCPE), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKubelarkHA is issue 9's HA cluster, made a working cluster (issue
// 10 §1) and then torn down node by node (issue 10 Scenario B): Debian's
// haproxy on its own node hlb, configured as the Kubernetes HA guide says,
// is the controlPlaneEndpoint; `kubelark run init` on hcp1 (with a Pod
// subnet and conntrack.maxPerCore 0) uploads the shared certificates; hcp2
// and hcp3 join as control-plane nodes with the printed command and the
// certificate key; a worker, hw1, joins through the load balancer with the
// printed worker command and keeps the load balancer as its kubelet's
// server. Then: etcd has three voting members and each is healthy; every
// API server is ready; an object written through hcp3 reads back through
// hcp1 and through the load balancer; every node's kubeconfigs point where
// kubeadm's do. With the bridge CNI installed as a user would, every Node
// is Ready, kube-proxy runs on all four nodes and CoreDNS is ready, and
// netcheck Pods on hw1 and hcp1 resolve kubernetes.default through CoreDNS
// and reach the API server through the kubernetes Service. With hcp2's
// kubelet and containers stopped, writes through the load balancer still
// work; hcp2 comes back. Last, resetScenario (kubelark_reset_test.go).
func TestKubelarkHA(t *testing.T) {
	testStart := time.Now()
	var tm haTimings
	defer func() {
		t.Logf("TestKubelarkHA phase timings:\n\t%s\n\t%-28s %s", strings.Join(tm.steps, "\n\t"), "total", time.Since(testStart).Round(time.Millisecond))
	}()
	start := time.Now()
	kubelark := buildKubelark(t)
	joiner := kubelarkCPJoin(kubelark)
	_, imgs := prepare(t)
	tm.add(t, "build and prepare", start)

	nw := e2eutil.NewNetwork(t, haNetwork)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()

	// All five nodes come up at once; hlb gets no images (it runs no Pods),
	// the worker what a worker of a working cluster runs (pause, kube-proxy,
	// CoreDNS, netcheck).
	start = time.Now()
	nodes := make([]*node.Node, len(haCPs))
	var lb *node.Node
	var wg sync.WaitGroup
	errs := make([]error, len(haCPs)+1)
	for i, c := range haCPs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes[i], errs[i] = e2eutil.StartNode(ctx, t, nw, c.Name, c.IP)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		lb, errs[len(haCPs)] = e2eutil.StartNodeConfig(ctx, t, nw, node.Config{Name: "hlb", IP: haLBIP, Images: []string{}})
	}()
	var w *node.Node
	var wErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		w, wErr = e2eutil.StartNodeConfig(ctx, t, nw, node.Config{Name: haWorker, IP: haNetwork + ".21", Images: e2eutil.WorkerImages(imgs)})
	}()
	wg.Wait()
	errs = append(errs, wErr)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	tm.add(t, "5 nodes up", start)
	// What each node holds before init or join, for the reset scenario.
	baseline := map[string]e2eutil.NodeState{}
	for _, n := range append(append([]*node.Node{}, nodes...), w) {
		st, err := e2eutil.TakeNodeState(n)
		if err != nil {
			t.Fatal(err)
		}
		baseline[n.Name] = st
	}

	start = time.Now()
	startHAProxy(ctx, t, lb)
	tm.add(t, "haproxy up", start)

	cp1 := nodes[0]
	start = time.Now()
	initOut := run(ctx, t, cp1, kubelark, "run", "init", "--config", haInitConfig(t, cp1), "--set", "upload_certs=true",
		"--service-command", cp1.ServiceCommand())
	tm.add(t, "kubelark init hcp1", start)
	if strings.Contains(initOut, "<token") {
		t.Fatalf("init printed no token in its join commands:\n%s", initOut)
	}

	// The load balancer takes hcp1 in once its health checks pass.
	start = time.Now()
	lbCS := haClient(t, cp1, cp1, haLBIP)
	waitReadyz(ctx, t, lbCS)
	tm.add(t, "hcp1 ready through LB", start)

	// Control-plane joins one after the other, as kubeadm requires (etcd
	// takes one learner at a time).
	for _, n := range nodes[1:] {
		start = time.Now()
		joiner.join(ctx, t, n, initOut)
		tm.add(t, joiner.tool+" join "+n.Name, start)
		t.Logf("%s join %s took %s", joiner.tool, n.Name, time.Since(start).Round(time.Millisecond))
	}

	// A worker joins through the load balancer with the worker command
	// init printed (kubelark's worker join).
	start = time.Now()
	workerArgs := append(append([]string{kubelark}, printedKubelarkJoin(t, initOut, false)...),
		"--service-command", w.ServiceCommand(), "--cri-socket", "unix://"+node.ContainerdSocket,
		"--ignore-preflight-errors", "SystemVerification")
	run(ctx, t, w, workerArgs...)
	waitNodeRegistered(ctx, t, lbCS, w.Name)
	tm.add(t, "kubelark join worker "+w.Name, start)

	start = time.Now()
	t.Run("WorkerThroughLB", func(t *testing.T) {
		checkJoinedKubelet(ctx, t, cp1, w)
		// A worker's bootstrap-kubelet.conf takes the server from
		// cluster-info, which is the controlPlaneEndpoint; the kubelet
		// keeps it in kubelet.conf.
		checkServer(t, w, "kubelet.conf", "https://"+haLB)
	})
	t.Run("EtcdMembers", func(t *testing.T) { checkEtcdMembers(ctx, t, nodes) })
	t.Run("APIServersReady", func(t *testing.T) {
		for _, n := range nodes {
			if err := e2eutil.WaitReadyz(ctx, haClient(t, cp1, n, n.IP), 500*time.Millisecond); err != nil {
				t.Errorf("API server of %s: %v", n.Name, err)
			}
		}
	})
	t.Run("ControlPlaneNodes", func(t *testing.T) {
		for _, n := range nodes {
			waitControlPlanePods(ctx, t, lbCS, n.Name)
			checkNodeMarked(ctx, t, lbCS, n.Name)
		}
	})
	t.Run("Kubeconfigs", func(t *testing.T) {
		for i, n := range nodes {
			checkHAKubeconfigs(t, n, i == 0)
		}
	})
	t.Run("WriteThroughHcp3ReadEverywhere", func(t *testing.T) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ha-probe", Namespace: "default"}, Data: map[string]string{"written-through": "hcp3"}}
		if _, err := haClient(t, cp1, nodes[2], nodes[2].IP).CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create ConfigMap through hcp3: %v", err)
		}
		for _, via := range []struct {
			name string
			cs   kubernetes.Interface
		}{{"hcp1", haClient(t, cp1, cp1, cp1.IP)}, {"the load balancer", lbCS}} {
			got, err := via.cs.CoreV1().ConfigMaps("default").Get(ctx, "ha-probe", metav1.GetOptions{})
			if err != nil {
				t.Errorf("read ConfigMap written through hcp3 via %s: %v", via.name, err)
			} else if got.Data["written-through"] != "hcp3" {
				t.Errorf("ConfigMap read via %s has data %v", via.name, got.Data)
			}
		}
	})
	tm.add(t, "checks", start)

	// Issue 10 §1 on this cluster: the CNI installed as a user would, every
	// Node Ready, kube-proxy on all four nodes and CoreDNS ready, netcheck
	// Pods on the worker and on a control-plane node use the Services.
	defer func() {
		if t.Failed() {
			dumpKubeSystem(t, lbCS)
		}
	}()
	all := append(append([]*node.Node{}, nodes...), w)
	start = time.Now()
	t.Run("WorkingCluster", func(t *testing.T) {
		checkWorkingCluster(ctx, t, lbCS, nw, all, []*node.Node{w, cp1})
	})
	tm.add(t, "working cluster", start)
	if t.Failed() {
		return
	}

	start = time.Now()
	t.Run("Hcp2DownWritesThroughLB", func(t *testing.T) {
		// A new client (a new connection: a config with its own dialer
		// gets its own transport) for every request.
		lbClient := func() kubernetes.Interface { return haClient(t, cp1, cp1, haLBIP) }
		checkNodeDown(ctx, t, nodes[1], lbClient, []*node.Node{nodes[0], nodes[2]})
	})
	tm.add(t, "hcp2 down, writes via LB", start)

	// hcp2 comes back (its kubelet restarts the killed static Pods; its
	// etcd member catches up), so the reset scenario starts from a healthy
	// three-member cluster.
	start = time.Now()
	t.Run("Hcp2Back", func(t *testing.T) {
		checkNodeBack(ctx, t, cp1, nodes[1], nodes)
	})
	tm.add(t, "hcp2 back", start)
	if t.Failed() {
		return
	}

	resetScenario(ctx, t, &tm, haCluster{
		kubelark: kubelark, nw: nw, cps: nodes, worker: w,
		initConfig: filepath.Join(cp1.Dir, "kubeadm-init.yaml"), baseline: baseline,
	})
}

// checkNodeBack starts n's kubelet again after checkNodeDown and waits
// until its static Pods are Running and Ready, its API server is ready
// and every etcd member is healthy with the full membership again.
func checkNodeBack(ctx context.Context, t *testing.T, cp1, n *node.Node, nodes []*node.Node) {
	if out, err := n.Exec(ctx, filepath.Join(n.Dir, "node-svc"), "start", "kubelet"); err != nil {
		t.Fatalf("start %s's kubelet: %v\n%s", n.Name, err, out)
	}
	if err := e2eutil.WaitReadyz(ctx, haClient(t, cp1, n, n.IP), 500*time.Millisecond); err != nil {
		t.Fatalf("API server of %s after its kubelet restarted: %v", n.Name, err)
	}
	waitControlPlanePods(ctx, t, haClient(t, cp1, cp1, haLBIP), n.Name)
	poll(ctx, t, 2*time.Minute, "etcd of "+n.Name+" healthy again", func() (bool, string) {
		var health struct {
			Health string `json:"health"`
			Reason string `json:"reason"`
		}
		err := e2eutil.EtcdCall(ctx, haEtcdClient(t, n), "GET", "https://"+n.IP+":2379/health", "", &health)
		return err == nil && health.Health == "true", fmt.Sprintf("%+v %v", health, err)
	})
	checkEtcdMembers(ctx, t, nodes)
}

// startHAProxy writes the guide's configuration for the three
// control-plane nodes into lb's directory, checks it with `haproxy -c`,
// runs haproxy in the foreground inside lb's namespaces and waits until
// it listens on :6443. It is stopped (by its pid) when the test ends.
func startHAProxy(ctx context.Context, t *testing.T, lb *node.Node) {
	t.Helper()
	var servers strings.Builder
	for _, c := range haCPs {
		fmt.Fprintf(&servers, haproxyServer, c.Name, c.IP)
	}
	cfg := filepath.Join(lb.Dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(haproxyConfig, servers.String())), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := lb.Exec(ctx, "haproxy", "-c", "-f", cfg); err != nil {
		t.Fatalf("haproxy -c -f %s: %v\n%s", cfg, err, out)
	}
	logf, err := os.Create(lb.LogPath("haproxy"))
	if err != nil {
		t.Fatal(err)
	}
	// Not the test's ctx: haproxy must outlive nothing but the test, and
	// is stopped below, before the node's teardown.
	cmd := lb.Command(context.Background(), "haproxy", "-db", "-f", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start haproxy in %s: %v", lb.Name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("--- haproxy log (tail) ---\n%s", lb.LogTail("haproxy", 40))
		}
	})
	for i := 0; ; i++ {
		c, err := lb.DialContext(ctx, "tcp", haLB)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			t.Fatalf("haproxy exited:\n%s", lb.LogTail("haproxy", 20))
		case <-ctx.Done():
			t.Fatalf("haproxy not listening on %s: %v", haLB, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// haClient is a client with the admin credentials of cp1's admin.conf,
// talking to https://<ip>:6443, dialling from inside node via.
func haClient(t *testing.T, cp1, via *node.Node, ip string) *kubernetes.Clientset {
	t.Helper()
	cfg := restConfigFor(t, cp1, "/etc/kubernetes/admin.conf")
	cfg.Host = "https://" + ip + ":6443"
	cfg.Dial = via.DialContext
	cfg.Timeout = 10 * time.Second
	return mustClient(t, cfg)
}

// haEtcdMember is a member of etcd's member list as its JSON gateway
// (/v3/cluster/member/list) answers.
type haEtcdMember struct {
	ID         string   `json:"ID"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
	IsLearner  bool     `json:"isLearner"`
}

// haEtcdClient is e2eutil's etcd client for node n; a failure ends the test.
func haEtcdClient(t *testing.T, n *node.Node) *http.Client {
	t.Helper()
	c, err := e2eutil.EtcdHTTPClient(n, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkEtcdMembers: every node's etcd lists the same three members, one
// per node, with the node's peer and client URLs, none a learner, and each
// member answers /health with health "true".
func checkEtcdMembers(ctx context.Context, t *testing.T, nodes []*node.Node) {
	for _, n := range nodes {
		c := haEtcdClient(t, n)
		var list struct {
			Members []haEtcdMember `json:"members"`
		}
		if err := e2eutil.EtcdCall(ctx, c, "POST", "https://"+n.IP+":2379/v3/cluster/member/list", "{}", &list); err != nil {
			t.Errorf("etcd member list from %s: %v", n.Name, err)
			continue
		}
		byName := map[string]haEtcdMember{}
		for _, m := range list.Members {
			byName[m.Name] = m
		}
		if len(list.Members) != len(nodes) {
			t.Errorf("etcd of %s lists %d members, want %d: %+v", n.Name, len(list.Members), len(nodes), list.Members)
		}
		for _, o := range nodes {
			m, ok := byName[o.Name]
			switch {
			case !ok:
				t.Errorf("etcd of %s has no member %s: %+v", n.Name, o.Name, list.Members)
			case m.IsLearner:
				t.Errorf("etcd member %s is still a learner (as seen by %s)", o.Name, n.Name)
			case len(m.PeerURLs) != 1 || m.PeerURLs[0] != "https://"+o.IP+":2380":
				t.Errorf("etcd member %s peer URLs %v, want [https://%s:2380]", o.Name, m.PeerURLs, o.IP)
			case len(m.ClientURLs) != 1 || m.ClientURLs[0] != "https://"+o.IP+":2379":
				t.Errorf("etcd member %s client URLs %v (not started?), want [https://%s:2379]", o.Name, m.ClientURLs, o.IP)
			}
		}
		var health struct {
			Health string `json:"health"`
			Reason string `json:"reason"`
		}
		if err := e2eutil.EtcdCall(ctx, c, "GET", "https://"+n.IP+":2379/health", "", &health); err != nil || health.Health != "true" {
			t.Errorf("etcd of %s /health: %+v %v", n.Name, health, err)
		}
	}
}

// checkHAKubeconfigs: each kubeconfig of a control-plane node points where
// kubeadm v1.36.3 points it. admin.conf (and super-admin.conf, written by
// init only) at the controlPlaneEndpoint; controller-manager.conf and
// scheduler.conf at the node's own API server (kubeconfig phase,
// getKubeConfigSpecsBase: localAPIEndpoint); kubelet.conf at the node's
// own API server too: init writes it for the local endpoint, and a joining
// control-plane node's bootstrap-kubelet.conf is pointed at its
// LocalAPIEndpoint (phases/join/kubelet.go), so the kubelet writes
// kubelet.conf with that server after its TLS bootstrap.
func checkHAKubeconfigs(t *testing.T, n *node.Node, initNode bool) {
	local, lb := "https://"+n.IP+":6443", "https://"+haLB
	want := map[string]string{
		"admin.conf":              lb,
		"controller-manager.conf": local,
		"scheduler.conf":          local,
		"kubelet.conf":            local,
	}
	if initNode {
		want["super-admin.conf"] = lb
	} else if _, err := n.ReadFile("/etc/kubernetes/super-admin.conf"); err == nil {
		t.Errorf("%s: super-admin.conf exists on a joined control-plane node (kubeadm writes it on the init node only)", n.Name)
	}
	if _, err := n.ReadFile("/etc/kubernetes/bootstrap-kubelet.conf"); err == nil {
		t.Errorf("%s: bootstrap-kubelet.conf is still present", n.Name)
	}
	for f, server := range want {
		checkServer(t, n, f, server)
	}
}

// checkServer: the current context of /etc/kubernetes/<file> on n talks
// to server.
func checkServer(t *testing.T, n *node.Node, file, server string) {
	t.Helper()
	b, err := n.ReadFile("/etc/kubernetes/" + file)
	if err != nil {
		t.Errorf("%s: %v", n.Name, err)
		return
	}
	kc, err := clientcmd.Load(b)
	if err != nil {
		t.Errorf("%s: %s: %v", n.Name, file, err)
		return
	}
	cur := kc.Contexts[kc.CurrentContext]
	if cur == nil || kc.Clusters[cur.Cluster] == nil {
		t.Errorf("%s: %s has no current context with a cluster", n.Name, file)
		return
	}
	if got := kc.Clusters[cur.Cluster].Server; got != server {
		t.Errorf("%s: %s server %s, want %s (kubeadm's)", n.Name, file, got, server)
	}
}

// checkNodeDown stops n's kubelet (its service command) and kills every
// container of the node, waits until n's API server no longer answers, and
// then writes through the load balancer, each on a new connection (so
// round robin offers n's slot too, and only haproxy's health checks and
// redispatch keep the writes off n): the first write may wait for the
// health checks to take n out (a few seconds); the writes after it must
// all succeed at once. The etcd members of the survivors stay healthy
// (two of three are a quorum).
func checkNodeDown(ctx context.Context, t *testing.T, n *node.Node, lbClient func() kubernetes.Interface, survivors []*node.Node) {
	if out, err := n.Exec(ctx, filepath.Join(n.Dir, "node-svc"), "stop", "kubelet"); err != nil {
		t.Fatalf("stop %s's kubelet: %v\n%s", n.Name, err, out)
	}
	out, err := n.Exec(ctx, "ctr", "-n", "k8s.io", "-a", node.ContainerdSocket, "tasks", "ls", "-q")
	if err != nil {
		t.Fatalf("list %s's containers: %v\n%s", n.Name, err, out)
	}
	for _, id := range strings.Fields(string(out)) {
		if o, err := n.Exec(ctx, "ctr", "-n", "k8s.io", "-a", node.ContainerdSocket, "tasks", "kill", "-a", "-s", "SIGKILL", id); err != nil {
			t.Logf("kill task %s on %s: %v %s", id, n.Name, err, o)
		}
	}
	down := time.Now()
	for {
		c, err := n.DialContext(ctx, "tcp", n.IP+":6443")
		if err != nil {
			break
		}
		c.Close()
		if time.Since(down) > time.Minute {
			t.Fatalf("%s's API server still accepts connections a minute after its containers were killed", n.Name)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%s's API server is down %s after the kill", n.Name, time.Since(down).Round(time.Millisecond))
	took := writeThroughLB(ctx, t, lbClient, "ha-down", 11, " with "+n.Name+" down")
	t.Logf("first write through the load balancer with %s down: %s", n.Name, took.Round(time.Millisecond))
	// The surviving API servers read back what was written.
	cms, err := lbClient().CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n0 := 0
	for _, c := range cms.Items {
		if strings.HasPrefix(c.Name, "ha-down-") {
			n0++
		}
	}
	if n0 != 11 {
		t.Errorf("%d ha-down-* ConfigMaps listed through the load balancer, want 11", n0)
	}
	for _, o := range survivors {
		var health struct {
			Health string `json:"health"`
		}
		if err := e2eutil.EtcdCall(ctx, haEtcdClient(t, o), "GET", "https://"+o.IP+":2379/health", "", &health); err != nil || health.Health != "true" {
			t.Errorf("etcd of %s with %s down: /health %+v %v", o.Name, n.Name, health, err)
		}
	}
}
