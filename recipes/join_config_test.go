package recipes_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/kubeadmconfig"
	"github.com/kubelark/kubelark/stdlib"
)

func mapJoinConfig(t *testing.T, data string) *runtime.ConfigMapping {
	t.Helper()
	res, err := mapJoinConfigErr(t, data)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func mapJoinConfigErr(t *testing.T, data string) (*runtime.ConfigMapping, error) {
	t.Helper()
	cfg, err := kubeadmconfig.Load([]byte(data))
	if err != nil {
		t.Fatalf("kubeadm config: %v", err)
	}
	return runtime.MapConfig(runtime.Options{StdlibFS: stdlib.FS, ConfigDocs: cfg.Docs, Recipe: "join"},
		"@stdlib//kubeadmconfig.star", "kubeadmconfig.join_params")
}

// TestJoinConfigMapping: a kubeadm JoinConfiguration (the e2e's
// TestKubeadmJoin input, plus timeouts) maps onto join's parameters.
func TestJoinConfigMapping(t *testing.T) {
	res := mapJoinConfig(t, `apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
caCertPath: /etc/kubernetes/pki/ca.crt
discovery:
  bootstrapToken:
    apiServerEndpoint: 10.0.0.10:6443
    token: abcdef.0123456789abcdef
    caCertHashes:
    - sha256:`+strings.Repeat("ab", 32)+`
  tlsBootstrapToken: abcdef.0123456789abcdef
nodeRegistration:
  name: worker-1
  criSocket: unix:///run/containerd/containerd.sock
  ignorePreflightErrors:
  - SystemVerification
  imagePullPolicy: Never
  taints: []
skipPhases:
- kubelet-wait-bootstrap
timeouts:
  discovery: 1m0s
  tlsBootstrap: 2m0s
  controlPlaneComponentHealthCheck: 1m0s
  upgradeManifests: 5m0s
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
`)
	want := map[string]any{
		"ca_cert_path": "/etc/kubernetes/pki/ca.crt", "api_server_endpoint": "10.0.0.10:6443",
		"discovery_token": "abcdef.0123456789abcdef", "tls_bootstrap_token": "abcdef.0123456789abcdef",
		"ca_cert_hash": []any{"sha256:" + strings.Repeat("ab", 32)},
		"node_name":    "worker-1", "cri_socket": "unix:///run/containerd/containerd.sock",
		"ignore_preflight_errors": []any{"SystemVerification"}, "image_pull_policy": "Never", "taints": []any{},
		"skip_phases": []any{"kubelet-wait-bootstrap"}, "timeout_discovery": "1m0s", "timeout_tls_bootstrap": "2m0s",
		"timeout_control_plane_component_health_check": "1m0s",
	}
	if diff := cmp.Diff(normalize(t, want), normalize(t, res.Params)); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
	if res.Sources["api_server_endpoint"] != "JoinConfiguration.discovery.bootstrapToken.apiServerEndpoint" {
		t.Errorf("source %q", res.Sources["api_server_endpoint"])
	}
	warnings := strings.Join(res.Warnings, "\n")
	for _, w := range []string{"upgradeManifests: has no effect on join", "ClusterConfiguration ignored"} {
		if !strings.Contains(warnings, w) {
			t.Errorf("warnings lack %q:\n%s", w, warnings)
		}
	}
}

func TestJoinConfigRefusals(t *testing.T) {
	_, err := mapJoinConfigErr(t, `apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
dryRun: true
discovery:
  file:
    kubeConfigPath: /etc/kubernetes/discovery.conf
  tlsBootstrapToken: abcdef.0123456789abcdef
`)
	if err == nil || !strings.Contains(err.Error(), "JoinConfiguration.dryRun is not supported: pass --dry-run") {
		t.Errorf("err = %v", err)
	}
	res := mapJoinConfig(t, `apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  file:
    kubeConfigPath: /etc/kubernetes/discovery.conf
  tlsBootstrapToken: abcdef.0123456789abcdef
`)
	if res.Params["discovery_file"] != "/etc/kubernetes/discovery.conf" || res.Sources["discovery_file"] != "JoinConfiguration.discovery.file.kubeConfigPath" {
		t.Errorf("discovery_file = %v from %v", res.Params["discovery_file"], res.Sources["discovery_file"])
	}
}
