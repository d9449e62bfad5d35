package stdlib_test

// Tests of the API phases of kubeadm init (waitcontrolplane, uploadconfig,
// uploadcerts, markcontrolplane, bootstrap, kubeletfinalize, addons,
// joincommand): the embedded recipes/init.star runs the local phases and then
// the API phases on a dry-run host, and every object of kubeadm-facts §5
// must come out of it as an api.apply action with kubeadm's content.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/kubelark/kubelark/recipes"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.starlark.net/starlark"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/kubelark/kubelark/builtins"
	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
	"github.com/kubelark/kubelark/runtime/kubeadmconfig"
	"github.com/kubelark/kubelark/stdlib"
)

// apiRecipe is the real embedded init recipe: the API phases are tested as
// users run them, not through a copy of the recipe that could drift.
const apiRecipe = "init"

// registry returns the builtins, plus recording stand-ins for the service
// and preflight builtins when this tree does not have them yet (they live
// in another branch; the stand-ins are used only when absent).
type apiRun struct {
	plan *runtime.Plan
	out  string
	host *host.Fake
}

func runAPI(t *testing.T, setup func(*host.Fake), set ...string) *apiRun {
	t.Helper()
	return runAPIValues(t, setup, "", set...)
}

// runAPIValues is runAPI with a --values file.
func runAPIValues(t *testing.T, setup func(*host.Fake), values string, set ...string) *apiRun {
	t.Helper()
	f := host.NewFake()
	f.FDryRun = true
	if setup != nil {
		setup(f)
	}
	var out bytes.Buffer
	plan, err := runtime.Run(context.Background(), runtime.Options{
		Recipe:     apiRecipe,
		RecipeFS:   recipes.FS,
		StdlibFS:   stdlib.FS,
		Set:        set,
		ValuesFile: values,
		DryRun:     true,
		Host:       f,
		Registry:   builtins.Registry(),
		Out:        &out,
	})
	// The bare fake is no prepared node: a real run would stop at
	// preflight, which these tests of the API phases do not care about.
	var stop *runtime.DryRunStopError
	if err != nil && !errors.As(err, &stop) {
		t.Fatalf("init failed: %v\noutput:\n%s", err, out.String())
	}
	return &apiRun{plan: plan, out: out.String(), host: f}
}

// applied returns the api.apply actions in order, by target.
func (r *apiRun) applied() ([]string, map[string]runtime.Action) {
	var order []string
	byTarget := map[string]runtime.Action{}
	for _, a := range r.plan.Actions {
		if a.Op == "api.apply" {
			order = append(order, a.Target)
			byTarget[a.Target] = a
		}
	}
	return order, byTarget
}

func (r *apiRun) object(t *testing.T, target string) map[string]any {
	t.Helper()
	_, by := r.applied()
	a, ok := by[target]
	if !ok {
		t.Fatalf("no api.apply of %s", target)
	}
	return a.Object
}

// get walks a path of map keys and list indexes.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("path %v: %v is not a map", path, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("path %v: %v is not a list with index %d", path, v, k)
			}
			v = l[k]
		}
	}
	return v
}

func str(t *testing.T, v any, path ...any) string {
	t.Helper()
	s, ok := get(t, v, path...).(string)
	if !ok {
		t.Fatalf("path %v: not a string: %#v", path, get(t, v, path...))
	}
	return s
}

// jsonish normalizes a value through YAML so literals compare with plan
// objects (ints as float64 etc.).
func jsonish(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func planJSON(t *testing.T, p *runtime.Plan) string {
	var b bytes.Buffer
	if err := p.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

const (
	rbacV1        = "rbac.authorization.k8s.io/v1/"
	bootstrappers = "system:bootstrappers:kubeadm:default-node-token"
)

// TestAPIPhasesObjects checks the order and content of kubeadm-facts §5
// #0-#33 (without upload-certs).
func TestAPIPhasesObjects(t *testing.T) {
	r := runAPI(t, nil, "token=abcdef.0123456789abcdef", "pod_subnet=192.168.0.0/16")
	order, _ := r.applied()
	want := []string{
		rbacV1 + "ClusterRoleBinding/kubeadm:cluster-admins",
		"v1/ConfigMap/kube-system/kubeadm-config",
		rbacV1 + "Role/kube-system/kubeadm:nodes-kubeadm-config",
		rbacV1 + "RoleBinding/kube-system/kubeadm:nodes-kubeadm-config",
		"v1/ConfigMap/kube-system/kubelet-config",
		rbacV1 + "Role/kube-system/kubeadm:kubelet-config",
		rbacV1 + "RoleBinding/kube-system/kubeadm:kubelet-config",
		"v1/Secret/kube-system/bootstrap-token-abcdef",
		rbacV1 + "ClusterRole/kubeadm:get-nodes",
		rbacV1 + "ClusterRoleBinding/kubeadm:get-nodes",
		rbacV1 + "ClusterRoleBinding/kubeadm:kubelet-bootstrap",
		rbacV1 + "ClusterRoleBinding/kubeadm:node-autoapprove-bootstrap",
		rbacV1 + "ClusterRoleBinding/kubeadm:node-autoapprove-certificate-rotation",
		rbacV1 + "ClusterRoleBinding/kubeadm:apiserver-kubelet-client",
		"v1/ConfigMap/kube-public/cluster-info",
		rbacV1 + "Role/kube-public/kubeadm:bootstrap-signer-clusterinfo",
		rbacV1 + "RoleBinding/kube-public/kubeadm:bootstrap-signer-clusterinfo",
		"v1/ConfigMap/kube-system/coredns",
		rbacV1 + "ClusterRole/system:coredns",
		rbacV1 + "ClusterRoleBinding/system:coredns",
		"v1/ServiceAccount/kube-system/coredns",
		"apps/v1/Deployment/kube-system/coredns",
		"v1/Service/kube-system/kube-dns",
		"v1/ConfigMap/kube-system/kube-proxy",
		"apps/v1/DaemonSet/kube-system/kube-proxy",
		"v1/ServiceAccount/kube-system/kube-proxy",
		rbacV1 + "ClusterRoleBinding/kubeadm:node-proxier",
		rbacV1 + "Role/kube-system/kube-proxy",
		rbacV1 + "RoleBinding/kube-system/kube-proxy",
	}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Fatalf("applied objects (-want +got):\n%s", diff)
	}

	// #0 cluster-admins
	crb := r.object(t, rbacV1+"ClusterRoleBinding/kubeadm:cluster-admins")
	if diff := cmp.Diff(jsonish(t, `{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}`), get(t, crb, "roleRef")); diff != "" {
		t.Errorf("cluster-admins roleRef: %s", diff)
	}
	if diff := cmp.Diff(jsonish(t, `[{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "kubeadm:cluster-admins"}]`), get(t, crb, "subjects")); diff != "" {
		t.Errorf("cluster-admins subjects: %s", diff)
	}

	// #1-#3 kubeadm-config
	cc := str(t, r.object(t, "v1/ConfigMap/kube-system/kubeadm-config"), "data", "ClusterConfiguration")
	wantCC := `apiServer: {}
apiVersion: kubeadm.k8s.io/v1beta4
caCertificateValidityPeriod: 87600h0m0s
certificateValidityPeriod: 8760h0m0s
certificatesDir: /etc/kubernetes/pki
clusterName: kubernetes
controllerManager: {}
dns: {}
encryptionAlgorithm: RSA-2048
etcd:
  local:
    dataDir: /var/lib/etcd
imageRepository: registry.k8s.io
kind: ClusterConfiguration
kubernetesVersion: v1.36.3
networking:
  dnsDomain: cluster.local
  podSubnet: 192.168.0.0/16
  serviceSubnet: 10.96.0.0/12
proxy: {}
scheduler: {}
`
	if diff := cmp.Diff(wantCC, cc); diff != "" {
		t.Errorf("ClusterConfiguration (-want +got):\n%s", diff)
	}
	role := r.object(t, rbacV1+"Role/kube-system/kubeadm:nodes-kubeadm-config")
	if diff := cmp.Diff(jsonish(t, `[{apiGroups: [""], resources: [configmaps], resourceNames: [kubeadm-config], verbs: [get]}]`), get(t, role, "rules")); diff != "" {
		t.Errorf("kubeadm-config Role rules: %s", diff)
	}
	rb := r.object(t, rbacV1+"RoleBinding/kube-system/kubeadm:nodes-kubeadm-config")
	if diff := cmp.Diff(jsonish(t, `[{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "`+bootstrappers+`"}, {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:nodes"}]`), get(t, rb, "subjects")); diff != "" {
		t.Errorf("kubeadm-config RoleBinding subjects: %s", diff)
	}

	// #4 kubelet-config: config.yaml minus the instance configuration,
	// signed.
	kcm := r.object(t, "v1/ConfigMap/kube-system/kubelet-config")
	kubeletYAML := str(t, kcm, "data", "kubelet")
	configYAML, _, ok := r.host.Get("/var/lib/kubelet/config.yaml")
	if !ok {
		t.Fatal("kubelet-start wrote no config.yaml")
	}
	if want := strings.Replace(string(configYAML), "containerRuntimeEndpoint: unix:///var/run/containerd/containerd.sock\n", `containerRuntimeEndpoint: ""`+"\n", 1); kubeletYAML != want {
		t.Errorf("kubelet-config differs from config.yaml without the instance config:\n%s", cmp.Diff(want, kubeletYAML))
	}
	if h := str(t, kcm, "metadata", "annotations", "kubeadm.kubernetes.io/component-config.hash"); !strings.HasPrefix(h, "sha256:") || len(h) != 71 {
		t.Errorf("kubelet-config hash annotation %q", h)
	}

	// #12 token Secret: fields present, token-secret never in the plan.
	sec := r.object(t, "v1/Secret/kube-system/bootstrap-token-abcdef")
	if got := str(t, sec, "type"); got != "bootstrap.kubernetes.io/token" {
		t.Errorf("token Secret type %q", got)
	}
	data := get(t, sec, "data").(map[string]any)
	for _, k := range []string{"token-id", "token-secret", "description", "expiration", "usage-bootstrap-signing", "usage-bootstrap-authentication", "auth-extra-groups"} {
		if data[k] != runtime.Redacted {
			t.Errorf("token Secret data[%q] = %v, want present and redacted", k, data[k])
		}
	}
	if js := planJSON(t, r.plan); strings.Contains(js, "0123456789abcdef") || strings.Contains(r.out, "0123456789abcdef") {
		t.Errorf("the token secret reached the plan or the output")
	}

	// #13-#18 node RBAC
	for name, want := range map[string]string{
		"kubeadm:get-nodes":                             `{roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "kubeadm:get-nodes"}, subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "` + bootstrappers + `"}]}`,
		"kubeadm:kubelet-bootstrap":                     `{roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:node-bootstrapper"}, subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "` + bootstrappers + `"}]}`,
		"kubeadm:node-autoapprove-bootstrap":            `{roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:certificates.k8s.io:certificatesigningrequests:nodeclient"}, subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "` + bootstrappers + `"}]}`,
		"kubeadm:node-autoapprove-certificate-rotation": `{roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"}, subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:nodes"}]}`,
		"kubeadm:apiserver-kubelet-client":              `{roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:kubelet-api-admin"}, subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: kube-apiserver-kubelet-client}]}`,
		"kubeadm:node-proxier":                          `{roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:node-proxier"}, subjects: [{kind: ServiceAccount, name: kube-proxy, namespace: kube-system}]}`,
		"system:coredns":                                `{roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}, subjects: [{kind: ServiceAccount, name: coredns, namespace: kube-system}]}`,
	} {
		o := r.object(t, rbacV1+"ClusterRoleBinding/"+name)
		got := map[string]any{"roleRef": o["roleRef"], "subjects": o["subjects"]}
		if diff := cmp.Diff(jsonish(t, want), any(got)); diff != "" {
			t.Errorf("ClusterRoleBinding %s (-want +got):\n%s", name, diff)
		}
	}
	if diff := cmp.Diff(jsonish(t, `[{apiGroups: [""], resources: [nodes], verbs: [get]}]`), get(t, r.object(t, rbacV1+"ClusterRole/kubeadm:get-nodes"), "rules")); diff != "" {
		t.Errorf("get-nodes rules: %s", diff)
	}

	// #19-#21 cluster-info
	ci := str(t, r.object(t, "v1/ConfigMap/kube-public/cluster-info"), "data", "kubeconfig")
	adminConf, _, _ := r.host.Get("/etc/kubernetes/admin.conf")
	if want := clusterInfoFromAdmin(t, adminConf); ci != want {
		t.Errorf("cluster-info kubeconfig differs from clientcmd.Write (-want +got):\n%s", cmp.Diff(want, ci))
	}
	if !strings.HasPrefix(ci, "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ") ||
		!strings.HasSuffix(ci, "    server: https://10.0.0.10:6443\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\nkind: Config\nusers: null\n") {
		t.Errorf("cluster-info kubeconfig layout:\n%s", ci)
	}
	if diff := cmp.Diff(jsonish(t, `[{apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:anonymous"}]`), get(t, r.object(t, rbacV1+"RoleBinding/kube-public/kubeadm:bootstrap-signer-clusterinfo"), "subjects")); diff != "" {
		t.Errorf("cluster-info RoleBinding: %s", diff)
	}

	// #22-#27 CoreDNS
	corefile := str(t, r.object(t, "v1/ConfigMap/kube-system/coredns"), "data", "Corefile")
	if corefile != wantCorefile {
		t.Errorf("Corefile (-want +got):\n%s", cmp.Diff(wantCorefile, corefile))
	}
	dep := r.object(t, "apps/v1/Deployment/kube-system/coredns")
	if got := str(t, dep, "spec", "template", "spec", "containers", 0, "image"); got != "registry.k8s.io/coredns/coredns:v1.14.2" {
		t.Errorf("CoreDNS image %q", got)
	}
	if got := get(t, dep, "spec", "replicas"); got != int64(2) && got != float64(2) {
		t.Errorf("CoreDNS replicas %v", got)
	}
	svc := r.object(t, "v1/Service/kube-system/kube-dns")
	if got := str(t, svc, "spec", "clusterIP"); got != "10.96.0.10" {
		t.Errorf("kube-dns clusterIP %q", got)
	}
	if _, has := get(t, svc, "metadata").(map[string]any)["resourceVersion"]; has {
		t.Errorf("kube-dns carries a resourceVersion (a precondition for server-side apply)")
	}

	// #28-#33 kube-proxy
	kp := r.object(t, "v1/ConfigMap/kube-system/kube-proxy")
	conf := str(t, kp, "data", "config.conf")
	for _, line := range []string{"apiVersion: kubeproxy.config.k8s.io/v1alpha1", "bindAddress: 0.0.0.0", "  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf", "clusterCIDR: 192.168.0.0/16", "kind: KubeProxyConfiguration"} {
		if !strings.Contains(conf+"\n", line+"\n") {
			t.Errorf("kube-proxy config.conf lacks %q:\n%s", line, conf)
		}
	}
	if strings.HasSuffix(conf, "\n") {
		t.Errorf("kube-proxy config.conf ends with a newline; kubeadm's |- block has none")
	}
	if got := str(t, kp, "data", "kubeconfig.conf"); got != wantProxyKubeconfig {
		t.Errorf("kube-proxy kubeconfig.conf (-want +got):\n%s", cmp.Diff(wantProxyKubeconfig, got))
	}
	if got := str(t, kp, "metadata", "labels", "app"); got != "kube-proxy" {
		t.Errorf("kube-proxy ConfigMap label app=%q", got)
	}
	if h := str(t, kp, "metadata", "annotations", "kubeadm.kubernetes.io/component-config.hash"); !strings.HasPrefix(h, "sha256:") {
		t.Errorf("kube-proxy hash %q", h)
	}
	ds := r.object(t, "apps/v1/DaemonSet/kube-system/kube-proxy")
	if got := str(t, ds, "spec", "template", "spec", "containers", 0, "image"); got != "registry.k8s.io/kube-proxy:v1.36.3" {
		t.Errorf("kube-proxy image %q", got)
	}

	// #11 mark-control-plane: the Node does not exist in a dry run.
	var patched bool
	for _, a := range r.plan.Actions {
		if a.Op == "api.patch" && a.Target == "v1/Node/node1" && a.Result == "recorded" {
			patched = true
		}
	}
	if !patched {
		t.Errorf("no recorded api.patch of v1/Node/node1")
	}
	// The waits are recorded, in kubeadm's order.
	var waits []string
	for _, a := range r.plan.Actions {
		if a.Op == "wait" {
			waits = append(waits, a.Target)
		}
	}
	if diff := cmp.Diff([]string{
		"http://127.0.0.1:10248/healthz",
		"https://10.0.0.10:6443/livez",
		"https://127.0.0.1:10257/healthz",
		"https://127.0.0.1:10259/livez",
	}, waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	// Join command: printed redacted, with the CA pin; no control-plane
	// join without a control-plane endpoint.
	joined := strings.Join(r.plan.Output, "\n")
	if !strings.Contains(joined, "kubeadm join 10.0.0.10:6443 --token "+runtime.Redacted+" \\\n\t--discovery-token-ca-cert-hash sha256:") ||
		!strings.Contains(joined, "kubelark run join") || strings.Contains(joined, "--control-plane") {
		t.Errorf("join command output:\n%s", joined)
	}
}

// clusterInfoFromAdmin is what kubeadm's CreateBootstrapConfigMapIfNotExists
// writes for this admin.conf.
func clusterInfoFromAdmin(t *testing.T, adminConf []byte) string {
	t.Helper()
	cfg, err := clientcmd.Load(adminConf)
	if err != nil {
		t.Fatal(err)
	}
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		t.Fatal(err)
	}
	cluster := cfg.Contexts[cfg.CurrentContext].Cluster
	out, err := clientcmd.Write(clientcmdapi.Config{Clusters: map[string]*clientcmdapi.Cluster{"": cfg.Clusters[cluster]}})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

const wantCorefile = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
`

const wantProxyKubeconfig = `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    server: https://10.0.0.10:6443
  name: default
contexts:
- context:
    cluster: default
    namespace: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token`

// TestAPIPhasesUploadCertsAndControlPlaneEndpoint covers #7-#10 and the
// control-plane join command.
func TestAPIPhasesUploadCertsAndControlPlaneEndpoint(t *testing.T) {
	const key = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	r := runAPI(t, nil, "upload_certs=true", "certificate_key="+key, "control_plane_endpoint=cp.example.com",
		`apiserver_extra_args={"audit-log-maxage": "7"}`, "cert_sans=Extra.Example.com")
	order, _ := r.applied()
	var tokenSecret string
	for i, target := range order {
		if target == "v1/Secret/kube-system/kubeadm-certs" {
			tokenSecret = order[i-1]
			if diff := cmp.Diff([]string{rbacV1 + "Role/kube-system/kubeadm:kubeadm-certs", rbacV1 + "RoleBinding/kube-system/kubeadm:kubeadm-certs"}, order[i+1:i+3]); diff != "" {
				t.Errorf("kubeadm-certs RBAC: %s", diff)
			}
		}
	}
	if !strings.HasPrefix(tokenSecret, "v1/Secret/kube-system/bootstrap-token-") {
		t.Fatalf("kubeadm-certs not preceded by its token Secret: %v", order)
	}
	tok := r.object(t, tokenSecret)
	data := get(t, tok, "data").(map[string]any)
	for _, k := range []string{"usage-bootstrap-signing", "usage-bootstrap-authentication", "auth-extra-groups"} {
		if _, has := data[k]; has {
			t.Errorf("upload-certs token has %s; kubeadm gives it no usages or groups", k)
		}
	}
	certs := r.object(t, "v1/Secret/kube-system/kubeadm-certs")
	owner := get(t, certs, "metadata", "ownerReferences", 0).(map[string]any)
	if owner["name"] != strings.TrimPrefix(tokenSecret, "v1/Secret/kube-system/") || owner["uid"] == "" || owner["controller"] != true || owner["blockOwnerDeletion"] != true {
		t.Errorf("kubeadm-certs ownerReference %v", owner)
	}
	var keys []string
	for k, v := range get(t, certs, "data").(map[string]any) {
		keys = append(keys, k)
		if v != runtime.Redacted {
			t.Errorf("kubeadm-certs data[%s] not redacted", k)
		}
	}
	if diff := cmp.Diff([]string{"ca.crt", "ca.key", "etcd-ca.crt", "etcd-ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.key", "sa.pub"}, sortStrings(keys)); diff != "" {
		t.Errorf("kubeadm-certs keys: %s", diff)
	}
	if js := planJSON(t, r.plan); strings.Contains(js, key) || strings.Contains(r.out, key) {
		t.Errorf("the certificate key reached the plan or the output")
	}
	joined := strings.Join(r.plan.Output, "\n")
	if !strings.Contains(joined, "kubeadm join cp.example.com:6443 --token ") || !strings.Contains(joined, "--control-plane --certificate-key "+runtime.Redacted) ||
		!strings.Contains(joined, "--set control_plane=true") {
		t.Errorf("control-plane join command:\n%s", joined)
	}
	cc := str(t, r.object(t, "v1/ConfigMap/kube-system/kubeadm-config"), "data", "ClusterConfiguration")
	for _, frag := range []string{
		"apiServer:\n  certSANs:\n  - extra.example.com\n  extraArgs:\n  - name: audit-log-maxage\n    value: \"7\"\n",
		"controlPlaneEndpoint: cp.example.com:6443\n",
	} {
		if !strings.Contains(cc, frag) {
			t.Errorf("ClusterConfiguration lacks %q:\n%s", frag, cc)
		}
	}
	// cluster-info carries the control-plane endpoint (admin.conf's server).
	ci := str(t, r.object(t, "v1/ConfigMap/kube-public/cluster-info"), "data", "kubeconfig")
	if !strings.Contains(ci, "server: https://cp.example.com:6443\n") {
		t.Errorf("cluster-info server:\n%s", ci)
	}
}

// TestAPIPhasesSkips: disabled addons, and kubelet-finalize with a
// rotating client certificate present.
func TestAPIPhasesSkips(t *testing.T) {
	r := runAPI(t, func(f *host.Fake) {
		f.Put("/var/lib/kubelet/pki/kubelet-client-current.pem", selfSignedPEM(t, "system:node:node1"), 0o600)
	}, "dns_disabled=true", "proxy_disabled=true", "taints=[]")
	order, _ := r.applied()
	for _, target := range order {
		if strings.Contains(target, "coredns") || strings.Contains(target, "kube-proxy") || strings.Contains(target, "kube-dns") {
			t.Errorf("disabled addon object applied: %s", target)
		}
	}
	var finalize, restarts int
	for _, a := range r.plan.Actions {
		if a.Phase == "kubelet-finalize/enable-client-cert-rotation" {
			if a.Target == "/etc/kubernetes/kubelet.conf" {
				finalize++
			}
			if a.Op == "service.restart" {
				restarts++
			}
		}
	}
	if finalize != 1 || restarts != 1 {
		t.Errorf("kubelet-finalize: %d kubelet.conf writes, %d restarts; want 1 and 1", finalize, restarts)
	}
}

// selfSignedPEM is a certificate and its key in one PEM file, the shape
// of the kubelet's rotating kubelet-client-current.pem.
func selfSignedPEM(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{"system:nodes"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})...)
}

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestClusterInfoKubeconfigMatchesClientcmd renders cluster-info for
// kubeconfigs with embedded and referenced CAs and compares with
// clientcmd.Write byte for byte.
func TestClusterInfoKubeconfigMatchesClientcmd(t *testing.T) {
	caPEM := "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIBATAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwprdWJlcm5ldGVz\n-----END CERTIFICATE-----\n"
	for name, conf := range map[string]string{
		"embedded": fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    server: https://[fd00::10]:6443
    certificate-authority-data: %s
contexts:
- name: kubernetes-admin@kubernetes
  context: {cluster: kubernetes, user: kubernetes-admin}
current-context: kubernetes-admin@kubernetes
users:
- name: kubernetes-admin
  user: {token: abc}
`, base64.StdEncoding.EncodeToString([]byte(caPEM))),
		"file": `apiVersion: v1
kind: Config
clusters:
- name: other
  cluster: {server: https://other:6443}
- name: kubernetes
  cluster:
    server: https://cp.example.com:6443
    certificate-authority: /etc/kubernetes/pki/ca.crt
    tls-server-name: cp.example.com
contexts:
- name: admin
  context: {cluster: kubernetes, user: admin}
current-context: admin
users:
- name: admin
  user: {token: abc}
`,
	} {
		t.Run(name, func(t *testing.T) {
			f := host.NewFake()
			f.Put("/etc/kubernetes/admin.conf", []byte(conf), 0o600)
			f.Put("/etc/kubernetes/pki/ca.crt", []byte(caPEM), 0o644)
			globals := execModule(t, f, `load("bootstrap.star", "bootstrap")
got = bootstrap.cluster_info_kubeconfig()
`)
			// The reference: clientcmd with the file reference resolved the
			// way FlattenConfig resolves it on the node.
			want := clusterInfoFromAdmin(t, []byte(strings.ReplaceAll(conf,
				"certificate-authority: /etc/kubernetes/pki/ca.crt",
				"certificate-authority-data: "+base64.StdEncoding.EncodeToString([]byte(caPEM)))))
			if got := string(globals["got"].(starlark.String)); got != want {
				t.Errorf("(-clientcmd +kubelark):\n%s", cmp.Diff(want, got))
			}
		})
	}
}

// loadStdlib loads an embedded stdlib module (and its own loads) for unit
// tests that call one module directly.
func loadStdlib(thread *starlark.Thread, module string, pre starlark.StringDict) (starlark.StringDict, error) {
	name := strings.TrimPrefix(module, "@stdlib//")
	src, err := stdlib.FS.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return starlark.ExecFile(thread, name, src, pre)
}

// TestClusterConfigurationRoundTrip feeds the uploaded ClusterConfiguration
// back through runtime/kubeadmconfig, the strict v1beta4 decoder of
// --config: every field name and shape must be what kubeadm accepts, and
// must map back to the parameter values the run used.
func TestClusterConfigurationRoundTrip(t *testing.T) {
	values := filepath.Join(t.TempDir(), "values.yaml")
	params := map[string]any{
		"kubernetes_version":            "v1.36.3",
		"control_plane_endpoint":        "lb.example.com:7443",
		"cluster_name":                  "prod",
		"service_subnet":                "10.96.0.0/12,fd00:10:96::/112",
		"pod_subnet":                    "10.244.0.0/16,fd00:10:244::/56",
		"dns_domain":                    "example.internal",
		"cert_sans":                     []any{"api.example.com", "10.0.0.100"},
		"image_repository":              "registry.example.com/k8s",
		"encryption_algorithm":          "ECDSA-P256",
		"certificate_validity":          "720h",
		"ca_certificate_validity":       "43800h",
		"cert_dir":                      "/etc/kubernetes/pki",
		"etcd_data_dir":                 "/data/etcd",
		"etcd_extra_args":               map[string]any{"quota-backend-bytes": "8589934592"},
		"etcd_extra_envs":               []any{map[string]any{"name": "GOMAXPROCS", "value": "2"}},
		"etcd_server_cert_sans":         []any{"etcd.example.com"},
		"etcd_peer_cert_sans":           []any{"10.0.0.11"},
		"apiserver_extra_args":          map[string]any{"audit-log-maxage": "7", "v": "2"},
		"apiserver_extra_volumes":       []any{map[string]any{"name": "audit", "hostPath": "/var/log/audit", "mountPath": "/var/log/audit", "readOnly": false, "pathType": "DirectoryOrCreate"}},
		"apiserver_extra_envs":          []any{map[string]any{"name": "NODE_IP", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "status.hostIP"}}}},
		"controller_manager_extra_args": map[string]any{"node-monitor-grace-period": "20s"},
		"scheduler_extra_args":          map[string]any{"bind-address": "0.0.0.0"},
		"dns_image_repository":          "registry.example.com/dns",
		"dns_image_tag":                 "v1.14.1",
	}
	data, err := yaml.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(values, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runAPIValues(t, func(f *host.Fake) { f.FIP = "10.0.0.10" }, values)
	cc := str(t, r.object(t, "v1/ConfigMap/kube-system/kubeadm-config"), "data", "ClusterConfiguration")
	doc, err := kubeadmconfig.Load([]byte(cc))
	if err != nil {
		t.Fatalf("the uploaded ClusterConfiguration does not decode as kubeadm v1beta4: %v\n%s", err, cc)
	}
	res, err := runtime.MapConfig(runtime.Options{StdlibFS: stdlib.FS, ConfigDocs: doc.Docs, Recipe: "init"},
		"@stdlib//kubeadmconfig.star", "kubeadmconfig.init_params")
	if err != nil {
		t.Fatalf("the uploaded ClusterConfiguration does not map onto init's parameters: %v\n%s", err, cc)
	}
	normalized := map[string]any{
		"certificate_validity":    "720h0m0s",
		"ca_certificate_validity": "43800h0m0s",
		// kubeadm's SetDefaults_EnvVar fills in fieldRef.apiVersion.
		"apiserver_extra_envs": []any{map[string]any{"name": "NODE_IP", "valueFrom": map[string]any{"fieldRef": map[string]any{"apiVersion": "v1", "fieldPath": "status.hostIP"}}}},
		"dns_image_repository": "registry.example.com/dns",
	}
	for k, v := range params {
		want := v
		if n, ok := normalized[k]; ok {
			want = n
		}
		got, ok := res.Params[k]
		if !ok {
			t.Errorf("%s: not in the uploaded ClusterConfiguration", k)
			continue
		}
		if diff := cmp.Diff(jsonNorm(t, want), jsonNorm(t, got)); diff != "" {
			t.Errorf("%s (-sent +uploaded):\n%s", k, diff)
		}
	}
}

// jsonNorm makes values comparable across YAML/JSON decoders.
func jsonNorm(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// execModule runs src (which may load stdlib modules) on a fake host and
// returns its globals.
func execModule(t *testing.T, f *host.Fake, src string) starlark.StringDict {
	t.Helper()
	thread := &starlark.Thread{Name: t.Name()}
	runtime.NewEnv(context.Background(), f, nil, nil).Attach(thread)
	pre := runtime.Predeclared(builtins.Registry())
	thread.Load = func(th *starlark.Thread, module string) (starlark.StringDict, error) {
		return loadStdlib(th, module, pre)
	}
	g, err := starlark.ExecFile(thread, "test.star", src, pre)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestMarkControlPlaneMergesTaints: the configured taints come first, every
// existing taint not among them is kept (Node taints are replaced as a
// whole by a strategic merge patch, so the patch must carry all of them).
func TestMarkControlPlaneMergesTaints(t *testing.T) {
	g := execModule(t, host.NewFake(), `
load("config.star", "config")
load("markcontrolplane.star", "markcontrolplane")
node = {"metadata": {"labels": {"kubernetes.io/hostname": "node1"}}, "spec": {"taints": [
    {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"},
    {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
]}}
patch = json.encode(markcontrolplane.node_patch(config.node_taints(None))(node))
none = json.encode(markcontrolplane.node_patch(config.node_taints([]))({"spec": {}}))
`)
	want := `{"metadata":{"labels":{"node-role.kubernetes.io/control-plane":"","node.kubernetes.io/exclude-from-external-load-balancers":""}},"spec":{"taints":[{"effect":"NoSchedule","key":"node-role.kubernetes.io/control-plane"},{"effect":"NoSchedule","key":"node.kubernetes.io/not-ready"}]}}` // json.encode sorts keys
	if got := string(g["patch"].(starlark.String)); got != want {
		t.Errorf("patch:\n got %s\nwant %s", got, want)
	}
	if got := string(g["none"].(starlark.String)); strings.Contains(got, "taints") {
		t.Errorf("taints=[] on an untainted node still patches taints: %s", got)
	}
}

// An empty token_description (what a kubeadm config without one maps to)
// gives the default token no description, as kubeadm init --config does.
func TestAPIPhasesTokenWithoutDescription(t *testing.T) {
	r := runAPI(t, nil, "token=abcdef.0123456789abcdef", "token_description=")
	data := get(t, r.object(t, "v1/Secret/kube-system/bootstrap-token-abcdef"), "data").(map[string]any)
	if _, ok := data["description"]; ok {
		t.Errorf("token Secret has a description: %v", data["description"])
	}
	if _, ok := data["token-id"]; !ok {
		t.Errorf("token Secret without token-id: %v", data)
	}
}

// The additional bootstrap tokens of a kubeadm config get kubeadm's
// defaults from config.resolve (TTL 24h, both usages, the default node
// group) and a generated token where none is given; the default token's
// settings do not leak into them.
func TestAPIPhasesAdditionalBootstrapTokens(t *testing.T) {
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte(`token: abcdef.0123456789abcdef
token_ttl: "0"
bootstrap_tokens:
- token: aaaaaa.bbbbbbbbbbbbbbbb
  description: second
- expires: "2030-01-01T00:00:00Z"
  usages: [authentication]
  groups: []
`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runAPIValues(t, nil, values)
	keys := func(target string) []string {
		var out []string
		for k := range get(t, r.object(t, target), "data").(map[string]any) {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	usages := []string{"usage-bootstrap-authentication", "usage-bootstrap-signing"}
	for target, want := range map[string][]string{
		// token_ttl "0": no expiration.
		"v1/Secret/kube-system/bootstrap-token-abcdef": {"auth-extra-groups", "description", "token-id", "token-secret", usages[0], usages[1]},
		"v1/Secret/kube-system/bootstrap-token-aaaaaa": {"auth-extra-groups", "description", "expiration", "token-id", "token-secret", usages[0], usages[1]},
	} {
		if diff := cmp.Diff(want, keys(target)); diff != "" {
			t.Errorf("%s data keys (-want +got):\n%s", target, diff)
		}
	}
	order, _ := r.applied()
	var generated []string
	for _, target := range order {
		if strings.HasPrefix(target, "v1/Secret/kube-system/bootstrap-token-") && !strings.HasSuffix(target, "-abcdef") && !strings.HasSuffix(target, "-aaaaaa") {
			generated = append(generated, target)
		}
	}
	if len(generated) != 1 {
		t.Fatalf("want one generated additional token, got %v", generated)
	}
	// Given usages replace the default; empty groups get the default group.
	if diff := cmp.Diff([]string{"auth-extra-groups", "expiration", "token-id", "token-secret", "usage-bootstrap-authentication"}, keys(generated[0])); diff != "" {
		t.Errorf("%s data keys (-want +got):\n%s", generated[0], diff)
	}
}
