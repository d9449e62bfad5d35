package runtime

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubelark/kubelark/runtime/host"
)

const userRootsRecipe = `
def _config(docs):
    d = docs.get("Values", {})
    return struct(params = d.get("params", {}), sources = d.get("sources", {}), warnings = [], errors = [])

p = params(
    config = _config,
    data_dir = param("/var/lib/etcd", "etcd data", root = "write"),
    ca = param("", "external CA", root = "read"),
)
touch(p.data_dir + "/member")
`

// runSandboxed runs src over Sandbox(Fake), as the CLI composes it.
func runSandboxed(t *testing.T, src string, opts Options) (*Plan, string, error) {
	t.Helper()
	dir := writeTree(t, map[string]string{"main.star": src})
	s, err := host.NewSandbox(host.NewFake(), host.SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	opts.Recipe, opts.Host, opts.Out, opts.Registry = filepath.Join(dir, "main.star"), s, &buf, testRegistry()
	plan, err := Run(context.Background(), opts)
	return plan, buf.String(), err
}

func TestUserRootsFromEachLayer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   Options
		source string
	}{
		{"set", Options{Set: []string{"data_dir=/data/etcd"}}, "--set data_dir"},
		{"config", Options{ConfigDocs: configDocs(map[string]any{"data_dir": "/data/etcd"}, map[string]string{"data_dir": "ClusterConfiguration.etcd.local.dataDir"})}, "--config ClusterConfiguration.etcd.local.dataDir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Verbose = 1
			plan, out, err := runSandboxed(t, userRootsRecipe, tc.opts)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if len(plan.Roots) != 1 || plan.Roots[0].Path != "/data/etcd" || plan.Roots[0].Source != tc.source {
				t.Fatalf("roots = %+v", plan.Roots)
			}
			if !strings.Contains(out, "allowing writes under /data/etcd: from "+tc.source) {
				t.Fatalf("-v output lacks the root:\n%s", out)
			}
		})
	}
}

func TestUserRootsNeverFromRecipe(t *testing.T) {
	// The default is no root: the write is refused.
	src := strings.Replace(userRootsRecipe, `"/var/lib/etcd", "etcd data"`, `"/opt/evil", "etcd data"`, 1)
	plan, _, err := runSandboxed(t, src, Options{})
	wantErr(t, err, "refusing to write /opt/evil/member")
	if len(plan.Roots) != 0 {
		t.Fatalf("roots = %+v", plan.Roots)
	}
	// A value the mapping made up, not in the user's documents, is refused.
	docs := map[string]any{"Values": map[string]any{"params": map[string]any{}, "sources": map[string]any{}}}
	mapping := strings.Replace(userRootsRecipe, `return struct(params = d.get("params", {})`, `return struct(params = {"data_dir": "/opt/evil"}`, 1)
	mapping = strings.Replace(mapping, `sources = d.get("sources", {})`, `sources = {"data_dir": "ClusterConfiguration.etcd.local.dataDir"}`, 1)
	_, _, err = runSandboxed(t, mapping, Options{ConfigDocs: docs})
	wantErr(t, err, "the recipe's config mapping sets path parameter data_dir to /opt/evil", "a recipe cannot choose its own roots")
	// A denied path from the user is refused before the first write.
	_, _, err = runSandboxed(t, userRootsRecipe, Options{Set: []string{"data_dir=/etc"}})
	wantErr(t, err, "refusing allowed root /etc from --set data_dir")
}

func TestParamRootDeclarationErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`params(a = param(1, "x", root = True))`, `root = "write" needs a string parameter`},
		{`params(a = param("/x", "x", root = "exec"))`, `root = "exec": want "write"`},
		{`params(a = param("/x", "x", root = 1))`, `root: got int`},
	} {
		r := runFiles(t, map[string]string{"main.star": tc.src}, Options{})
		wantErr(t, r.err, tc.want)
	}
}

// A dict parameter names the keys whose values are paths (kubelet flags).
func TestUserRootsDictKeys(t *testing.T) {
	src := `
p = params(kubelet_args = param({}, "kubelet flags", root = {"cert-dir": "read"}))
info(str(p.kubelet_args))
`
	plan, out, err := runSandboxed(t, src, Options{Set: []string{"kubelet_args=cert-dir=/opt/kpki,v=2"}})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(plan.Roots) != 1 || plan.Roots[0].Path != "/opt/kpki" || plan.Roots[0].Access != "read" || plan.Roots[0].Source != `--set kubelet_args["cert-dir"]` {
		t.Fatalf("roots = %+v", plan.Roots)
	}
	r := runFiles(t, map[string]string{"main.star": `params(a = param("", "x", root = {"k": "read"}))`}, Options{})
	wantErr(t, r.err, "root = {key: access} is for dict parameters")
}
