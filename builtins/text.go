package builtins

// The text family: regular expressions, so that policy that validates or
// rewrites strings the way kubeadm does with Go's regexp package (a
// bootstrap group's pattern, a certificate key's 64 hex digits, an image tag
// made from a version) says so in one line instead of a loop over
// characters that only approximates the pattern.

import (
	"fmt"
	"regexp"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
)

func init() { families = append(families, registerText) }

func registerText(r *runtime.Registry) {
	syntaxRef := " Syntax: RE2 (Go's regexp, https://github.com/google/re2/wiki/Syntax); a pattern is compiled once per run."
	r.Add(&runtime.Builtin{
		Name:      "regex_match",
		Signature: "regex_match(pattern, s)",
		Doc: "Reports whether s contains a match of the regular expression pattern, like Go's regexp.MatchString: " +
			"unanchored, so anchor with ^...$ (or \\A...\\z) to match the whole string. " +
			"regex_match(\"^[0-9a-f]{64}$\", key) checks a certificate key." + syntaxRef,
		Args: []runtime.Arg{
			{Name: "pattern", Type: "string", Doc: "RE2 regular expression; an invalid one is an error naming the pattern"},
			{Name: "s", Type: "string", Doc: "the text to test (never quoted in errors: it may be a secret)"},
		},
		DryRun: "Pure: nothing is recorded.",
		Fn:     regexMatchFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "regex_replace",
		Signature: "regex_replace(pattern, repl, s)",
		Doc: "Replaces every match of pattern in s with repl, like Go's Regexp.ReplaceAllString ($1 or ${name} in repl " +
			"expand to submatches; $$ is a literal $). regex_replace(\"[^-\\\\w.]\", \"_\", \"v1.36.3+k3s\") == \"v1.36.3_k3s\", " +
			"kubeadm's image tag of a version." + syntaxRef,
		Args: []runtime.Arg{
			{Name: "pattern", Type: "string", Doc: "RE2 regular expression"},
			{Name: "repl", Type: "string", Doc: "replacement template"},
			{Name: "s", Type: "string", Doc: "the text to rewrite"},
		},
		DryRun: "Pure: nothing is recorded.",
		Fn:     regexReplaceFn,
	})
}

func regexMatchFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern, s string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "s", &s); err != nil {
		return nil, err
	}
	re, err := compileRegexp(thread, b.Name(), pattern)
	if err != nil {
		return nil, err
	}
	return starlark.Bool(re.MatchString(s)), nil
}

func regexReplaceFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern, repl, s string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "repl", &repl, "s", &s); err != nil {
		return nil, err
	}
	re, err := compileRegexp(thread, b.Name(), pattern)
	if err != nil {
		return nil, err
	}
	return starlark.String(re.ReplaceAllString(s, repl)), nil
}

// regexpCacheKey names the thread-local cache of compiled patterns: one
// run (one thread) compiles each pattern once, and nothing outlives it.
const regexpCacheKey = "kubelark.builtins.regexps"

func compileRegexp(thread *starlark.Thread, fn, pattern string) (*regexp.Regexp, error) {
	cache, _ := thread.Local(regexpCacheKey).(map[string]*regexp.Regexp)
	if re, ok := cache[pattern]; ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: pattern %q is not a valid RE2 regular expression (%v); fix the pattern, see https://github.com/google/re2/wiki/Syntax", fn, pattern, err)
	}
	if cache == nil {
		cache = map[string]*regexp.Regexp{}
		thread.SetLocal(regexpCacheKey, cache)
	}
	cache[pattern] = re
	return re, nil
}
