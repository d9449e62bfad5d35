package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kubelark/kubelark/e2e/node"
)

// initConfig is the kubeadm configuration both kubeadm and kubelark get for
// a first control-plane node. The KubeletConfiguration carries what this
// machine kind needs (real-node.md): cgroupfs (containerd 1.6 does not report
// its driver), cgroup v1 allowed, swap allowed, the node's CRI socket, image
// GC off (a collected image cannot be pulled again: there is no registry)
// and eviction thresholds relaxed for small disks.
// SystemVerification is ignored because kubeadm v1.36 rejects cgroup v1.
// imagePullPolicy Never: the control-plane images are imported into the
// node's containerd and there is no registry; the kube-proxy and CoreDNS
// images are not built, so those add-on Pods stay pending.
const initConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: %[1]s
  bindPort: 6443
nodeRegistration:
  name: %[2]s
  criSocket: unix://%[3]s
  ignorePreflightErrors:
  - SystemVerification
  imagePullPolicy: Never
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.36.3
clusterName: kubernetes
networking:
  serviceSubnet: 10.96.0.0/12
  podSubnet: 10.244.0.0/16
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://%[3]s
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%%
  nodefs.inodesFree: 1%%
  imagefs.available: 1%%
`

// writeInitConfig writes the init configuration for n into its state
// directory (visible inside the node) and returns the path.
func writeInitConfig(t *testing.T, n *node.Node) string {
	t.Helper()
	p := filepath.Join(n.Dir, "kubeadm-init.yaml")
	if err := os.WriteFile(p, []byte(fmt.Sprintf(initConfig, n.IP, n.Name, node.ContainerdSocket)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
