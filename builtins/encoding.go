package builtins

// Small pure helpers the API phases need and Starlark lacks: base64 (the
// data of Secrets and kubeconfigs is base64) and the clock (a bootstrap
// token's expiration is "now + TTL", and kubeadm prints durations the way
// Go's time.Duration does).

import (
	"encoding/base64"
	"fmt"
	"time"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
)

func init() { families = append(families, registerEncoding) }

func registerEncoding(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "base64.encode",
		Signature: "base64.encode(s)",
		Doc:       "Standard base64 (with padding) of a string's bytes, as Kubernetes stores Secret data and kubeconfig certificate-authority-data.",
		Args:      []runtime.Arg{{Name: "s", Type: "string, bytes or secret", Doc: "the content; the encoding of a secret is a secret"}},
		DryRun:    "Pure.",
		Fn:        base64EncodeFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "base64.decode",
		Signature: "base64.decode(s)",
		Doc:       "Decodes standard base64 (padding optional, surrounding whitespace ignored) into a string, e.g. a kubeconfig's client-certificate-data.",
		Args:      []runtime.Arg{{Name: "s", Type: "string or secret", Doc: "base64 text; the decoding of a secret is a secret"}},
		DryRun:    "Pure.",
		Fn:        base64DecodeFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "timestamp",
		Signature: `timestamp(after="0s")`,
		Doc: "The host clock's current time plus after, in UTC RFC 3339 with second precision (\"2006-01-02T15:04:05Z\"), " +
			"the format of a bootstrap token's expiration.",
		Args:   []runtime.Arg{{Name: "after", Type: "duration", Doc: `Go duration added to now, e.g. "24h"; may be negative`}},
		DryRun: "Reads the host clock (the fake clock in tests).",
		Fn:     timestampFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "duration_string",
		Signature: "duration_string(d)",
		Doc: "Normalizes a Go duration the way Go prints it (\"8760h\" -> \"8760h0m0s\", \"90s\" -> \"1m30s\"), " +
			"as kubeadm's configuration YAML spells durations.",
		Args:   []runtime.Arg{{Name: "d", Type: "string", Doc: "Go duration syntax"}},
		DryRun: "Pure.",
		Fn:     durationStringFn,
	})
}

func base64EncodeFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	if sec, ok := v.(*runtime.Secret); ok {
		// The encoding of a secret is as secret as its bytes.
		return registeredSecret(thread, base64.StdEncoding.EncodeToString([]byte(sec.Reveal())))
	}
	s, ok := starlark.AsString(v)
	if !ok {
		return nil, fmt.Errorf("%s: got %s, want string, bytes or secret", b.Name(), v.Type())
	}
	return starlark.String(base64.StdEncoding.EncodeToString([]byte(s))), nil
}

func base64DecodeFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	s, secret, ok := runtime.AsSecretOrString(v)
	if !ok {
		return nil, fmt.Errorf("%s: got %s, want string or secret", b.Name(), v.Type())
	}
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r':
		default:
			clean = append(clean, c)
		}
	}
	out, err := base64.StdEncoding.DecodeString(string(clean))
	if err != nil {
		out, err = base64.RawStdEncoding.DecodeString(string(clean))
	}
	if err != nil {
		// The input may be secret (client-key-data): never quote it.
		return nil, fmt.Errorf("%s: the %d-character input is not valid base64", b.Name(), len(s))
	}
	if secret {
		return registeredSecret(thread, string(out))
	}
	return starlark.String(out), nil
}

func timestampFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	after := "0s"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "after?", &after); err != nil {
		return nil, err
	}
	d, err := time.ParseDuration(after)
	if err != nil {
		return nil, fmt.Errorf("%s: after=%q is not a duration; write it like \"24h\" or \"2h\"", b.Name(), after)
	}
	return starlark.String(env.Host.Now().Add(d).UTC().Format(time.RFC3339)), nil
}

func durationStringFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not a duration; write it like \"8760h\" or \"90m\"", b.Name(), s)
	}
	return starlark.String(d.String()), nil
}
