package builtins

import (
	"strings"
	"testing"

	"github.com/kubelark/kubelark/runtime/host"
)

func TestRegexBuiltins(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`regex_match("^[0-9a-fA-F]{64}$", "ab" * 32)`, `True`},
		{`regex_match("^[0-9a-fA-F]{64}$", "ab" * 31)`, `False`},
		{`regex_match("^[0-9a-fA-F]{64}$", "xy" * 32)`, `False`},
		{`regex_match("b", "abc")`, `True`}, // unanchored, like regexp.MatchString
		{`regex_match("\\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z", "system:bootstrappers:kubeadm:default-node-token")`, `True`},
		{`regex_match("\\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z", "system:bootstrappers:Kubeadm")`, `False`},
		{`regex_match("\\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z", "system:bootstrappers:a-")`, `False`},
		{`[regex_match("^a+$", s) for s in ["a", "aa", "b"]]`, `[True, True, False]`}, // cached pattern
		{`regex_replace("[^-\\w.]", "_", "v1.36.3+k3s.1")`, `"v1.36.3_k3s.1"`},
		{`regex_replace("(\\w+)@(\\w+)", "$2.$1", "user@host")`, `"host.user"`},
		{`regex_replace("x", "y", "")`, `""`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			run := mustExecStar(t, host.NewFake(), "x = "+tc.expr)
			if got := run.globals["x"].String(); got != tc.want {
				t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
			}
		})
	}
}

func TestRegexErrors(t *testing.T) {
	for src, want := range map[string]string{
		`regex_match("a(", "s3cr3t")`:      `regex_match: pattern "a(" is not a valid RE2 regular expression`,
		`regex_match("(?<!x)y", "s")`:      `is not a valid RE2 regular expression`, // look-behind is not RE2
		`regex_replace("[", "", "s3cr3t")`: `regex_replace: pattern "[" is not a valid RE2 regular expression`,
		`regex_match("a", 1)`:              `regex_match: for parameter s: got int, want string`,
	} {
		_, _, err := runStar(t, host.NewFake(), src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", src, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: the error quotes the subject string: %v", src, err)
		}
	}
}
