package main

import "errors"

// loadConfig reads a kubeadm v1beta4 configuration (--config) and returns
// the recipe parameter values it sets and, for each, the kubeadm field it
// came from. The decoder (runtime/kubeadmconfig) is not part of this build
// yet.
func loadConfig(path string) (map[string]any, map[string]string, error) {
	return nil, nil, errors.New("--config not available in this build")
}
