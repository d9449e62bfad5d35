package kubeadmconfig

import (
	"strings"
	"testing"
)

const (
	initHdr    = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
	clusterHdr = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
	joinHdr    = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n"
	resetHdr   = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ResetConfiguration\n"
)

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string
		// notWant must not appear (secrets).
		notWant []string
	}{
		// File structure.
		{"empty file", "# nothing\n", []string{"holds no document"}, nil},
		{"duplicate yaml key", initHdr + "dryRun: false\ndryRun: true\n", []string{"not valid YAML", "line 4", `"dryRun" already set`}, nil},
		{"not a mapping", "- a\n- b\n", []string{"document 1 (line 1) is not a YAML mapping"}, nil},
		{"missing kind", "apiVersion: kubeadm.k8s.io/v1beta4\n", []string{"apiVersion and kind are required"}, nil},
		{"v1beta2", "apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\n", []string{"removed long ago", "kubeadm v1.22"}, nil},
		{"unknown kubeadm version", "apiVersion: kubeadm.k8s.io/v1\nkind: Foo\n", []string{`unknown apiVersion "kubeadm.k8s.io/v1"`}, nil},
		{"kind with wrong kubeadm version", "apiVersion: kubeadm.k8s.io/v1\nkind: InitConfiguration\n", []string{"must have apiVersion kubeadm.k8s.io/v1beta4", "kubeadm config migrate"}, nil},
		{"unknown kind", "apiVersion: v1\nkind: ConfigMap\n", []string{`unknown kind "ConfigMap"`, "known kinds:", "kubeadm.k8s.io/v1beta4 InitConfiguration"}, nil},
		{"upgrade", "apiVersion: kubeadm.k8s.io/v1beta4\nkind: UpgradeConfiguration\n", []string{"UpgradeConfiguration is not supported"}, nil},
		{"kubelet wrong version", "apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n", []string{"KubeletConfiguration must have apiVersion kubelet.config.k8s.io/v1beta1"}, nil},
		{"kube-proxy unknown field", "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmdoe: ipvs\n", []string{"KubeProxyConfiguration.mdoe: unknown field", `did you mean "mode"?`}, nil},
		{"kubelet nested unknown field", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  x509:\n    clientCAFil: /a\n", []string{"KubeletConfiguration.authentication.x509.clientCAFil: unknown field", `did you mean "clientCAFile"?`}, nil},

		// Strict decoding.
		{"case sensitive", clusterHdr + "networking:\n  PodSubnet: 10.244.0.0/16\n", []string{"ClusterConfiguration.networking.PodSubnet: unknown field", `did you mean "podSubnet"?`}, nil},
		{"unknown field in list", initHdr + "bootstrapTokens:\n- token: abcdef.0123456789abcdef\n  tll: 1h\n", []string{"InitConfiguration.bootstrapTokens[0].tll: unknown field", `did you mean "ttl"?`}, nil},
		{"v1beta3 field", clusterHdr + "apiServer:\n  timeoutForControlPlane: 4m\n", []string{"ClusterConfiguration.apiServer.timeoutForControlPlane: unknown field; it is a v1beta3 field: use InitConfiguration.timeouts.controlPlaneComponentHealthCheck"}, nil},
		{"wrong type", initHdr + "localAPIEndpoint:\n  bindPort: \"6443\"\n", []string{"InitConfiguration.localAPIEndpoint.bindPort: got a string, want an integer"}, nil},
		{"v1beta3 extraArgs map", clusterHdr + "apiServer:\n  extraArgs:\n    v: \"2\"\n", []string{"ClusterConfiguration.apiServer.extraArgs: got a mapping, want a list", "kubeadm config migrate"}, nil},
		{"number for string", clusterHdr + "kubernetesVersion: 1.36\n", []string{"ClusterConfiguration.kubernetesVersion: got a number, want a string; quote the value"}, nil},

		// Networking.
		{"bad cidr", clusterHdr + "networking:\n  podSubnet: 10.244.0.0/33\n", []string{"ClusterConfiguration.networking.podSubnet", "not a valid CIDR"}, nil},
		{"three cidrs", clusterHdr + "networking:\n  serviceSubnet: 10.96.0.0/16,fd00::/112,10.97.0.0/16\n", []string{"networking.serviceSubnet", "has 3 CIDRs"}, nil},
		{"same family twice", clusterHdr + "networking:\n  serviceSubnet: 10.96.0.0/16,10.97.0.0/16\n", []string{"same IP family"}, nil},
		{"service subnet too large", clusterHdr + "networking:\n  serviceSubnet: 10.0.0.0/8\n", []string{"too large", "/12 or longer"}, nil},
		{"service subnet too small", clusterHdr + "networking:\n  serviceSubnet: 10.96.0.0/30\n", []string{"minimum is 10"}, nil},
		{"pod subnet smaller than node mask", clusterHdr + "networking:\n  podSubnet: 10.244.0.0/25\n", []string{"smaller than one node's range (/24)"}, nil},
		{"pod subnet mask vs node mask", clusterHdr + "networking:\n  podSubnet: 10.0.0.0/6\n", []string{"differ by more than 16"}, nil},
		{"bad dns domain", clusterHdr + "networking:\n  dnsDomain: Cluster_Local\n", []string{"networking.dnsDomain", "not a valid DNS name"}, nil},

		// Endpoints and addresses.
		{"port 0", initHdr + "localAPIEndpoint:\n  bindPort: 0\n", []string{"InitConfiguration.localAPIEndpoint.bindPort: port 0 is out of range"}, nil},
		{"port too big", initHdr + "localAPIEndpoint:\n  bindPort: 70000\n", []string{"port 70000 is out of range; use 1-65535"}, nil},
		{"advertise not ip", initHdr + "localAPIEndpoint:\n  advertiseAddress: node1\n", []string{"advertiseAddress", `"node1" is not an IP address`}, nil},
		{"cpe bad port", clusterHdr + "controlPlaneEndpoint: lb:99999\n", []string{"controlPlaneEndpoint", "must be a number between 1 and 65535"}, nil},
		{"cpe bad host", clusterHdr + "controlPlaneEndpoint: LB_1\n", []string{"controlPlaneEndpoint", "must be an IP address or a DNS name"}, nil},

		// Secrets and tokens.
		{"bad token", initHdr + "bootstrapTokens:\n- token: ABCDEF.0123456789abcdef\n", []string{"bootstrapTokens[0].token: is not a valid bootstrap token"}, []string{"ABCDEF"}},
		{"ttl and expires", initHdr + "bootstrapTokens:\n- ttl: 1h\n  expires: \"2030-01-01T00:00:00Z\"\n", []string{"ttl and expires are mutually exclusive"}, nil},
		{"bad ttl", initHdr + "bootstrapTokens:\n- ttl: 1day\n", []string{"bootstrapTokens[0].ttl", `"1day" is not a duration`}, nil},
		{"ttl as number", initHdr + "bootstrapTokens:\n- ttl: 0\n", []string{"InitConfiguration.bootstrapTokens.ttl: got a number, want a string"}, nil},
		{"bad expires", initHdr + "bootstrapTokens:\n- expires: tomorrow\n", []string{"bootstrapTokens[0].expires", "RFC 3339"}, nil},
		{"bad usage", initHdr + "bootstrapTokens:\n- usages: [signing, flying]\n", []string{"bootstrapTokens[0].usages", "flying"}, nil},
		{"groups without authentication", initHdr + "bootstrapTokens:\n- usages: [signing]\n  groups: [\"system:bootstrappers:x\"]\n", []string{"groups need the \"authentication\" usage"}, nil},
		{"bad group", initHdr + "bootstrapTokens:\n- groups: [admins]\n", []string{"bootstrapTokens[0].groups", "admins"}, nil},
		{"bad certificate key", initHdr + "certificateKey: deadbeefSECRET\n", []string{"InitConfiguration.certificateKey: must be 64 hexadecimal characters", "got 14 characters"}, []string{"deadbeef"}},

		// Node registration.
		{"cri tcp", initHdr + "nodeRegistration:\n  criSocket: tcp://127.0.0.1:1234\n", []string{"criSocket", "only the unix:// scheme"}, nil},
		{"cri relative", initHdr + "nodeRegistration:\n  criSocket: run/containerd.sock\n", []string{"criSocket", "neither a unix:// URL nor an absolute socket path"}, nil},
		{"bad node name", initHdr + "nodeRegistration:\n  name: Node_1\n", []string{"nodeRegistration.name", "lower-case DNS names"}, nil},
		{"taint bad effect", initHdr + "nodeRegistration:\n  taints:\n  - key: a\n    effect: NoRun\n", []string{"nodeRegistration.taints[0].effect", "NoSchedule, PreferNoSchedule or NoExecute"}, nil},
		{"taint bad key", initHdr + "nodeRegistration:\n  taints:\n  - key: -a\n    effect: NoSchedule\n", []string{"nodeRegistration.taints[0].key", "not a valid taint key"}, nil},
		{"taint timeAdded", initHdr + "nodeRegistration:\n  taints:\n  - key: a\n    effect: NoExecute\n    timeAdded: \"2024-01-01T00:00:00Z\"\n", []string{"taints[0].timeAdded"}, nil},
		{"ignore all plus", initHdr + "nodeRegistration:\n  ignorePreflightErrors: [all, Swap]\n", []string{"ignorePreflightErrors", `"all" together with other checks`}, nil},
		{"pull policy", initHdr + "nodeRegistration:\n  imagePullPolicy: Sometimes\n", []string{"imagePullPolicy", "Always, IfNotPresent or Never"}, nil},
		{"kubelet args dup", initHdr + "nodeRegistration:\n  kubeletExtraArgs:\n  - {name: v, value: \"1\"}\n  - {name: v, value: \"2\"}\n", []string{"kubeletExtraArgs[1].name", `flag "v" is given twice`}, nil},

		// Control-plane components.
		{"args dashes", clusterHdr + "apiServer:\n  extraArgs:\n  - {name: --v, value: \"2\"}\n", []string{"apiServer.extraArgs[0].name", "without leading dashes"}, nil},
		{"args no name", clusterHdr + "scheduler:\n  extraArgs:\n  - {value: \"2\"}\n", []string{"scheduler.extraArgs[0].name: argument has no name"}, nil},
		{"volume relative", clusterHdr + "apiServer:\n  extraVolumes:\n  - {name: a, hostPath: var/a, mountPath: /a}\n", []string{"apiServer.extraVolumes[0].hostPath", "not an absolute path"}, nil},
		{"volume bad type", clusterHdr + "apiServer:\n  extraVolumes:\n  - {name: a, hostPath: /a, mountPath: /a, pathType: Dir}\n", []string{"extraVolumes[0].pathType", "not a hostPath type"}, nil},
		{"volume dup", clusterHdr + "controllerManager:\n  extraVolumes:\n  - {name: a, hostPath: /a, mountPath: /a}\n  - {name: a, hostPath: /b, mountPath: /b}\n", []string{"extraVolumes[1].name", "must be unique"}, nil},
		{"env secret", clusterHdr + "apiServer:\n  extraEnvs:\n  - name: A\n    valueFrom:\n      secretKeyRef: {name: s, key: k}\n", []string{"apiServer.extraEnvs[0].valueFrom", "static Pod cannot read"}, nil},
		{"cert san", clusterHdr + "apiServer:\n  certSANs: [\"bad_name\"]\n", []string{"apiServer.certSANs[0]", "not an IP address, a DNS name"}, nil},
		{"etcd san", clusterHdr + "etcd:\n  local:\n    serverCertSANs: [\"a b\"]\n", []string{"etcd.local.serverCertSANs[0]"}, nil},

		// Cluster-wide.
		{"encryption", clusterHdr + "encryptionAlgorithm: RSA-1024\n", []string{"encryptionAlgorithm", `"RSA-1024" is not supported`, "ECDSA-P256"}, nil},
		{"version label", clusterHdr + "kubernetesVersion: stable-1\n", []string{"kubernetesVersion", "not an exact version"}, nil},
		{"image repo scheme", clusterHdr + "imageRepository: https://registry.k8s.io\n", []string{"imageRepository", "not a valid image repository"}, nil},
		{"image tag", clusterHdr + "dns:\n  imageTag: \"-bad\"\n", []string{"dns.imageTag", "not a valid image tag"}, nil},
		{"cert dir", clusterHdr + "certificatesDir: pki\n", []string{"certificatesDir", "not an absolute path"}, nil},
		{"validity", clusterHdr + "certificateValidityPeriod: 1y\n", []string{"certificateValidityPeriod", "not a duration"}, nil},
		{"gate unknown", clusterHdr + "featureGates:\n  Foo: true\n", []string{"featureGates.Foo: is not a kubeadm v1.36 feature gate"}, nil},
		{"gate rootless", clusterHdr + "featureGates:\n  RootlessControlPlane: true\n", []string{"featureGates.RootlessControlPlane is not supported"}, nil},
		{"gate ecdsa", clusterHdr + "featureGates:\n  PublicKeysECDSA: true\n", []string{"encryptionAlgorithm: ECDSA-P256"}, nil},
		{"gate locked", clusterHdr + "featureGates:\n  NodeLocalCRISocket: false\n", []string{"locked to true"}, nil},
		{"etcd both", clusterHdr + "etcd:\n  local: {}\n  external: {endpoints: [\"https://a:2379\"]}\n", []string{"ClusterConfiguration.etcd: local and external are mutually exclusive"}, nil},
		{"etcd external http with tls", clusterHdr + "etcd:\n  external:\n    endpoints: [\"http://a:2379\"]\n    caFile: /ca.crt\n", []string{"etcd.external.endpoints[0]", "must use https"}, nil},
		{"etcd external cert without key", clusterHdr + "etcd:\n  external:\n    endpoints: [\"https://a:2379\"]\n    caFile: /ca.crt\n    certFile: /c.crt\n", []string{"certFile and keyFile go together"}, nil},
		{"etcd external no endpoints", clusterHdr + "etcd:\n  external: {}\n", []string{"etcd.external.endpoints: at least one endpoint"}, nil},
		{"etcd external no scheme", clusterHdr + "etcd:\n  external:\n    endpoints: [\"10.0.0.5:2379\"]\n", []string{"etcd.external.endpoints[0]", "is not a URL", "https://10.0.0.5:2379"}, nil},
		{"etcd data dir", clusterHdr + "etcd:\n  local:\n    dataDir: etcd\n", []string{"etcd.local.dataDir", "not an absolute path"}, nil},

		// Unsupported fields.
		{"patches", initHdr + "patches:\n  directory: /etc/kubeadm/patches\n", []string{"InitConfiguration.patches.directory is not supported", "fork recipes/init.star"}, nil},
		{"dry run", initHdr + "dryRun: true\n", []string{"InitConfiguration.dryRun is not supported", "--dry-run"}, nil},
		{"bad timeout", initHdr + "timeouts:\n  kubeletHealthCheck: soon\n", []string{"InitConfiguration.timeouts.kubeletHealthCheck", "not a duration"}, nil},

		// Join.
		{"join both discoveries", joinHdr + "discovery:\n  bootstrapToken: {token: abcdef.0123456789abcdef}\n  file: {kubeConfigPath: /a}\n", []string{"JoinConfiguration.discovery: bootstrapToken and file are mutually exclusive"}, nil},
		{"join bad hash", joinHdr + "discovery:\n  bootstrapToken:\n    caCertHashes: [\"md5:abc\"]\n", []string{"discovery.bootstrapToken.caCertHashes[0]", "sha256:<64 hex characters>"}, nil},
		{"join bad endpoint", joinHdr + "discovery:\n  bootstrapToken:\n    apiServerEndpoint: lb.example.com\n", []string{"apiServerEndpoint", "must be host:port"}, nil},
		{"join bad token", joinHdr + "discovery:\n  bootstrapToken:\n    token: short.secretvalue\n", []string{"discovery.bootstrapToken.token: is not a valid bootstrap token"}, []string{"secretvalue"}},
		{"join bad tls token", joinHdr + "discovery:\n  tlsBootstrapToken: nope\n", []string{"discovery.tlsBootstrapToken: is not a valid bootstrap token"}, nil},
		{"join ca path", joinHdr + "caCertPath: /etc/kubernetes/pki/ca.pem\n", []string{"caCertPath", ".crt file"}, nil},
		{"join file scheme", joinHdr + "discovery:\n  file:\n    kubeConfigPath: http://x/c\n", []string{"discovery.file.kubeConfigPath", "must use https"}, nil},
		{"join cp key", joinHdr + "controlPlane:\n  certificateKey: abc\n", []string{"controlPlane.certificateKey: must be 64 hexadecimal"}, nil},
		{"join cp port", joinHdr + "controlPlane:\n  localAPIEndpoint:\n    bindPort: -1\n", []string{"controlPlane.localAPIEndpoint.bindPort: port -1 is out of range"}, nil},

		// Reset.
		{"reset unmount", resetHdr + "unmountFlags: [MNT_LAZY]\n", []string{"ResetConfiguration.unmountFlags", `"MNT_LAZY" is not an unmount flag`}, nil},
		{"reset cri", resetHdr + "criSocket: npipe:////./pipe/x\n", []string{"ResetConfiguration.criSocket", "only the unix:// scheme"}, nil},

		// All problems are reported at once, across documents.
		{"aggregate", initHdr + "localAPIEndpoint:\n  bindPort: 0\n---\n" + clusterHdr + "networking:\n  podSubnet: nope\n",
			[]string{"kubeadm config has 2 problems", "InitConfiguration.localAPIEndpoint.bindPort", "ClusterConfiguration.networking.podSubnet"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadInit([]byte(tc.yaml))
			checkErr(t, err, tc.want)
			for _, nw := range tc.notWant {
				if err != nil && strings.Contains(err.Error(), nw) {
					t.Errorf("error %q reveals %q", err, nw)
				}
			}
		})
	}
}

func TestLoadOK(t *testing.T) {
	for _, tc := range []struct {
		name  string
		yaml  string
		param string
		want  any
		warn  string
	}{
		{"explicit no taints", initHdr + "nodeRegistration:\n  taints: []\n", "taints", []any{}, ""},
		{"cri without scheme", initHdr + "nodeRegistration:\n  criSocket: /run/containerd/containerd.sock\n", "cri_socket", "unix:///run/containerd/containerd.sock", "has no URL scheme"},
		{"cpe without port stays", clusterHdr + "controlPlaneEndpoint: lb.example.com\n", "control_plane_endpoint", "lb.example.com", ""},
		{"cpe ipv6", clusterHdr + "controlPlaneEndpoint: \"[fd00::1]:6443\"\n", "control_plane_endpoint", "[fd00::1]:6443", ""},
		{"cert sans lower-cased", clusterHdr + "apiServer:\n  certSANs: [Foo.Example.COM]\n", "cert_sans", []any{"foo.example.com"}, ""},
		{"v prefix kept", clusterHdr + "kubernetesVersion: v1.36.3\n", "kubernetes_version", "v1.36.3", ""},
		{"pod subnet with allocate-node-cidrs false", clusterHdr + "networking:\n  podSubnet: 10.244.0.0/28\ncontrollerManager:\n  extraArgs:\n  - {name: allocate-node-cidrs, value: \"false\"}\n", "pod_subnet", "10.244.0.0/28", ""},
		{"pod subnet with node mask", clusterHdr + "networking:\n  podSubnet: 10.244.0.0/26\ncontrollerManager:\n  extraArgs:\n  - {name: node-cidr-mask-size-ipv4, value: \"28\"}\n", "pod_subnet", "10.244.0.0/26", ""},
		{"validity warning", clusterHdr + "certificateValidityPeriod: 9000h\n", "certificate_validity", "9000h", "more than the recommended"},
		{"empty kubelet config", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n", "kubelet_config", map[string]any{}, ""},
		{"separator with comment", "--- # first\n" + initHdr + "skipPhases: [preflight]\n---\n", "skip_phases", []any{"preflight"}, ""},
		{"crlf", strings.ReplaceAll(initHdr+"nodeRegistration:\n  name: n1\n", "\n", "\r\n"), "node_name", "n1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := loadInit([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			checkSources(t, r)
			got, ok := r.Params[tc.param]
			if !ok {
				t.Fatalf("param %s not set; params: %v", tc.param, r.Params)
			}
			if d := cmpDiff(tc.want, got); d != "" {
				t.Errorf("%s (-want +got):\n%s", tc.param, d)
			}
			joined := strings.Join(r.Warnings, "\n")
			if tc.warn == "" && len(r.Warnings) > 0 {
				t.Errorf("unexpected warnings: %q", r.Warnings)
			}
			if tc.warn != "" && !strings.Contains(joined, tc.warn) {
				t.Errorf("warnings %q do not contain %q", r.Warnings, tc.warn)
			}
		})
	}
}
