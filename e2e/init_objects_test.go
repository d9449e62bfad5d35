package e2e

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kubelark/kubelark/e2e/node"
)

// The groups kubeadm's RBAC names (kubeadm-facts §5).
const (
	bootstrapGroup = "system:bootstrappers:kubeadm:default-node-token"
	nodesGroup     = "system:nodes"
)

// rbacWant is one Role/ClusterRole binding of facts §5: what it refers to
// and who it binds ("Group:x", "User:x", "ServiceAccount:ns/x").
type rbacWant struct {
	num       int
	namespace string // "" = cluster-scoped
	name      string
	roleKind  string
	roleName  string
	subjects  []string
}

// initBindings are #0, #3, #6, #10, #14-#18, #21, #24, #31, #33.
var initBindings = []rbacWant{
	{0, "", "kubeadm:cluster-admins", "ClusterRole", "cluster-admin", []string{"Group:kubeadm:cluster-admins"}},
	{3, "kube-system", "kubeadm:nodes-kubeadm-config", "Role", "kubeadm:nodes-kubeadm-config", []string{"Group:" + bootstrapGroup, "Group:" + nodesGroup}},
	{6, "kube-system", "kubeadm:kubelet-config", "Role", "kubeadm:kubelet-config", []string{"Group:" + bootstrapGroup, "Group:" + nodesGroup}},
	{10, "kube-system", "kubeadm:kubeadm-certs", "Role", "kubeadm:kubeadm-certs", []string{"Group:" + bootstrapGroup}},
	{14, "", "kubeadm:get-nodes", "ClusterRole", "kubeadm:get-nodes", []string{"Group:" + bootstrapGroup}},
	{15, "", "kubeadm:kubelet-bootstrap", "ClusterRole", "system:node-bootstrapper", []string{"Group:" + bootstrapGroup}},
	{16, "", "kubeadm:node-autoapprove-bootstrap", "ClusterRole", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", []string{"Group:" + bootstrapGroup}},
	{17, "", "kubeadm:node-autoapprove-certificate-rotation", "ClusterRole", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", []string{"Group:" + nodesGroup}},
	{18, "", "kubeadm:apiserver-kubelet-client", "ClusterRole", "system:kubelet-api-admin", []string{"User:kube-apiserver-kubelet-client"}},
	{21, "kube-public", "kubeadm:bootstrap-signer-clusterinfo", "Role", "kubeadm:bootstrap-signer-clusterinfo", []string{"User:system:anonymous"}},
	{24, "", "system:coredns", "ClusterRole", "system:coredns", []string{"ServiceAccount:kube-system/coredns"}},
	{31, "", "kubeadm:node-proxier", "ClusterRole", "system:node-proxier", []string{"ServiceAccount:kube-system/kube-proxy"}},
	{33, "kube-system", "kube-proxy", "Role", "kube-proxy", []string{"Group:" + bootstrapGroup}},
}

// roleWant is a Role/ClusterRole of facts §5 that grants `get` on named
// objects (#2, #5, #9, #13, #20, #32).
type roleWant struct {
	num       int
	namespace string
	name      string
	resource  string
	names     []string // resourceNames; nil = any
}

var initRoles = []roleWant{
	{2, "kube-system", "kubeadm:nodes-kubeadm-config", "configmaps", []string{"kubeadm-config"}},
	{5, "kube-system", "kubeadm:kubelet-config", "configmaps", []string{"kubelet-config"}},
	{9, "kube-system", "kubeadm:kubeadm-certs", "secrets", []string{"kubeadm-certs"}},
	{13, "", "kubeadm:get-nodes", "nodes", nil},
	{20, "kube-public", "kubeadm:bootstrap-signer-clusterinfo", "configmaps", []string{"cluster-info"}},
	{32, "kube-system", "kube-proxy", "configmaps", []string{"kube-proxy"}},
}

func subjectStrings(subs []rbacv1.Subject) []string {
	out := make([]string, 0, len(subs))
	for _, s := range subs {
		if s.Kind == "ServiceAccount" {
			out = append(out, s.Kind+":"+s.Namespace+"/"+s.Name)
		} else {
			out = append(out, s.Kind+":"+s.Name)
		}
	}
	sort.Strings(out)
	return out
}

// checkRBAC checks every Role/ClusterRole and binding of facts §5.
func checkRBAC(ctx context.Context, t *testing.T, cs *kubernetes.Clientset) {
	t.Helper()
	rb := cs.RbacV1()
	for _, w := range initBindings {
		var (
			ref  rbacv1.RoleRef
			subs []rbacv1.Subject
			err  error
		)
		if w.namespace == "" {
			var b *rbacv1.ClusterRoleBinding
			if b, err = rb.ClusterRoleBindings().Get(ctx, w.name, metav1.GetOptions{}); err == nil {
				ref, subs = b.RoleRef, b.Subjects
			}
		} else {
			var b *rbacv1.RoleBinding
			if b, err = rb.RoleBindings(w.namespace).Get(ctx, w.name, metav1.GetOptions{}); err == nil {
				ref, subs = b.RoleRef, b.Subjects
			}
		}
		if err != nil {
			t.Errorf("#%d binding %s/%s: %v", w.num, w.namespace, w.name, err)
			continue
		}
		if ref.Kind != w.roleKind || ref.Name != w.roleName || ref.APIGroup != rbacv1.GroupName {
			t.Errorf("#%d binding %s/%s: roleRef %+v, want %s %s", w.num, w.namespace, w.name, ref, w.roleKind, w.roleName)
		}
		want := slices.Clone(w.subjects)
		sort.Strings(want)
		if got := subjectStrings(subs); !slices.Equal(got, want) {
			t.Errorf("#%d binding %s/%s: subjects %v, want %v", w.num, w.namespace, w.name, got, want)
		}
	}
	for _, w := range initRoles {
		var (
			rules []rbacv1.PolicyRule
			err   error
		)
		if w.namespace == "" {
			var r *rbacv1.ClusterRole
			if r, err = rb.ClusterRoles().Get(ctx, w.name, metav1.GetOptions{}); err == nil {
				rules = r.Rules
			}
		} else {
			var r *rbacv1.Role
			if r, err = rb.Roles(w.namespace).Get(ctx, w.name, metav1.GetOptions{}); err == nil {
				rules = r.Rules
			}
		}
		if err != nil {
			t.Errorf("#%d role %s/%s: %v", w.num, w.namespace, w.name, err)
			continue
		}
		if len(rules) != 1 || !slices.Equal(rules[0].Verbs, []string{"get"}) || !slices.Equal(rules[0].Resources, []string{w.resource}) ||
			!slices.Equal(rules[0].APIGroups, []string{""}) || !slices.Equal(rules[0].ResourceNames, w.names) {
			t.Errorf("#%d role %s/%s: rules %+v, want get %s %v", w.num, w.namespace, w.name, rules, w.resource, w.names)
		}
	}
	// #23: CoreDNS reads the cluster's Services and Endpoints(Slices).
	cr, err := rb.ClusterRoles().Get(ctx, "system:coredns", metav1.GetOptions{})
	if err != nil {
		t.Errorf("#23 ClusterRole system:coredns: %v", err)
	} else if got := fmt.Sprint(cr.Rules); !strings.Contains(got, "endpointslices") || !strings.Contains(got, "services") || !strings.Contains(got, "namespaces") {
		t.Errorf("#23 ClusterRole system:coredns: rules %s lack services/namespaces/endpointslices", got)
	}
}

// yamlField returns the value at a dotted path of a YAML document.
func yamlField(t *testing.T, doc, path string) any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("YAML: %v\n%s", err, doc)
	}
	var v any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkConfigMaps checks #1, #4, #22 and #28: the kubeadm, kubelet,
// CoreDNS and kube-proxy configurations init uploads (initConfig's values).
func checkConfigMaps(ctx context.Context, t *testing.T, cs *kubernetes.Clientset) {
	t.Helper()
	cms := cs.CoreV1().ConfigMaps("kube-system")
	get := func(num int, name string) *corev1.ConfigMap {
		cm, err := cms.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("#%d ConfigMap kube-system/%s: %v", num, name, err)
			return nil
		}
		return cm
	}
	if cm := get(1, "kubeadm-config"); cm != nil {
		if !slices.Equal(keysOf(cm.Data), []string{"ClusterConfiguration"}) {
			t.Errorf("#1 kubeadm-config keys %v, want only ClusterConfiguration", keysOf(cm.Data))
		}
		doc := cm.Data["ClusterConfiguration"]
		for path, want := range map[string]any{
			"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration", "kubernetesVersion": "v1.36.3",
			"clusterName": "kubernetes", "certificatesDir": "/etc/kubernetes/pki", "etcd.local.dataDir": "/var/lib/etcd",
			"networking.podSubnet": "10.244.0.0/16", "networking.serviceSubnet": "10.96.0.0/12", "networking.dnsDomain": "cluster.local",
			"imageRepository": "registry.k8s.io",
		} {
			if got := yamlField(t, doc, path); got != want {
				t.Errorf("#1 kubeadm-config ClusterConfiguration %s = %v, want %v", path, got, want)
			}
		}
	}
	if cm := get(4, "kubelet-config"); cm != nil {
		doc := cm.Data["kubelet"]
		for path, want := range map[string]any{
			"kind": "KubeletConfiguration", "cgroupDriver": "cgroupfs", "failSwapOn": false, "clusterDomain": "cluster.local",
			"rotateCertificates": true, "staticPodPath": "/etc/kubernetes/manifests",
		} {
			if got := yamlField(t, doc, path); got != want {
				t.Errorf("#4 kubelet-config %s = %v, want %v", path, got, want)
			}
		}
		if got := fmt.Sprint(yamlField(t, doc, "clusterDNS")); got != "[10.96.0.10]" {
			t.Errorf("#4 kubelet-config clusterDNS = %s, want [10.96.0.10]", got)
		}
		// The configuration came from the user (initConfig has a
		// KubeletConfiguration document): kubeadm signs only its own.
		if h, ok := cm.Annotations["kubeadm.kubernetes.io/component-config.hash"]; ok {
			t.Errorf("#4 kubelet-config has the hash annotation %q although the KubeletConfiguration was user-supplied", h)
		}
	}
	if cm := get(22, "coredns"); cm != nil {
		cf := cm.Data["Corefile"]
		for _, s := range []string{".:53", "kubernetes cluster.local in-addr.arpa ip6.arpa", "forward . /etc/resolv.conf", "prometheus :9153"} {
			if !strings.Contains(cf, s) {
				t.Errorf("#22 coredns Corefile lacks %q:\n%s", s, cf)
			}
		}
	}
	if cm := get(28, "kube-proxy"); cm != nil {
		if !slices.Equal(keysOf(cm.Data), []string{"config.conf", "kubeconfig.conf"}) {
			t.Errorf("#28 kube-proxy keys %v, want config.conf, kubeconfig.conf", keysOf(cm.Data))
		}
		if got := yamlField(t, cm.Data["config.conf"], "clusterCIDR"); got != "10.244.0.0/16" {
			t.Errorf("#28 kube-proxy config.conf clusterCIDR = %v, want the pod subnet 10.244.0.0/16", got)
		}
		if got := yamlField(t, cm.Data["config.conf"], "clientConnection.kubeconfig"); got != "/var/lib/kube-proxy/kubeconfig.conf" {
			t.Errorf("#28 kube-proxy config.conf clientConnection.kubeconfig = %v", got)
		}
		if !strings.Contains(cm.Data["kubeconfig.conf"], "tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token") {
			t.Errorf("#28 kube-proxy kubeconfig.conf does not use the service-account token:\n%s", cm.Data["kubeconfig.conf"])
		}
		if cm.Labels["app"] != "kube-proxy" {
			t.Errorf("#28 kube-proxy labels %v, want app=kube-proxy", cm.Labels)
		}
	}
}

// checkWorkloads checks #25-#27 and #29-#30: the CoreDNS and kube-proxy
// workloads, their ServiceAccounts and the kube-dns Service.
func checkWorkloads(ctx context.Context, t *testing.T, cs *kubernetes.Clientset) {
	t.Helper()
	for _, sa := range []struct {
		num  int
		name string
	}{{25, "coredns"}, {30, "kube-proxy"}} {
		if _, err := cs.CoreV1().ServiceAccounts("kube-system").Get(ctx, sa.name, metav1.GetOptions{}); err != nil {
			t.Errorf("#%d ServiceAccount kube-system/%s: %v", sa.num, sa.name, err)
		}
	}
	if d, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{}); err != nil {
		t.Errorf("#26 Deployment kube-system/coredns: %v", err)
	} else {
		c := d.Spec.Template.Spec.Containers
		if len(c) != 1 || c[0].Image != "registry.k8s.io/coredns/coredns:v1.14.2" {
			t.Errorf("#26 coredns containers %+v, want one with image registry.k8s.io/coredns/coredns:v1.14.2", c)
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 || d.Spec.Selector.MatchLabels["k8s-app"] != "kube-dns" ||
			d.Spec.Template.Spec.ServiceAccountName != "coredns" || d.Spec.Template.Spec.PriorityClassName != "system-cluster-critical" {
			t.Errorf("#26 coredns: replicas %v selector %v SA %q priority %q", d.Spec.Replicas, d.Spec.Selector.MatchLabels,
				d.Spec.Template.Spec.ServiceAccountName, d.Spec.Template.Spec.PriorityClassName)
		}
	}
	if s, err := cs.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{}); err != nil {
		t.Errorf("#27 Service kube-system/kube-dns: %v", err)
	} else if s.Spec.ClusterIP != "10.96.0.10" || s.Spec.Selector["k8s-app"] != "kube-dns" || len(s.Spec.Ports) != 3 {
		t.Errorf("#27 kube-dns: clusterIP %s selector %v ports %d, want 10.96.0.10, k8s-app=kube-dns, 3", s.Spec.ClusterIP, s.Spec.Selector, len(s.Spec.Ports))
	}
	if ds, err := cs.AppsV1().DaemonSets("kube-system").Get(ctx, "kube-proxy", metav1.GetOptions{}); err != nil {
		t.Errorf("#29 DaemonSet kube-system/kube-proxy: %v", err)
	} else {
		c := ds.Spec.Template.Spec.Containers
		if len(c) != 1 || c[0].Image != "registry.k8s.io/kube-proxy:v1.36.3" || !slices.Contains(c[0].Command, "--config=/var/lib/kube-proxy/config.conf") {
			t.Errorf("#29 kube-proxy containers %+v", c)
		}
		if !ds.Spec.Template.Spec.HostNetwork || ds.Spec.Template.Spec.ServiceAccountName != "kube-proxy" {
			t.Errorf("#29 kube-proxy: hostNetwork %v SA %q", ds.Spec.Template.Spec.HostNetwork, ds.Spec.Template.Spec.ServiceAccountName)
		}
	}
}

// secretString reads a Secret data key.
func secretString(s *corev1.Secret, k string) string { return string(s.Data[k]) }

// checkInitToken checks #12: the printed bootstrap token's Secret (§10).
func checkInitToken(ctx context.Context, t *testing.T, cs *kubernetes.Clientset, token string, initStart time.Time) {
	t.Helper()
	id, secret, _ := strings.Cut(token, ".")
	s, err := cs.CoreV1().Secrets("kube-system").Get(ctx, "bootstrap-token-"+id, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("#12 token Secret of the printed token %s.<secret>: %v", id, err)
	}
	if s.Type != "bootstrap.kubernetes.io/token" {
		t.Errorf("#12 type %q", s.Type)
	}
	for k, want := range map[string]string{
		"token-id": id, "token-secret": secret, "usage-bootstrap-signing": "true", "usage-bootstrap-authentication": "true",
		// No description: init gets its input from --config, and kubeadm
		// v1.36.3 gives the default token its description only on the
		// flags-only path (app/cmd/init.go); the parity suite checks this
		// against kubeadm itself.
		"auth-extra-groups": bootstrapGroup, "description": "",
	} {
		if got := secretString(s, k); got != want {
			if k == "token-secret" {
				got = "<differs>"
			}
			t.Errorf("#12 %s = %q, want %q", k, got, map[bool]string{true: "<the printed secret>", false: want}[k == "token-secret"])
		}
	}
	exp, err := time.Parse(time.RFC3339, secretString(s, "expiration"))
	if err != nil {
		t.Errorf("#12 expiration %q: %v", secretString(s, "expiration"), err)
	} else if d := exp.Sub(initStart); d < 23*time.Hour || d > 24*time.Hour+10*time.Minute {
		t.Errorf("#12 expiration %s is %s after init started, want the default TTL 24h", exp, d)
	}
}

// checkUploadedCerts checks #7 and #8: the 2h token that owns
// kubeadm-certs, and that every value of kubeadm-certs decrypts (AES-256-GCM,
// nonce first, facts §6) with the printed certificate key to the node's file.
func checkUploadedCerts(ctx context.Context, t *testing.T, cs *kubernetes.Clientset, n *node.Node, certKey string, initStart time.Time) {
	t.Helper()
	certs, err := cs.CoreV1().Secrets("kube-system").Get(ctx, "kubeadm-certs", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("#8 Secret kube-system/kubeadm-certs: %v", err)
	}
	if len(certs.OwnerReferences) != 1 {
		t.Fatalf("#8 kubeadm-certs ownerReferences %+v, want one (the upload-certs token)", certs.OwnerReferences)
	}
	or := certs.OwnerReferences[0]
	tok, err := cs.CoreV1().Secrets("kube-system").Get(ctx, or.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("#7 owner %s of kubeadm-certs: %v", or.Name, err)
	}
	if or.Kind != "Secret" || or.UID != tok.UID || or.Controller == nil || !*or.Controller || or.BlockOwnerDeletion == nil || !*or.BlockOwnerDeletion {
		t.Errorf("#8 ownerReference %+v does not point at %s (uid %s) as controller", or, tok.Name, tok.UID)
	}
	if tok.Type != "bootstrap.kubernetes.io/token" || secretString(tok, "description") != "Proxy for managing TTL for the kubeadm-certs secret" {
		t.Errorf("#7 %s: type %q description %q", tok.Name, tok.Type, secretString(tok, "description"))
	}
	for k := range tok.Data {
		if strings.HasPrefix(k, "usage-bootstrap-") || k == "auth-extra-groups" {
			t.Errorf("#7 %s has %s; the upload-certs token has no usages and no groups", tok.Name, k)
		}
	}
	if exp, err := time.Parse(time.RFC3339, secretString(tok, "expiration")); err != nil {
		t.Errorf("#7 expiration: %v", err)
	} else if d := exp.Sub(initStart); d < 110*time.Minute || d > 2*time.Hour+10*time.Minute {
		t.Errorf("#7 expiration %s after init started, want 2h", d)
	}

	key, err := hex.DecodeString(certKey)
	if err != nil || len(key) != 32 {
		t.Fatalf("the printed certificate key (%d chars) is not 32 hex-encoded bytes (%v)", len(certKey), err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"ca.crt": "ca.crt", "ca.key": "ca.key", "front-proxy-ca.crt": "front-proxy-ca.crt", "front-proxy-ca.key": "front-proxy-ca.key",
		"sa.pub": "sa.pub", "sa.key": "sa.key", "etcd-ca.crt": "etcd/ca.crt", "etcd-ca.key": "etcd/ca.key",
	}
	if got, want := keysOf(certs.Data), keysOf(files); !slices.Equal(got, want) {
		t.Errorf("#8 kubeadm-certs keys %v, want %v", got, want)
	}
	for k, rel := range files {
		ct := certs.Data[k]
		if len(ct) < gcm.NonceSize() {
			t.Errorf("#8 kubeadm-certs %s: %d bytes, shorter than a nonce", k, len(ct))
			continue
		}
		plain, err := gcm.Open(nil, ct[:gcm.NonceSize()], ct[gcm.NonceSize():], nil)
		if err != nil {
			t.Errorf("#8 kubeadm-certs %s does not decrypt with the printed certificate key: %v", k, err)
			continue
		}
		want, err := n.ReadFile("/etc/kubernetes/pki/" + rel)
		if err != nil {
			t.Fatal(err)
		}
		if string(plain) != string(want) {
			t.Errorf("#8 kubeadm-certs %s decrypts to %d bytes that differ from /etc/kubernetes/pki/%s", k, len(plain), rel)
		}
	}
}

// checkNodeMarked checks #11: the control-plane labels and taint.
func checkNodeMarked(ctx context.Context, t *testing.T, cs *kubernetes.Clientset, name string) {
	t.Helper()
	nd, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("#11 Node %s: %v", name, err)
	}
	for _, l := range []string{"node-role.kubernetes.io/control-plane", "node.kubernetes.io/exclude-from-external-load-balancers"} {
		if v, ok := nd.Labels[l]; !ok || v != "" {
			t.Errorf("#11 Node %s label %s = %q (present %v), want \"\"", name, l, v, ok)
		}
	}
	found := false
	for _, tn := range nd.Spec.Taints {
		if tn.Key == "node-role.kubernetes.io/control-plane" && tn.Effect == corev1.TaintEffectNoSchedule && tn.Value == "" {
			found = true
		}
	}
	if !found {
		t.Errorf("#11 Node %s taints %+v lack node-role.kubernetes.io/control-plane:NoSchedule", name, nd.Spec.Taints)
	}
}
