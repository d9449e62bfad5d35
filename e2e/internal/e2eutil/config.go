package e2eutil

import (
	"fmt"

	"github.com/kubelark/kubelark/e2e/node"
)

// ConfigOptions shape the kubeadm configuration both tools get on a test node.
type ConfigOptions struct {
	Address   string // advertise address
	NodeName  string
	Algorithm string // encryptionAlgorithm; "" = kubeadm's default (RSA-2048)
	// IgnoreSystemVerification lists SystemVerification under
	// nodeRegistration.ignorePreflightErrors: kubeadm v1.36 rejects cgroup
	// v1, which the test nodes have. Runs that pass
	// --ignore-preflight-errors=all leave it out (both tools refuse "all"
	// next to other names).
	IgnoreSystemVerification bool
}

// InitConfig is the kubeadm configuration kubeadm and kubelark get for a
// first control-plane node on a test node. The KubeletConfiguration carries
// what this machine kind needs (shared/reference/real-node.md): cgroupfs
// (containerd 1.6 does not report its driver), cgroup v1 allowed, swap
// allowed, the node's CRI socket, image GC off (a collected image cannot be
// pulled again: there is no registry) and eviction thresholds relaxed for
// small disks. imagePullPolicy Never: the control-plane images are imported
// into the node's containerd, and so are the kube-proxy and CoreDNS images
// (CoreDNS stays Pending until a test installs a CNI: see InstallCNI and
// WorkingInitConfig).
func InitConfig(o ConfigOptions) string {
	ignore, alg := "", ""
	if o.IgnoreSystemVerification {
		ignore = "  ignorePreflightErrors:\n  - SystemVerification\n"
	}
	if o.Algorithm != "" {
		alg = "encryptionAlgorithm: " + o.Algorithm + "\n"
	}
	return fmt.Sprintf(`apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: %[1]s
  bindPort: 6443
nodeRegistration:
  name: %[2]s
  criSocket: unix://%[5]s
%[3]s  imagePullPolicy: Never
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.36.3
clusterName: kubernetes
%[4]snetworking:
  serviceSubnet: 10.96.0.0/12
  podSubnet: 10.244.0.0/16
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://%[5]s
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%%
  nodefs.inodesFree: 1%%
  imagefs.available: 1%%
`, o.Address, o.NodeName, ignore, alg, node.ContainerdSocket)
}
