package recipes_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/kubelark/kubelark/runtime/host"
)

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

// readPod decodes a written manifest strictly as a core/v1 Pod.
func readPod(t *testing.T, f *host.Fake, name string) *corev1.Pod {
	t.Helper()
	path := "/etc/kubernetes/manifests/" + name + ".yaml"
	data, _, ok := f.Get(path)
	if !ok {
		t.Fatalf("%s not written", path)
	}
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(data, &pod); err != nil {
		t.Fatalf("%s is not a core/v1 Pod: %v", path, err)
	}
	return &pod
}

// flagMap turns ["bin", "--a=1", "--b=2"] into {a: 1, b: 2} and checks the
// binary name.
func flagMap(t *testing.T, binary string, command []string) map[string]string {
	t.Helper()
	if len(command) == 0 || command[0] != binary {
		t.Fatalf("command %v does not start with %s", command, binary)
	}
	m := map[string]string{}
	for _, a := range command[1:] {
		name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok || !strings.HasPrefix(a, "--") {
			t.Errorf("%s: argument %q is not --name=value", binary, a)
		}
		if _, dup := m[name]; dup {
			t.Errorf("%s: flag --%s given twice", binary, name)
		}
		m[name] = value
	}
	return m
}

type vol struct {
	Name, Path, Type, MountPath string
	ReadOnly                    bool
}

// volumes joins a Pod's volumes with its container's mounts, in order.
func volumes(t *testing.T, pod *corev1.Pod) []vol {
	t.Helper()
	c := pod.Spec.Containers[0]
	if len(pod.Spec.Volumes) != len(c.VolumeMounts) {
		t.Fatalf("%s: %d volumes but %d mounts", pod.Name, len(pod.Spec.Volumes), len(c.VolumeMounts))
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m
	}
	var out []vol
	for _, v := range pod.Spec.Volumes {
		m, ok := mounts[v.Name]
		if !ok || v.HostPath == nil {
			t.Fatalf("%s: volume %s has no mount or is not a hostPath", pod.Name, v.Name)
		}
		typ := ""
		if v.HostPath.Type != nil {
			typ = string(*v.HostPath.Type)
		}
		out = append(out, vol{v.Name, v.HostPath.Path, typ, m.MountPath, m.ReadOnly})
	}
	return out
}

func probe(host, path string, scheme corev1.URIScheme, delay, timeout, period, failure int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Host: host, Path: path, Port: intstr.FromString("probe-port"), Scheme: scheme,
		}},
		InitialDelaySeconds: delay, TimeoutSeconds: timeout, PeriodSeconds: period, FailureThreshold: failure,
	}
}

func liveness(host, path string, s corev1.URIScheme) *corev1.Probe {
	return probe(host, path, s, 10, 15, 10, 8)
}
func readiness(host, path string, s corev1.URIScheme) *corev1.Probe {
	return probe(host, path, s, 0, 15, 1, 3)
}
func startup(host, path string, s corev1.URIScheme) *corev1.Probe {
	return probe(host, path, s, 10, 15, 10, 24)
}

type wantPod struct {
	name, binary, image, cpu, memory string
	port                             int32
	flags                            map[string]string
	volumes                          []vol
	liveness, readiness, startup     *corev1.Probe
	annotations                      map[string]string
}

const pki = "/etc/kubernetes/pki"

// kubeadmPods are kubeadm-facts §3 for the default configuration on node1.
var kubeadmPods = []wantPod{
	{
		name: "kube-apiserver", binary: "kube-apiserver", image: "registry.k8s.io/kube-apiserver:v1.36.3", cpu: "250m", port: 6443,
		flags: map[string]string{
			"advertise-address": "10.0.0.10", "allow-privileged": "true", "authorization-mode": "Node,RBAC",
			"client-ca-file": pki + "/ca.crt", "enable-admission-plugins": "NodeRestriction", "enable-bootstrap-token-auth": "true",
			"etcd-cafile": pki + "/etcd/ca.crt", "etcd-certfile": pki + "/apiserver-etcd-client.crt", "etcd-keyfile": pki + "/apiserver-etcd-client.key",
			"etcd-servers": "https://127.0.0.1:2379", "kubelet-client-certificate": pki + "/apiserver-kubelet-client.crt",
			"kubelet-client-key": pki + "/apiserver-kubelet-client.key", "kubelet-preferred-address-types": "InternalIP,ExternalIP,Hostname",
			"proxy-client-cert-file": pki + "/front-proxy-client.crt", "proxy-client-key-file": pki + "/front-proxy-client.key",
			"requestheader-allowed-names": "front-proxy-client", "requestheader-client-ca-file": pki + "/front-proxy-ca.crt",
			"requestheader-extra-headers-prefix": "X-Remote-Extra-", "requestheader-group-headers": "X-Remote-Group",
			"requestheader-username-headers": "X-Remote-User", "secure-port": "6443",
			"service-account-issuer": "https://kubernetes.default.svc.cluster.local", "service-account-key-file": pki + "/sa.pub",
			"service-account-signing-key-file": pki + "/sa.key", "service-cluster-ip-range": "10.96.0.0/12",
			"tls-cert-file": pki + "/apiserver.crt", "tls-private-key-file": pki + "/apiserver.key",
		},
		volumes: []vol{
			{"ca-certs", "/etc/ssl/certs", "DirectoryOrCreate", "/etc/ssl/certs", true},
			{"k8s-certs", pki, "DirectoryOrCreate", pki, true},
		},
		liveness: liveness("10.0.0.10", "/livez", "HTTPS"), readiness: readiness("10.0.0.10", "/readyz", "HTTPS"), startup: startup("10.0.0.10", "/livez", "HTTPS"),
		annotations: map[string]string{"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": "10.0.0.10:6443"},
	},
	{
		name: "kube-controller-manager", binary: "kube-controller-manager", image: "registry.k8s.io/kube-controller-manager:v1.36.3", cpu: "200m", port: 10257,
		flags: map[string]string{
			"authentication-kubeconfig": "/etc/kubernetes/controller-manager.conf", "authorization-kubeconfig": "/etc/kubernetes/controller-manager.conf",
			"bind-address": "127.0.0.1", "client-ca-file": pki + "/ca.crt", "cluster-name": "kubernetes",
			"cluster-signing-cert-file": pki + "/ca.crt", "cluster-signing-key-file": pki + "/ca.key",
			"controllers": "*,bootstrapsigner,tokencleaner", "kubeconfig": "/etc/kubernetes/controller-manager.conf", "leader-elect": "true",
			"requestheader-client-ca-file": pki + "/front-proxy-ca.crt", "root-ca-file": pki + "/ca.crt",
			"service-account-private-key-file": pki + "/sa.key", "use-service-account-credentials": "true",
		},
		volumes: []vol{
			{"ca-certs", "/etc/ssl/certs", "DirectoryOrCreate", "/etc/ssl/certs", true},
			{"k8s-certs", pki, "DirectoryOrCreate", pki, true},
			{"kubeconfig", "/etc/kubernetes/controller-manager.conf", "FileOrCreate", "/etc/kubernetes/controller-manager.conf", true},
		},
		liveness: liveness("127.0.0.1", "/healthz", "HTTPS"), startup: startup("127.0.0.1", "/healthz", "HTTPS"),
	},
	{
		name: "kube-scheduler", binary: "kube-scheduler", image: "registry.k8s.io/kube-scheduler:v1.36.3", cpu: "100m", port: 10259,
		flags: map[string]string{
			"authentication-kubeconfig": "/etc/kubernetes/scheduler.conf", "authorization-kubeconfig": "/etc/kubernetes/scheduler.conf",
			"bind-address": "127.0.0.1", "kubeconfig": "/etc/kubernetes/scheduler.conf", "leader-elect": "true",
		},
		volumes:  []vol{{"kubeconfig", "/etc/kubernetes/scheduler.conf", "FileOrCreate", "/etc/kubernetes/scheduler.conf", true}},
		liveness: liveness("127.0.0.1", "/livez", "HTTPS"), readiness: readiness("127.0.0.1", "/readyz", "HTTPS"), startup: startup("127.0.0.1", "/livez", "HTTPS"),
	},
	{
		name: "etcd", binary: "etcd", image: "registry.k8s.io/etcd:3.6.8-0", cpu: "100m", memory: "100Mi", port: 2381,
		flags: map[string]string{
			"advertise-client-urls": "https://10.0.0.10:2379", "cert-file": pki + "/etcd/server.crt", "client-cert-auth": "true",
			"data-dir": "/var/lib/etcd", "feature-gates": "InitialCorruptCheck=true", "initial-advertise-peer-urls": "https://10.0.0.10:2380",
			"initial-cluster": "node1=https://10.0.0.10:2380", "key-file": pki + "/etcd/server.key",
			"listen-client-urls": "https://127.0.0.1:2379,https://10.0.0.10:2379", "listen-metrics-urls": "http://127.0.0.1:2381",
			"listen-peer-urls": "https://10.0.0.10:2380", "name": "node1", "peer-cert-file": pki + "/etcd/peer.crt",
			"peer-client-cert-auth": "true", "peer-key-file": pki + "/etcd/peer.key", "peer-trusted-ca-file": pki + "/etcd/ca.crt",
			"snapshot-count": "10000", "trusted-ca-file": pki + "/etcd/ca.crt", "watch-progress-notify-interval": "5s",
		},
		volumes: []vol{
			{"etcd-certs", pki + "/etcd", "DirectoryOrCreate", pki + "/etcd", false},
			{"etcd-data", "/var/lib/etcd", "DirectoryOrCreate", "/var/lib/etcd", false},
		},
		liveness: liveness("127.0.0.1", "/livez", "HTTP"), readiness: readiness("127.0.0.1", "/readyz", "HTTP"), startup: startup("127.0.0.1", "/readyz", "HTTP"),
		annotations: map[string]string{"kubeadm.kubernetes.io/etcd.advertise-client-urls": "https://10.0.0.10:2379"},
	},
}

// TestManifestsMatchKubeadm decodes the four manifests as core/v1 Pods
// and compares flags (as a map, and sorted order), volumes, probes and the
// common skeleton with kubeadm's.
func TestManifestsMatchKubeadm(t *testing.T) {
	f := initOnFake(t, "")
	for _, w := range kubeadmPods {
		pod := readPod(t, f, w.name)
		if pod.APIVersion != "v1" || pod.Kind != "Pod" || pod.Name != w.name || pod.Namespace != "kube-system" {
			t.Errorf("%s: %s/%s %s/%s", w.name, pod.APIVersion, pod.Kind, pod.Namespace, pod.Name)
		}
		if diff := cmp.Diff(map[string]string{"component": w.name, "tier": "control-plane"}, pod.Labels); diff != "" {
			t.Errorf("%s labels (-want +got):\n%s", w.name, diff)
		}
		if diff := cmp.Diff(w.annotations, pod.Annotations); diff != "" {
			t.Errorf("%s annotations (-want +got):\n%s", w.name, diff)
		}
		s := pod.Spec
		if !s.HostNetwork || s.PriorityClassName != "system-node-critical" || s.Priority == nil || *s.Priority != 2000001000 ||
			s.SecurityContext == nil || s.SecurityContext.SeccompProfile == nil || s.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault ||
			s.DNSPolicy != "" || len(s.Containers) != 1 {
			t.Errorf("%s: pod skeleton differs from kubeadm's: %+v", w.name, s)
			continue
		}
		c := s.Containers[0]
		if c.Name != w.name || c.Image != w.image || c.ImagePullPolicy != corev1.PullIfNotPresent {
			t.Errorf("%s: container %s image %s pull %s", w.name, c.Name, c.Image, c.ImagePullPolicy)
		}
		if diff := cmp.Diff(w.flags, flagMap(t, w.binary, c.Command)); diff != "" {
			t.Errorf("%s flags (-want +got):\n%s", w.name, diff)
		}
		if args := c.Command[1:]; !isSorted(args) {
			t.Errorf("%s: default flags not sorted by name: %v", w.name, args)
		}
		if diff := cmp.Diff(w.volumes, volumes(t, pod)); diff != "" {
			t.Errorf("%s volumes (-want +got):\n%s", w.name, diff)
		}
		want := []corev1.ContainerPort{{Name: "probe-port", ContainerPort: w.port, Protocol: corev1.ProtocolTCP}}
		if diff := cmp.Diff(want, c.Ports); diff != "" {
			t.Errorf("%s ports (-want +got):\n%s", w.name, diff)
		}
		for _, p := range []struct {
			what      string
			want, got *corev1.Probe
		}{{"liveness", w.liveness, c.LivenessProbe}, {"readiness", w.readiness, c.ReadinessProbe}, {"startup", w.startup, c.StartupProbe}} {
			if diff := cmp.Diff(p.want, p.got); diff != "" {
				t.Errorf("%s %s probe (-want +got):\n%s", w.name, p.what, diff)
			}
		}
		if got := c.Resources.Requests.Cpu().String(); got != w.cpu || len(c.Resources.Limits) != 0 {
			t.Errorf("%s: cpu request %s limits %v, want %s and no limits", w.name, got, c.Resources.Limits, w.cpu)
		}
		if w.memory != "" && c.Resources.Requests.Memory().String() != w.memory {
			t.Errorf("%s: memory request %s, want %s", w.name, c.Resources.Requests.Memory(), w.memory)
		}
		if len(c.Env) != 0 {
			t.Errorf("%s: env %v without any *_proxy variable or extra env", w.name, c.Env)
		}
	}
	// etcd mounts are listed data first, as kubeadm writes them.
	etcd := readPod(t, f, "etcd")
	if m := etcd.Spec.Containers[0].VolumeMounts; len(m) != 2 || m[0].Name != "etcd-data" || m[1].Name != "etcd-certs" {
		t.Errorf("etcd mounts %v, want etcd-data then etcd-certs", m)
	}
}

func isSorted(args []string) bool {
	for i := 1; i < len(args); i++ {
		a, _, _ := strings.Cut(args[i-1], "=")
		b, _, _ := strings.Cut(args[i], "=")
		if a > b {
			return false
		}
	}
	return true
}

// TestExtrasApplyLikeKubeadm checks extra args (defaults of the same name
// removed, extras appended), extra volumes (same name replaces a default),
// env (*_proxy merged with extra envs, sorted; none for etcd), probe hosts
// following bind-address / listen-metrics-urls, and the kubelet files.
func TestExtrasApplyLikeKubeadm(t *testing.T) {
	f := newFake()
	for _, c := range goldenCases {
		if c.name == "extras" {
			c.setup(f)
		}
	}
	if _, out, err := runInit(t, f, false, "extras.yaml"); err != nil {
		t.Fatalf("init failed: %v\n%s", err, out)
	}
	api := readPod(t, f, "kube-apiserver")
	cmdline := api.Spec.Containers[0].Command
	tail := cmdline[len(cmdline)-3:]
	// YAML maps reach the recipe with sorted keys, so extras follow in key order.
	wantTail := []string{"--audit-log-path=/var/log/kubernetes/audit.log", "--authorization-mode=Node,RBAC,Webhook", "--enable-admission-plugins=NodeRestriction,PodSecurity"}
	if diff := cmp.Diff(wantTail, tail); diff != "" {
		t.Errorf("apiserver extra args not appended after the defaults (-want +got):\n%s", diff)
	}
	flags := flagMap(t, "kube-apiserver", cmdline)
	if flags["authorization-mode"] != "Node,RBAC,Webhook" {
		t.Errorf("authorization-mode = %q", flags["authorization-mode"])
	}
	wantVols := []vol{
		{"audit", "/var/log/kubernetes", "DirectoryOrCreate", "/var/log/kubernetes", false},
		{"ca-certs", "/etc/custom/certs", "", "/etc/ssl/certs", true},
		{"etc-ca-certificates", "/etc/ca-certificates", "DirectoryOrCreate", "/etc/ca-certificates", true},
		{"k8s-certs", pki, "DirectoryOrCreate", pki, true},
	}
	if diff := cmp.Diff(wantVols, volumes(t, api)); diff != "" {
		t.Errorf("apiserver volumes (-want +got):\n%s", diff)
	}
	wantEnv := []corev1.EnvVar{
		{Name: "GODEBUG", Value: "x509sha1=1"},
		{Name: "HTTPS_PROXY", Value: "http://other-proxy.example.com:3128"},
		{Name: "no_proxy", Value: "10.0.0.0/8,.svc"},
	}
	if diff := cmp.Diff(wantEnv, api.Spec.Containers[0].Env); diff != "" {
		t.Errorf("apiserver env (-want +got):\n%s", diff)
	}
	kcm := readPod(t, f, "kube-controller-manager").Spec.Containers[0]
	if kcm.LivenessProbe.HTTPGet.Host != "" || kcm.StartupProbe.HTTPGet.Host != "" {
		t.Errorf("controller-manager bound to 0.0.0.0 must probe the Pod IP (empty host), got %q", kcm.LivenessProbe.HTTPGet.Host)
	}
	if kf := flagMap(t, "kube-controller-manager", kcm.Command); kf["bind-address"] != "0.0.0.0" || kf["cluster-cidr"] != "192.168.0.0/16" || kf["allocate-node-cidrs"] != "true" {
		t.Errorf("controller-manager flags %v", kf)
	}
	etcd := readPod(t, f, "etcd").Spec.Containers[0]
	if diff := cmp.Diff([]corev1.EnvVar{{Name: "ETCD_UNSUPPORTED_ARCH", Value: "arm64"}}, etcd.Env); diff != "" {
		t.Errorf("etcd env (-want +got):\n%s", diff)
	}
	if etcd.LivenessProbe.HTTPGet.Host != "0.0.0.0" || etcd.Ports[0].ContainerPort != 2381 {
		t.Errorf("etcd probe %+v port %d, want host from listen-metrics-urls", etcd.LivenessProbe.HTTPGet, etcd.Ports[0].ContainerPort)
	}
	sched := readPod(t, f, "kube-scheduler")
	if got := volumes(t, sched); len(got) != 2 || got[1].Name != "scheduler-config" || got[1].Type != "File" {
		t.Errorf("scheduler volumes %v", got)
	}

	flagsEnv, _, _ := f.Get("/var/lib/kubelet/kubeadm-flags.env")
	if want := "KUBELET_KUBEADM_ARGS=\"--hostname-override=node-a --node-ip=10.0.0.10\"\n"; string(flagsEnv) != want {
		t.Errorf("kubeadm-flags.env = %q, want %q", flagsEnv, want)
	}
	var kc map[string]any
	data, _, _ := f.Get("/var/lib/kubelet/config.yaml")
	if err := yaml.Unmarshal(data, &kc); err != nil {
		t.Fatal(err)
	}
	if kc["maxPods"] != float64(200) || kc["cgroupDriver"] != "cgroupfs" || kc["rotateCertificates"] != true ||
		kc["containerRuntimeEndpoint"] != "unix:///var/run/containerd/containerd.sock" {
		t.Errorf("config.yaml does not merge kubelet_config over kubeadm's defaults:\n%s", data)
	}
	auth := kc["authentication"].(map[string]any)
	if auth["webhook"].(map[string]any)["cacheTTL"] != "1m0s" || auth["webhook"].(map[string]any)["enabled"] != true ||
		auth["x509"].(map[string]any)["clientCAFile"] != "/etc/kubernetes/pki/ca.crt" {
		t.Errorf("config.yaml authentication not deep-merged: %v", auth)
	}
}

// TestKubeletFilesDefaults checks the three kubelet files of a default init.
func TestKubeletFilesDefaults(t *testing.T) {
	f := initOnFake(t, "")
	for path, want := range map[string]string{
		"/var/lib/kubelet/kubeadm-flags.env":    "KUBELET_KUBEADM_ARGS=\"\"\n",
		"/var/lib/kubelet/instance-config.yaml": "containerRuntimeEndpoint: \"unix:///var/run/containerd/containerd.sock\"\n",
	} {
		if got, _, _ := f.Get(path); string(got) != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	data, _, _ := f.Get("/var/lib/kubelet/config.yaml")
	var kc map[string]any
	if err := yaml.Unmarshal(data, &kc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
		"staticPodPath": "/etc/kubernetes/manifests", "clusterDNS": []any{"10.96.0.10"}, "clusterDomain": "cluster.local",
		"healthzBindAddress": "127.0.0.1", "healthzPort": float64(10248), "rotateCertificates": true, "cgroupDriver": "systemd",
		"containerRuntimeEndpoint": "unix:///var/run/containerd/containerd.sock",
	}
	for k, v := range want {
		if diff := cmp.Diff(v, kc[k]); diff != "" {
			t.Errorf("config.yaml %s (-want +got):\n%s", k, diff)
		}
	}
	if ro, ok := kc["readOnlyPort"]; ok && ro != float64(0) {
		t.Errorf("readOnlyPort = %v", ro)
	}
}
