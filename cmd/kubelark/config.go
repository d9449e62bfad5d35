package main

import (
	"os"

	"github.com/kubelark/kubelark/runtime/kubeadmconfig"
)

// loadConfig reads a kubeadm v1beta4 configuration (--config) and returns
// what it means for the recipe: parameter values, the kubeadm field each
// came from, warnings, and the secrets it holds (for redaction).
func loadConfig(path string) (*kubeadmconfig.Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return kubeadmconfig.Load(data)
}
