package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	certsv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/cluster-bootstrap/token/jws"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// poll calls fn every interval until it returns true or ctx/timeout ends;
// then the test fails with what fn last reported.
func poll(ctx context.Context, t *testing.T, timeout time.Duration, what string, fn func() (bool, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	for {
		ok, last := fn()
		if ok {
			t.Logf("%s after %s", what, time.Since(start).Round(time.Millisecond))
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %s; last: %s", what, timeout, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// nodeCA is the cluster CA certificate of an init node.
func nodeCA(t *testing.T, n *node.Node) []byte {
	t.Helper()
	ca, err := n.ReadFile("/etc/kubernetes/pki/ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// apiConfig is a CA-verified client configuration for the node's API
// server without credentials (anonymous) unless the caller adds some.
func apiConfig(t *testing.T, n *node.Node) *rest.Config {
	return &rest.Config{
		Host:            "https://" + n.IP + ":6443",
		TLSClientConfig: rest.TLSClientConfig{CAData: nodeCA(t, n)},
		Dial:            n.DialContext,
		Timeout:         10 * time.Second,
	}
}

func mustClient(t *testing.T, cfg *rest.Config) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func parseCert(t *testing.T, what string, b []byte) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", what)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return c
}

// checkAdminIdentity proves that admin.conf is cluster-admin through the
// kubeadm:cluster-admins binding, not through system:masters.
func checkAdminIdentity(ctx context.Context, t *testing.T, n *node.Node, cs *kubernetes.Clientset) {
	t.Helper()
	admin := parseCert(t, "admin.conf client certificate", restConfigFor(t, n, "/etc/kubernetes/admin.conf").CertData)
	if admin.Subject.CommonName != "kubernetes-admin" || !slices.Equal(admin.Subject.Organization, []string{"kubeadm:cluster-admins"}) {
		t.Errorf("admin.conf subject %s, want CN=kubernetes-admin, O=kubeadm:cluster-admins", admin.Subject)
	}
	super := parseCert(t, "super-admin.conf client certificate", restConfigFor(t, n, "/etc/kubernetes/super-admin.conf").CertData)
	if !slices.Equal(super.Subject.Organization, []string{"system:masters"}) {
		t.Errorf("super-admin.conf subject %s, want O=system:masters", super.Subject)
	}

	ssr, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectReview as admin.conf: %v", err)
	}
	ui := ssr.Status.UserInfo
	if ui.Username != "kubernetes-admin" || !slices.Contains(ui.Groups, "kubeadm:cluster-admins") || slices.Contains(ui.Groups, "system:masters") {
		t.Errorf("admin.conf authenticates as %q groups %v, want kubernetes-admin in kubeadm:cluster-admins and not system:masters", ui.Username, ui.Groups)
	}

	all := &authzv1.ResourceAttributes{Verb: "*", Group: "*", Resource: "*"}
	ssar, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authzv1.SelfSubjectAccessReview{
		Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: all},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectAccessReview: %v", err)
	}
	if !ssar.Status.Allowed || !strings.Contains(ssar.Status.Reason, `ClusterRoleBinding "kubeadm:cluster-admins"`) {
		t.Errorf("admin.conf may do * on *: allowed=%v reason %q, want allowed by ClusterRoleBinding \"kubeadm:cluster-admins\"", ssar.Status.Allowed, ssar.Status.Reason)
	}
	// The same user without the group may do nothing of the kind: the
	// rights come from the group's binding.
	sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{
		Spec: authzv1.SubjectAccessReviewSpec{User: "kubernetes-admin", Groups: []string{"system:authenticated"}, ResourceAttributes: all},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SubjectAccessReview: %v", err)
	}
	if sar.Status.Allowed {
		t.Errorf("kubernetes-admin without the kubeadm:cluster-admins group is allowed * on * (%q): the rights do not come from the binding", sar.Status.Reason)
	}
}

// checkClusterInfo reads cluster-info anonymously with CA verification,
// waits for the bootstrapsigner's JWS for the token and verifies it with the
// token secret (facts §5.3).
func checkClusterInfo(ctx context.Context, t *testing.T, n *node.Node, token string) {
	t.Helper()
	id, secret, _ := strings.Cut(token, ".")
	anon := mustClient(t, apiConfig(t, n))
	var cm *corev1.ConfigMap
	poll(ctx, t, 2*time.Minute, "cluster-info signed for token "+id, func() (bool, string) {
		var err error
		cm, err = anon.CoreV1().ConfigMaps("kube-public").Get(ctx, "cluster-info", metav1.GetOptions{})
		if err != nil {
			return false, "anonymous GET kube-public/cluster-info: " + err.Error()
		}
		if _, ok := cm.Data["jws-kubeconfig-"+id]; !ok {
			return false, fmt.Sprintf("keys %v lack jws-kubeconfig-%s (the controller-manager's bootstrapsigner adds it)", keysOf(cm.Data), id)
		}
		return true, ""
	})
	kc := cm.Data["kubeconfig"]
	cfg, err := clientcmd.Load([]byte(kc))
	if err != nil {
		t.Fatalf("cluster-info kubeconfig: %v\n%s", err, kc)
	}
	c, ok := cfg.Clusters[""]
	if !ok || len(cfg.Clusters) != 1 {
		t.Fatalf("cluster-info kubeconfig clusters %v, want one named \"\"", keysOf(cfg.Clusters))
	}
	if c.Server != "https://"+n.IP+":6443" || string(c.CertificateAuthorityData) != string(nodeCA(t, n)) {
		t.Errorf("cluster-info cluster: server %s (want https://%s:6443), CA equal to ca.crt: %v", c.Server, n.IP, string(c.CertificateAuthorityData) == string(nodeCA(t, n)))
	}
	sig := cm.Data["jws-kubeconfig-"+id]
	if !jws.DetachedTokenIsValid(sig, kc, id, secret) {
		t.Errorf("jws-kubeconfig-%s does not verify with the printed token's secret", id)
	}
	if jws.DetachedTokenIsValid(sig, kc, id, "0123456789abcdef") {
		t.Errorf("jws-kubeconfig-%s verifies with an unrelated secret: the check proves nothing", id)
	}
}

// checkBootstrapCSR posts a kubelet client CSR as the bootstrap token, as a
// joining kubelet does, and waits until the controller-manager approves
// (kubeadm:node-autoapprove-bootstrap) and signs it.
func checkBootstrapCSR(ctx context.Context, t *testing.T, n *node.Node, token string) {
	t.Helper()
	id, _, _ := strings.Cut(token, ".")
	cfg := apiConfig(t, n)
	cfg.BearerToken = token
	bs := mustClient(t, cfg)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	subject := pkix.Name{CommonName: "system:node:" + n.Name, Organization: []string{"system:nodes"}}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := bs.CertificatesV1().CertificateSigningRequests().Create(ctx, &certsv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-bootstrap-"},
		Spec: certsv1.CertificateSigningRequestSpec{
			Request:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
			SignerName: certsv1.KubeAPIServerClientKubeletSignerName,
			Usages:     []certsv1.KeyUsage{certsv1.UsageDigitalSignature, certsv1.UsageClientAuth},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create a CSR with the bootstrap token %s: %v", id, err)
	}
	if csr.Spec.Username != "system:bootstrap:"+id || !slices.Contains(csr.Spec.Groups, bootstrapGroup) {
		t.Errorf("CSR %s requested by %q groups %v, want system:bootstrap:%s in %s", csr.Name, csr.Spec.Username, csr.Spec.Groups, id, bootstrapGroup)
	}
	poll(ctx, t, 2*time.Minute, "CSR "+csr.Name+" approved and signed", func() (bool, string) {
		got, err := bs.CertificatesV1().CertificateSigningRequests().Get(ctx, csr.Name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		csr = got
		return len(got.Status.Certificate) > 0, fmt.Sprintf("conditions %+v, certificate %d bytes", got.Status.Conditions, len(got.Status.Certificate))
	})
	approved := false
	for _, c := range csr.Status.Conditions {
		if c.Type == certsv1.CertificateApproved && c.Status == corev1.ConditionTrue && c.Reason == "AutoApproved" {
			approved = true
		}
	}
	if !approved {
		t.Errorf("CSR %s conditions %+v, want Approved by the controller-manager (AutoApproved)", csr.Name, csr.Status.Conditions)
	}
	cert := parseCert(t, "issued certificate", csr.Status.Certificate)
	pool := x509.NewCertPool()
	pool.AddCert(parseCert(t, "ca.crt", nodeCA(t, n)))
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("issued certificate does not verify against ca.crt as a client certificate: %v", err)
	}
	if cert.Subject.CommonName != subject.CommonName || !slices.Equal(cert.Subject.Organization, subject.Organization) {
		t.Errorf("issued certificate subject %s, want %s", cert.Subject, subject)
	}
}

// checkMirrorPods checks that the four control-plane Pods are mirror Pods
// of kubelark's static Pod files, Running and Ready.
func checkMirrorPods(ctx context.Context, t *testing.T, cs *kubernetes.Clientset, nodeName string) {
	t.Helper()
	waitControlPlanePods(ctx, t, cs, nodeName)
	for _, c := range e2eutil.ControlPlaneComponents {
		p, err := cs.CoreV1().Pods("kube-system").Get(ctx, c+"-"+nodeName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := p.Annotations["kubernetes.io/config.mirror"]; !ok || p.Annotations["kubernetes.io/config.source"] != "file" {
			t.Errorf("Pod %s is not a mirror Pod of a static Pod file: annotations %v", p.Name, p.Annotations)
		}
		if p.Status.Phase != corev1.PodRunning {
			t.Errorf("Pod %s phase %s", p.Name, p.Status.Phase)
		}
	}
}

// checkCoreDNSPending checks that CoreDNS Pods exist but stay Pending: the
// Node is NotReady without a CNI, so they cannot be scheduled.
func checkCoreDNSPending(ctx context.Context, t *testing.T, cs *kubernetes.Clientset) {
	t.Helper()
	var pods []corev1.Pod
	poll(ctx, t, time.Minute, "CoreDNS Pods created", func() (bool, string) {
		l, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=kube-dns"})
		if err != nil {
			return false, err.Error()
		}
		pods = l.Items
		return len(pods) > 0, "no Pod with k8s-app=kube-dns yet"
	})
	for _, p := range pods {
		if p.Status.Phase != corev1.PodPending || p.Spec.NodeName != "" {
			t.Errorf("CoreDNS Pod %s: phase %s on node %q, want Pending and unscheduled (no CNI)", p.Name, p.Status.Phase, p.Spec.NodeName)
		}
	}
}
