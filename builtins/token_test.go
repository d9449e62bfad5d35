package builtins

import (
	"regexp"
	"strings"
	"testing"

	bootstraputil "k8s.io/cluster-bootstrap/token/util"

	"github.com/kubelark/kubelark/runtime/host"
)

func TestBootstrapToken(t *testing.T) {
	h := host.NewFake()
	run := mustExecStar(t, h, `
t1 = bootstrap_token()
t2 = bootstrap_token()
id, secret, token = t1.id, t1.secret, t1.token
other = t2.token
`)
	id, secret, token := run.str(t, "id"), run.revealed(t, "secret"), run.revealed(t, "token")
	if !regexp.MustCompile(`\A[a-z0-9]{6}\z`).MatchString(id) || !regexp.MustCompile(`\A[a-z0-9]{16}\z`).MatchString(secret) {
		t.Errorf("id %q / secret %q malformed", id, secret)
	}
	if token != id+"."+secret || !bootstraputil.IsValidBootstrapToken(token) {
		t.Errorf("token %q is not %q.%q", token, id, secret)
	}
	if token == run.revealed(t, "other") {
		t.Error("two calls gave the same token")
	}
	line := "kubeadm join 10.0.0.10:6443 --token " + token
	if got := run.env.Redact(line); got != "kubeadm join 10.0.0.10:6443 --token "+id+".<redacted>" {
		t.Errorf("Redact = %q", got)
	}
	if strings.Contains(run.env.Redact(secret), secret) {
		t.Error("bare secret not redacted")
	}
}

func TestParseBootstrapToken(t *testing.T) {
	h := host.NewFake()
	run := mustExecStar(t, h, `
t = parse_bootstrap_token("abcdef.0123456789abcdef")
r = [t.id, t.secret, t.token]
`)
	// The secret and the token are secrets: printed redacted.
	if got := run.globals["r"].String(); got != `["abcdef", <redacted>, abcdef.<redacted>]` {
		t.Errorf("parsed = %s", got)
	}
	if got := run.env.Redact("--token abcdef.0123456789abcdef"); got != "--token abcdef.<redacted>" {
		t.Errorf("Redact = %q", got)
	}
	for _, bad := range []string{"abcdef.0123456789ABCDEF", "abcdef0123456789abcdef", "abcde.0123456789abcdefg", " abcdef.0123456789abcdef", "abcdef.0123456789abcde"} {
		msg := wantErr(t, h, `parse_bootstrap_token("`+bad+`")`, "parse_bootstrap_token", "[a-z0-9]{6}.[a-z0-9]{16}")
		if strings.Contains(msg, strings.TrimSpace(bad)) {
			t.Errorf("error echoes the token: %s", msg)
		}
	}
	wantErr(t, h, `parse_bootstrap_token("")`, "the token is empty")
}

func TestCertificateKey(t *testing.T) {
	run := mustExecStar(t, host.NewFake(), `
k = certificate_key()
k2 = certificate_key()
`)
	k := run.revealed(t, "k")
	if !regexp.MustCompile(`\A[0-9a-f]{64}\z`).MatchString(k) {
		t.Errorf("certificate key %q is not 64 lower-case hex", k)
	}
	if k == run.revealed(t, "k2") {
		t.Error("two calls gave the same key")
	}
	if got := run.env.Redact("--certificate-key " + k); got != "--certificate-key <redacted>" {
		t.Errorf("Redact = %q", got)
	}
}

func TestTokenAlphabetUniform(t *testing.T) {
	// Every character of the alphabet shows up and nothing else does.
	h := host.NewFake()
	seen := map[rune]int{}
	for i := 0; i < 200; i++ {
		s, err := randomTokenString(h.Rand(), 16)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range s {
			seen[c]++
		}
	}
	if len(seen) != len(tokenChars) {
		t.Errorf("saw %d distinct characters, want %d", len(seen), len(tokenChars))
	}
	for c, n := range seen {
		if !strings.ContainsRune(tokenChars, c) {
			t.Errorf("character %q outside the alphabet", c)
		}
		if n < 40 || n > 140 { // expected 3200/36 ≈ 89
			t.Errorf("character %q drawn %d times of 3200; not uniform", c, n)
		}
	}
}
