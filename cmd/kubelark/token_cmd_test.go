package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/kubelark/kubelark/runtime/host"
)

// tokenApp is the real app (embedded recipes and stdlib, real builtins)
// on a fake live host with no cluster and no admin.conf.
func tokenApp() (*app, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	a := newApp(&stdout, &stderr)
	a.newHost = func(o hostOptions) (host.Host, error) {
		f := host.NewFake()
		f.FDryRun = o.DryRun
		f.FLive = !o.DryRun
		return f, nil
	}
	return a, &stdout, &stderr
}

// TestTokenCommands: the verbs map their arguments and flags onto the
// recipes' parameters, print only their result on stdout, and refuse bad
// input before the cluster is asked, never quoting a secret.
func TestTokenCommands(t *testing.T) {
	const secretHalf = "qwertyuiop123456"
	for _, tc := range []struct {
		args       []string
		code       int
		stdout     string // regexp the whole stdout must match
		stderr     []string
		noSecretIn bool
	}{
		{args: []string{"token", "generate"}, stdout: `^[a-z0-9]{6}\.[a-z0-9]{16}\n$`, stderr: []string{"[summary] no actions"}},
		{args: []string{"token", "generate", "--dry-run"}, stdout: `^[a-z0-9]{6}\.<redacted>\n$`},
		{args: []string{"certs", "certificate-key"}, stdout: `^[0-9a-f]{64}\n$`},
		{args: []string{"token", "list", "-o", "xml"}, code: 1, stdout: `^$`, stderr: []string{"-o xml: unknown output format; use text, json or yaml"}},
		{args: []string{"token", "list"}, code: 1, stdout: `^$`, stderr: []string{"kubeconfig /etc/kubernetes/admin.conf does not exist", "--kubeconfig FILE"}},
		{args: []string{"token", "list", "--kubeconfig", "/root/kc"}, code: 1, stdout: `^$`, stderr: []string{"kubeconfig /root/kc does not exist"}},
		{args: []string{"token", "create", "abcdef." + secretHalf, "--certificate-key", strings.Repeat("ab", 32)}, code: 1, stdout: `^$`,
			stderr: []string{"only used with print_join_command (--print-join-command)"}, noSecretIn: true},
		{args: []string{"token", "create", "abcdef.QWERTYUIOP123456"}, code: 1, stdout: `^$`, stderr: []string{"argument 1", "not shown: the parameter is secret"}, noSecretIn: true},
		{args: []string{"token", "create", "--ttl", "soon"}, code: 1, stdout: `^$`, stderr: []string{"ttl"}},
		{args: []string{"token", "delete", "QWERTY"}, code: 1, stdout: `^$`, stderr: []string{"neither a token id ([a-z0-9]{6}) nor a token"}},
		{args: []string{"token", "delete", "qwerty", "abcdef." + secretHalf}, code: 1, stdout: `^$`, stderr: []string{"kubeconfig /etc/kubernetes/admin.conf does not exist"}, noSecretIn: true},
		{args: []string{"token", "delete"}, code: 1, stdout: `^$`, stderr: []string{"requires at least 1 arg"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			a, stdout, stderr := tokenApp()
			code := execute(context.Background(), a, tc.args)
			if code != tc.code || !regexp.MustCompile(tc.stdout).MatchString(stdout.String()) {
				t.Errorf("exit %d (want %d), stdout %q (want %s), stderr:\n%s", code, tc.code, stdout, tc.stdout, stderr)
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tc.noSecretIn && (strings.Contains(strings.ToLower(stderr.String()), secretHalf) || strings.Contains(stderr.String(), strings.Repeat("ab", 32))) {
				t.Errorf("a secret is on stderr:\n%s", stderr)
			}
		})
	}
}

// TestTokenHelp: the recipe's flags are the verb's (kubeadm's names).
func TestTokenHelp(t *testing.T) {
	a, stdout, stderr := tokenApp()
	if code := execute(context.Background(), a, []string{"token", "create", "--help"}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"--ttl", "--description", "--groups", "--usages", "--print-join-command", "--certificate-key", "--kubeconfig", "--dry-run"} {
		if !strings.Contains(stdout.String(), f) {
			t.Errorf("token create --help lacks %s", f)
		}
	}
}
