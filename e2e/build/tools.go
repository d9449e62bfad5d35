//go:build tools

// Package tools pins k8s.io/kubernetes in this build module: its commands are
// built by path (go build k8s.io/kubernetes/cmd/kube-apiserver), and main
// packages cannot be imported, so their app packages are imported here to keep
// `go mod tidy` from dropping the requirement.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-proxy/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
	_ "k8s.io/kubernetes/cmd/kubeadm/app"
	_ "k8s.io/kubernetes/cmd/kubelet/app"
)
