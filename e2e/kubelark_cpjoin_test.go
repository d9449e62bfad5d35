package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// cpJoinNetwork is TestKubelarkControlPlaneJoin's own bridge (nodes bcp1,
// bcp2, bcp3), so it runs beside the other e2e tests.
const cpJoinNetwork = "10.84.0"

// printedCPJoin is the control-plane join command `kubelark run init`
// prints with a control-plane endpoint and upload_certs: indented by two
// spaces, its --set lines joined by " \\\n\t".
var printedCPJoin = regexp.MustCompile(`(?m)^  kubelark run join((?: \\\n\t--set \S+)+)`)

// TestKubelarkControlPlaneJoin is issue 9's control-plane join end to
// end: init on bcp1 with --control-plane-endpoint and upload_certs=true;
// on bcp3 a wrong certificate key fails download-certs and writes no
// certificate; bcp2 joins with the exact command init printed (plus the
// node's own settings). Then etcd has two voting members and no learner,
// bcp2's API server serves, Node bcp2 carries the control-plane label and
// taint, and bcp2's admin.conf points at the endpoint.
func TestKubelarkControlPlaneJoin(t *testing.T) {
	testStart := time.Now()
	kubelark := buildKubelark(t)
	nw := e2eutil.NewNetwork(t, cpJoinNetwork)
	cp1 := newNode(t, nw, "bcp1")
	cp2 := newNode(t, nw, "bcp2")
	cp3 := newNode(t, nw, "bcp3")
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	endpoint := cp1.IP + ":6443"

	start := time.Now()
	out := run(ctx, t, cp1, kubelark, "run", "init", "--config", writeInitConfig(t, cp1), "--service-command", cp1.ServiceCommand(),
		"--set", "control_plane_endpoint="+endpoint, "--set", "upload_certs=true")
	t.Logf("kubelark init took %s", time.Since(start).Round(time.Millisecond))
	cs := clientFor(t, cp1, "/etc/kubernetes/admin.conf")
	waitReadyz(ctx, t, cs)

	m := printedCPJoin.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("init printed no control-plane `kubelark run join --set ... --set control_plane=true --set certificate_key=...` command:\n%s", out)
	}
	printed := []string{"run", "join"}
	for _, f := range strings.Fields(m[1]) {
		if f != `\` {
			printed = append(printed, f)
		}
	}
	if setValue(t, printed, "control_plane") != "true" || len(setValue(t, printed, "certificate_key")) != 64 {
		t.Fatalf("the printed control-plane join lacks control_plane=true or the certificate key: %v", printed)
	}
	if got := setValue(t, printed, "api_server_endpoint"); got != endpoint {
		t.Errorf("the printed join's api_server_endpoint = %s, want the control-plane endpoint %s", got, endpoint)
	}
	// The node's own settings (its service command, CRI socket, the
	// cgroup v1 check ignored, the images imported rather than pulled).
	local := func(n *node.Node) []string {
		return []string{"--service-command", n.ServiceCommand(), "--cri-socket", "unix://" + node.ContainerdSocket,
			"--ignore-preflight-errors", "SystemVerification", "--set", "image_pull_policy=Never"}
	}

	// A wrong certificate key: download-certs fails, names itself and says
	// how to get the current key; no certificate is written.
	t.Run("WrongCertificateKey", func(t *testing.T) {
		args := []string{kubelark}
		for i := 0; i < len(printed); i++ {
			if printed[i] == "--set" && strings.HasPrefix(printed[i+1], "certificate_key=") {
				args = append(args, "--set", "certificate_key="+strings.Repeat("ab", 32))
				i++
				continue
			}
			args = append(args, printed[i])
		}
		plan := filepath.Join(cp3.Dir, "wrongkey-plan.json")
		out, err := runStatus(ctx, t, cp3, append(append(args, local(cp3)...), "--plan", plan)...)
		if err == nil {
			t.Fatalf("a control-plane join with a wrong certificate key succeeded")
		}
		for _, want := range []string{"download-certs: the certificate key does not decrypt kubeadm-certs", "--phases upload-certs --set upload_certs=true"} {
			if !strings.Contains(out, want) {
				t.Errorf("the failure does not say %q", want)
			}
		}
		for _, a := range readPlan(t, plan).Actions {
			if strings.HasPrefix(a.Op, "file.") || strings.HasPrefix(a.Op, "dir.") || strings.HasPrefix(a.Op, "service.") {
				t.Errorf("the failed join recorded %s %s", a.Op, a.Target)
			}
		}
		if files, _ := cp3.Exec(ctx, "sh", "-c", "find /etc/kubernetes/pki -type f 2>/dev/null"); len(bytes.TrimSpace(files)) > 0 {
			t.Errorf("the failed join wrote certificates:\n%s", files)
		}
	})

	start = time.Now()
	run(ctx, t, cp2, append(append(append([]string{kubelark}, printed...), local(cp2)...), "--plan", filepath.Join(cp2.Dir, "cpjoin-plan.json"))...)
	t.Logf("kubelark control-plane join took %s", time.Since(start).Round(time.Millisecond))

	t.Run("EtcdMembers", func(t *testing.T) {
		members := etcdMembers(ctx, t, cp1)
		voting := 0
		names := []string{}
		for _, mb := range members {
			names = append(names, fmt.Sprintf("%s(learner=%v)", mb.Name, mb.IsLearner))
			if mb.IsLearner {
				t.Errorf("etcd member %s (%v) is still a learner", mb.Name, mb.PeerURLs)
			} else {
				voting++
			}
		}
		if voting != 2 || len(members) != 2 {
			t.Errorf("etcd members: %v; want bcp1 and bcp2, both voting", names)
		}
	})
	t.Run("APIServerServes", func(t *testing.T) {
		rc := restConfigFor(t, cp2, "/etc/kubernetes/admin.conf")
		rc.Host = "https://" + cp2.IP + ":6443"
		cs2, err := kubernetes.NewForConfig(rc)
		if err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
		defer wcancel()
		if err := e2eutil.WaitReadyz(wctx, cs2, 500*time.Millisecond); err != nil {
			t.Fatalf("bcp2's API server at %s: %v", rc.Host, err)
		}
		if _, err := cs2.CoreV1().Nodes().Get(ctx, "bcp1", metav1.GetOptions{}); err != nil {
			t.Errorf("reading Node bcp1 through bcp2's API server: %v", err)
		}
	})
	t.Run("NodeMarked", func(t *testing.T) {
		n, err := cs.CoreV1().Nodes().Get(ctx, cp2.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := n.Labels["node-role.kubernetes.io/control-plane"]; !ok {
			t.Errorf("Node bcp2 lacks the control-plane label: %v", n.Labels)
		}
		if _, ok := n.Labels["node.kubernetes.io/exclude-from-external-load-balancers"]; !ok {
			t.Errorf("Node bcp2 lacks the exclude-from-external-load-balancers label: %v", n.Labels)
		}
		tainted := false
		for _, tt := range n.Spec.Taints {
			tainted = tainted || (tt.Key == "node-role.kubernetes.io/control-plane" && tt.Effect == "NoSchedule")
		}
		if !tainted {
			t.Errorf("Node bcp2 lacks the control-plane NoSchedule taint: %v", n.Spec.Taints)
		}
	})
	t.Run("Kubeconfigs", func(t *testing.T) {
		for file, want := range map[string]string{
			"/etc/kubernetes/admin.conf":              "https://" + endpoint,
			"/etc/kubernetes/controller-manager.conf": "https://" + cp2.IP + ":6443",
			"/etc/kubernetes/scheduler.conf":          "https://" + cp2.IP + ":6443",
		} {
			b, err := cp2.ReadFile(file)
			if err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			kc, err := clientcmd.Load(b)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if got := kc.Clusters[kc.Contexts[kc.CurrentContext].Cluster].Server; got != want {
				t.Errorf("%s server = %s, want %s", file, got, want)
			}
		}
		for _, gone := range []string{"/etc/kubernetes/bootstrap-kubelet.conf", "/etc/kubernetes/super-admin.conf"} {
			if _, err := cp2.ReadFile(gone); err == nil {
				t.Errorf("%s exists after a control-plane join", gone)
			}
		}
	})
	t.Logf("TestKubelarkControlPlaneJoin took %s", time.Since(testStart).Round(time.Second))
}

type etcdMember struct {
	ID        string   `json:"ID"`
	Name      string   `json:"name"`
	PeerURLs  []string `json:"peerURLs"`
	IsLearner bool     `json:"isLearner"`
}

// etcdMembers lists the etcd members through n's etcd (its gRPC gateway,
// /v3/cluster/member/list), with n's health-check client certificate.
func etcdMembers(ctx context.Context, t *testing.T, n *node.Node) []etcdMember {
	t.Helper()
	read := func(p string) []byte {
		b, err := n.ReadFile("/etc/kubernetes/pki/etcd/" + p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cert, err := tls.X509KeyPair(read("healthcheck-client.crt"), read("healthcheck-client.key"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(read("ca.crt"))
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext:     n.DialContext,
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}},
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+n.IP+":2379/v3/cluster/member/list", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("etcd member list on %s: %v", n.Name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("etcd member list on %s: %s: %s", n.Name, resp.Status, body)
	}
	var out struct {
		Members []etcdMember `json:"members"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("etcd member list: %v: %s", err, body)
	}
	return out.Members
}
