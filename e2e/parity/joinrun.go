package parity

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubelark/kubelark/e2e/node"
)

// JoinNetwork is the test network of the join suite (TestParityJoin).
const JoinNetwork = "10.83.0"

// joinCP is the node whose cluster both tools join: made by kubeadm init,
// so that a difference between the joined nodes can only come from the
// join tool (kubelark's init is held to kubeadm's by TestParity and
// TestParityAPI; joining kubeadm's cluster also proves kubelark joins a
// cluster it did not make).
var joinCP = NodeIdentity{Name: "pjcp", IP: JoinNetwork + ".10"}

// joinNodes are the nodes each tool joins, per workflow. A node name is
// machine-global and shows in what is written (certificates, kubelet
// files), so each tool gets its own node and both identities are replaced
// by placeholders before the comparison, as in the API suite.
var joinNodes = map[string][2]joinNode{
	"join-worker": {
		{Tool: "kubeadm", ID: NodeIdentity{Name: "pjw1", IP: JoinNetwork + ".11"}},
		{Tool: "kubelark", ID: NodeIdentity{Name: "pjw2", IP: JoinNetwork + ".12"}},
	},
	"join-control-plane": {
		{Tool: "kubeadm", ID: NodeIdentity{Name: "pjc1", IP: JoinNetwork + ".13"}},
		{Tool: "kubelark", ID: NodeIdentity{Name: "pjc2", IP: JoinNetwork + ".14"}},
	},
}

type joinNode struct {
	Tool string
	ID   NodeIdentity
}

// JoinSecrets are what `kubeadm init --upload-certs` on joinCP printed:
// the inputs of every join.
type JoinSecrets struct {
	Endpoint, Token, CAHash, CertificateKey string
}

// printedJoinRE reads the control-plane join command kubeadm init prints.
var printedJoinRE = regexp.MustCompile(`kubeadm join (\S+) --token (\S+) \\\s+--discovery-token-ca-cert-hash (\S+) \\\s+--control-plane --certificate-key (\S+)`)

// ParseKubeadmInit reads the join inputs from kubeadm init's output.
func ParseKubeadmInit(out string) (JoinSecrets, error) {
	m := printedJoinRE.FindStringSubmatch(out)
	if m == nil {
		return JoinSecrets{}, fmt.Errorf("kubeadm init printed no control-plane join command with --certificate-key")
	}
	return JoinSecrets{Endpoint: m[1], Token: m[2], CAHash: m[3], CertificateKey: m[4]}, nil
}

// RenderJoinConfig turns a join config of the matrix into the file a tool
// gets on node id: discovery by the cluster's bootstrap token with its CA
// pin, the node's name and CRI socket, imagePullPolicy Never (images are
// imported; there is no registry), SystemVerification ignored (cgroup v1)
// and, for a control-plane join, ImagePull too (its preflight wants every
// image of the cluster, and the kube-proxy and CoreDNS images are not
// built), the node's advertise address and the certificate key.
func RenderJoinConfig(src []byte, id NodeIdentity, criSocket string, s JoinSecrets) ([]byte, error) {
	var docs []map[string]any
	sawJoin := false
	for _, doc := range docSep.Split(string(src), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		m, err := yamlToMap([]byte(doc))
		if err != nil {
			return nil, err
		}
		if m["kind"] == "JoinConfiguration" {
			sawJoin = true
			bt := child(child(m, "discovery"), "bootstrapToken")
			bt["apiServerEndpoint"] = s.Endpoint
			bt["token"] = s.Token
			bt["caCertHashes"] = []any{s.CAHash}
			nr := child(m, "nodeRegistration")
			nr["name"] = id.Name
			nr["criSocket"] = "unix://" + criSocket
			nr["imagePullPolicy"] = "Never"
			ignored, _ := nr["ignorePreflightErrors"].([]any)
			ignored = append(ignored, "SystemVerification")
			if cp, ok := m["controlPlane"].(map[string]any); ok {
				ignored = append(ignored, "ImagePull")
				child(cp, "localAPIEndpoint")["advertiseAddress"] = id.IP
				cp["certificateKey"] = s.CertificateKey
			}
			nr["ignorePreflightErrors"] = ignored
		}
		docs = append(docs, m)
	}
	if !sawJoin {
		return nil, fmt.Errorf("no JoinConfiguration document")
	}
	var b strings.Builder
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		j, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return nil, err
		}
		b.Write(j)
		b.WriteString("\n")
	}
	return []byte(b.String()), nil
}

// runtimeState are paths that the kubelet and etcd keep for themselves
// once they run (Pod volumes under Pod UIDs, plugin and device-plugin
// sockets, resource-manager checkpoints, the Pods' allocated and actuated
// resources by Pod UID; etcd's member data): neither join
// tool writes them, so they are not copied. The kubelet's pki/ is kept: it
// is the outcome of the TLS bootstrap the join set up.
var runtimeState = []string{
	"var/lib/etcd/member",
	"var/lib/kubelet/pods",
	"var/lib/kubelet/plugins",
	"var/lib/kubelet/plugins_registry",
	"var/lib/kubelet/pod-resources",
	"var/lib/kubelet/device-plugins",
	"var/lib/kubelet/checkpoints",
	"var/lib/kubelet/cpu_manager_state",
	"var/lib/kubelet/memory_manager_state",
	"var/lib/kubelet/allocated_pods_state",
	"var/lib/kubelet/actuated_pods_state",
}

// copyRoots copies the roots of node n (as the node sees them) into
// out.Root, owners and modes kept, the paths in exclude left out (the
// kubelet's runtimeState after a join; nothing after a reset, where every
// file left counts).
func copyRoots(ctx context.Context, n *node.Node, out *Output, exclude []string) error {
	args := []string{"tar", "-C", "/", "-cf", "-"}
	for _, x := range exclude {
		args = append(args, "--exclude="+x)
	}
	for _, r := range Roots {
		args = append(args, strings.TrimPrefix(r, "/"))
	}
	var stream, errb bytes.Buffer
	cmd := n.Command(ctx, args...)
	cmd.Stdout, cmd.Stderr = &stream, &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("tar of %s's roots: %w: %s", n.Name, err, errb.String())
	}
	untar := exec.CommandContext(ctx, "tar", "-x", "-p", "--same-owner", "-C", out.Root)
	untar.Stdin = &stream
	if b, err := untar.CombinedOutput(); err != nil {
		return fmt.Errorf("extracting %s's files into %s: %w\n%s", n.Name, out.Root, err, b)
	}
	return nil
}

// waitJoined waits until the joined node's kubelet has finished its TLS
// bootstrap (kubelet.conf written, bootstrap-kubelet.conf gone) and its
// Node is registered.
func waitJoined(ctx context.Context, n *node.Node, cs kubernetes.Interface) error {
	for {
		_, errConf := os.Stat(n.HostPath("/etc/kubernetes/kubelet.conf"))
		_, errBoot := os.Stat(n.HostPath("/etc/kubernetes/bootstrap-kubelet.conf"))
		_, errNode := cs.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if errConf == nil && os.IsNotExist(errBoot) && errNode == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %s not joined (kubelet.conf: %v, bootstrap-kubelet.conf still there: %v, Node: %v)", n.Name, errConf, errBoot == nil, errNode)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// kubeletPEMCollector reads the kubelet's client certificate files under
// /var/lib/kubelet/pki (*.pem: certificate and key in one file, written by
// the kubelet after the TLS bootstrap) as certificates; the raw collector
// would only hash them.
var kubeletPEMCollector = fileCollector{
	name: "kubelet-pem",
	match: func(p string) bool {
		return path.Dir(p) == "/var/lib/kubelet/pki" && path.Ext(p) == ".pem"
	},
	read: func(o *Output, p string, data []byte) (Artifacts, error) {
		// The kubelet writes the key first, then the certificate.
		var certPEM, keyPEM []byte
		for rest := data; ; {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			if b.Type == "CERTIFICATE" {
				certPEM = append(certPEM, pem.EncodeToMemory(b)...)
			} else if keyPEM == nil {
				keyPEM = pem.EncodeToMemory(b)
			}
		}
		certs, err := parseCerts(certPEM)
		if err != nil {
			return nil, err
		}
		idx, err := o.certIndex()
		if err != nil {
			return nil, err
		}
		r := Record{"count": fmt.Sprint(len(certs))}
		certFields(r, "", certs[0], idx)
		r["key"] = Absent
		if keyPEM != nil {
			key, pemType, err := parsePrivateKey(keyPEM)
			if err != nil {
				return nil, err
			}
			r["key"] = pemType + " " + keyAlgorithm(key.Public())
			r["key.matches_cert"] = fmt.Sprint(samePublicKey(certs[0].PublicKey, key.Public()))
		}
		return Artifacts{"cert " + p: r}, nil
	},
}

// JoinCollectors are the file collectors plus the kubelet's PEM files.
func JoinCollectors() []Collector {
	content := []fileCollector{certCollector, kubeconfigCollector, manifestCollector, kubeletCollector, kubeletPEMCollector}
	cs := []Collector{treeCollector{}}
	for _, c := range content {
		cs = append(cs, c)
	}
	return append(cs, rawCollector{others: content})
}

var (
	// unixTimeRE: the kubelet names its self-signed serving certificate
	// and its CA "<host>@<unix time>" and "<host>-ca@<unix time>".
	unixTimeRE = regexp.MustCompile(`@\d{9,}\b`)
	// datedPEMRE: the kubelet's rotated client certificate file is named
	// by the time it was written.
	datedPEMRE = regexp.MustCompile(`kubelet-client-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.pem`)
)

// NormalizeJoin replaces what differs by necessity between the two joined
// nodes in every artifact id, field name and value: the node's name and
// address (<node-name>, <node-ip>) and the kubelet's timestamps. etcd's
// --initial-cluster is sorted: both tools list the members in the order
// etcd's member list gives them, which is the order of their random IDs.
func NormalizeJoin(a Artifacts, id NodeIdentity) Artifacts {
	nameRE := regexp.MustCompile(`\b` + regexp.QuoteMeta(id.Name) + `\b`)
	ipRE := regexp.MustCompile(`\b` + regexp.QuoteMeta(id.IP) + `\b`)
	rep := func(s string) string {
		s = nameRE.ReplaceAllString(s, "<node-name>")
		s = ipRE.ReplaceAllString(s, "<node-ip>")
		s = unixTimeRE.ReplaceAllString(s, "@<unix-time>")
		return datedPEMRE.ReplaceAllString(s, "kubelet-client-<time>.pem")
	}
	out := Artifacts{}
	for aid, r := range a {
		nr := Record{}
		for f, v := range r {
			v = rep(v)
			if strings.HasSuffix(f, ".command.--initial-cluster") {
				v = sortedList(v)
			}
			nr[rep(f)] = v
		}
		out[rep(aid)] = nr
	}
	return out
}

// sortedList sorts the elements of a (JSON-quoted) comma-separated list.
func sortedList(v string) string {
	unq, err := strconv.Unquote(v)
	if err != nil {
		return v
	}
	parts := strings.Split(unq, ",")
	sort.Strings(parts)
	return strconv.Quote(strings.Join(parts, ","))
}
