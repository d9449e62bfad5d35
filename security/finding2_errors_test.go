package security

import (
	"path/filepath"
	"strings"
	"testing"
)

// Finding #2: error messages were never redacted. fail("boom " +
// token.secret) printed the secret, and so did a builtin error echoing an
// argument built from it. Secrets are now a type (a concatenation is a
// secret that prints as <redacted>; a builtin refuses a secret where it
// wants a string without quoting it) and every error that leaves the run
// goes through the textual redaction as well.

// failed runs src as a fork's recipe in a dry run with args and checks
// that it failed without showing the known secret.
func failed(t *testing.T, src string, args ...string) string {
	t.Helper()
	plan := filepath.Join(t.TempDir(), "plan.json")
	r := kubelark(t, append([]string{"run", recipe(t, src), "--dry-run", "--plan", plan}, args...)...)
	if r.Code == 0 {
		t.Errorf("the run succeeded; want it to fail:\n%s", r.Output())
	}
	return neverShown(t, r, []string{knownSecret}, plan)
}

func TestFinding2FailWithConcatenatedTokenSecret(t *testing.T) {
	out := failed(t, `t = parse_bootstrap_token("`+knownToken+`")
fail("boom " + t.secret)
`)
	if !strings.Contains(out, "boom <redacted>") {
		t.Errorf("want the message with <redacted>:\n%s", out)
	}
}

func TestFinding2FailWithFormattedTokenSecret(t *testing.T) {
	failed(t, `t = parse_bootstrap_token("`+knownToken+`")
fail("boom %s / %r / {}".format(t.secret) % (t.secret, t.token))
`)
}

func TestFinding2FailVerboseBacktrace(t *testing.T) {
	failed(t, `t = parse_bootstrap_token("`+knownToken+`")
def f(x):
    fail("deep " + x)
f(t.secret)
`, "-v")
}

func TestFinding2BuiltinErrorEchoingSecretArgument(t *testing.T) {
	out := failed(t, `t = parse_bootstrap_token("`+knownToken+`")
write_file("relative-" + t.secret, "x")
`)
	if !strings.Contains(out, "write_file: path is a secret") {
		t.Errorf("want write_file's refusal of a secret path:\n%s", out)
	}
}

func TestFinding2FailWithSecretParameter(t *testing.T) {
	failed(t, `P = params(token = param("", "a token", secret = True))
fail("bad token " + P.token)
`, "--set", "token="+knownToken)
}

// The second line of defence: a plain (non-secret) string that happens to
// hold a registered secret is redacted from the error by text.
func TestFinding2TextualRedactionOfErrors(t *testing.T) {
	failed(t, `P = params(token = param("", "a token", secret = True), note = param("", "a note"))
fail("note: " + P.note)
`, "--set", "token="+knownToken, "--set", "note=copy of "+knownToken)
}

// String operations on a secret either keep it a secret or are refused;
// none gives its bytes (or a slice or copy of them) to fail().
func TestFinding2StringOperationsOnSecret(t *testing.T) {
	for name, expr := range map[string]string{
		"slice":        `t.secret[0:10]`,
		"index":        `t.secret[0] + t.secret[1:]`,
		"upper":        `t.secret.upper()`,
		"join":         `",".join([t.secret, "x"])`,
		"str":          `str(t.secret)`,
		"json.encode":  `json.encode({"k": t.secret})`,
		"yaml.encode":  `yaml.encode({"k": t.secret})`,
		"list":         `"".join(list(t.secret.elems()))`,
		"base64":       `base64.decode(base64.encode(t.secret))`,
		"format":       `"{}".format(t.secret)`,
		"replace":      `t.token.replace("abcdef.", "")`,
		"split":        `str(t.token.split("."))`,
		"comprehended": `"".join([t.secret[i] for i in range(len(t.secret))])`,
	} {
		t.Run(name, func(t *testing.T) {
			failed(t, `t = parse_bootstrap_token("`+knownToken+`")
fail("got " + `+expr+`)
`)
		})
	}
}
