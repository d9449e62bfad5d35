package parity

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// NodeIdentity is what differs, by necessity, between the two clusters of
// the API suite: the node each tool initialises. Both are replaced by
// placeholders before the comparison.
type NodeIdentity struct {
	Name string // node name (and hostname)
	IP   string // advertise address
}

// vmKubeletConfiguration is what the kubelet needs on the e2e nodes of this
// machine kind (e2e/config_test.go, real-node.md): cgroupfs (containerd 1.6
// does not report its driver), cgroup v1 allowed, swap allowed, the node's
// CRI socket, image GC off (a collected image cannot be pulled again: there
// is no registry) and eviction thresholds relaxed for small disks.
func vmKubeletConfiguration(criSocket string) map[string]any {
	return map[string]any{
		"cgroupDriver":                "cgroupfs",
		"failCgroupV1":                false,
		"failSwapOn":                  false,
		"containerRuntimeEndpoint":    "unix://" + criSocket,
		"imageGCHighThresholdPercent": 100,
		"imageGCLowThresholdPercent":  99,
		"evictionHard": map[string]any{
			"memory.available":  "100Mi",
			"nodefs.available":  "1%",
			"nodefs.inodesFree": "1%",
			"imagefs.available": "1%",
		},
	}
}

// RenderNodeConfig turns one config of the API matrix into the file a tool
// gets on node id: the InitConfiguration gets the node's name, advertise
// address and CRI socket, imagePullPolicy Never (images are imported, there
// is no registry) and SystemVerification among the ignored preflight errors
// (kubeadm v1.36 rejects cgroup v1); the KubeletConfiguration (added when
// the config has none) gets vmKubeletConfiguration. Documents are written
// as JSON (valid YAML for both tools); everything else is kept as is.
// It also returns the InitConfiguration's certificateKey and the IDs of
// the bootstrap tokens the config sets (they are compared literally).
func RenderNodeConfig(src []byte, id NodeIdentity, criSocket string) (out []byte, certKey string, tokenIDs []string, err error) {
	var docs []map[string]any
	sawInit, sawKubelet := false, false
	for _, doc := range docSep.Split(string(src), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		m, err := yamlToMap([]byte(doc))
		if err != nil {
			return nil, "", nil, err
		}
		switch m["kind"] {
		case "InitConfiguration":
			sawInit = true
			ep := child(m, "localAPIEndpoint")
			ep["advertiseAddress"] = id.IP
			nr := child(m, "nodeRegistration")
			nr["name"] = id.Name
			nr["criSocket"] = "unix://" + criSocket
			nr["imagePullPolicy"] = "Never"
			ignored, _ := nr["ignorePreflightErrors"].([]any)
			nr["ignorePreflightErrors"] = append(ignored, "SystemVerification")
			certKey, _ = m["certificateKey"].(string)
			tokens, _ := m["bootstrapTokens"].([]any)
			for _, tk := range tokens {
				if tm, ok := tk.(map[string]any); ok {
					if s, ok := tm["token"].(string); ok {
						if i := strings.IndexByte(s, '.'); i > 0 {
							tokenIDs = append(tokenIDs, s[:i])
						}
					}
				}
			}
		case "KubeletConfiguration":
			sawKubelet = true
			for k, v := range vmKubeletConfiguration(criSocket) {
				m[k] = v
			}
		}
		docs = append(docs, m)
	}
	if !sawInit {
		return nil, "", nil, fmt.Errorf("no InitConfiguration document: the API suite needs one to set the node's name and address")
	}
	if !sawKubelet {
		k := vmKubeletConfiguration(criSocket)
		k["apiVersion"], k["kind"] = "kubelet.config.k8s.io/v1beta1", "KubeletConfiguration"
		docs = append(docs, k)
	}
	var b strings.Builder
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		j, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return nil, "", nil, err
		}
		b.Write(j)
		b.WriteString("\n")
	}
	return []byte(b.String()), certKey, tokenIDs, nil
}

// child returns m[key] as a map, creating it when absent.
func child(m map[string]any, key string) map[string]any {
	c, ok := m[key].(map[string]any)
	if !ok {
		c = map[string]any{}
		m[key] = c
	}
	return c
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// writeNodeConfig renders c for id into file (mode 0600: it may hold a
// certificate key and tokens).
func writeNodeConfig(c *Config, id NodeIdentity, criSocket, file string) (certKey string, tokenIDs []string, err error) {
	src, err := os.ReadFile(c.Path)
	if err != nil {
		return "", nil, err
	}
	out, certKey, tokenIDs, err := RenderNodeConfig(src, id, criSocket)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", c.Path, err)
	}
	return certKey, tokenIDs, os.WriteFile(file, out, 0o600)
}
