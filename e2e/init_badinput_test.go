package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
)

// TestKubelarkInitBadConfig: a wrong configuration fails before anything is
// written, with a message that names the field or parameter. No node is
// needed: --root relocates every write into a scratch directory, which must
// stay empty. --ignore-preflight-errors all lets a run that missed the
// problem go on and write, so the empty directory proves the refusal.
func TestKubelarkInitBadConfig(t *testing.T) {
	kubelark := buildKubelark(t)
	// kubeadm (and kubelark) refuse "all" next to names from the config file.
	good := e2eutil.InitConfig(e2eutil.ConfigOptions{Address: "10.77.0.11", NodeName: "cp1"})
	cases := []struct {
		name     string
		old, new string // config edit
		args     []string
		want     []string
	}{
		{name: "UnknownField", old: "podSubnet:", new: "podSubnett:",
			want: []string{"ClusterConfiguration.networking.podSubnett", "unknown field", `did you mean "podSubnet"`}},
		{name: "InvalidPodSubnet", old: "10.244.0.0/16", new: "10.244.0.0/33",
			want: []string{"ClusterConfiguration.networking.podSubnet", `"10.244.0.0/33" is not a valid CIDR`}},
		{name: "InvalidAdvertiseAddress", old: "advertiseAddress: 10.77.0.11", new: "advertiseAddress: 10.77.0.300",
			want: []string{"InitConfiguration.localAPIEndpoint.advertiseAddress", `"10.77.0.300" is not an IP address`}},
		{name: "OldAPIVersion", old: "kubeadm.k8s.io/v1beta4", new: "kubeadm.k8s.io/v1beta3",
			want: []string{"kubeadm.k8s.io/v1beta3", "kubeadm config migrate"}},
		{name: "SetInvalidPodSubnet", args: []string{"--set", "pod_subnet=10.244.0.0/33"},
			want: []string{"pod_subnet", "10.244.0.0/33"}},
		{name: "SetInvalidServiceSubnet", args: []string{"--set", "service_subnet=10.96.0.0"},
			want: []string{"service_subnet", "10.96.0.0"}},
		{name: "SetUnknownParameter", args: []string{"--set", "pod_subnett=10.244.0.0/16"},
			want: []string{`unknown parameter "pod_subnett"`, `did you mean "pod_subnet"`}},
		{name: "SetWrongType", args: []string{"--set", "bind_port=abc"},
			want: []string{"bind_port", `"abc" is not an integer`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "kubeadm.yaml")
			if err := os.WriteFile(cfg, []byte(strings.Replace(good, c.old, c.new, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()
			args := append([]string{"run", "init", "--config", cfg, "--root", root, "--ignore-preflight-errors", "all"}, c.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			start := time.Now()
			out, err := exec.CommandContext(ctx, kubelark, args...).CombinedOutput()
			t.Logf("kubelark %s: %s, %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), errOrOK(err))
			if _, ok := err.(*exec.ExitError); !ok {
				t.Fatalf("want a non-zero exit, got %v:\n%s", err, out)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("the error does not say %q:\n%s", w, out)
				}
			}
			if strings.Contains(string(out), "panic:") || strings.Contains(string(out), "goroutine ") {
				t.Errorf("a Go panic reached the user:\n%s", out)
			}
			if entries, err := os.ReadDir(root); err != nil || len(entries) > 0 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("a refused configuration wrote under --root: %v %v", names, err)
			}
		})
	}
}

// laterThanWait are init's phases after wait-control-plane.
var laterThanWait = []string{"upload-config", "upload-certs", "mark-control-plane", "bootstrap-token", "kubelet-finalize", "addon", "show-join-command"}

// TestKubelarkInitBadControlPlane: one node whose API server never becomes
// healthy (a kube-apiserver flag it does not know, passed the realistic way,
// as an extra arg). init fails within its health-check timeout, names
// kube-apiserver and quotes the last error, and nothing after
// wait-control-plane happens. Then, on the same node, the API phases alone
// against that unreachable API server fail within the API call timeout,
// naming the endpoint.
func TestKubelarkInitBadControlPlane(t *testing.T) {
	testStart := time.Now()
	kubelark := buildKubelark(t)
	nw := newNetwork(t)
	n := newNode(t, nw, "cp1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	base := []string{kubelark, "run", "init", "--config", writeInitConfig(t, n), "--service-command", n.ServiceCommand()}

	t.Run("NeverHealthy", func(t *testing.T) {
		const timeout = 40 * time.Second
		plan := filepath.Join(n.Dir, "unhealthy-plan.json")
		start := time.Now()
		out, err := runStatus(ctx, t, n, append(base, "--set", "apiserver_extra_args=no-such-flag=1",
			"--set", "timeout_control_plane_component_health_check="+timeout.String(), "--plan", plan)...)
		took := time.Since(start)
		if err == nil {
			t.Fatalf("init with a broken kube-apiserver flag succeeded")
		}
		// The wait itself lasts the timeout; the local phases and the kubelet
		// start come first. The margin is generous: the machine is shared.
		if took < timeout || took > timeout+2*time.Minute {
			t.Errorf("init failed after %s; want the %s health-check timeout (plus the local phases)", took.Round(time.Millisecond), timeout)
		}
		for _, w := range []string{"kube-apiserver", "https://" + n.IP + ":6443/livez", "not healthy after " + timeout.String(), "last error", "connection refused", "crictl"} {
			if !strings.Contains(out, w) {
				t.Errorf("the error does not say %q", w)
			}
		}
		p := readPlan(t, plan)
		for _, a := range p.Actions {
			if slices.Contains(laterThanWait, a.Phase) || strings.HasPrefix(a.Op, "api.") {
				t.Errorf("after the failed wait: %s %s %s (%s)", a.Phase, a.Op, a.Target, a.Result)
			}
		}
		for _, ph := range p.Phases {
			if slices.Contains(laterThanWait, strings.SplitN(ph.Name, "/", 2)[0]) && ph.Ran {
				t.Errorf("phase %s ran after the failed wait", ph.Name)
			}
		}
		// kubelet-finalize did not run: kubelet.conf still embeds its credentials.
		if kc, err := n.ReadFile("/etc/kubernetes/kubelet.conf"); err != nil || !strings.Contains(string(kc), "client-certificate-data") {
			t.Errorf("kubelet.conf was rewritten after the failed wait (%v)", err)
		}
	})

	t.Run("UnreachableAPIServer", func(t *testing.T) {
		// Well under the 1m default, so the bound below proves the
		// parameter is honoured.
		const timeout = 10 * time.Second
		plan := filepath.Join(n.Dir, "unreachable-plan.json")
		start := time.Now()
		out, err := runStatus(ctx, t, n, append(base, "--phases", "upload-config",
			"--set", "timeout_kubernetes_api_call="+timeout.String(), "--plan", plan)...)
		took := time.Since(start)
		if err == nil {
			t.Fatalf("upload-config against a stopped API server succeeded")
		}
		if took > timeout+30*time.Second {
			t.Errorf("upload-config failed after %s; want about the %s API call timeout", took.Round(time.Millisecond), timeout)
		}
		for _, w := range []string{"https://" + n.IP + ":6443", "connection refused"} {
			if !strings.Contains(out, w) {
				t.Errorf("the error does not say %q", w)
			}
		}
		for _, a := range readPlan(t, plan).Actions {
			if strings.HasPrefix(a.Op, "api.") || strings.HasPrefix(a.Op, "file.") {
				t.Errorf("unreachable API server: %s %s %s (%s) was recorded", a.Phase, a.Op, a.Target, a.Result)
			}
		}
	})
	t.Logf("TestKubelarkInitBadControlPlane: %s in all", time.Since(testStart).Round(time.Millisecond))
}
