package builtins

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/kubelark/kubelark/runtime/host"
)

func TestComponentConfigKubelet(t *testing.T) {
	run := mustExecStar(t, host.NewFake(), `
out = component_config({
    "apiVersion": "kubelet.config.k8s.io/v1beta1",
    "kind": "KubeletConfiguration",
    "staticPodPath": "/etc/kubernetes/manifests",
    "clusterDNS": ["10.96.0.10"],
    "clusterDomain": "cluster.local",
    "cgroupDriver": "systemd",
    "rotateCertificates": True,
    "healthzBindAddress": "127.0.0.1",
    "healthzPort": 10248,
    "authentication": {
        "anonymous": {"enabled": False},
        "webhook": {"enabled": True},
        "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
    },
    "authorization": {"mode": "Webhook"},
})
`)
	out := run.str(t, "out")
	for _, line := range []string{
		"apiVersion: kubelet.config.k8s.io/v1beta1\n",
		"kind: KubeletConfiguration\n",
		"staticPodPath: /etc/kubernetes/manifests\n",
		"clusterDNS:\n- 10.96.0.10\n",
		"healthzPort: 10248\n",
		"    enabled: false\n", // authentication.anonymous.enabled, a pointer set to false
		"    clientCAFile: /etc/kubernetes/pki/ca.crt\n",
		// zero values of non-pointer fields, as kubeadm writes them (kubeadm-facts §4.1)
		"syncFrequency: 0s\n",
		"cpuManagerReconcilePeriod: 0s\n",
		"containerRuntimeEndpoint: \"\"\n",
		"memorySwap: {}\n",
		"crashLoopBackOff: {}\n",
		"logging:\n  flushFrequency: 0\n  options:\n    json:\n      infoBufferSize: \"0\"\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
	// No defaulting: fields the user did not set and that are pointers stay absent.
	for _, absent := range []string{"readOnlyPort", "maxPods", "resolvConf", "creationTimestamp"} {
		if strings.Contains(out, absent) {
			t.Errorf("output has %q, which kubeadm does not write:\n%s", absent, out)
		}
	}
	var kc kubeletv1beta1.KubeletConfiguration
	if err := sigsyaml.UnmarshalStrict([]byte(out), &kc); err != nil {
		t.Fatalf("output does not parse back: %v", err)
	}
	if kc.ClusterDomain != "cluster.local" || *kc.HealthzPort != 10248 || *kc.Authentication.Anonymous.Enabled {
		t.Errorf("parsed back: %+v", kc)
	}
}

func TestComponentConfigKubeProxy(t *testing.T) {
	run := mustExecStar(t, host.NewFake(), `
out = component_config({
    "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
    "kind": "KubeProxyConfiguration",
    "bindAddress": "0.0.0.0",
    "clusterCIDR": "10.244.0.0/16",
    "clientConnection": {"kubeconfig": "/var/lib/kube-proxy/kubeconfig.conf"},
})
`)
	out := run.str(t, "out")
	for _, line := range []string{
		"apiVersion: kubeproxy.config.k8s.io/v1alpha1\n", "kind: KubeProxyConfiguration\n",
		"bindAddress: 0.0.0.0\n", "clusterCIDR: 10.244.0.0/16\n",
		"  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf\n",
		"configSyncPeriod: 0s\n", "mode: \"\"\n", "  masqueradeAll: false\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
}

func TestComponentConfigErrors(t *testing.T) {
	h := host.NewFake()
	wantErr(t, h, `component_config({"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", "cgroupDriverr": "systemd", "authentication": {"x509": {"clientCaFile": "x"}}})`,
		"component_config: KubeletConfiguration:", `unknown field "cgroupDriverr"`, `unknown field "authentication.x509.clientCaFile"`)
	wantErr(t, h, `component_config({"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", "syncFrequency": "soon"})`,
		"KubeletConfiguration:", "soon")
	wantErr(t, h, `component_config({"apiVersion": "kubelet.config.k8s.io/v1", "kind": "KubeletConfiguration"})`,
		`apiVersion "kubelet.config.k8s.io/v1"`, "supported are")
	wantErr(t, h, `component_config({"kind": "KubeProxyConfiguration"})`, `apiVersion ""`)
	wantErr(t, h, `component_config("kind: KubeletConfiguration")`, "obj: got string, want a dict")
}

func TestComponentConfigHash(t *testing.T) {
	run := mustExecStar(t, host.NewFake(), `
h = component_config_hash({"b": "two", "a": "one"})
e = component_config_hash({})
`)
	want := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte("onetwo")))
	if got := run.str(t, "h"); got != want {
		t.Errorf("hash = %s, want %s (values in sorted key order)", got, want)
	}
	if got := run.str(t, "e"); got != fmt.Sprintf("sha256:%x", sha256.Sum256(nil)) {
		t.Errorf("empty hash = %s", got)
	}
	wantErr(t, host.NewFake(), `component_config_hash({"kubelet": 1})`, `data["kubelet"] is a int`)
}
