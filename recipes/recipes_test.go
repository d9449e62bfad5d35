package recipes_test

// Integration tests of recipes/init.star with the real runtime, builtins
// and stdlib, on an in-memory host. `make golden` regenerates the golden
// plans: make golden (go test ./recipes -run Golden -update)
//
// The build tag exists only until runtime.Run, host.NewDryRun and the
// preflight/kubelet builtins are on main; then drop it from these files.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubelark/kubelark/builtins"
	"github.com/kubelark/kubelark/recipes"
	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
	"github.com/kubelark/kubelark/stdlib"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

const testdata = "../testdata"

// newFake is the test node: NewFake's node1 / 10.0.0.10, with what a
// healthy kubeadm host has, so preflight passes: a ready in-memory CRI
// (host.FakeCRI: RuntimeConfig implemented, images pulled in memory), IP forwarding on, cgroups v2, a kubelet of the right version.
// (The fake reports every unit active, so preflight warns about firewalld.)
func newFake() *host.Fake {
	f := host.NewFake()
	f.FCRI = &host.FakeCRI{}
	f.FExec = func(name string, args ...string) ([]byte, error) {
		return []byte("Kubernetes v1.36.3\n"), nil
	}
	f.Put("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0o644)
	f.Put("/proc/sys/net/ipv6/conf/default/forwarding", []byte("1\n"), 0o644)
	f.Put("/sys/fs/cgroup/cgroup.controllers", []byte("cpuset cpu io memory hugetlb pids rdma misc\n"), 0o444)
	return f
}

// runInit runs the embedded init recipe on h. values is a file under
// testdata/values (empty for none).
func runInit(t *testing.T, h host.Host, dryRun bool, values string, set ...string) (*runtime.Plan, string, error) {
	t.Helper()
	var out bytes.Buffer
	opts := runtime.Options{
		Recipe:   "init",
		RecipeFS: recipes.FS,
		StdlibFS: stdlib.FS,
		Set:      set,
		DryRun:   dryRun,
		Host:     h,
		Registry: builtins.Registry(),
		Out:      &out,
	}
	if values != "" {
		opts.ValuesFile = filepath.Join(testdata, "values", values)
	}
	plan, err := runtime.Run(context.Background(), opts)
	return plan, out.String(), err
}

// goldenCase is one configuration of init; its parameters are in
// testdata/values/<name>.yaml and the equivalent kubeadm configuration in
// testdata/configs/<name>.yaml.
type goldenCase struct {
	name string
	// setup adjusts the fake host (environment, existing directories).
	setup func(*host.Fake)
}

var goldenCases = []goldenCase{
	{name: "defaults"},
	{name: "cpe-sans"},
	{name: "external-etcd", setup: func(f *host.Fake) {
		// The external etcd's client files, as an operator provides them.
		for _, p := range []string{"ca.crt", "apiserver-etcd-client.crt", "apiserver-etcd-client.key"} {
			f.Put("/etc/etcd/pki/"+p, []byte("fixture\n"), 0o600)
		}
	}},
	{name: "dual-stack"},
	{name: "ipv6"},
	{name: "ecdsa"},
	{name: "extras", setup: func(f *host.Fake) {
		// *_proxy variables go into the control-plane Pods (not etcd).
		f.FEnviron = []string{"HTTPS_PROXY=http://proxy.example.com:3128", "no_proxy=10.0.0.0/8,.svc", "HOME=/root", "ftp_proxy="}
		// A distribution CA directory that exists is mounted.
		if _, err := f.MkdirAll("/etc/ca-certificates", 0o755); err != nil {
			panic(err)
		}
	}},
}

// TestGolden runs init --dry-run for every case and compares the plan
// (key-derived fields masked) and the printed lines with testdata/golden.
func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			if tc.setup != nil {
				tc.setup(f)
			}
			plan, out, err := runInit(t, host.NewDryRun(f), true, tc.name+".yaml")
			if err != nil {
				t.Fatalf("init failed: %v\noutput:\n%s", err, out)
			}
			got := maskPlan(t, plan)
			compareGolden(t, filepath.Join(testdata, "golden", tc.name+".json"), got)
			compareGolden(t, filepath.Join(testdata, "golden", tc.name+".out"), maskKeyDerived([]byte(out)))

			// A dry run leaves the host alone.
			for _, p := range []string{"/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/admin.conf", "/var/lib/kubelet/config.yaml"} {
				if _, _, ok := f.Get(p); ok {
					t.Errorf("dry run wrote %s to the host", p)
				}
			}
		})
	}
}

// maskPlan renders the plan as JSON with the fields that depend on
// generated key material replaced: the sha256 and content of certificates
// and public keys. Everything else (validity, SANs, manifests' sha256) is
// deterministic with the fake clock.
func maskPlan(t *testing.T, plan *runtime.Plan) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := plan.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	actions, _ := doc["actions"].([]any)
	for _, a := range actions {
		m := a.(map[string]any)
		target, _ := m["target"].(string)
		if strings.HasSuffix(target, ".crt") || strings.HasSuffix(target, ".pub") {
			for _, field := range []string{"sha256", "content"} {
				if _, ok := m[field]; ok {
					m[field] = "<key-dependent>"
				}
			}
		}
	}
	outJSON, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return maskKeyDerived(append(outJSON, '\n'))
}

// keyDerived matches what the API phases derive from the generated CA: the
// CA certificate embedded in cluster-info, and the CA public-key pin printed
// in the join commands. Hashes of content (the component-config hash) stay.
var keyDerived = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`certificate-authority-data: [A-Za-z0-9+/=]+`), "certificate-authority-data: <key-dependent>"},
	{regexp.MustCompile(`(ca_cert_hash=|ca-cert-hash )sha256:[0-9a-f]{64}`), "${1}sha256:<key-dependent>"},
}

func maskKeyDerived(b []byte) []byte {
	for _, k := range keyDerived {
		b = k.re.ReplaceAll(b, []byte(k.repl))
	}
	return b
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `make golden` to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); if the change is intended, run `make golden`:\n%s", path, diff)
	}
}

// TestSecretsNeverInPlans checks that no private key material reaches a
// plan or the printed output.
func TestSecretsNeverInPlans(t *testing.T) {
	f := newFake()
	plan, out, err := runInit(t, host.NewDryRun(f), true, "")
	if err != nil {
		t.Fatalf("init failed: %v\n%s", err, out)
	}
	var buf bytes.Buffer
	if err := plan.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`PRIVATE KEY|client-key-data`)
	if key.Match(buf.Bytes()) || key.MatchString(out) {
		t.Errorf("private key material in the plan or output")
	}
	for _, a := range plan.Actions {
		if (strings.HasSuffix(a.Target, ".key") || strings.HasSuffix(a.Target, ".conf")) && (!a.Secret || a.SHA256 != "") {
			t.Errorf("%s: secret file recorded with secret=%v sha256=%q", a.Target, a.Secret, a.SHA256)
		}
	}
}
