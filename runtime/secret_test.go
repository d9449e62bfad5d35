package runtime

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"go.starlark.net/lib/json"
	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime/host"
)

const testSecretBytes = "s3cr3t-b1ts-0123"

// evalSecret evaluates expr with s bound to a Secret of testSecretBytes
// (and t to the token "abcdef." + s), with the json and yaml modules.
func evalSecret(t *testing.T, expr string) (starlark.Value, error) {
	t.Helper()
	s := NewSecret(testSecretBytes)
	tok, err := SecretJoin("", []starlark.Value{starlark.String("abcdef."), s})
	if err != nil {
		t.Fatal(err)
	}
	env := Predeclared(NewRegistry())
	env["s"], env["t"], env["json"] = s, tok, json.Module
	thread := &starlark.Thread{Name: "secret-test"}
	return starlark.EvalOptions(fileOptions, thread, "expr.star", expr, env)
}

func TestSecretRendersRedacted(t *testing.T) {
	for _, expr := range []string{`str(s)`, `repr(s)`, `"%s" % s`, `"%r" % s`, `"{}".format(s)`, `str([s])`, `str({"k": s})`, `str(t)`} {
		v, err := evalSecret(t, expr)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		if strings.Contains(v.String(), testSecretBytes) || !strings.Contains(v.String(), Redacted) {
			t.Errorf("%s = %s, want <redacted> and never the bytes", expr, v)
		}
	}
	if v, _ := evalSecret(t, `str(t)`); v.(starlark.String) != "abcdef."+Redacted {
		t.Errorf("a token's public id must stay readable: %s", v)
	}
}

func TestSecretConcatenationStaysSecret(t *testing.T) {
	for _, expr := range []string{`"boom " + s`, `s + " boom"`, `s + s`, `"a" + t + "b"`} {
		v, err := evalSecret(t, expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		sec, ok := v.(*Secret)
		if !ok {
			t.Fatalf("%s is a %s, want a secret", expr, v.Type())
		}
		if strings.Contains(sec.String(), testSecretBytes) || !strings.Contains(sec.Reveal(), testSecretBytes) {
			t.Errorf("%s: shown %q, revealed %q", expr, sec.String(), sec.Reveal())
		}
	}
	v, _ := evalSecret(t, `"--token " + t`)
	if got := v.String(); got != "--token abcdef."+Redacted {
		t.Errorf("shown %q", got)
	}
}

func TestSecretRefusesStringOperations(t *testing.T) {
	for _, expr := range []string{
		`s[0]`, `s[0:4]`, `len(s)`, `s.upper()`, `s.startswith("s")`, `list(s)`, `"s" in s`, `s * 2`, `s % ()`,
		`",".join([s])`, `json.encode(s)`, `json.encode({"k": s})`, `{s: 1}`, `s < s`, `int(s)`, `s.elems()`,
		`yaml.encode({"k": s})`, `yaml.decode(s)`, `yaml.decode_all(s)`, `json.decode(s)`,
	} {
		v, err := evalSecret(t, expr)
		if err == nil {
			t.Errorf("%s = %v, want an error", expr, v)
			continue
		}
		if strings.Contains(err.Error(), testSecretBytes) || strings.Contains(err.Error(), "undefined") {
			t.Errorf("%s: the error quotes the secret (or the test is wrong): %v", expr, err)
		}
	}
}

func TestSecretTruthAndEquality(t *testing.T) {
	for expr, want := range map[string]bool{
		`bool(s)`: true, `s == s`: true, `s != s`: false, `s == "` + testSecretBytes + `"`: false,
		`bool("" + s)`: true, `s == ("" + s)`: true, `t != s`: true,
	} {
		v, err := evalSecret(t, expr)
		if err != nil || v != starlark.Bool(want) {
			t.Errorf("%s = %v (%v), want %v", expr, v, err, want)
		}
	}
	if NewSecret("").Truth() {
		t.Error("an empty secret must be false")
	}
}

func TestSecretRefusedByDataConversion(t *testing.T) {
	d := starlark.NewDict(1)
	_ = d.SetKey(starlark.String("k"), NewSecret(testSecretBytes))
	if _, err := ToGo(d); err == nil || strings.Contains(err.Error(), testSecretBytes) || !strings.Contains(err.Error(), ".k") {
		t.Errorf("ToGo of a secret: %v, want a refusal naming .k", err)
	}
	g, paths, err := ToGoSecrets(d)
	if err != nil || g.(map[string]any)["k"] != testSecretBytes || len(paths) != 1 || paths[0] != ".k" {
		t.Errorf("ToGoSecrets = %v %v %v", g, paths, err)
	}
}

func TestSecretParamValues(t *testing.T) {
	v := secretParamValue(starlark.String("x"))
	if _, ok := v.(*Secret); !ok {
		t.Errorf("a secret string param is a %s", v.Type())
	}
	tok := starlark.NewDict(2)
	_ = tok.SetKey(starlark.String("token"), starlark.String("abcdef.0123456789abcdef"))
	_ = tok.SetKey(starlark.String("ttl"), starlark.String("24h"))
	secretParamValue(starlark.NewList([]starlark.Value{tok}))
	if x, _, _ := tok.Get(starlark.String("token")); x.Type() != "secret" {
		t.Errorf("bootstrap_tokens[0].token is a %s", x.Type())
	}
	if x, _, _ := tok.Get(starlark.String("ttl")); x.Type() != "string" {
		t.Errorf("bootstrap_tokens[0].ttl is a %s", x.Type())
	}
}

func TestOutputSecretRevealsOnlyLive(t *testing.T) {
	for _, live := range []bool{false, true} {
		h := host.NewFake()
		h.FLive = live
		var out bytes.Buffer
		env := NewEnv(context.Background(), h, nil, &out)
		line, _ := SecretJoin("", []starlark.Value{starlark.String("--token abcdef."), NewSecret(testSecretBytes)})
		env.OutputSecret(line.(*Secret), true)
		env.OutputSecret(line.(*Secret), false)
		plan := strings.Join(env.Plan().Output, "\n")
		if strings.Contains(plan, testSecretBytes) {
			t.Errorf("live=%v: the plan has the secret: %q", live, plan)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if got := strings.Contains(lines[0], testSecretBytes); got != live {
			t.Errorf("live=%v reveal=True: stdout %q", live, lines[0])
		}
		if strings.Contains(lines[1], testSecretBytes) {
			t.Errorf("live=%v reveal=False: stdout %q", live, lines[1])
		}
	}
}

func TestRedactErrorIsTheSecondLine(t *testing.T) {
	env := NewEnv(context.Background(), host.NewFake(), nil, nil)
	env.RegisterSecret(testSecretBytes)
	re := &RecipeError{Msg: "boom " + testSecretBytes, Where: "at x", Trace: "t " + testSecretBytes}
	err := env.RedactError(re)
	if strings.Contains(err.Error(), testSecretBytes) || strings.Contains(re.Trace, testSecretBytes) {
		t.Errorf("not redacted: %v / %q", err, re.Trace)
	}
	plain := env.RedactError(errors.New("api said " + testSecretBytes))
	if strings.Contains(plain.Error(), testSecretBytes) || !strings.Contains(plain.Error(), Redacted) {
		t.Errorf("plain error: %v", plain)
	}
	if env.RedactError(nil) != nil {
		t.Error("nil must stay nil")
	}
}
