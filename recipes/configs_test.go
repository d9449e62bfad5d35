package recipes_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/kubeadmconfig"
	"github.com/kubelark/kubelark/stdlib"
)

// TestConfigsMatchValues: each golden case exists twice, as recipe
// parameters (testdata/values) and as the kubeadm configuration a user
// would write (testdata/configs, also the input of the kubeadm parity
// suite). The config mapping must turn the second into the first.
func TestConfigsMatchValues(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			cfgData, err := os.ReadFile(filepath.Join(testdata, "configs", tc.name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := mapInitConfig(cfgData)
			if err != nil {
				t.Fatalf("configs/%s.yaml: %v", tc.name, err)
			}
			valData, err := os.ReadFile(filepath.Join(testdata, "values", tc.name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var values map[string]any
			if err := yaml.Unmarshal(valData, &values); err != nil {
				t.Fatal(err)
			}
			// The values files also exercise what kubeadm's config
			// validation rejects but the recipe handles (an invalid SAN is
			// dropped with a warning, an upper-case node name lower-cased).
			switch tc.name {
			case "cpe-sans":
				sans := values["cert_sans"].([]any)
				sans = sans[:len(sans)-1]
				for i, s := range sans {
					sans[i] = strings.ToLower(s.(string))
				}
				values["cert_sans"] = sans
			case "extras":
				values["node_name"] = "node-a"
			}
			if diff := cmp.Diff(normalize(t, values), normalize(t, res.Params)); diff != "" {
				t.Errorf("configs/%s.yaml maps to other parameters than values/%s.yaml (-values +config):\n%s", tc.name, tc.name, diff)
			}
		})
	}
}

// mapInitConfig is what --config makes of a file for the init recipe:
// validated by runtime/kubeadmconfig, mapped by the recipe's mapping.
func mapInitConfig(data []byte) (*runtime.ConfigMapping, error) {
	cfg, err := kubeadmconfig.Load(data)
	if err != nil {
		return nil, err
	}
	return runtime.MapConfig(runtime.Options{StdlibFS: stdlib.FS, ConfigDocs: cfg.Docs, Recipe: "init"},
		"@stdlib//kubeadmconfig.star", "kubeadmconfig.init_params")
}

// normalize makes int64/float64 and []string/[]any comparable.
func normalize(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if out == nil {
		return map[string]any{}
	}
	return out
}
