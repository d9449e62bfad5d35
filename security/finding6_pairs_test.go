package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// crashCertsArgs runs only the certs phase under root (fast: ECDSA keys).
func crashCertsArgs(root string) []string {
	return []string{"run", "init", "--root", root, "--phases", "certs", "--set", "encryption_algorithm=ECDSA-P256"}
}

// TestFinding6KeyWithoutCertificateAfterCrash rebuilds the state the review
// found after a kill -9 (front-proxy-ca.key written, front-proxy-ca.crt not
// yet, the pair's pending marker still there): the re-run makes the pair
// again instead of stopping with "remove the key".
func TestFinding6KeyWithoutCertificateAfterCrash(t *testing.T) {
	root := t.TempDir()
	if r := kubelark(t, crashCertsArgs(root)...); r.Code != 0 {
		t.Fatalf("certs failed (exit %d):\n%s", r.Code, r.Output())
	}
	pki := filepath.Join(root, "etc/kubernetes/pki")
	// What a run killed between the key and the certificate leaves.
	for _, name := range []string{"front-proxy-ca.crt", "front-proxy-client.crt", "front-proxy-client.key"} {
		if err := os.Remove(filepath.Join(pki, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(pki, "front-proxy-ca.kubelark-pending"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := kubelark(t, crashCertsArgs(root)...)
	if r.Code != 0 {
		t.Fatalf("the re-run after the crash failed (exit %d):\n%s", r.Code, r.Output())
	}
	if !strings.Contains(r.Output(), "interrupted while writing") {
		t.Errorf("the re-run does not say that it made an interrupted pair again:\n%s", r.Output())
	}
	for _, problem := range crashLeftovers(t, root) {
		t.Errorf("after the re-run %s", problem)
	}
}

// TestFinding6StaleTempFilesRemoved: temp files of writes a killed run did
// not finish (.NAME.kubelark-<digits>) are removed by the next run, which
// says so; a dry run only says it would.
func TestFinding6StaleTempFilesRemoved(t *testing.T) {
	root := t.TempDir()
	stale := []string{
		"etc/kubernetes/pki/.front-proxy-ca.key.kubelark-1746733187",
		"etc/kubernetes/manifests/.etcd.yaml.kubelark-42",
		"var/lib/kubelet/.config.yaml.kubelark-7",
	}
	keep := "etc/kubernetes/pki/.notes.kubelark-mine" // not a temp file name
	for _, p := range append(stale, keep) {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dry := kubelark(t, append(crashCertsArgs(root), "--dry-run")...)
	if dry.Code != 0 {
		t.Fatalf("dry run failed (exit %d):\n%s", dry.Code, dry.Output())
	}
	for _, p := range stale {
		if !strings.Contains(dry.Output(), "would remove /"+p) {
			t.Errorf("the dry run does not say it would remove /%s:\n%s", p, dry.Output())
		}
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("the dry run removed %s", p)
		}
	}
	r := kubelark(t, crashCertsArgs(root)...)
	if r.Code != 0 {
		t.Fatalf("run failed (exit %d):\n%s", r.Code, r.Output())
	}
	for _, p := range stale {
		if !strings.Contains(r.Output(), "removed /"+p) {
			t.Errorf("the run does not say it removed /%s:\n%s", p, r.Output())
		}
		if _, err := os.Stat(filepath.Join(root, p)); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, keep)); err != nil {
		t.Errorf("%s (not a temp file name) was removed", keep)
	}
}
