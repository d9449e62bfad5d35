package parity

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Config is one kubeadm v1beta4 configuration file of the matrix.
type Config struct {
	Name     string // file name without .yaml; the config column of differences.md
	Path     string // absolute path, given to both tools
	Workflow string // "init"; later "join-worker", "join-control-plane"
	// Env is extra environment both tools run with, from lines
	// "# parity-env: NAME=value" (proxy variables reach the static Pods).
	Env []string
	// KubeadmArgs and KubelarkArgs are extra command-line words for a
	// whole `init` of the API suite, from lines "# parity-kubeadm-args:"
	// and "# parity-kubelark-args:" (flags that have no config field, such
	// as --upload-certs / --set upload_certs=true).
	KubeadmArgs, KubelarkArgs []string
	// Hosts are names the API suite makes resolve to each node's own
	// address (its /etc/hosts), from lines "# parity-hosts: NAME...": a
	// controlPlaneEndpoint given as a DNS name.
	Hosts []string
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// LoadConfigs reads every *.yaml in dir, sorted by name. The workflow comes
// from the documents' kinds: InitConfiguration = init; JoinConfiguration =
// join-worker, or join-control-plane when it has a controlPlane section.
func LoadConfigs(dir string) ([]*Config, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *.yaml configs in %s", dir)
	}
	sort.Strings(files)
	var out []*Config
	for _, f := range files {
		c, err := loadConfig(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func loadConfig(file string) (*Config, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	c := &Config{Name: strings.TrimSuffix(filepath.Base(file), ".yaml"), Path: abs}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "# parity-env:"); ok {
			for _, kv := range strings.Fields(v) {
				if !strings.Contains(kv, "=") {
					return nil, fmt.Errorf("parity-env %q is not NAME=value", kv)
				}
				c.Env = append(c.Env, kv)
			}
		}
		if v, ok := strings.CutPrefix(line, "# parity-kubeadm-args:"); ok {
			c.KubeadmArgs = append(c.KubeadmArgs, strings.Fields(v)...)
		}
		if v, ok := strings.CutPrefix(line, "# parity-kubelark-args:"); ok {
			c.KubelarkArgs = append(c.KubelarkArgs, strings.Fields(v)...)
		}
		if v, ok := strings.CutPrefix(line, "# parity-hosts:"); ok {
			c.Hosts = append(c.Hosts, strings.Fields(v)...)
		}
	}
	for _, doc := range docSep.Split(string(data), -1) {
		m, err := yamlToMap([]byte(doc))
		if err != nil {
			return nil, err
		}
		switch m["kind"] {
		case "InitConfiguration":
			c.Workflow = "init"
		case "JoinConfiguration":
			if c.Workflow == "" {
				c.Workflow = "join-worker"
				if m["controlPlane"] != nil {
					c.Workflow = "join-control-plane"
				}
			}
		}
	}
	if c.Workflow == "" {
		return nil, fmt.Errorf("no InitConfiguration or JoinConfiguration document: cannot tell which workflow to compare")
	}
	return c, nil
}
