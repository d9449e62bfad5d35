package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// workerJoinConfig is the kubeadm v1beta4 JoinConfiguration both tools get
// for a worker (`kubeadm join --config` and `kubelark join --config`):
// token discovery with the CA pin init printed, the node's name and CRI
// socket, and the cgroup v1 SystemVerification check ignored as everywhere
// in e2e. Nothing is pulled (workers only hold the pause image).
const workerJoinConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: %[1]s
    token: %[2]s
    caCertHashes:
    - %[3]s
nodeRegistration:
  name: %[4]s
  criSocket: unix://%[5]s
  ignorePreflightErrors:
  - SystemVerification
  imagePullPolicy: Never
`

// printedKubeadmJoin is kubeadm's form of the worker join command that
// `kubelark run init` prints ("or, with kubeadm:").
var printedKubeadmJoin = regexp.MustCompile(`kubeadm join (\S+) --token (\S+) \\\n\t--discovery-token-ca-cert-hash (\S+)`)

// Worker node names: bn1 is the control plane, bn3.. the workers (bn2 is
// BenchmarkInitToReady's kubeadm node). At most 12 names: bn3..bn14.
func workerName(i int) string { return fmt.Sprintf("bn%d", 3+i) }

// ConcurrentEnv overrides the batch sizes of the concurrent joins
// (comma-separated, default "1,5,10"; at most 12: bn3..bn14).
const ConcurrentEnv = "KUBELARK_BENCH_CONCURRENT"

// concurrentJoins are the batch sizes of the concurrent-join benchmark.
func concurrentJoins(b *testing.B) []int {
	v := os.Getenv(ConcurrentEnv)
	if v == "" {
		return []int{1, 5, 10}
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 12 {
			b.Fatalf("%s=%q: want comma-separated batch sizes between 1 and 12 (nodes bn3..bn14)", ConcurrentEnv, v)
		}
		out = append(out, n)
	}
	return out
}

// idleWindow is how long the control plane's own request rate is
// measured right before each batch of joins (the background subtracted
// from its server-side counts).
const idleWindow = 5 * time.Second

// settleTime lets the fresh control plane finish its own start-up
// traffic (controllers syncing, addons created) before the first join.
const settleTime = 20 * time.Second

// joinCluster is the control plane the join benchmarks share: made once
// per benchmark run by `kubelark run init` on bn1.
type joinCluster struct {
	cp                      *testNode
	cs                      *kubernetes.Clientset
	endpoint, token, caHash string
}

// BenchmarkJoin: joins against one control plane (bn1, `kubelark run
// init`), every join on a fresh node (bn3..), timed from the start of the
// tool to its Node registered (and the tool exited: ns/op is the later of
// the two; both are also reported, as registered and tool-exit, from the
// start).
//
//   - worker: `kubelark join --config` vs `kubeadm join --config` with the
//     same JoinConfiguration (same token, CA pin, node name), the tools
//     alternating round by round (-benchtime Nx rounds, default 3), a
//     fresh node each time, the Node object deleted between rounds.
//   - worker-new-token: the same, with a token made (`kubeadm token
//     create` on bn1) right before the tool starts (the timer starts with
//     the tool): the join has to wait for the controller-manager's bootstrap signer to
//     sign cluster-info for it (kubeadm polls discovery every 5 s,
//     kubelark every second).
//   - concurrent/n=N: N (1, 5, 10) kubelark worker joins started at the
//     same instant on N fresh nodes; ns/op is the time until all are
//     registered and all tools exited; cpu, peak RSS and API requests are
//     per join (one round).
//
// API-requests/op is what the tool itself sent (kubeadm's --v=6 Response
// lines, kubelark's -v summary). The server-side counts per join (see
// apimetrics.go) are differences of the API server's counters around the
// join, minus the harness's scrape, minus the control plane's background
// rate measured over idleWindow just before: apiserver-req (every request
// but watches), node-flow-req (the flow schemas of the joining node's own
// clients: discovery, bootstrap token, the new kubelet) and
// controllers-flow-req (the controller-manager's controllers, which run
// under their kube-system service accounts: CSR approval and signing,
// the node's DaemonSet Pods, node lifecycle). They include the kubelet's TLS
// bootstrap and registration, the same kubelet for both tools.
// kubelark's phases are timed from its -vv output (phase-*).
func BenchmarkJoin(b *testing.B) {
	t, imgs := prepareNodes(b)
	nw := newNetwork(b)
	jc := startJoinCluster(b, t, nw, imgs)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	workerImgs := pauseOnly(imgs)

	// Worker join, kubelark vs kubeadm, fresh node per round, after one
	// untimed warm-up join of each (the first kubelet start on the
	// machine after the control plane's pays for cold caches).
	order := []string{"kubelark", "kubeadm"}
	scenarios := []string{"worker", "worker-new-token"}
	for i, tool := range order {
		nodes, err := startWorkers(b, nw, workerImgs, t.BinDir, []string{workerName(i)})
		if err != nil {
			b.Fatal(err)
		}
		batch, err := jc.join(ctx, t, tool, nodes)
		jc.release(ctx, b, nodes)
		if err != nil {
			b.Fatalf("warm-up %s join: %v", tool, err)
		}
		fmt.Fprintf(os.Stderr, "[bench] warm-up %s join: %s\n", tool, batch.all.Round(time.Millisecond))
	}
	samples := map[string]map[string][]Sample{}
	extra := map[string]map[string]map[string][]float64{}
	resets := map[string][]Sample{}
	for _, sc := range scenarios {
		samples[sc] = map[string][]Sample{}
		extra[sc] = map[string]map[string][]float64{"kubelark": {}, "kubeadm": {}}
	}
	for r := range rounds() {
		seq := slices.Clone(order)
		if r%2 == 1 {
			slices.Reverse(seq)
		}
		for _, sc := range scenarios {
			for i, tool := range seq {
				nodes, err := startWorkers(b, nw, workerImgs, t.BinDir, []string{workerName(i)})
				if err != nil {
					b.Fatal(err)
				}
				var before func() (string, error)
				if sc == "worker-new-token" {
					before = func() (string, error) { return jc.newToken(ctx, t) }
				}
				batch, err := jc.joinWith(ctx, t, tool, nodes, jc.token, before)
				if err == nil && sc == "worker" {
					// The joined worker is then reset by the same tool.
					var rs Sample
					if rs, err = measureReset(ctx, t, tool, nodes[0]); err == nil {
						fmt.Fprintf(os.Stderr, "[bench] round %d %s reset of %s: %s, %d tool requests\n", r+1, tool, nodes[0].Name, rs.Wall.Round(time.Millisecond), rs.Requests)
						resets[tool] = append(resets[tool], rs)
					}
				}
				jc.release(ctx, b, nodes)
				if err != nil {
					b.Fatalf("round %d, %s %s join or reset: %v", r+1, sc, tool, err)
				}
				j := batch.joins[0]
				s := j.tool
				fmt.Fprintf(os.Stderr, "[bench] round %d %s %s join of %s: exit %s, registered %s, %d tool requests; server: %s%s\n",
					r+1, sc, tool, nodes[0].Name, s.Wall.Round(time.Millisecond), j.registered.Round(time.Millisecond), s.Requests,
					batch.serverLine(1), phaseLine(j.phases))
				e := extra[sc][tool]
				e["tool-exit-ms/op"] = append(e["tool-exit-ms/op"], ms(s.Wall))
				e["registered-ms/op"] = append(e["registered-ms/op"], ms(j.registered))
				batch.addServer(e, 1)
				for p, v := range j.phases {
					e["phase-"+unitName(p)+"-ms/op"] = append(e["phase-"+unitName(p)+"-ms/op"], v)
				}
				s.Wall = batch.all
				samples[sc][tool] = append(samples[sc][tool], s)
			}
		}
	}

	// N concurrent kubelark worker joins.
	type concurrent struct {
		sample Sample
		extra  map[string][]float64
	}
	conc := map[int]concurrent{}
	sizes := concurrentJoins(b)
	for _, n := range sizes {
		var names []string
		for i := range n {
			names = append(names, workerName(i))
		}
		nodes, err := startWorkers(b, nw, workerImgs, t.BinDir, names)
		if err != nil {
			b.Fatal(err)
		}
		batch, err := jc.join(ctx, t, "kubelark", nodes)
		jc.release(ctx, b, nodes)
		if err != nil {
			b.Fatalf("%d concurrent joins: %v", n, err)
		}
		s := Sample{Wall: batch.all, Requests: -1}
		var cpu time.Duration
		var reqs, exitSum, regSum, exitMax float64
		for _, j := range batch.joins {
			cpu += j.tool.CPU
			s.PeakRSS = max(s.PeakRSS, j.tool.PeakRSS)
			reqs += float64(j.tool.Requests)
			exitSum += ms(j.tool.Wall)
			exitMax = max(exitMax, ms(j.tool.Wall))
			regSum += ms(j.registered)
		}
		fn := float64(n)
		s.CPU = cpu / time.Duration(n)
		s.Requests = int(math.Round(reqs / fn))
		c := concurrent{sample: s, extra: map[string][]float64{
			"per-join-ms/op":        {ms(batch.all) / fn},
			"mean-tool-exit-ms/op":  {exitSum / fn},
			"max-tool-exit-ms/op":   {exitMax},
			"mean-registered-ms/op": {regSum / fn},
		}}
		batch.addServer(c.extra, fn)
		conc[n] = c
		fmt.Fprintf(os.Stderr, "[bench] %d concurrent kubelark joins: all registered after %s (%s per join), mean exit %s, max exit %s, %.1f tool requests per join; server, per join: %s\n",
			n, batch.all.Round(time.Millisecond), (batch.all / time.Duration(n)).Round(time.Millisecond),
			time.Duration(exitSum/fn*1e6).Round(time.Millisecond), time.Duration(exitMax*1e6).Round(time.Millisecond),
			reqs/fn, batch.serverLine(fn))
	}

	for _, sc := range scenarios {
		b.Run(sc, func(b *testing.B) {
			for _, tool := range order {
				// The machine is shared: the median beside the mean shows
				// whether one slow round moved the mean.
				extra[sc][tool]["median-ms/op"] = []float64{medianWall(samples[sc][tool])}
				b.Run("tool="+tool, func(b *testing.B) { Report(b, samples[sc][tool], extra[sc][tool]) })
			}
		})
	}
	b.Run("worker-reset", func(b *testing.B) {
		for _, tool := range order {
			b.Run("tool="+tool, func(b *testing.B) {
				Report(b, resets[tool], map[string][]float64{"median-ms/op": {medianWall(resets[tool])}})
			})
		}
	})
	b.Run("concurrent", func(b *testing.B) {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
				b.Run("tool=kubelark", func(b *testing.B) { Report(b, []Sample{conc[n].sample}, conc[n].extra) })
			})
		}
	})
}

// startJoinCluster runs `kubelark run init` on bn1, waits for /readyz,
// reads the join command it printed, and measures the idle request rate.
func startJoinCluster(b *testing.B, t Tools, nw *node.Network, imgs []string) *joinCluster {
	b.Helper()
	cp := startNode(b, nw, "bn1", imgs, t.BinDir)
	cfg, err := WriteConfig(cp.Dir, "init.yaml", ConfigOptions{Address: cp.IP, NodeName: cp.Name, IgnoreSystemVerification: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	up, err := Measure(cp.Command(ctx, t.Kubelark, "run", "init", "--config", cfg, "--service-command", cp.ServiceCommand()))
	if err != nil {
		b.Fatalf("bringing up the control plane on %s: %v", cp.Name, err)
	}
	m := printedKubeadmJoin.FindStringSubmatch(up.Output)
	if m == nil {
		b.Fatalf("kubelark run init printed no kubeadm join command:\n%s", tail(up.Output, 30))
	}
	// super-admin.conf (system:masters): the harness's requests fall in
	// the exempt flow schema, apart from the joining nodes' flows.
	cs, err := e2eutil.ClientFor(cp.Node, "/etc/kubernetes/super-admin.conf")
	if err == nil {
		err = e2eutil.WaitReadyz(ctx, cs, 100*time.Millisecond)
	}
	if err == nil {
		err = e2eutil.WaitControlPlanePods(ctx, cs, cp.Name, 250*time.Millisecond)
	}
	if err != nil {
		b.Fatalf("control plane on %s: %v", cp.Name, err)
	}
	fmt.Fprintf(os.Stderr, "[bench] control plane on %s up (kubelark run init: %s); settling for %s\n", cp.Name, up.Wall.Round(time.Millisecond), settleTime)
	time.Sleep(settleTime)
	return &joinCluster{cp: cp, cs: cs, endpoint: m[1], token: m[2], caHash: m[3]}
}

// scrape reads the API server's request counters.
func (jc *joinCluster) scrape(ctx context.Context) (Counts, error) {
	body, err := jc.cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return Counts{}, fmt.Errorf("scraping the API server's /metrics: %w", err)
	}
	return ParseCounts(string(body))
}

// background is the API server's request rate (per second) over
// idleWindow with no join running, minus the harness's one scrape.
func (jc *joinCluster) background(ctx context.Context) (Counts, error) {
	before, err := jc.scrape(ctx)
	if err != nil {
		return Counts{}, err
	}
	start := time.Now()
	time.Sleep(idleWindow)
	after, err := jc.scrape(ctx)
	if err != nil {
		return Counts{}, err
	}
	d := after.Sub(before)
	d.Requests-- // the first scrape, counted when it ended
	return d.Scale(1 / time.Since(start).Seconds()), nil
}

// oneJoin is one tool process on one node.
type oneJoin struct {
	tool       Sample        // the tool process; Wall = its exit, from the common start
	registered time.Duration // common start -> Node ADDED
	phases     map[string]float64
}

// batchResult is a set of joins started at the same instant.
type batchResult struct {
	joins []oneJoin
	// all: common start -> every tool exited and every Node registered.
	all time.Duration
	// serverRaw is the difference of the server's counters over the
	// batch (minus the harness's scrape), serverNet the same minus the
	// background rate over the window.
	serverRaw, serverNet Counts
}

// addServer appends the server-side counts, divided by joins, to extra.
func (r batchResult) addServer(extra map[string][]float64, joins float64) {
	n := r.serverNet
	extra["apiserver-req/op"] = append(extra["apiserver-req/op"], max(0, n.Requests)/joins)
	extra["node-flow-req/op"] = append(extra["node-flow-req/op"], max(0, n.NodeRequests())/joins)
	extra["controllers-flow-req/op"] = append(extra["controllers-flow-req/op"], max(0, n.ControllerRequests())/joins)
}

// serverLine says the server-side counts, per join, and every flow
// schema's raw count in the window.
func (r batchResult) serverLine(joins float64) string {
	n, raw := r.serverNet, r.serverRaw
	var flows []string
	for f, v := range raw.Flows {
		if v > 0 {
			flows = append(flows, fmt.Sprintf("%s %.0f", f, v))
		}
	}
	sort.Strings(flows)
	return fmt.Sprintf("%.0f requests (%.0f before subtracting the background), node flows %.0f (%.0f), controllers %.0f (%.0f); raw flows in all: %s",
		n.Requests/joins, raw.Requests/joins, n.NodeRequests()/joins, raw.NodeRequests()/joins,
		n.ControllerRequests()/joins, raw.ControllerRequests()/joins, strings.Join(flows, ", "))
}

// join runs tool's join on every node at once and waits for every tool to
// exit and every Node to register.
func (jc *joinCluster) join(ctx context.Context, t Tools, tool string, nodes []*testNode) (batchResult, error) {
	return jc.joinWith(ctx, t, tool, nodes, jc.token, nil)
}

// newToken creates a bootstrap token on the control plane with `kubeadm
// token create` (the same for both tools), for a join that must wait for
// the controller-manager's bootstrap signer to sign cluster-info for it.
func (jc *joinCluster) newToken(ctx context.Context, t Tools) (string, error) {
	out, err := jc.cp.Command(ctx, t.Kubeadm, "token", "create", "--kubeconfig", "/etc/kubernetes/super-admin.conf").Output()
	if err != nil {
		return "", fmt.Errorf("kubeadm token create on %s: %w", jc.cp.Name, err)
	}
	tok := strings.TrimSpace(string(out))
	if !bootstrapToken.MatchString(tok) {
		return "", fmt.Errorf("kubeadm token create printed no token")
	}
	return tok, nil
}

var bootstrapToken = regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`)

// joinWith is join with the given token; when prepare is set, it runs
// right before the tools start (after the first scrape, so its requests
// count on the server side, but before the timer starts), and its result
// is the token (a token made for this join).
func (jc *joinCluster) joinWith(ctx context.Context, t Tools, tool string, nodes []*testNode, token string, prepare func() (string, error)) (batchResult, error) {
	var res batchResult
	cmds := make([][]string, len(nodes))
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
		cfg := filepath.Join(n.Dir, "join.yaml")
		if tool == "kubelark" {
			cmds[i] = []string{t.Kubelark, "join", "--config", cfg, "--service-command", n.ServiceCommand(), "-vv"}
		} else {
			cmds[i] = []string{t.Kubeadm, "join", "--config", cfg, "--v=6"}
		}
	}
	bg, err := jc.background(ctx)
	if err != nil {
		return res, err
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	reg, err := watchRegistrations(wctx, jc.cs, names)
	if err != nil {
		return res, err
	}
	before, err := jc.scrape(ctx)
	if err != nil {
		return res, err
	}
	scraped := time.Now()
	if prepare != nil {
		if token, err = prepare(); err != nil {
			return res, err
		}
	}
	for _, n := range nodes {
		text := fmt.Sprintf(workerJoinConfig, jc.endpoint, token, jc.caHash, n.Name, node.ContainerdSocket)
		if err := os.WriteFile(filepath.Join(n.Dir, "join.yaml"), []byte(text), 0o600); err != nil {
			return res, err
		}
	}
	start := time.Now()
	res.joins = make([]oneJoin, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Measure(n.Command(ctx, cmds[i]...))
			s.Wall = time.Since(start) // from the common start
			if err == nil {
				if tool == "kubelark" {
					s.Requests, err = CountKubelarkRequests(s.Output)
					res.joins[i].phases = PhaseTimes(s.Output)
				} else {
					s.Requests = CountKubeadmRequests(s.Output)
				}
			}
			res.joins[i].tool = s
			if err != nil {
				errs[i] = fmt.Errorf("%s join on %s: %w", tool, n.Name, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	times, err := reg.wait(ctx)
	if err != nil {
		return res, err
	}
	for i, n := range nodes {
		j := &res.joins[i]
		j.registered = times[n.Name].Sub(start)
		res.all = max(res.all, j.tool.Wall, j.registered)
	}
	after, err := jc.scrape(ctx)
	if err != nil {
		return res, err
	}
	res.serverRaw = after.Sub(before)
	res.serverRaw.Requests-- // the first scrape, counted when it ended
	res.serverNet = res.serverRaw.Sub(bg.Scale(time.Since(scraped).Seconds()))
	return res, nil
}

// registrations records when each awaited Node first appears.
type registrations struct {
	mu    sync.Mutex
	times map[string]time.Time
	done  chan struct{}
	err   error
}

// watchRegistrations watches Nodes from the current resource version (an
// awaited Node that already exists is an error: it would register
// "instantly") and records the arrival of each name. One request for the
// whole batch, so the harness adds nothing measurable to the counts.
func watchRegistrations(ctx context.Context, cs kubernetes.Interface, names []string) (*registrations, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Nodes: %w", err)
	}
	for _, n := range list.Items {
		if want[n.Name] {
			return nil, fmt.Errorf("Node %s exists before its join (left over from an earlier round)", n.Name)
		}
	}
	r := &registrations{times: map[string]time.Time{}, done: make(chan struct{})}
	rv := list.ResourceVersion
	go func() {
		defer close(r.done)
		for len(r.times) < len(want) {
			w, err := cs.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
			if err != nil {
				r.err = fmt.Errorf("watching Nodes: %w", err)
				return
			}
			for ev := range w.ResultChan() {
				if ev.Type == watch.Error {
					r.err = fmt.Errorf("watching Nodes: %v", apierrors.FromObject(ev.Object))
					w.Stop()
					return
				}
				n, ok := ev.Object.(*corev1.Node)
				if !ok {
					continue
				}
				rv = n.ResourceVersion
				if ev.Type == watch.Added && want[n.Name] {
					r.mu.Lock()
					if _, seen := r.times[n.Name]; !seen {
						r.times[n.Name] = time.Now()
					}
					r.mu.Unlock()
					if len(r.times) == len(want) {
						w.Stop()
						return
					}
				}
			}
			if ctx.Err() != nil {
				r.err = ctx.Err()
				return
			}
			// The server closed the watch (its timeout): resume from rv.
		}
	}()
	return r, nil
}

// wait returns the registration times once every awaited Node appeared.
func (r *registrations) wait(ctx context.Context) (map[string]time.Time, error) {
	select {
	case <-r.done:
	case <-ctx.Done():
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("waiting for the Nodes to register (%d registered): %w", len(r.times), ctx.Err())
	}
	return r.times, nil
}

// release tears the nodes down and deletes their Node objects, so the
// names can join again as new Nodes.
func (jc *joinCluster) release(ctx context.Context, b *testing.B, nodes []*testNode) {
	b.Helper()
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); n.close(b) }()
	}
	wg.Wait()
	for _, n := range nodes {
		err := jc.cs.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			b.Errorf("deleting Node %s: %v", n.Name, err)
		}
	}
	for _, n := range nodes {
		for {
			_, err := jc.cs.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				break
			}
			if ctx.Err() != nil {
				b.Fatalf("Node %s not deleted: %v", n.Name, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// startWorkers starts fresh worker nodes, three at a time (a node start
// imports images and starts containerd: CPU-heavy on two cores).
func startWorkers(b *testing.B, nw *node.Network, imgs []string, binDir string, names []string) ([]*testNode, error) {
	b.Helper()
	nodes := make([]*testNode, len(names))
	errs := make([]error, len(names))
	sem := make(chan struct{}, 3)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			n, err := nw.New(ctx, node.Config{Name: name, BinDir: binDir, Images: imgs, Log: logWriter{"[bench] "}})
			if err != nil {
				errs[i] = fmt.Errorf("node %s: %w", name, err)
				return
			}
			nodes[i] = &testNode{Node: n}
		}()
	}
	wg.Wait()
	for _, n := range nodes {
		if n != nil {
			b.Cleanup(func() { n.close(b) })
		}
	}
	if err := errors.Join(errs...); err != nil {
		for _, n := range nodes {
			if n != nil {
				n.close(b)
			}
		}
		return nil, err
	}
	return nodes, nil
}

// pauseOnly is the image set of a worker: the sandbox image.
func pauseOnly(imgs []string) []string {
	var out []string
	for _, i := range imgs {
		if filepath.Base(i) == "pause.tar" {
			out = append(out, i)
		}
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// medianWall is the median of the samples' wall times, in milliseconds.
func medianWall(samples []Sample) float64 {
	var v []float64
	for _, s := range samples {
		v = append(v, ms(s.Wall))
	}
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// unitName makes a phase path a benchmark unit word ("a/b" -> "a.b").
func unitName(p string) string { return strings.ReplaceAll(p, "/", ".") }

func phaseLine(p map[string]float64) string {
	if len(p) == 0 {
		return ""
	}
	var names []string
	for n := range p {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %s", n, time.Duration(p[n]*1e6).Round(time.Millisecond)))
	}
	return "; phases: " + strings.Join(parts, ", ")
}

// measureReset runs tool's reset on the joined worker n, as a user would
// (no prompt, the node's CRI socket named, kubelark reaching the kubelet
// through the node's service command), with the request log each tool's
// count reads.
func measureReset(ctx context.Context, t Tools, tool string, n *testNode) (Sample, error) {
	args := []string{t.Kubeadm, "reset", "--force", "--cri-socket", "unix://" + node.ContainerdSocket, "--v=6"}
	if tool == "kubelark" {
		args = []string{t.Kubelark, "reset", "--force", "--cri-socket", "unix://" + node.ContainerdSocket,
			"--service-command", n.ServiceCommand(), "-vv"}
	}
	s, err := Measure(n.Command(ctx, args...))
	if err != nil {
		return s, fmt.Errorf("%s reset on %s: %w", tool, n.Name, err)
	}
	if tool == "kubelark" {
		s.Requests, err = CountKubelarkRequests(s.Output)
	} else {
		s.Requests = CountKubeadmRequests(s.Output)
	}
	return s, err
}
