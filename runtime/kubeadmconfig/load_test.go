package kubeadmconfig

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadFile(t *testing.T, name string) (*mapped, error) {
	t.Helper()
	return loadInit(readFile(t, name))
}

func mustLoadFile(t *testing.T, name string) *mapped {
	t.Helper()
	r, err := loadFile(t, name)
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	checkSources(t, r)
	return r
}

// checkSources asserts that every parameter has a source and vice versa.
func checkSources(t *testing.T, r *mapped) {
	t.Helper()
	for p := range r.Params {
		if r.Sources[p] == "" {
			t.Errorf("param %s has no source", p)
		}
	}
	for p := range r.Sources {
		if _, ok := r.Params[p]; !ok {
			t.Errorf("source %s has no param", p)
		}
	}
}

func TestLoadFull(t *testing.T) {
	r := mustLoadFile(t, "full.yaml")
	want := map[string]any{
		"token":             "abcdef.0123456789abcdef",
		"token_description": "first token",
		"token_ttl":         "2h",
		"token_usages":      []any{"signing", "authentication"},
		"token_groups":      []any{"system:bootstrappers:kubeadm:default-node-token"},
		"bootstrap_tokens": []any{
			map[string]any{"token": "ghijkl.0123456789abcdef", "expires": "2030-01-02T15:04:05Z"},
			map[string]any{"token": "", "description": "generated"},
		},
		"node_name":  "cp-1",
		"cri_socket": "unix:///run/containerd/containerd.sock",
		"taints": []any{
			map[string]any{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
			map[string]any{"key": "dedicated", "value": "infra", "effect": "NoExecute"},
		},
		"kubelet_extra_args":      map[string]any{"v": "2", "node-labels": "zone=a"},
		"ignore_preflight_errors": []any{"Swap", "NumCPU"},
		"image_pull_policy":       "Never",
		"image_pull_serial":       false,
		"advertise_address":       "10.0.0.10",
		"bind_port":               int64(6444),
		"certificate_key":         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"skip_phases":             []any{"addon/kube-proxy"},
		"timeout_control_plane_component_health_check": "5m",
		"timeout_kubelet_health_check":                 "3m",
		"timeout_kubernetes_api_call":                  "30s",
		"timeout_etcd_api_call":                        "1m",

		"etcd_image_repository":  "my.registry:5000/etcd-images",
		"etcd_image_tag":         "3.6.8-0",
		"etcd_data_dir":          "/data/etcd",
		"etcd_extra_args":        map[string]any{"quota-backend-bytes": "8589934592"},
		"etcd_extra_envs":        []any{map[string]any{"name": "ETCD_LOG_LEVEL", "value": "warn"}},
		"etcd_server_cert_sans":  []any{"etcd.example.com"},
		"etcd_peer_cert_sans":    []any{"10.0.0.10"},
		"service_subnet":         "10.96.0.0/16",
		"pod_subnet":             "10.244.0.0/16",
		"dns_domain":             "k8s.example",
		"kubernetes_version":     "v1.36.3",
		"control_plane_endpoint": "lb.example.com:6443",
		"apiserver_extra_args":   map[string]any{"audit-log-path": "/var/log/kubernetes/audit.log"},
		"apiserver_extra_volumes": []any{map[string]any{
			"name": "audit", "hostPath": "/var/log/kubernetes", "mountPath": "/var/log/kubernetes",
			"readOnly": false, "pathType": "DirectoryOrCreate",
		}},
		"apiserver_extra_envs": []any{map[string]any{
			"name": "POD_IP", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "status.podIP"}},
		}},
		"cert_sans":                     []any{"api.example.com", "192.168.1.1", "*.k8s.example.com"},
		"controller_manager_extra_args": map[string]any{"node-cidr-mask-size-ipv4": "24"},
		"controller_manager_extra_volumes": []any{map[string]any{
			"name": "plugins", "hostPath": "/opt/plugins", "mountPath": "/opt/plugins", "readOnly": true, "pathType": "",
		}},
		"scheduler_extra_args":    map[string]any{"bind-address": "0.0.0.0"},
		"scheduler_extra_envs":    []any{map[string]any{"name": "GOMAXPROCS", "value": "2"}},
		"dns_image_repository":    "my.registry:5000/coredns",
		"dns_image_tag":           "v1.14.2",
		"dns_disabled":            true,
		"proxy_disabled":          true,
		"cert_dir":                "/etc/kubernetes/pki2",
		"image_repository":        "my.registry:5000/k8s",
		"cluster_name":            "prod",
		"encryption_algorithm":    "ECDSA-P256",
		"certificate_validity":    "4380h",
		"ca_certificate_validity": "43800h",

		"kubelet_config": map[string]any{
			"cgroupDriver": "systemd",
			"maxPods":      int64(250),
			"evictionHard": map[string]any{"memory.available": "200Mi"},
		},
		"kube_proxy_config": map[string]any{"mode": "nftables"},
	}
	if d := cmp.Diff(want, r.Params); d != "" {
		t.Errorf("params (-want +got):\n%s", d)
	}
	wantSources := map[string]string{
		"pod_subnet":       "ClusterConfiguration.networking.podSubnet",
		"token_ttl":        "InitConfiguration.bootstrapTokens[0].ttl",
		"bootstrap_tokens": "InitConfiguration.bootstrapTokens[1:]",
		"kubelet_config":   "KubeletConfiguration",
		"etcd_image_tag":   "ClusterConfiguration.etcd.local.imageTag",
		"bind_port":        "InitConfiguration.localAPIEndpoint.bindPort",
	}
	for p, s := range wantSources {
		if r.Sources[p] != s {
			t.Errorf("Sources[%s] = %q, want %q", p, r.Sources[p], s)
		}
	}
	if d := cmp.Diff([]string{"InitConfiguration", "ClusterConfiguration", "KubeletConfiguration", "KubeProxyConfiguration"}, r.Kinds); d != "" {
		t.Errorf("kinds (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"ClusterConfiguration.featureGates.NodeLocalCRISocket: is the default (true); ignored"}, r.Warnings); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
	for _, s := range []string{"abcdef.0123456789abcdef", "ghijkl.0123456789abcdef", "0123456789abcdef",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"} {
		if !contains(r.Secrets, s) {
			t.Errorf("secret %q not registered", s)
		}
	}
}

// TestLoadJoinDocument: no recipe maps a JoinConfiguration yet, so what
// Load guarantees is that the validated, normalized document reaches the
// recipe as data, with its secrets registered and kubeadm's warnings.
func TestLoadJoinDocument(t *testing.T) {
	cfg, err := Load(readFile(t, "join.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc := cfg.Docs["JoinConfiguration"].(map[string]any)
	for path, want := range map[string]any{
		"nodeRegistration.name":                      "cp-2",
		"nodeRegistration.criSocket":                 "unix:///var/run/crio/crio.sock",
		"nodeRegistration.taints":                    []any{},
		"nodeRegistration.kubeletExtraArgs":          []any{map[string]any{"name": "v", "value": "4"}},
		"nodeRegistration.imagePullSerial":           true,
		"caCertPath":                                 "/etc/kubernetes/pki/ca.crt",
		"discovery.bootstrapToken.token":             "abcdef.0123456789abcdef",
		"discovery.bootstrapToken.apiServerEndpoint": "lb.example.com:6443",
		"discovery.tlsBootstrapToken":                "abcdef.0123456789abcdef",
		"controlPlane.localAPIEndpoint.bindPort":     int64(6443),
		"skipPhases":                                 []any{"preflight"},
		"timeouts.tlsBootstrap":                      "10m",
	} {
		if d := cmp.Diff(want, lookup(doc, path)); d != "" {
			t.Errorf("JoinConfiguration.%s (-want +got):\n%s", path, d)
		}
	}
	wantWarn := []string{
		`JoinConfiguration.nodeRegistration.criSocket: "/var/run/crio/crio.sock" has no URL scheme; using "unix:///var/run/crio/crio.sock" (write the scheme to silence this warning)`,
	}
	if d := cmp.Diff(wantWarn, cfg.Warnings); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
	for _, s := range []string{"abcdef.0123456789abcdef", "0123456789abcdef", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"} {
		if !contains(cfg.Secrets, s) {
			t.Errorf("secret %q not registered", s)
		}
	}
	// The init recipe ignores the document, as kubeadm init does.
	r, err := loadInit(readFile(t, "join.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Params) != 0 {
		t.Errorf("init mapped a JoinConfiguration: %v", r.Params)
	}
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "JoinConfiguration ignored: recipe init reads InitConfiguration") {
		t.Errorf("warnings %q do not say the JoinConfiguration is ignored", r.Warnings)
	}
}

func TestLoadResetDocument(t *testing.T) {
	cfg, err := Load(readFile(t, "reset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc := cfg.Docs["ResetConfiguration"].(map[string]any)
	for path, want := range map[string]any{
		"cleanupTmpDir":         true,
		"certificatesDir":       "/etc/kubernetes/pki",
		"criSocket":             "unix:///var/run/containerd/containerd.sock",
		"force":                 true,
		"ignorePreflightErrors": []any{"IsPrivilegedUser"},
		"unmountFlags":          []any{"MNT_DETACH", "UMOUNT_NOFOLLOW"},
		"timeouts.etcdAPICall":  "30s",
	} {
		if d := cmp.Diff(want, lookup(doc, path)); d != "" {
			t.Errorf("ResetConfiguration.%s (-want +got):\n%s", path, d)
		}
	}
}

// lookup follows a dotted path through nested dicts.
func lookup(doc map[string]any, path string) any {
	var cur any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func TestLoadDualStack(t *testing.T) {
	r := mustLoadFile(t, "dualstack.yaml")
	want := map[string]any{
		"service_subnet":    "10.96.0.0/16,fd00:10:96::/112",
		"pod_subnet":        "10.244.0.0/16,fd00:10:244::/56",
		"advertise_address": "fd00::10",
		"token_description": "", // kubeadm --config: the default token has no description
	}
	if d := cmp.Diff(want, r.Params); d != "" {
		t.Errorf("params (-want +got):\n%s", d)
	}
}

func TestLoadExternalEtcd(t *testing.T) {
	r := mustLoadFile(t, "external-etcd.yaml")
	want := map[string]any{
		"etcd_external_endpoints":      []any{"https://10.0.0.5:2379", "https://10.0.0.6:2379"},
		"etcd_external_http_endpoints": []any{"http://10.0.0.5:2381"},
		"etcd_external_ca":             "/etc/etcd/ca.crt",
		"etcd_external_cert":           "/etc/etcd/client.crt",
		"etcd_external_key":            "/etc/etcd/client.key",
		"token_description":            "",
	}
	if d := cmp.Diff(want, r.Params); d != "" {
		t.Errorf("params (-want +got):\n%s", d)
	}
}

// kubeadm's own printed defaults must load, with warnings only for the
// timeouts init does not use.
func TestLoadInitDefaults(t *testing.T) {
	r := mustLoadFile(t, "init-defaults.yaml")
	if _, set := r.Params["taints"]; set {
		t.Errorf("taints: null must leave the parameter unset (default control-plane taint), got %v", r.Params["taints"])
	}
	if r.Params["kubernetes_version"] != "v1.36.0" {
		t.Errorf("kubernetes_version = %v, want v1.36.0 (v added)", r.Params["kubernetes_version"])
	}
	var warned []string
	for _, w := range r.Warnings {
		warned = append(warned, strings.SplitN(w, ":", 2)[0])
	}
	sort.Strings(warned)
	want := []string{"InitConfiguration.timeouts.discovery", "InitConfiguration.timeouts.tlsBootstrap", "InitConfiguration.timeouts.upgradeManifests"}
	if d := cmp.Diff(want, warned); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
}

func TestLoadFileErrors(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"bad-yaml.yaml", []string{"document 2 (line 4) is not valid YAML", "line 8"}},
		{"v1beta3.yaml", []string{"kubeadm.k8s.io/v1beta3", "kubeadm config migrate"}},
		{"unknown-field.yaml", []string{"InitConfiguration.nodeRegistration.nmae: unknown field", `did you mean "name"?`}},
		{"duplicate-kind.yaml", []string{"kind ClusterConfiguration appears twice", "document 1 (line 1)", "document 2 (line 5)"}},
		{"kubelet-unknown-field.yaml", []string{"document 2 (line 4)", "KubeletConfiguration.maxPod: unknown field", `did you mean "maxPods"?`}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := loadFile(t, tc.file)
			checkErr(t, err, tc.want)
		})
	}
}

func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\ndoes not contain %q", err, w)
		}
	}
}

func cmpDiff(want, got any) string { return cmp.Diff(want, got) }

// kubeadm describes its default token only without --config; a config
// that leaves the description out gets a token without one. Join and reset
// configs have no token.
func TestLoadDefaultTokenDescription(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want any
	}{
		{"apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n", ""},
		{"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n", ""},
		{"apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- description: mine\n", "mine"},
		{"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ResetConfiguration\n", nil},
	} {
		r, err := loadInit([]byte(tc.doc))
		if err != nil {
			t.Fatalf("%s: %v", tc.doc, err)
		}
		if got := r.Params["token_description"]; got != tc.want {
			t.Errorf("%s: token_description = %#v, want %#v", tc.doc, got, tc.want)
		}
	}
}
