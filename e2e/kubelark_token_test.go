package e2e

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// tokenNetwork is TestKubelarkToken's own test bridge (nodes tcp1, tw1).
const tokenNetwork = "10.81.0"

// stdoutOf runs a command inside the node and returns its stdout alone
// (the token commands print their result there, progress on stderr).
func stdoutOf(ctx context.Context, t *testing.T, n *node.Node, args ...string) string {
	t.Helper()
	start := time.Now()
	cmd := n.Command(ctx, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("[%s] %s: done in %s (%s)\nstdout:\n%s\nstderr:\n%s", n.Name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond), errOrOK(err), out, stderr.String())
	if err != nil {
		t.Fatalf("[%s] %s: %v", n.Name, strings.Join(args, " "), err)
	}
	return string(out)
}

// TestKubelarkToken is issue 9 item 5 end to end: on a cluster made by
// `kubelark run init` (tcp1), `kubelark token create --print-join-command`
// prints a join command with which tw1 joins (the token authenticates:
// the kubelet TLS-bootstraps with it); `token list` shows the token
// masked with its TTL; `token delete` removes it; re-running init's
// upload-certs phase prints a new certificate key with which the
// kubeadm-certs Secret decrypts, owned by a new token.
func TestKubelarkToken(t *testing.T) {
	testStart := time.Now()
	kubelark := buildKubelark(t)
	nw := e2eutil.NewNetwork(t, tokenNetwork)
	cp := newNode(t, nw, "tcp1")
	w := newWorker(t, nw, "tw1")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	start := time.Now()
	run(ctx, t, cp, kubelark, "run", "init", "--config", writeInitConfig(t, cp), "--service-command", cp.ServiceCommand())
	t.Logf("kubelark init took %s", time.Since(start).Round(time.Millisecond))
	cs := clientFor(t, cp, "/etc/kubernetes/admin.conf")
	waitReadyz(ctx, t, cs)

	// create: one kubelark line, one kubeadm line, the same token.
	out := stdoutOf(ctx, t, cp, kubelark, "token", "create", "--print-join-command", "--ttl", "2h", "--description", "e2e token")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	joinRE := regexp.MustCompile(`^kubelark join (` + regexp.QuoteMeta(cp.IP) + `:6443) --token ([a-z0-9]{6})\.([a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})$`)
	m := joinRE.FindStringSubmatch(lines[0])
	if len(lines) != 2 || m == nil || !strings.HasPrefix(lines[1], "kubeadm join "+m[1]+" --token "+m[2]+"."+m[3]+" --discovery-token-ca-cert-hash "+m[4]) {
		t.Fatalf("token create --print-join-command printed:\n%s", out)
	}
	id, secretHalf := m[2], m[3]
	if _, err := cs.CoreV1().Secrets("kube-system").Get(ctx, "bootstrap-token-"+id, metav1.GetOptions{}); err != nil {
		t.Fatalf("the token Secret: %v", err)
	}

	// create with an existing id: refused, no secret in the message.
	if out, err := runStatus(ctx, t, cp, kubelark, "token", "create", id+".zzzzzzzzzzzzzzzz"); err == nil ||
		!strings.Contains(out, "exists") || strings.Contains(out, "zzzzzzzzzzzzzzzz") {
		t.Errorf("token create of an existing id: %v\n%s", err, out)
	}

	// list: masked, with the TTL.
	list := stdoutOf(ctx, t, cp, kubelark, "token", "list")
	if !regexp.MustCompile(`(?m)^` + id + `\.\*{16} +(1h|2h|119m|120m) +\S+ +authentication,signing +e2e token +system:bootstrappers:kubeadm:default-node-token$`).MatchString(list) {
		t.Errorf("token list does not show %s masked with its TTL:\n%s", id, list)
	}
	if strings.Contains(list, secretHalf) {
		t.Errorf("token list prints a token secret")
	}

	// join with the printed command (the node's own settings added, as
	// TestKubelarkJoin gives them).
	fields := strings.Fields(lines[0])
	start = time.Now()
	run(ctx, t, w, append(append([]string{kubelark}, fields[1:]...),
		"--service-command", w.ServiceCommand(), "--cri-socket", "unix://"+node.ContainerdSocket, "--ignore-preflight-errors", "SystemVerification")...)
	t.Logf("kubelark join with the token took %s", time.Since(start).Round(time.Millisecond))
	waitNodeRegistered(ctx, t, cs, w.Name)
	checkJoinedKubelet(ctx, t, cp, w)

	// delete by id; the list no longer has it.
	if out := stdoutOf(ctx, t, cp, kubelark, "token", "delete", id); strings.TrimSpace(out) != `bootstrap token "`+id+`" deleted` {
		t.Errorf("token delete printed %q", out)
	}
	if list := stdoutOf(ctx, t, cp, kubelark, "token", "list"); strings.Contains(list, id+".") {
		t.Errorf("the deleted token is still listed:\n%s", list)
	}
	if out, err := runStatus(ctx, t, cp, kubelark, "token", "delete", id); err == nil || !strings.Contains(out, "not found") {
		t.Errorf("deleting a deleted token: %v\n%s", err, out)
	}

	// upload-certs re-run on the existing control plane: a new key.
	t.Run("UploadCertsRerun", func(t *testing.T) {
		certsBefore, err := cs.CoreV1().Secrets("kube-system").Get(ctx, "kubeadm-certs", metav1.GetOptions{})
		if err != nil && !strings.Contains(err.Error(), "not found") {
			t.Fatal(err)
		}
		out := run(ctx, t, cp, kubelark, "run", "init", "--config", writeInitConfig(t, cp), "--phases", "upload-certs", "--set", "upload_certs=true", "--service-command", cp.ServiceCommand())
		km := regexp.MustCompile(`Using certificate key:\n(?:\[[a-z0-9-]+\] )?([0-9a-f]{64})\n`).FindStringSubmatch(strings.ReplaceAll(out, "["+cp.Name+"] ", ""))
		if km == nil || !strings.Contains(out, "Run join with --certificate-key") {
			t.Fatalf("the upload-certs re-run printed no key or no hint:\n%s", out)
		}
		key, _ := hex.DecodeString(km[1])
		s, err := cs.CoreV1().Secrets("kube-system").Get(ctx, "kubeadm-certs", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if certsBefore != nil && certsBefore.UID != "" && len(certsBefore.OwnerReferences) > 0 && len(s.OwnerReferences) > 0 && certsBefore.OwnerReferences[0].UID == s.OwnerReferences[0].UID {
			t.Errorf("kubeadm-certs kept its owner token; want a new one")
		}
		if len(s.OwnerReferences) != 1 || !strings.HasPrefix(s.OwnerReferences[0].Name, "bootstrap-token-") {
			t.Fatalf("kubeadm-certs owner references: %v", s.OwnerReferences)
		}
		firstOwner := s.OwnerReferences[0].UID
		checkCertsDecrypt(t, cp, s.Data, key)
		// A new key from certs certificate-key, given to the re-run.
		newKey := strings.TrimSpace(stdoutOf(ctx, t, cp, kubelark, "certs", "certificate-key"))
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(newKey) {
			t.Fatalf("certs certificate-key printed %q", newKey)
		}
		// Re-upload with that key: the Secret decrypts with it, under a new owner token.
		run(ctx, t, cp, kubelark, "run", "init", "--config", writeInitConfig(t, cp), "--phases", "upload-certs", "--set", "upload_certs=true", "--set", "certificate_key="+newKey, "--service-command", cp.ServiceCommand())
		s, err = cs.CoreV1().Secrets("kube-system").Get(ctx, "kubeadm-certs", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID == firstOwner {
			t.Errorf("the second re-upload kept the owner token %s; want a new one", firstOwner)
		}
		nk, _ := hex.DecodeString(newKey)
		checkCertsDecrypt(t, cp, s.Data, nk)
		cpLine := stdoutOf(ctx, t, cp, kubelark, "token", "create", "--print-join-command", "--certificate-key", newKey)
		if !strings.Contains(strings.Split(cpLine, "\n")[0], " --control-plane --certificate-key "+newKey) {
			t.Errorf("token create --certificate-key printed:\n%s", cpLine)
		}
	})
	t.Logf("TestKubelarkToken took %s", time.Since(testStart).Round(time.Second))
}

// checkCertsDecrypt decrypts kubeadm-certs' ca.crt (AES-256-GCM, nonce
// first: kubeadm-facts §6) with key and compares it with the node's.
func checkCertsDecrypt(t *testing.T, cp *node.Node, data map[string][]byte, key []byte) {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	enc := data["ca.crt"]
	if len(enc) < gcm.NonceSize() {
		t.Fatalf("kubeadm-certs ca.crt is %d bytes", len(enc))
	}
	plain, err := gcm.Open(nil, enc[:gcm.NonceSize()], enc[gcm.NonceSize():], nil)
	if err != nil {
		t.Fatalf("kubeadm-certs ca.crt does not decrypt with the printed key: %v", err)
	}
	ca, err := cp.ReadFile("/etc/kubernetes/pki/ca.crt")
	if err != nil || string(plain) != string(ca) {
		t.Errorf("the decrypted ca.crt is not the node's (%v)", err)
	}
}
