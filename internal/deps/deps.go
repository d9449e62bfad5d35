//go:build tools

// Package deps pins modules that the builtins will import, so go.mod and
// go.sum stay complete while parallel work lands. Remove entries once real
// imports exist.
package deps

import (
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/spf13/cobra"
	_ "go.starlark.net/lib/json"
	_ "go.starlark.net/starlark"
	_ "go.starlark.net/starlarkstruct"
	_ "go.starlark.net/syntax"
	_ "k8s.io/api/core/v1"
	_ "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	_ "k8s.io/client-go/discovery"
	_ "k8s.io/client-go/dynamic"
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/client-go/restmapper"
	_ "k8s.io/client-go/tools/clientcmd"
	_ "k8s.io/client-go/util/cert"
	_ "k8s.io/client-go/util/keyutil"
	_ "k8s.io/cluster-bootstrap/token/jws"
	_ "k8s.io/cluster-bootstrap/token/util"
	_ "k8s.io/kube-proxy/config/v1alpha1"
	_ "k8s.io/kubelet/config/v1beta1"
	_ "sigs.k8s.io/yaml"
)
