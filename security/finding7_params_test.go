package security

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// earlyInitArgs is a --root init of every file-writing phase, as in the
// review, where bad parameters were refused only after 34 files.
func earlyInitArgs(root string, extra ...string) []string {
	return append([]string{"run", "init", "--root", root,
		"--phases", "preflight,certs,kubeconfig,etcd,control-plane,kubelet-start",
		"--ignore-preflight-errors", "all"}, extra...)
}

// assertRefusedBeforeWrites checks that a run failed naming the parameter,
// that nothing was written under root, and that secret is not printed.
func assertRefusedBeforeWrites(t *testing.T, r result, root string, want []string, secret string) {
	t.Helper()
	if r.Code == 0 {
		t.Fatalf("accepted:\n%s", r.Output())
	}
	for _, w := range want {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("the error does not say %q:\n%s", w, r.Stderr)
		}
	}
	if secret != "" && strings.Contains(r.Output(), secret) {
		t.Errorf("the secret value %q is printed:\n%s", secret, r.Output())
	}
	var written []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != root {
			written = append(written, strings.TrimPrefix(p, root))
		}
		return nil
	})
	if len(written) > 0 {
		t.Errorf("refused only after writing %d paths under --root: %v", len(written), written)
	}
}

// TestFinding7MalformedTokenRefusedBeforeAnyWrite: --set token with an
// upper-case secret, and the same through the --token flag.
func TestFinding7MalformedTokenRefusedBeforeAnyWrite(t *testing.T) {
	for _, args := range [][]string{{"--set", "token=abcdef.0123456789ABCDEX"}, {"--token", "abcdef.0123456789ABCDEX"}} {
		root := t.TempDir()
		from := "--set token=..."
		if args[0] == "--token" {
			from = "--token"
		}
		r := kubelark(t, earlyInitArgs(root, args...)...)
		assertRefusedBeforeWrites(t, r, root, []string{"(from " + from + ")", "parameter token: ", "not a bootstrap token", "abcdef.0123456789abcdef"}, "0123456789ABCDEX")
	}
}

// TestFinding7MalformedCertificateKeyRefusedBeforeAnyWrite: certificate_key=xyz.
func TestFinding7MalformedCertificateKeyRefusedBeforeAnyWrite(t *testing.T) {
	root := t.TempDir()
	r := kubelark(t, earlyInitArgs(root, "--set", "certificate_key=xyz")...)
	assertRefusedBeforeWrites(t, r, root, []string{"parameter certificate_key: ", "(from --set certificate_key=...)", "64 hex characters"}, "xyz")
}

// TestFinding7BootstrapTokensStringRefusedBeforeAnyWrite: a string where
// the list of token dicts belongs failed late with "string has no .get".
func TestFinding7BootstrapTokensStringRefusedBeforeAnyWrite(t *testing.T) {
	root := t.TempDir()
	r := kubelark(t, earlyInitArgs(root, "--set", "bootstrap_tokens=bbcdef.9876543210zyxwvf")...)
	assertRefusedBeforeWrites(t, r, root, []string{"parameter bootstrap_tokens: ", "(from --set bootstrap_tokens=...)", "entry 0 is a string, want a dict with the keys"}, "9876543210zyxwv")
	if strings.Contains(r.Output(), "has no .get") {
		t.Errorf("the Starlark error leaks through:\n%s", r.Output())
	}
}

// TestFinding7MalformedBootstrapTokenEntryRefusedBeforeAnyWrite: an entry
// of bootstrap_tokens (from a --values file) with a bad token or TTL.
func TestFinding7MalformedBootstrapTokenEntryRefusedBeforeAnyWrite(t *testing.T) {
	for entry, want := range map[string]string{
		"{token: bbcdef.9876543210zyxwvX}":          `entry 0: key "token": not a bootstrap token`,
		"{token: bbcdef.9876543210zyxwvf, ttl: 1y}": `entry 0: key "ttl": <redacted> is not a duration`,
	} {
		root := t.TempDir()
		values := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(values, []byte("bootstrap_tokens: ["+entry+"]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := kubelark(t, earlyInitArgs(root, "--values", values)...)
		assertRefusedBeforeWrites(t, r, root, []string{"parameter bootstrap_tokens: ", "(from --values " + values + ")", want}, "9876543210zyxwv")
	}
}

// TestFinding7UnknownKeyInBootstrapTokenRefusedByName: an unknown key in a
// bootstrap_tokens dict was ignored silently; it is refused by name.
func TestFinding7UnknownKeyInBootstrapTokenRefusedByName(t *testing.T) {
	root := t.TempDir()
	r := kubelark(t, earlyInitArgs(root, "--set", "bootstrap_tokens=[{token: bbcdef.9876543210zyxwvf, tll: 2h}]")...)
	assertRefusedBeforeWrites(t, r, root, []string{`entry 0: unknown key "tll" (did you mean "ttl"?)`, "allowed keys are description, expires, groups, token, ttl, usages"}, "9876543210zyxwv")
}
