package main

import (
	"github.com/kubelark/kubelark/runtime/host"
	"github.com/kubelark/kubelark/runtime/kubeadmconfig"
)

// loadConfig reads a kubeadm v1beta4 configuration (--config) and returns
// its validated documents, warnings, and the secrets it holds (for
// redaction); the recipe's params(config = ...) maps the documents onto
// its parameters.
func loadConfig(path string) (*kubeadmconfig.Config, error) {
	data, err := host.ReadInputFile(path, host.MaxInputFileSize)
	if err != nil {
		return nil, err
	}
	return kubeadmconfig.Load(data)
}
