package parity

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// TestParityJoin joins, for every config of testdata/parity/join-configs,
// one node with `kubeadm join --config` and another with `kubelark join
// --config` (the same JoinConfiguration, rendered for each node) to one
// cluster made by `kubeadm init --upload-certs` on pjcp (network 10.83.0),
// copies what each joined node holds under the roots once its kubelet has
// TLS-bootstrapped and its Node is registered, and compares the two with
// the file collectors (tree, certificates, kubeconfigs, manifests, kubelet
// files, the kubelet's client certificate), node names and addresses
// replaced by placeholders. Then each node is reset by the tool that
// joined it (`kubeadm reset --force`, `kubelark reset --force`): no
// container, sandbox or mount below /var/lib/kubelet may be left, a
// control-plane node's etcd member must be gone, and what is left of the
// roots (the tree: directories kept, contents emptied) is compared too.
// It fails on every difference
// testdata/parity/differences.md does not list, and on every listed
// difference (of these configs) that no longer occurs. Needs root; fails,
// never skips, without it.
func TestParityJoin(t *testing.T) {
	start := time.Now()
	repo := repoRoot(t)
	tools := prepareTools(t, repo)
	e2eutil.Prepare(t)
	configs, err := LoadConfigs(filepath.Join(repo, "testdata", "parity", "join-configs"))
	if err != nil {
		t.Fatal(err)
	}
	allow, err := LoadAllowList(filepath.Join(repo, "testdata", "parity", "differences.md"))
	if err != nil {
		t.Fatal(err)
	}
	keep := os.Getenv(KeepEnv)
	nw := e2eutil.NewNetwork(t, JoinNetwork)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	cpStart := time.Now()
	cp, err := e2eutil.StartNode(ctx, t, nw, joinCP.Name, joinCP.IP)
	if err != nil {
		t.Fatal(err)
	}
	initCfg := e2eutil.InitConfig(e2eutil.ConfigOptions{Address: cp.IP, NodeName: cp.Name, IgnoreSystemVerification: true})
	// A control-plane join needs a controlPlaneEndpoint: the node's own address.
	initCfg = strings.Replace(initCfg, "clusterName: kubernetes\n", "clusterName: kubernetes\ncontrolPlaneEndpoint: "+cp.IP+":6443\n", 1)
	initFile := filepath.Join(cp.Dir, "kubeadm-init.yaml")
	if err := os.WriteFile(initFile, []byte(initCfg), 0o600); err != nil {
		t.Fatal(err)
	}
	initOut, err := e2eutil.Run(ctx, cp, tools.Kubeadm, "init", "--config", initFile, "--upload-certs")
	if err != nil {
		t.Fatalf("kubeadm init on %s: %v", cp.Name, err)
	}
	secrets, err := ParseKubeadmInit(initOut)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := e2eutil.ClientFor(cp, "/etc/kubernetes/admin.conf")
	if err != nil {
		t.Fatal(err)
	}
	if err := e2eutil.WaitReadyz(ctx, cs, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster of kubeadm init on %s ready in %s", cp.Name, time.Since(cpStart).Round(100*time.Millisecond))

	t.Run("matrix", func(t *testing.T) {
		for _, c := range configs {
			t.Run(c.Name, func(t *testing.T) {
				cstart := time.Now()
				pair, ok := joinNodes[c.Workflow]
				if !ok {
					t.Fatalf("%s: workflow %q is not a join workflow (join-worker, join-control-plane)", c.Path, c.Workflow)
				}
				dir := t.TempDir()
				if keep != "" {
					dir = filepath.Join(keep, c.Name)
					if err := os.RemoveAll(dir); err != nil {
						t.Fatal(err)
					}
				}
				outs, resets := runJoinBoth(ctx, t, nw, tools, cp, cs, c, pair, secrets, dir)
				var arts [2]Artifacts
				for i, o := range outs {
					a, err := CollectAll(o, JoinCollectors())
					if err != nil {
						t.Fatal(err)
					}
					arts[i] = NormalizeJoin(a, pair[i].ID)
					if keep != "" {
						if err := os.WriteFile(filepath.Join(dir, o.Tool+".artifacts"), []byte(arts[i].Dump()), 0o644); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(filepath.Join(dir, o.Tool+".log"), []byte(o.Log), 0o600); err != nil {
							t.Fatal(err)
						}
					}
				}
				checkParity(t, allow, c.Name, "artifacts", arts[0], arts[1], "; "+time.Since(cstart).Round(100*time.Millisecond).String())
				// What each tool's reset left of the roots: the same
				// directories, emptied the same way.
				var left [2]Artifacts
				for i, o := range resets {
					a, err := treeCollector{}.Collect(o)
					if err != nil {
						t.Fatal(err)
					}
					left[i] = NormalizeJoin(a, pair[i].ID)
					if keep != "" {
						if err := os.WriteFile(filepath.Join(dir, o.Tool+".after-reset"), []byte(left[i].Dump()), 0o644); err != nil {
							t.Fatal(err)
						}
					}
				}
				checkParity(t, allow, c.Name, "after-reset", left[0], left[1], "")
			})
		}
	})
	for _, a := range allow.Stale() {
		t.Errorf("%s: %s no longer occurs: remove it from the list (%s)", allow.File, a, a.Reason)
	}
	t.Logf("join parity suite: %d configs in %s", len(configs), time.Since(start).Round(100*time.Millisecond))
}

// runJoinBoth starts the pair's nodes, joins them (workers at the same
// time; control-plane nodes one after the other, each taken out of etcd
// again by its reset, so both join a one-member etcd), waits until each
// is joined, copies its roots, resets it with the tool that joined it and
// copies what is left of its roots.
func runJoinBoth(ctx context.Context, t *testing.T, nw *node.Network, tools Tools, cp *node.Node, cs kubernetes.Interface, c *Config, pair [2]joinNode, s JoinSecrets, dir string) (outs, resets [2]*Output) {
	t.Helper()
	var nodes [2]*node.Node
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, jn := range pair {
		outs[i] = &Output{Tool: jn.Tool, Root: filepath.Join(dir, jn.Tool)}
		resets[i] = &Output{Tool: jn.Tool, Root: filepath.Join(dir, jn.Tool+"-after-reset")}
		for _, o := range []*Output{outs[i], resets[i]} {
			if err := os.MkdirAll(o.Root, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := node.Config{Name: jn.ID.Name, IP: jn.ID.IP}
			if c.Workflow == "join-worker" {
				cfg.Images = pauseImage(t)
			}
			nodes[i], errs[i] = e2eutil.StartNodeConfig(ctx, t, nw, cfg)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	join := func(i int) error {
		n, jn := nodes[i], pair[i]
		src, err := os.ReadFile(c.Path)
		if err != nil {
			return err
		}
		rendered, err := RenderJoinConfig(src, jn.ID, node.ContainerdSocket, s)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Path, err)
		}
		file := filepath.Join(n.Dir, "parity-join.yaml")
		if err := os.WriteFile(file, rendered, 0o600); err != nil {
			return err
		}
		args := []string{tools.Kubeadm, "join", "--config", file}
		if jn.Tool == "kubelark" {
			args = []string{tools.Kubelark, "join", "--config", file, "--service-command", n.ServiceCommand()}
		}
		cmd := n.Command(ctx, args...)
		env := cleanEnv(c)
		for _, e := range cmd.Env {
			if strings.HasPrefix(e, "PATH=") {
				env = append(env, e)
			}
		}
		cmd.Env = env
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		start := time.Now()
		err = cmd.Run()
		outs[i].Log = log.String()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, outs[i].Log)
		}
		t.Logf("[%s] %s join took %s", n.Name, jn.Tool, time.Since(start).Round(100*time.Millisecond))
		if err := waitJoined(ctx, n, cs); err != nil {
			return err
		}
		t.Logf("[%s] %s: joined %s after the join started", n.Name, jn.Tool, time.Since(start).Round(100*time.Millisecond))
		if err := copyRoots(ctx, n, outs[i], runtimeState); err != nil {
			return err
		}
		start = time.Now()
		if err := resetNode(ctx, tools, jn.Tool, n, resets[i]); err != nil {
			return err
		}
		t.Logf("[%s] %s reset took %s", n.Name, jn.Tool, time.Since(start).Round(100*time.Millisecond))
		return nil
	}
	if c.Workflow == "join-worker" {
		for i := range pair {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = join(i) }()
		}
		wg.Wait()
	} else {
		// One after the other, and each leaves etcd again through its
		// reset once its files are copied: both meet a one-member etcd,
		// and pjcp's etcd keeps its quorum when the nodes are torn down
		// (the configs after this one join the same cluster).
		for i := range pair {
			if errs[i] = join(i); errs[i] == nil {
				errs[i] = checkEtcdOnly(ctx, cp)
			}
			if errs[i] != nil {
				break
			}
		}
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s on %s (node %s): %v", pair[i].Tool, c.Path, pair[i].ID.Name, err)
		}
	}
	return outs, resets
}

// pauseImage is the only image a worker needs (its sandboxes).
func pauseImage(t *testing.T) []string {
	_, imgs := e2eutil.Prepare(t)
	for _, i := range imgs {
		if filepath.Base(i) == "pause.tar" {
			return []string{i}
		}
	}
	t.Fatalf("no pause.tar among the e2e images %v", imgs)
	return nil
}
