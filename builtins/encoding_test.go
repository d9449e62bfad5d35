package builtins

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime/host"
)

func TestEncodingBuiltins(t *testing.T) {
	h := host.NewFake() // clock 2026-01-02T03:04:05Z
	g, _ := mustRunStar(t, h, `
enc = base64.encode("-----BEGIN CERTIFICATE-----\n")
dec = base64.decode(enc)
wrapped = base64.decode("aGVs\nbG8=\n")
raw = base64.decode("aGVsbG8")
now = timestamp()
later = timestamp(after = "24h")
d1 = duration_string("8760h")
d2 = duration_string("90s")
d3 = duration_string("0")
`)
	for name, want := range map[string]string{
		"enc":     "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==",
		"dec":     "-----BEGIN CERTIFICATE-----\n",
		"wrapped": "hello",
		"raw":     "hello",
		"now":     "2026-01-02T03:04:05Z",
		"later":   "2026-01-03T03:04:05Z",
		"d1":      "8760h0m0s",
		"d2":      "1m30s",
		"d3":      "0s",
	} {
		if got := string(g[name].(starlark.String)); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestEncodingErrors(t *testing.T) {
	for src, want := range map[string]string{
		`base64.decode("not base64 at all!")`: "is not valid base64",
		`timestamp(after = "soon")`:           `after="soon" is not a duration`,
		`duration_string("1y")`:               `"1y" is not a duration`,
		`base64.encode(1)`:                    "want string, bytes or secret",
	} {
		_, _, err := runStar(t, host.NewFake(), "x = "+src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", src, err, want)
		}
	}
	// A secret input is never quoted in the error.
	_, _, err := runStar(t, host.NewFake(), `x = base64.decode("s3cr3t-key-material!")`)
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error quotes the input: %v", err)
	}
}
