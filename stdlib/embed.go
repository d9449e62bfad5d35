// Package stdlib embeds kubelark's policy modules: kubeadm's knowledge
// (certificates, kubeconfigs, static Pods, kubelet files, preflight checks)
// written in Starlark so that a site can read and fork it (--stdlib DIR)
// without rebuilding the binary. Recipes load them as "@stdlib//<name>.star".
package stdlib

import "embed"

// FS holds every *.star module of this directory.
//
//go:embed *.star
var FS embed.FS
