package parity

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// kubeletCollector reads the kubelet's files: config.yaml and
// instance-config.yaml as parsed YAML (every field, types included, so a
// zero value written by one tool and left out by the other shows), and
// kubeadm-flags.env as variables whose flag lists become flag maps.
var kubeletCollector = fileCollector{
	name: "kubelet",
	match: func(p string) bool {
		return path.Dir(p) == "/var/lib/kubelet" && (path.Ext(p) == ".yaml" || path.Ext(p) == ".env")
	},
	read: readKubeletFile,
}

func readKubeletFile(_ *Output, p string, data []byte) (Artifacts, error) {
	r := Record{}
	if path.Ext(p) == ".env" {
		if err := parseEnvFile(r, data); err != nil {
			return nil, err
		}
		return Artifacts{"kubelet-env " + p: r}, nil
	}
	m, err := yamlToMap(data)
	if err != nil {
		return nil, err
	}
	flatten(r, "", m)
	return Artifacts{"kubelet-config " + p: r}, nil
}

// parseEnvFile reads a systemd EnvironmentFile as kubeadm writes it
// (NAME="value" with Go quoting); each variable's value is split into flags:
// VAR.--flag = value.
func parseEnvFile(r Record, data []byte) error {
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("line %d: %q is not NAME=value", n+1, line)
		}
		if strings.HasPrefix(value, `"`) {
			u, err := strconv.Unquote(value)
			if err != nil {
				return fmt.Errorf("line %d: value of %s: %w", n+1, name, err)
			}
			value = u
		}
		fields := strings.Fields(value)
		if len(fields) == 0 {
			r[name] = `""`
			continue
		}
		argv := make([]any, len(fields))
		for i, f := range fields {
			argv[i] = f
		}
		for k, v := range flagMap(argv, false) {
			r[name+"."+k] = v.(string)
		}
	}
	return nil
}
