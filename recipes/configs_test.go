package recipes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/kubelark/kubelark/builtins"
	"github.com/kubelark/kubelark/recipes"
	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
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

// runWithConfig runs recipe (embedded name or file) as a dry run with a
// kubeadm config file's documents, as `kubelark run RECIPE --config FILE`
// does; init runs only its preflight phase.
func runWithConfig(t *testing.T, recipe, config string) (*runtime.Plan, string, error) {
	t.Helper()
	var phases []string
	if recipe == "init" {
		phases = []string{"preflight"}
	}
	cfg, err := kubeadmconfig.Load([]byte(config))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	plan, err := runtime.Run(context.Background(), runtime.Options{
		Recipe: recipe, RecipeFS: recipes.FS, StdlibFS: stdlib.FS,
		ConfigDocs: cfg.Docs, ConfigFile: "cluster.yaml", ConfigWarnings: cfg.Warnings, ConfigSecrets: cfg.Secrets,
		DryRun: true, Host: host.NewDryRun(newFake()), Registry: builtins.Registry(), Out: &out,
		Phases: phases,
	})
	return plan, out.String(), err
}

const forkConfig = `apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: prod
controlPlaneEndpoint: team-a.example.com
networking:
  podSubnet: 10.244.0.0/16
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    token: abcdef.0123456789abcdef
    apiServerEndpoint: 10.0.0.10:6443
`

// TestInitReadsConfig: the init recipe maps --config through
// kubeadmconfig.init_params; the JoinConfiguration of a shared file is
// ignored with a warning, and a field init cannot honour is an input
// error naming the field.
func TestInitReadsConfig(t *testing.T) {
	plan, out, err := runWithConfig(t, "init", forkConfig)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for name, want := range map[string]any{"pod_subnet": "10.244.0.0/16", "cluster_name": "prod", "control_plane_endpoint": "team-a.example.com", "token_description": ""} {
		if got := plan.Params[name]; got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if !strings.Contains(out, "[WARNING] --config: JoinConfiguration ignored: recipe init reads InitConfiguration") {
		t.Errorf("no warning about the ignored JoinConfiguration:\n%s", out)
	}
	_, out, err = runWithConfig(t, "init", "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\ndryRun: true\npatches:\n  directory: /p\n")
	if err == nil || !strings.Contains(err.Error(), "--config cluster.yaml: kubeadm config has 2 problems:\n  - InitConfiguration.dryRun is not supported: pass --dry-run") ||
		!strings.Contains(err.Error(), "InitConfiguration.patches.directory is not supported") || strings.Contains(err.Error(), "Traceback") {
		t.Errorf("error %v\n%s", err, out)
	}
}

// TestForkRenamesParameter: a fork that renames pod_subnet and adds a
// parameter of its own keeps --config support, because the mapping is the
// recipe's (testdata/renamed.star), not the runtime's.
func TestForkRenamesParameter(t *testing.T) {
	_, out, err := runWithConfig(t, filepath.Join("testdata", "renamed.star"), forkConfig)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "pod_network_cidr=10.244.0.0/16 cluster_name=prod owner=team-a.example.com") ||
		!strings.Contains(out, "[WARNING] --config: JoinConfiguration: ignored by this fork") {
		t.Errorf("output:\n%s", out)
	}
	_, _, err = runWithConfig(t, filepath.Join("testdata", "renamed.star"), "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: /pki\n")
	if err == nil || !strings.Contains(err.Error(), "kubeadm config: ClusterConfiguration.certificatesDir is not supported: this fork maps only") {
		t.Errorf("error %v", err)
	}
}
