package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// resetBuiltinsNetwork is this test's bridge prefix (node rb1 only).
const resetBuiltinsNetwork = "10.88.0"

// resetBuiltinsRecipe tears the node down the way reset's cleanup-node
// does, with the builtins only: stop the kubelet, remove every Pod sandbox
// through the CRI, unmount what is mounted below /var/lib/kubelet (never
// /var/lib/kubelet itself: on an e2e node it is the node's own tmpfs, as
// kubeadm only unmounts below the directory), delete the KUBE-/CNI- chains,
// empty /var/lib/kubelet and /etc/kubernetes/manifests. It prints what it
// found so the test can compare a dry run, the real run and a second run.
const resetBuiltinsRecipe = `
kubelet_stop()
c = cri_client("unix://` + node.ContainerdSocket + `")
pods = c.pods()
print("PODS", len(pods), sorted([p.namespace + "/" + p.name for p in pods]))
print("REMOVED", [c.remove_pod(p.id) for p in pods])
print("AFTER", len(c.pods()), len([x for x in c.containers() if x.state == "running"]))
c.close()
kubelet = real_path("/var/lib/kubelet")
below = [m for m in mounts(kubelet) if m != kubelet]
print("MOUNTS", below)
print("UNMOUNT", [unmount(m) for m in below])
print("CHAINS", netfilter_flush(["KUBE-", "CNI-"]))
print("FILES", len(remove_tree(kubelet)), len(remove_tree("/etc/kubernetes/manifests")))
print("LEFT", list_dir(kubelet), list_dir("/etc/kubernetes/manifests"))
`

// TestResetBuiltins drives the reset builtins of the kubelark binary
// against a real node (rb1): containerd with the static Pods of a kubelark
// init, a tmpfs mounted under /var/lib/kubelet, iptables chains in the
// node's network namespace (KUBE-TEST jumped to from INPUT and from a
// host chain, next to a host chain that must stay). A dry run plans every
// removal and changes nothing; the real run removes the sandboxes, the
// mount, the chains and the files; a second run finds nothing.
func TestResetBuiltins(t *testing.T) {
	testStart := time.Now()
	kubelark := buildKubelark(t)
	nw := e2eutil.NewNetwork(t, resetBuiltinsNetwork)
	n := newNode(t, nw, "rb1")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	start := time.Now()
	run(ctx, t, n, kubelark, "run", "init", "--config", writeInitConfig(t, n), "--service-command", n.ServiceCommand())
	t.Logf("kubelark init took %s", time.Since(start).Round(time.Millisecond))
	cs := clientFor(t, n, "/etc/kubernetes/admin.conf")
	waitReadyz(ctx, t, cs)
	waitControlPlanePods(ctx, t, cs, n.Name)

	// What a Pod volume and kube-proxy/a CNI plugin leave behind.
	run(ctx, t, n, "sh", "-ec", `
mkdir -p /var/lib/kubelet/pods/rb-test/volumes/kubernetes.io~empty-dir/cache
mount -t tmpfs -o size=1m rbtest /var/lib/kubelet/pods/rb-test/volumes/kubernetes.io~empty-dir/cache
echo data > /var/lib/kubelet/pods/rb-test/volumes/kubernetes.io~empty-dir/cache/file
iptables -N KUBE-TEST
iptables -A KUBE-TEST -p tcp --dport 9 -m comment --comment "kubelark e2e: a kube-proxy chain" -j DROP
iptables -A INPUT -m comment --comment "kubelark e2e jump" -j KUBE-TEST
iptables -t nat -N CNI-TEST
iptables -t nat -A POSTROUTING -s 10.244.9.0/24 -j CNI-TEST
iptables -N HOST-KEEP
iptables -A HOST-KEEP -j RETURN
iptables -A INPUT -j HOST-KEEP
iptables -A HOST-KEEP -j KUBE-TEST
`)
	recipe := filepath.Join(n.Dir, "reset-builtins.star")
	if err := os.WriteFile(recipe, []byte(resetBuiltinsRecipe), 0o644); err != nil {
		t.Fatal(err)
	}
	kl := func(name string, extra ...string) string {
		args := append([]string{kubelark, "run", recipe, "--service-command", n.ServiceCommand(), "--plan", filepath.Join(n.Dir, name+".plan.json")}, extra...)
		return run(ctx, t, n, args...)
	}
	state := func() string {
		out, _ := runStatus(ctx, t, n, "sh", "-c", "grep -c rbtest /proc/self/mountinfo; iptables-save | grep -c -- '-TEST'; ls /etc/kubernetes/manifests | wc -l")
		return strings.Join(strings.Fields(out), " ")
	}
	before := state()
	if before != "1 6 4" {
		t.Fatalf("before: mounts/TEST rules/manifests = %q, want \"1 6 4\"", before)
	}

	t.Run("DryRun", func(t *testing.T) {
		out := kl("dry", "--dry-run")
		wantLines(t, out, `UNMOUNT ["unmounted"`, "rb-test/volumes/kubernetes.io~empty-dir/cache", `"ipv4 filter KUBE-TEST"`, `"ipv4 nat CNI-TEST"`, "AFTER 0 0", "LEFT [] []")
		ops := planOps(t, filepath.Join(n.Dir, "dry.plan.json"))
		for _, op := range []string{"cri.pod-remove", "mount.unmount", "netfilter.delete-chain", "file.delete"} {
			if ops[op+" recorded"] == 0 && ops[op+" deleted"] == 0 {
				t.Errorf("the dry-run plan has no %s: %v", op, ops)
			}
		}
		if ops["cri.pod-remove recorded"] < 4 || ops["mount.unmount recorded"] < 1 || ops["netfilter.delete-chain recorded"] < 2 {
			t.Errorf("dry-run plan: %v", ops)
		}
		if got := state(); got != before {
			t.Errorf("the dry run changed the node: %q, was %q", got, before)
		}
	})

	t.Run("Real", func(t *testing.T) {
		start := time.Now()
		out := kl("real")
		t.Logf("the reset recipe took %s", time.Since(start).Round(time.Millisecond))
		wantLines(t, out, `UNMOUNT ["unmounted"`, `"ipv4 filter KUBE-TEST"`, `"ipv4 nat CNI-TEST"`, "AFTER 0 0", "LEFT [] []")
		if strings.Contains(out, "False") {
			t.Errorf("a listed sandbox was already gone:\n%s", out)
		}
		if got := state(); got != "0 0 0" {
			t.Errorf("after the reset: mounts/TEST rules/manifests = %q, want \"0 0 0\"", got)
		}
		rules := run(ctx, t, n, "iptables-save")
		for _, keep := range []string{":HOST-KEEP - [0:0]", "-A INPUT -j HOST-KEEP", "-A HOST-KEEP -j RETURN"} {
			if !strings.Contains(rules, keep) {
				t.Errorf("the host's rule %q is gone:\n%s", keep, rules)
			}
		}
		ctrs := run(ctx, t, n, "sh", "-c", "ctr -a "+node.ContainerdSocket+" -n k8s.io tasks ls -q | wc -l")
		if strings.TrimSpace(ctrs) != "0" {
			t.Errorf("containerd still runs %s tasks", ctrs)
		}
	})

	t.Run("SecondRunFindsNothing", func(t *testing.T) {
		out := kl("again")
		wantLines(t, out, "PODS 0 []", "REMOVED []", "MOUNTS []", "CHAINS []", "FILES 0 0")
		ops := planOps(t, filepath.Join(n.Dir, "again.plan.json"))
		for op := range ops {
			if !strings.HasPrefix(op, "service.") {
				t.Errorf("the second run did %s", op)
			}
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		for src, want := range map[string]string{
			`netfilter_flush(["INPUT"])`:         `refusing chain prefix "INPUT"`,
			`remove_tree("/etc")`:                "refusing to remove /etc",
			`unmount("/proc")`:                   "refusing to unmount /proc",
			`nft_delete_tables(["kube-proxy"])`:  "install the Debian package nftables",
			`confirm("Reset?", hint = "use -f")`: `stdin is not a terminal, so nobody can answer "Reset?"; use -f`,
		} {
			p := filepath.Join(n.Dir, "refusal.star")
			if err := os.WriteFile(p, []byte(src+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := runStatus(ctx, t, n, kubelark, "run", p)
			if err == nil || !strings.Contains(out, want) {
				t.Errorf("%s: %v, want an error with %q:\n%s", src, err, want, out)
			}
		}
	})
	t.Logf("TestResetBuiltins took %s", time.Since(testStart).Round(time.Second))
}

// planOps counts a plan's actions by "op result".
func planOps(t *testing.T, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var plan struct {
		Actions []struct{ Op, Result string } `json:"actions"`
	}
	if err := json.Unmarshal(b, &plan); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, a := range plan.Actions {
		out[a.Op+" "+a.Result]++
	}
	return out
}

// TestEtcdRemoveAgainstRealEtcd: etcd_client(...).remove against the real
// etcd of the e2e cache (127.0.0.1 ports 23790-23793, locked machine-wide):
// a second member joins as a learner and is promoted, then a dry run plans
// its removal and sends nothing, the real call removes it (etcd answers
// with one member), and a second call finds no such member (False), as
// reset's remove-etcd-member does on a re-run.
func TestEtcdRemoveAgainstRealEtcd(t *testing.T) {
	etcdBin, kubelark, dir, client := etcdTestbed(t)
	const (
		c1, p1 = etcdC1, etcdP1
		c2, p2 = etcdC2, etcdP2
	)
	out := runRecipe(t, kubelark, dir, "add", client+`print("LEARNER", c.add_learner("`+p2+`").member.id)`)
	id := strings.TrimSpace(strings.SplitN(strings.SplitN(out, "LEARNER ", 2)[1], "\n", 2)[0])
	if len(id) != 16 {
		t.Fatalf("no learner id in:\n%s", out)
	}
	startEtcd(t, etcdBin, dir, "e2", c2, p2, "e1="+p1+",e2="+p2, "existing")
	runRecipe(t, kubelark, dir, "promote", client+`c.wait_started("`+id+`", timeout = "60s")
c.promote("`+id+`")
`)
	out = runRecipe(t, kubelark, dir, "dry-remove", client+`
print("DRY", c.remove("`+id+`"), len(c.members()))
`, "--dry-run")
	wantLines(t, out, "DRY True 1")
	if acts := planActions(t, filepath.Join(dir, "dry-remove.plan.json"), "etcd_member_remove"); len(acts) != 1 || acts[0]["result"] != "recorded" || acts[0]["target"] != p2 {
		t.Errorf("dry-run etcd_member_remove actions: %v", acts)
	}
	out = runRecipe(t, kubelark, dir, "remove", client+`
print("COUNT", len(c.members()))
print("REMOVED", c.remove("`+id+`"))
print("LEFT", [m.name for m in c.members()])
print("AGAIN", c.remove("`+id+`"))
`)
	wantLines(t, out, "COUNT 2", "REMOVED True", `LEFT ["e1"]`, "AGAIN False")
	acts := planActions(t, filepath.Join(dir, "remove.plan.json"), "etcd_member_remove")
	if len(acts) != 1 || acts[0]["result"] != "deleted" || acts[0]["server"] != c1 || acts[0]["credential"] != "client certificate kube-apiserver-etcd-client" {
		t.Errorf("etcd_member_remove actions: %v", acts)
	}
	stopEtcd(t, "e2")
}
