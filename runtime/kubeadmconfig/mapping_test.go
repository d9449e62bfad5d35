package kubeadmconfig

import (
	"testing"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/stdlib"
)

// mapped is a config file as the init recipe sees it: validated here, then
// mapped by stdlib/kubeadmconfig.star's init_params (the policy half, run
// through the runtime as params(config = ...) runs it).
type mapped struct {
	*Config
	Params   map[string]any
	Sources  map[string]string
	Warnings []string // Load's, then the mapping's
}

// loadInit is Load followed by the init recipe's mapping; an error is
// either side's.
func loadInit(data []byte) (*mapped, error) { return loadMapped(data, "init") }

// loadMapped is Load followed by recipe's mapping (kubeadmconfig.<recipe>_params).
func loadMapped(data []byte, recipe string) (*mapped, error) {
	cfg, err := Load(data)
	if err != nil {
		return nil, err
	}
	m, err := runtime.MapConfig(runtime.Options{StdlibFS: stdlib.FS, ConfigDocs: cfg.Docs, Recipe: recipe},
		"@stdlib//kubeadmconfig.star", "kubeadmconfig."+recipe+"_params")
	if err != nil {
		return nil, err
	}
	return &mapped{Config: cfg, Params: m.Params, Sources: m.Sources, Warnings: append(append([]string{}, cfg.Warnings...), m.Warnings...)}, nil
}

func TestMapConfigUnknownFunction(t *testing.T) {
	_, err := runtime.MapConfig(runtime.Options{StdlibFS: stdlib.FS, ConfigDocs: map[string]any{}},
		"@stdlib//kubeadmconfig.star", "kubeadmconfig.nope")
	checkErr(t, err, []string{"@stdlib//kubeadmconfig.star has no function kubeadmconfig.nope"})
}
