package bench

import (
	"fmt"
	"os"
	"path/filepath"
)

// ConfigOptions shape the kubeadm configuration both tools get.
type ConfigOptions struct {
	Address   string // advertise address
	NodeName  string
	Algorithm string // encryptionAlgorithm; "" = kubeadm's default (RSA-2048)
	// IgnoreSystemVerification lists SystemVerification under
	// nodeRegistration.ignorePreflightErrors: kubeadm v1.36 rejects cgroup
	// v1, which the test nodes have. The local benchmarks leave it out and
	// pass --ignore-preflight-errors=all instead (both tools refuse "all"
	// next to other names).
	IgnoreSystemVerification bool
}

// Config returns the configuration e2e/config_test.go gives both tools on a
// test node (the KubeletConfiguration this VM kind needs; see
// /work/shared/reference/real-node.md), with the options applied.
func Config(o ConfigOptions) string {
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
  criSocket: unix:///run/containerd/containerd.sock
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
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%%
  nodefs.inodesFree: 1%%
  imagefs.available: 1%%
`, o.Address, o.NodeName, ignore, alg)
}

// WriteConfig writes Config(o) to dir/name and returns the path.
func WriteConfig(dir, name string, o ConfigOptions) (string, error) {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(Config(o)), 0o600); err != nil {
		return "", err
	}
	return p, nil
}
