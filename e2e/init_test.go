package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kubelark/kubelark/e2e/node"
)

// TestKubeadmInit proves the harness with kubeadm itself: `kubeadm init` on a
// fresh node starts the kubelet through the node's systemctl stand-in (which
// forwards to node-svc), then the four static Pods run and the API server
// answers /readyz.
func TestKubeadmInit(t *testing.T) {
	nw := newNetwork(t)
	n := newNode(t, nw, "cp1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cfg := writeInitConfig(t, n)

	start := time.Now()
	run(ctx, t, n, "kubeadm", "init", "--config", cfg, "--v=1")
	t.Logf("kubeadm init took %s", time.Since(start).Round(time.Millisecond))

	cs := clientFor(t, n, "/etc/kubernetes/admin.conf")
	waitReadyz(ctx, t, cs)
	t.Logf("API server ready %s after kubeadm init started", time.Since(start).Round(time.Millisecond))
	waitControlPlanePods(ctx, t, cs, n.Name)
	t.Logf("control-plane Pods ready %s after kubeadm init started", time.Since(start).Round(time.Millisecond))
}

var (
	printedToken   = regexp.MustCompile(`--token ([a-z0-9]{6}\.[a-z0-9]{16})`)
	printedCertKey = regexp.MustCompile(`Using certificate key:\s*\n\s*([0-9a-f]{64})\b`)
)

// TestKubelarkInit is issue 3's verification list, end to end: one
// `kubelark run init` (with upload_certs) on a real node, then every
// promise checked against the running cluster, then init again on the
// initialized node: refused by preflight without a change, and converging
// with --skip-phases preflight.
func TestKubelarkInit(t *testing.T) {
	testStart := time.Now()
	kubelark := buildKubelark(t)
	nw := newNetwork(t)
	n := newNode(t, nw, "cp1")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	initArgs := []string{kubelark, "run", "init", "--config", writeInitConfig(t, n), "--service-command", n.ServiceCommand(), "--set", "upload_certs=true"}

	start := time.Now()
	out := run(ctx, t, n, initArgs...)
	t.Logf("kubelark init took %s", time.Since(start).Round(time.Millisecond))
	cs := clientFor(t, n, "/etc/kubernetes/admin.conf")
	waitReadyz(ctx, t, cs)
	t.Logf("API server ready %s after kubelark init started", time.Since(start).Round(time.Millisecond))
	waitControlPlanePods(ctx, t, cs, n.Name)
	t.Logf("control-plane Pods ready %s after kubelark init started", time.Since(start).Round(time.Millisecond))

	// The operator learns the token and the certificate key from the output only.
	m := printedToken.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("init printed no join command with --token <id>.<secret>:\n%s", out)
	}
	token := m[1]
	k := printedCertKey.FindStringSubmatch(out)
	if k == nil {
		t.Fatalf("init with upload_certs=true printed no \"Using certificate key\" line:\n%s", out)
	}
	certKey := k[1]

	t.Run("StaticPodsRunning", func(t *testing.T) { checkMirrorPods(ctx, t, cs, n.Name) })
	t.Run("RBAC", func(t *testing.T) { checkRBAC(ctx, t, cs) })
	t.Run("ConfigMaps", func(t *testing.T) { checkConfigMaps(ctx, t, cs) })
	t.Run("BootstrapToken", func(t *testing.T) { checkInitToken(ctx, t, cs, token, start) })
	t.Run("UploadedCerts", func(t *testing.T) { checkUploadedCerts(ctx, t, cs, n, certKey, start) })
	t.Run("AddonWorkloads", func(t *testing.T) { checkWorkloads(ctx, t, cs) })
	t.Run("AdminIdentity", func(t *testing.T) { checkAdminIdentity(ctx, t, n, cs) })
	t.Run("NodeMarked", func(t *testing.T) { checkNodeMarked(ctx, t, cs, n.Name) })
	t.Run("ClusterInfoJWS", func(t *testing.T) { checkClusterInfo(ctx, t, n, token) })
	t.Run("BootstrapCSR", func(t *testing.T) { checkBootstrapCSR(ctx, t, n, token) })
	t.Run("CoreDNSPending", func(t *testing.T) { checkCoreDNSPending(ctx, t, cs) })

	// Init again on the initialized node: preflight refuses, naming what is
	// in the way, and nothing changes.
	t.Run("RerunRefused", func(t *testing.T) {
		before := nodeFiles(ctx, t, n)
		plan := filepath.Join(n.Dir, "rerun-plan.json")
		out, err := runStatus(ctx, t, n, append(initArgs, "--plan", plan)...)
		if err == nil {
			t.Fatalf("init on an initialized node succeeded; want a preflight failure")
		}
		for _, check := range []string{
			"FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml", "FileAvailable--etc-kubernetes-manifests-kube-controller-manager.yaml",
			"FileAvailable--etc-kubernetes-manifests-kube-scheduler.yaml", "FileAvailable--etc-kubernetes-manifests-etcd.yaml",
			"Port-6443", "Port-10259", "Port-10257", "Port-10250", "Port-2379", "Port-2380", "DirAvailable--var-lib-etcd",
		} {
			if !strings.Contains(out, "[ERROR "+check+"]") {
				t.Errorf("the refused re-run does not name the failing check %s", check)
			}
		}
		if !strings.Contains(out, "--ignore-preflight-errors") {
			t.Errorf("the refused re-run does not say how to go on anyway (--ignore-preflight-errors)")
		}
		for _, a := range readPlan(t, plan).Actions {
			if a.Op != "check" {
				t.Errorf("the refused re-run recorded %s %s (%s): nothing may happen after a failed preflight", a.Op, a.Target, a.Result)
			}
		}
		diffFiles(t, before, nodeFiles(ctx, t, n))
	})

	// Converge: the documented way to re-apply init on an initialized node
	// (README "Re-running init"): every file is unchanged, API objects are
	// unchanged or updated, and the control plane stays healthy.
	t.Run("Converge", func(t *testing.T) {
		before := nodeFiles(ctx, t, n)
		plan := filepath.Join(n.Dir, "converge-plan.json")
		start := time.Now()
		run(ctx, t, n, append(initArgs, "--skip-phases", "preflight", "--set", "token="+token, "--set", "certificate_key="+certKey, "--plan", plan)...)
		t.Logf("converging init took %s", time.Since(start).Round(time.Millisecond))
		checkConvergePlan(t, readPlan(t, plan), token)
		diffFiles(t, before, nodeFiles(ctx, t, n))
		waitReadyz(ctx, t, cs)
		waitControlPlanePods(ctx, t, cs, n.Name)
		checkNodeMarked(ctx, t, cs, n.Name)
		checkInitToken(ctx, t, cs, token, start)
		checkUploadedCerts(ctx, t, cs, n, certKey, start)
	})

	// Dry-run the same init: the plan reads the running cluster (objects
	// unchanged) and nothing is written (init_dryrun_test.go).
	t.Run("DryRunReadsCluster", func(t *testing.T) { checkDryRunReadsCluster(ctx, t, n, initArgs, token, certKey) })
	t.Logf("TestKubelarkInit: %s in all", time.Since(testStart).Round(time.Millisecond))
}

// planAction is the part of a kubelark plan action the tests read.
type planAction struct {
	Phase  string `json:"phase"`
	Op     string `json:"op"`
	Target string `json:"target"`
	Result string `json:"result"`
}

type planFile struct {
	Actions []planAction `json:"actions"`
	Phases  []struct {
		Name string `json:"name"`
		Ran  bool   `json:"ran"`
	} `json:"phases"`
}

func readPlan(t *testing.T, path string) planFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the --plan file: %v", err)
	}
	var p planFile
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// checkConvergePlan: a converging init rewrites no file and creates no API
// object, except the upload-certs token (kubeadm makes a new one on every
// upload: it carries the kubeadm-certs Secret's 2h lifetime).
func checkConvergePlan(t *testing.T, p planFile, token string) {
	t.Helper()
	id, _, _ := strings.Cut(token, ".")
	counts := map[string]int{}
	for _, a := range p.Actions {
		counts[a.Op+" "+a.Result]++
		switch {
		case strings.HasPrefix(a.Op, "file.") || strings.HasPrefix(a.Op, "dir."):
			if a.Result != "unchanged" {
				t.Errorf("converging init: %s %s is %s, want unchanged", a.Op, a.Target, a.Result)
			}
		case strings.HasPrefix(a.Op, "api."):
			ok := a.Result == "unchanged" || a.Result == "updated"
			if a.Result == "created" && a.Phase == "upload-certs" && strings.HasPrefix(a.Target, "v1/Secret/kube-system/bootstrap-token-") &&
				a.Target != "v1/Secret/kube-system/bootstrap-token-"+id {
				ok = true
			}
			if !ok {
				t.Errorf("converging init: %s %s is %s, want unchanged or updated", a.Op, a.Target, a.Result)
			}
		}
	}
	t.Logf("converging init actions: %v", counts)
}

// nodeFiles lists every entry under init's directories with type, mode and
// (for files) SHA-256, as the node sees them.
func nodeFiles(ctx context.Context, t *testing.T, n *node.Node) map[string]string {
	t.Helper()
	return listNodeFiles(ctx, t, n, "/etc/kubernetes/admin.conf", "/var/lib/kubelet/config.yaml")
}

// listNodeFiles is nodeFiles for any node: must are files the listing has
// to contain (none for a fresh node).
func listNodeFiles(ctx context.Context, t *testing.T, n *node.Node, must ...string) map[string]string {
	t.Helper()
	const script = `set -e
for d in /etc/kubernetes /var/lib/kubelet /var/lib/etcd; do
  [ -d "$d" ] || continue
  find "$d" -xdev -printf '%p\t%y %m\n'
  find "$d" -xdev -type f -exec sha256sum {} + | awk '{print $2 "\tsha256 " $1}'
done`
	b, err := n.Exec(ctx, "sh", "-c", script)
	if err != nil {
		t.Fatalf("listing files in node %s: %v\n%s", n.Name, err, b)
	}
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		p, v, _ := strings.Cut(l, "\t")
		if p == "" {
			continue
		}
		out[p] += v + " "
	}
	// A listing that missed the files would make every comparison pass.
	for _, p := range must {
		if !strings.Contains(out[p], "sha256 ") {
			t.Fatalf("node %s file listing lacks %s:\n%s", n.Name, p, b)
		}
	}
	return out
}

// kubeletOwned are paths the running kubelet and etcd change on their own
// (Pod state, the etcd database): init does not write them.
func kubeletOwned(p string) bool {
	return strings.HasPrefix(p, "/var/lib/kubelet/pods/") || strings.HasPrefix(p, "/var/lib/kubelet/plugins") ||
		strings.HasPrefix(p, "/var/lib/etcd/member/") || strings.HasSuffix(p, "_manager_state") ||
		// allocated_pods_state, actuated_pods_state: the running kubelet's own
		// record of pod resources, written whenever it admits a Pod.
		strings.HasSuffix(p, "_pods_state")
}

func diffFiles(t *testing.T, before, after map[string]string) {
	t.Helper()
	var diffs []string
	for p, v := range before {
		if kubeletOwned(p) {
			continue
		}
		if w, ok := after[p]; !ok {
			diffs = append(diffs, "removed "+p)
		} else if w != v {
			diffs = append(diffs, "changed "+p+": "+v+"-> "+w)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok && !kubeletOwned(p) {
			diffs = append(diffs, "added "+p)
		}
	}
	if len(diffs) > 0 {
		t.Errorf("files under /etc/kubernetes, /var/lib/kubelet, /var/lib/etcd changed:\n%s", strings.Join(diffs, "\n"))
	}
}
