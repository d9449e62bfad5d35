package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Helpers of the secrets tests (findings #1 "what is read is not secret"
// and #2): known secret bytes planted in a scratch root or given as a
// token, and the assertion that they never come out.

// knownToken is a well-formed bootstrap token whose secret half the tests
// look for in every output; parse_bootstrap_token makes it a secret.
const (
	knownToken  = "abcdef.0123456789abcdef"
	knownSecret = "0123456789abcdef"
)

// keyBytes is the body of the planted private key: what must never be
// printed, put in a plan, or sent.
const keyBytes = "MIIEpTOPSECRETKEYBYTESdoNotPrintMe"

// plantedKey is a PEM private key around keyBytes.
const plantedKey = "-----BEGIN RSA PRIVATE KEY-----\n" + keyBytes + "\n-----END RSA PRIVATE KEY-----\n"

// scratchRoot returns a new --root directory holding files (path under
// the root -> content).
func scratchRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// neverShown fails the test when any of secrets (compared case-
// insensitively, and by their first 8 bytes, so that a slice or an
// upper-cased copy counts) appears in r's output or in the given files
// (plans). It returns the output for further checks.
func neverShown(t *testing.T, r result, secrets []string, files ...string) string {
	t.Helper()
	texts := map[string]string{"output": r.Output()}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		texts[f] = string(data)
	}
	for where, text := range texts {
		low := strings.ToLower(text)
		for _, s := range secrets {
			for _, probe := range []string{s, s[:8]} {
				if strings.Contains(low, strings.ToLower(probe)) {
					t.Errorf("the secret %q (or part of it) appears in %s:\n%s", probe, where, text)
				}
			}
		}
	}
	return r.Output()
}
