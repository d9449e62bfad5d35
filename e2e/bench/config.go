package bench

import (
	"os"
	"path/filepath"

	"github.com/kubelark/kubelark/e2e/internal/e2eutil"
)

// ConfigOptions and Config are the e2e module's one kubeadm configuration
// for a test node (e2eutil.InitConfig), which both tools get.
type ConfigOptions = e2eutil.ConfigOptions

// Config returns the configuration with the options applied.
func Config(o ConfigOptions) string { return e2eutil.InitConfig(o) }

// WriteConfig writes Config(o) to dir/name and returns the path.
func WriteConfig(dir, name string, o ConfigOptions) (string, error) {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(Config(o)), 0o600); err != nil {
		return "", err
	}
	return p, nil
}
