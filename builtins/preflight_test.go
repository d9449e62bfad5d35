package builtins

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// healthyHost is a Fake on which every init check passes.
func healthyHost() *host.Fake {
	f := host.NewFake()
	f.Put("/sys/fs/cgroup/cgroup.controllers", []byte("cpuset cpu io memory hugetlb pids rdma misc\n"), 0o444)
	f.Put("/proc/swaps", []byte("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"), 0o444)
	f.Put("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0o644)
	f.MkdirAll("/var/lib/etcd", 0o700)
	f.FExec = func(name string, args ...string) ([]byte, error) {
		if name == "kubelet" && reflect.DeepEqual(args, []string{"--version"}) {
			return []byte("Kubernetes v1.36.3\n"), nil
		}
		return nil, errors.New("unexpected command " + name)
	}
	f.FCRI = &host.FakeCRI{}
	return f
}

// initChecks mirrors kubeadm's init list (facts §9.1).
const initChecks = `
M = "/etc/kubernetes/manifests/"
checks = [
    {"kind": "is_privileged_user"},
    {"kind": "num_cpu", "min": 2},
    {"kind": "mem", "min_mb": 1700},
    {"kind": "kubernetes_version", "version": "v1.36.3"},
    {"kind": "service_active", "unit": "firewalld", "ports": [6443, 10250]},
    {"kind": "port", "port": 6443},
    {"kind": "port", "port": 10259},
    {"kind": "port", "port": 10257},
    {"kind": "file_available", "path": M + "kube-apiserver.yaml"},
    {"kind": "file_available", "path": M + "etcd.yaml"},
    {"kind": "http_proxy", "url": "https://10.0.0.10"},
    {"kind": "http_proxy_cidr", "cidr": "10.96.0.0/12"},
    {"kind": "cri", "socket": "unix:///var/run/containerd/containerd.sock"},
    {"kind": "swap"},
    {"kind": "file_existing", "binary": "losetup"},
    {"kind": "file_existing", "binary": "mount"},
    {"kind": "system_verification"},
    {"kind": "hostname"},
    {"kind": "kubelet_version", "control_plane_version": "v1.36.3"},
    {"kind": "service_enabled", "unit": "kubelet"},
    {"kind": "port", "port": 10250},
    {"kind": "file_content", "path": "/proc/sys/net/ipv4/ip_forward", "content": "1"},
    {"kind": "dir_available", "path": "/var/lib/etcd"},
]
`

// quietFake answers is-active with "inactive" for every unit (the Fake
// says yes to every query).
type quietFake struct{ *host.Fake }

func (q quietFake) Service(ctx context.Context, action, unit string) error {
	if action == "is-active" {
		return errors.New("inactive")
	}
	return q.Fake.Service(ctx, action, unit)
}

func TestPreflightHealthy(t *testing.T) {
	f := healthyHost()
	g, plan, out, err := hostStar(t, quietFake{f}, initChecks+"r = preflight_check(checks)\n")
	if err != nil {
		t.Fatal(err)
	}
	r := g["r"].(starlarkStruct)
	for _, field := range []string{"errors", "warnings"} {
		if v, _ := r.Attr(field); v.(*starlark.List).Len() != 0 {
			t.Errorf("%s = %v", field, v)
		}
	}
	if strings.Contains(out, "WARNING") {
		t.Errorf("output = %q", out)
	}
	a := plan.Actions[len(plan.Actions)-1]
	if a.Op != "check" || a.Target != "preflight" || a.Result != "passed" || a.Summary["checks"] != 23 {
		t.Fatalf("action = %+v", a)
	}
}

func TestPreflightFailures(t *testing.T) {
	f := healthyHost()
	f.FEUID = 1000
	f.FNumCPU = 1
	f.FMemoryMB = 1024
	f.FBusyPorts[6443] = true
	f.Put("/etc/kubernetes/manifests/etcd.yaml", []byte("x"), 0o600)
	f.Put("/var/lib/etcd/member/snap", []byte("x"), 0o600)
	f.Put("/proc/swaps", []byte("Filename Type Size Used Priority\n/swapfile file 1048572 0 -2\n"), 0o444)
	f.Put("/proc/sys/net/ipv4/ip_forward", []byte("0\n"), 0o644)
	f.Remove("/sys/fs/cgroup/cgroup.controllers") // cgroup v1
	f.FCRI = nil
	f.FKernel = "4.19.0-1-amd64"
	f.FEnviron = []string{"HTTPS_PROXY=http://user:secretpw@proxy:3128"}
	f.FHostname = "Node_1"
	delete(f.FPaths, "losetup")
	f.FExec = func(string, ...string) ([]byte, error) { return []byte("Kubernetes v1.37.0"), nil }
	f.Services = nil
	f.FActiveUnits["firewalld"] = true

	_, plan, out, err := hostStar(t, f, initChecks+"preflight_check(checks)\n")
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		"[ERROR IsPrivilegedUser]: user is not running as root",
		"[ERROR NumCPU]: the number of available CPUs 1 is less than the required 2",
		"[ERROR Mem]: the system RAM (1024 MB) is less than the minimum 1700 MB",
		"[ERROR Port-6443]: Port 6443 is in use",
		"[ERROR FileAvailable--etc-kubernetes-manifests-etcd.yaml]: /etc/kubernetes/manifests/etcd.yaml already exists",
		"[ERROR CRI]: container runtime is not running",
		"[ERROR FileExisting-losetup]: losetup not found in system path",
		"[ERROR SystemVerification]: the system uses cgroups v1",
		"failCgroupV1: false",
		"[ERROR KubeletVersion]: the kubelet version is higher than the control plane version",
		"[ERROR FileContent--proc-sys-net-ipv4-ip_forward]: /proc/sys/net/ipv4/ip_forward contents are not set to 1",
		"[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty",
		"--ignore-preflight-errors=IsPrivilegedUser,NumCPU,Mem,Port-6443,FileAvailable--etc-kubernetes-manifests-etcd.yaml,CRI,FileExisting-losetup,SystemVerification,KubeletVersion,FileContent--proc-sys-net-ipv4-ip_forward,DirAvailable--var-lib-etcd",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, want := range []string{
		"\t[WARNING HTTPProxy]: Connection to \"https://10.0.0.10\" uses proxy",
		"\t[WARNING HTTPProxyCIDR]: connection to \"10.96.0.0/12\" uses proxy",
		"\t[WARNING Swap]: swap is supported for cgroup v2 only",
		"\t[WARNING SystemVerification]: kernel release 4.19.0-1-amd64 is unsupported",
		"\t[WARNING Hostname]: invalid node name format \"node_1\"",
		"\t[WARNING Firewalld]: firewalld is active, please ensure ports [6443 10250] are open",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+msg, "secretpw") {
		t.Error("proxy password printed")
	}
	a := plan.Actions[len(plan.Actions)-1]
	if a.Result != "failed" || len(a.Summary["errors"].([]string)) != 11 {
		t.Fatalf("action = %+v", a)
	}
}

func TestPreflightIgnore(t *testing.T) {
	f := healthyHost()
	f.FNumCPU = 1
	f.FBusyPorts[6443] = true
	src := `r = preflight_check([{"kind": "num_cpu"}, {"kind": "port", "port": 6443}, {"kind": "swap"}], ignore = IGNORE)
errors = [e.name + ": " + e.message for e in r.errors]
`
	g, plan, out, err := hostStar(t, f, strings.Replace(src, "IGNORE", `["numcpu", "PORT-6443"]`, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got := g["errors"].(*starlark.List).Len(); got != 2 {
		t.Fatalf("ignored errors = %v", g["errors"])
	}
	if !strings.Contains(out, "\t[WARNING NumCPU]: the number of available CPUs 1") || !strings.Contains(out, "\t[WARNING Port-6443]") {
		t.Fatalf("ignored errors must print as warnings: %q", out)
	}
	if plan.Actions[0].Result != "passed" {
		t.Fatalf("plan = %+v", plan.Actions)
	}
	if _, _, _, err := hostStar(t, f, strings.Replace(src, "IGNORE", `["all"]`, 1)); err != nil {
		t.Fatalf("all: %v", err)
	}
	_, _, _, err = hostStar(t, f, strings.Replace(src, "IGNORE", `["NumCPU"]`, 1))
	if err == nil || !strings.Contains(err.Error(), "--ignore-preflight-errors=Port-6443") || strings.Contains(err.Error(), "ERROR NumCPU") {
		t.Fatalf("partial ignore: %v", err)
	}
	_, _, _, err = hostStar(t, f, strings.Replace(src, "IGNORE", `["all", "NumCPU"]`, 1))
	if err == nil || !strings.Contains(err.Error(), `"all" cannot be combined`) {
		t.Fatalf("all+name: %v", err)
	}
}

func TestPreflightSeverityAndAliases(t *testing.T) {
	f := healthyHost()
	f.FActiveUnits["firewalld"] = true
	f.Remove("/sys/fs/cgroup/cgroup.controllers")
	f.MkdirAll("/sys/fs/cgroup", 0o755)
	// The e2e VMs are cgroup v1: the recipe may demote the check.
	_, _, out, err := hostStar(t, f, `preflight_check([{"kind": "system_verification", "severity": "warning"}])`)
	if err != nil || !strings.Contains(out, "[WARNING SystemVerification]: the system uses cgroups v1") {
		t.Fatalf("err=%v out=%q", err, out)
	}
	// An older kubelet only warns about cgroups v1.
	if _, _, _, err := hostStar(t, f, `preflight_check([{"kind": "system_verification", "kubernetes_version": "v1.34.0"}])`); err != nil {
		t.Fatal(err)
	}
	// Severity "error" turns a warning into an error; names can be chosen.
	f.Put("/proc/swaps", []byte("h\n/swap file 1 0 -2\n"), 0o444)
	_, _, _, err = hostStar(t, f, `preflight_check([{"kind": "swap", "name": "NoSwap", "severity": "error"}])`)
	if err == nil || !strings.Contains(err.Error(), "[ERROR NoSwap]: swap is supported") {
		t.Fatalf("err = %v", err)
	}
	// Aliases used by recipes.
	_, _, out, err = hostStar(t, f, `preflight_check([
    {"kind": "privileged_user"}, {"kind": "memory", "min_mb": 1}, {"kind": "in_path", "binary": "mount"},
    {"kind": "firewalld", "ports": [6443]}, {"kind": "service", "unit": "kubelet"},
    {"kind": "http_proxy", "proto": "https", "host": "fd00::1"},
    {"kind": "hostname", "node_name": "node1"},
    {"kind": "kubelet_version", "kubernetes_version": "v1.36.0"},
])`)
	if err != nil || !strings.Contains(out, "[WARNING Firewalld]") {
		t.Fatalf("aliases: err=%v out=%q", err, out)
	}
}

func TestPreflightProxyNoProxy(t *testing.T) {
	f := healthyHost()
	f.FEnviron = []string{"https_proxy=http://proxy:3128", "no_proxy=10.0.0.0/8,.svc"}
	_, _, out, err := hostStar(t, f, `preflight_check([
    {"kind": "http_proxy", "url": "https://10.0.0.10:6443"},
    {"kind": "http_proxy_cidr", "cidr": "10.96.0.0/12"},
    {"kind": "http_proxy_cidr", "cidr": "192.168.0.0/16"},
    {"kind": "http_proxy_cidr", "cidr": "fd00:10:96::/112"},
])`)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(out, "[WARNING HTTPProxyCIDR]") != 2 || strings.Contains(out, "HTTPProxy]") {
		t.Fatalf("output = %q", out)
	}
	if !strings.Contains(out, `"192.168.0.0/16" uses proxy "http://proxy:3128"`) || !strings.Contains(out, "fd00:10:96::/112") {
		t.Fatalf("output = %q", out)
	}
}

func TestPreflightKubeletVersion(t *testing.T) {
	f := healthyHost()
	for ver, want := range map[string]string{
		"Kubernetes v1.32.9":   `Kubelet version "1.32.9" is lower than kubeadm can support`,
		"kubelet: not a thing": "cannot parse output of 'kubelet --version'",
		"Kubernetes v1.36.1":   "",
	} {
		f.FExec = func(string, ...string) ([]byte, error) { return []byte(ver), nil }
		_, _, _, err := hostStar(t, f, `preflight_check([{"kind": "kubelet_version"}])`)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: err = %v, want %q", ver, err, want)
		}
	}
	f.FExec = nil
	_, _, _, err := hostStar(t, f, `preflight_check([{"kind": "kubelet_version"}])`)
	if err == nil || !strings.Contains(err.Error(), "[ERROR KubeletVersion]: couldn't get kubelet version") {
		t.Errorf("no kubelet: %v", err)
	}
}

func TestPreflightServiceStates(t *testing.T) {
	// A sandbox under --root does not know service state: no findings.
	s, _ := host.NewSandbox(healthyHost(), host.SandboxOptions{Root: t.TempDir()})
	_, _, out, err := hostStar(t, s, `preflight_check([{"kind": "service_enabled", "unit": "kubelet"}, {"kind": "service_active", "unit": "firewalld"}])`)
	if err != nil || strings.Contains(out, "WARNING") {
		t.Fatalf("err=%v out=%q", err, out)
	}
	// A live host without a service manager warns that it cannot check.
	l := host.NewLive(host.LiveOptions{Environ: []string{"PATH=/nowhere"}})
	_, _, out, err = hostStar(t, l, `preflight_check([{"kind": "service_enabled", "unit": "kubelet"}])`)
	if err != nil || !strings.Contains(out, "[WARNING Service-Kubelet]: cannot check whether the kubelet service is enabled: no service manager found") {
		t.Fatalf("err=%v out=%q", err, out)
	}
}

func TestPreflightBadChecks(t *testing.T) {
	f := healthyHost()
	for src, want := range map[string]string{
		`[{"kind": "ports", "port": 1}]`:                  `checks[0]: unknown kind "ports"; known kinds: container_runtime_version, cri, dir_available`,
		`[{"port": 1}]`:                                   `checks[0]: check: missing field "kind"`,
		`[{"kind": "swap"}, {"kind": "port"}]`:            `checks[1]: kind "port": missing field "port"`,
		`[{"kind": "port", "port": "6443"}]`:              `field "port": got string, want int`,
		`[{"kind": "port", "port": 70000}]`:               `70000 is not a TCP port`,
		`[{"kind": "port", "port": 6443, "prot": "tcp"}]`: `unknown field(s) prot; this kind takes name, severity, requires, port`,
		`[{"kind": "swap", "severity": "fatal"}]`:         `severity "fatal": want "error" or "warning"`,
		`["port"]`:         `checks[0]: got string, want a dict`,
		`{"kind": "swap"}`: `checks[0]: got string, want a dict`,
		`[{"kind": "http_proxy_cidr", "cidr": "10.96.0.0"}]`: `"10.96.0.0" is not a CIDR`,
		`[{"kind": "file_existing"}]`:                        `exactly one of "binary"`,
		`[{"kind": "cri", "socket": "npipe:////./pipe/x"}]`:  `is not a unix socket endpoint`,
		`[{"kind": "external_files", "paths": [1]}]`:         `field "paths[0]": got int, want string`,
		`[{"kind": "num_cpu", "name": "CPUs", "min": 1.5}]`:  `"CPUs" (kind "num_cpu"): field "min": got float, want int`,
		`5`: `checks: got int, want a list of dicts`,
	} {
		_, _, _, err := hostStar(t, f, "preflight_check("+src+")")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n  err  = %v\n  want %q", src, err, want)
		}
	}
	if _, _, _, err := hostStar(t, f, `preflight_check([], ignore = "NumCPU")`); err == nil || !strings.Contains(err.Error(), "want list of strings") {
		t.Errorf("ignore as string: %v", err)
	}
}

func TestPreflightExternalFiles(t *testing.T) {
	f := healthyHost()
	f.Put("/etc/etcd/ca.crt", []byte("x"), 0o644)
	_, _, _, err := hostStar(t, f, `preflight_check([{"kind": "external_files", "paths": ["/etc/etcd/ca.crt", "/etc/etcd/client.crt", ""]},
    {"kind": "file_existing", "path": "/etc/etcd/client.key"}])`)
	if err == nil || !strings.Contains(err.Error(), "[ERROR ExternalEtcdClientCertificates]: /etc/etcd/client.crt doesn't exist") ||
		strings.Contains(err.Error(), "ca.crt doesn't") || !strings.Contains(err.Error(), "[ERROR FileExisting--etc-etcd-client.key]") {
		t.Fatalf("err = %v", err)
	}
}

// TestPreflightDryRunReportsAndGoesOn: a dry run records the failed check
// and lists every error, but does not stop the plan.
func TestPreflightDryRunReportsAndGoesOn(t *testing.T) {
	f := healthyHost()
	f.FDryRun = true
	f.FNumCPU = 1
	f.FBusyPorts[6443] = true
	g, plan, out, err := hostStar(t, f, initChecks+"r = preflight_check(checks)\nfailed = [x.name for x in r.failed]\n")
	if err != nil {
		t.Fatalf("dry run stopped: %v", err)
	}
	if got := fmt.Sprint(g["failed"]); got != `["NumCPU", "Port-6443"]` {
		t.Errorf("failed = %s", got)
	}
	if a := plan.Actions[len(plan.Actions)-1]; a.Op != "check" || a.Result != "failed" {
		t.Errorf("action = %+v", a)
	}
	for _, want := range []string{"[ERROR NumCPU]", "[ERROR Port-6443]", "a real run would stop here (preflight would have failed: NumCPU, Port-6443)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The plan remembers it, so the run can fail at its end (exit status).
	if want := []runtime.Stop{{Reason: "preflight would have failed: NumCPU, Port-6443"}}; !reflect.DeepEqual(plan.WouldStop, want) {
		t.Errorf("WouldStop = %+v, want %+v", plan.WouldStop, want)
	}
}
