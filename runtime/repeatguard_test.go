package runtime

import (
	"errors"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// execSrc runs src through the guarded compile path.
func execSrc(t *testing.T, src string) (starlark.StringDict, error) {
	t.Helper()
	thread := &starlark.Thread{Name: "test"}
	return execGuarded(fileOptions, thread, "t.star", []byte(src), Predeclared(nil))
}

func TestRepeatGuardKeepsSemantics(t *testing.T) {
	g, err := execSrc(t, `
def f(k = 2 * 3):
    x = [1, 2]
    x *= 2
    y = [0] * 3
    z = 3 * "ab"
    w = (1,) * 2 + (2,)
    l = [i * 2 for i in range(3)]
    s = "a" + "b" + "c"
    q = (lambda v: v * v)(4)
    return k, x, y, z, w, l, s, q, 2.5 * 2, [1] + [2]
r = f()
`)
	if err != nil {
		t.Fatal(err)
	}
	want := `(6, [1, 2, 1, 2], [0, 0, 0], "ababab", (1, 1, 2), [0, 2, 4], "abc", 16, 5.0, [1, 2])`
	if got := g["r"].String(); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestRepeatGuardRefuses(t *testing.T) {
	for src, want := range map[string]string{
		`x = [0] * 1000000000`:                                   "repeating a list of length 1 1000000000 times",
		`x = 1000000000 * [0]`:                                   "repeating a list",
		`x = "ab" * (200 << 20)`:                                 "repeating a string of length 2",
		`x = b"a" * (300 << 20)`:                                 "repeating a bytes",
		`x = (1, 2) * (10 << 20)`:                                "repeating a tuple",
		`x = [0] * 99999999999999999999`:                         "times would need more than the 256 MiB",
		"def f():\n  s = 'x' * (200 << 20)\n  return s + s\nf()": "concatenating a string of 209715200 and one of 209715200",
	} {
		_, err := execSrc(t, src)
		var le *LimitError
		if err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, &le) {
			t.Errorf("%s: got %v, want a LimitError containing %q", src, err, want)
		}
	}
}

func TestRepeatGuardReservedNames(t *testing.T) {
	for _, name := range []string{repeatGuardName, concatGuardName} {
		_, err := execSrc(t, name+" = 1\n")
		if err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("defining %s: got %v, want a reserved-name error", name, err)
		}
	}
}

func TestNestingLimits(t *testing.T) {
	deep := "def deep(n):\n    x = []\n    for i in range(n):\n        x = [x]\n    return x\n"
	for _, call := range []string{"yaml.encode(deep(%d))", "json.encode(deep(%d))", "json.encode_indent(deep(%d))"} {
		at := strings.Replace(call, "%d", "999", 1)
		if _, err := execSrc(t, deep+"x = "+at+"\n"); err != nil {
			t.Errorf("%s at the limit: %v", at, err)
		}
		over := strings.Replace(call, "%d", "1001", 1)
		if _, err := execSrc(t, deep+"x = "+over+"\n"); err == nil || !strings.Contains(err.Error(), "nests deeper than 1000 levels") {
			t.Errorf("%s: got %v, want the nesting error", over, err)
		}
	}
	if _, err := execSrc(t, `x = json.decode("[" * 1001 + "]" * 1001)`); err == nil || !strings.Contains(err.Error(), "nests deeper") {
		t.Errorf("json.decode over the limit: %v", err)
	}
	if _, err := execSrc(t, `x = yaml.decode("[" * 1001 + "]" * 1001)`); err == nil || !strings.Contains(err.Error(), "nests deeper") {
		t.Errorf("yaml.decode over the limit: %v", err)
	}
	if _, err := execSrc(t, `x = json.decode('"' + "[" * 20000 + '"')`); err != nil {
		t.Errorf("brackets inside a JSON string are not nesting: %v", err)
	}
}
