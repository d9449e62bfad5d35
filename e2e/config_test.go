package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
	"github.com/kubelark/kubelark/e2e/node"
)

// initConfig is the kubeadm configuration both kubeadm and kubelark get for
// a first control-plane node n (see e2eutil.InitConfig for why each setting).
func initConfig(n *node.Node) string {
	return e2eutil.InitConfig(e2eutil.ConfigOptions{Address: n.IP, NodeName: n.Name, IgnoreSystemVerification: true})
}

// writeInitConfig writes the init configuration for n into its state
// directory (visible inside the node) and returns the path.
func writeInitConfig(t *testing.T, n *node.Node) string {
	t.Helper()
	p := filepath.Join(n.Dir, "kubeadm-init.yaml")
	if err := os.WriteFile(p, []byte(initConfig(n)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
