package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Finding 9: a kubeadm config with etcd.local.dataDir: /var/lib/etcd-vz
// failed with "outside the allowed roots ... pass --allow-root", though the
// user asked for exactly that path. Paths the user configures are roots
// now; a deny-list bounds them; a recipe can never widen the roots.

const sbxCustomDirs = "etcd:\n  local:\n    dataDir: /var/lib/etcd-vz\ncertificatesDir: /etc/kubernetes/pki-x\n"

func TestFinding9CustomDataDirWorksUnderRoot(t *testing.T) {
	root := t.TempDir()
	plan := filepath.Join(t.TempDir(), "plan.json")
	r := kubelark(t, "run", "init", "--root", root, "--config", sbxKubeadmConfig(t, sbxCustomDirs),
		"--ignore-preflight-errors=all", "--plan", plan)
	if r.Code != 0 {
		t.Fatalf("init with a custom dataDir and certificatesDir failed:\n%s", r.Output())
	}
	for _, p := range []string{"var/lib/etcd-vz", "etc/kubernetes/pki-x/ca.key", "etc/kubernetes/manifests/etcd.yaml"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	got := sbxReadPlan(t, plan).Roots
	if len(got) != 1 || got[0].Path != "/var/lib/etcd-vz" || got[0].Access != "write" || got[0].Source != "--config ClusterConfiguration.etcd.local.dataDir" {
		t.Fatalf("plan roots = %+v, want the etcd data dir from the config", got)
	}
}

func TestFinding9CustomDataDirWorksInDryRun(t *testing.T) {
	r := kubelark(t, "run", "init", "--dry-run", "-v", "--config", sbxKubeadmConfig(t, sbxCustomDirs), "--ignore-preflight-errors=all")
	if r.Code != 0 {
		t.Fatalf("init --dry-run with a custom dataDir failed:\n%s", r.Output())
	}
	for _, want := range []string{"allowing writes under /var/lib/etcd-vz: from --config ClusterConfiguration.etcd.local.dataDir", "/var/lib/etcd-vz", "/etc/kubernetes/pki-x/ca.key"} {
		if !strings.Contains(r.Stdout, want) {
			t.Fatalf("output lacks %q:\n%s", want, r.Stdout)
		}
	}
}

func TestFinding9DataDirEtcRefused(t *testing.T) {
	root := t.TempDir()
	r := kubelark(t, "run", "init", "--root", root, "--config", sbxKubeadmConfig(t, "etcd:\n  local:\n    dataDir: /etc\n"), "--ignore-preflight-errors=all")
	sbxRefused(t, r, "refusing allowed root /etc from --config ClusterConfiguration.etcd.local.dataDir", "no configuration can allow it")
	sbxAbsent(t, root, "etc/kubernetes")
}

func TestFinding9DataDirSlashRefused(t *testing.T) {
	r := kubelark(t, "run", "init", "--dry-run", "--config", sbxKubeadmConfig(t, "etcd:\n  local:\n    dataDir: /\n"))
	sbxRefused(t, r, "refusing allowed root / from --config ClusterConfiguration.etcd.local.dataDir", "no configuration can allow it")
}

func TestFinding9SetCertDirWidens(t *testing.T) {
	root := t.TempDir()
	r := kubelark(t, "run", "init", "--root", root, "--phases", "certs", "--cert-dir", "/opt/site/pki")
	if r.Code != 0 {
		t.Fatalf("--cert-dir /opt/site/pki failed:\n%s", r.Output())
	}
	if _, err := os.Stat(filepath.Join(root, "opt/site/pki/ca.crt")); err != nil {
		t.Fatal(err)
	}
}

func TestFinding9AllowRootSystemDirRefused(t *testing.T) {
	root := t.TempDir()
	r := kubelark(t, "run", recipe(t, `write_file("/usr/bin/kubelet", "#!/bin/sh\n", mode = 0o755)`), "--root", root, "--allow-root", "/usr")
	sbxRefused(t, r, "refusing allowed root /usr from --allow-root", "no configuration can allow it")
	sbxAbsent(t, root, "usr/bin/kubelet")
}

// A recipe's default is never a root: a fork cannot declare its way out.
func TestFinding9RecipeDefaultCannotWiden(t *testing.T) {
	root := t.TempDir()
	r := kubelark(t, "run", recipe(t, `
p = params(dir = param("/opt/evil", "A directory.", root = True))
write_file(p.dir + "/x", "x")
`), "--root", root)
	sbxRefused(t, r, "refusing to write /opt/evil/x: it is outside the allowed roots")
	sbxAbsent(t, root, "opt/evil/x")
}

// Nor can its config mapping invent a path the user's config does not hold.
func TestFinding9ConfigMappingCannotInventRoot(t *testing.T) {
	root := t.TempDir()
	r := kubelark(t, "run", recipe(t, `
def mapping(docs):
    return struct(params = {"dir": "/opt/evil"}, sources = {"dir": "ClusterConfiguration.etcd.local.dataDir"}, warnings = [], errors = [])
p = params(config = mapping, dir = param("/var/lib/etcd", "A directory.", root = True))
write_file(p.dir + "/x", "x")
`), "--root", root, "--config", sbxKubeadmConfig(t, "etcd:\n  local:\n    dataDir: /var/lib/etcd-vz\n"))
	sbxRefused(t, r, "the recipe's config mapping sets path parameter dir to /opt/evil", "a recipe cannot choose its own roots")
	sbxAbsent(t, root, "opt/evil/x")
}
