package builtins

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"

	"go.starlark.net/starlark"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"

	"github.com/kubelark/kubelark/internal/valid"
	"github.com/kubelark/kubelark/runtime"
)

// Bootstrap tokens and certificate keys: the two secrets kubeadm hands to
// joining nodes. They are generated from the host's randomness source
// (crypto/rand live, seeded in tests) and registered with the Env so they
// are returned as runtime.Secret values (and registered with the Env's
// textual redaction too), so they show as <redacted> wherever a recipe
// prints, formats or fails with them.

func init() { families = append(families, registerToken) }

func registerToken(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "bootstrap_token",
		Signature: "bootstrap_token()",
		Doc: "Generates a random bootstrap token \"<id>.<secret>\" (6 and 16 characters of [a-z0-9], as kubeadm) and returns struct(id, secret, token).\n" +
			"id is a string; secret and token are secrets: they print as <redacted> (token as \"<id>.<redacted>\").",
		DryRun: "A real token is generated (never printed).",
		Fn:     bootstrapTokenBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "parse_bootstrap_token",
		Signature: "parse_bootstrap_token(s)",
		Doc:       "Validates a bootstrap token \"<id>.<secret>\" ([a-z0-9]{6}.[a-z0-9]{16}) and returns struct(id, secret, token) as bootstrap_token() does.",
		Args:      []runtime.Arg{{Name: "s", Type: "string or secret", Doc: "the token, e.g. from --set token=..."}},
		DryRun:    "Pure apart from registering the secret.",
		Fn:        parseBootstrapTokenBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "certificate_key",
		Signature: "certificate_key()",
		Doc:       "Generates a certificate key for upload-certs: 32 random bytes as 64 lower-case hex characters (kubeadm's CreateCertificateKey), returned as a secret.",
		DryRun:    "A real key is generated (never printed).",
		Fn:        certificateKeyBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "parse_certificate_key",
		Signature: "parse_certificate_key(s)",
		Doc:       "Validates a certificate key (64 hexadecimal characters, 32 bytes) and returns it as a secret. The message of a bad key never quotes it.",
		Args:      []runtime.Arg{{Name: "s", Type: "string or secret", Doc: "the key, e.g. from --set certificate_key=..."}},
		DryRun:    "Pure.",
		Fn:        parseCertificateKeyBuiltin,
	})
}

// tokenChars is cluster-bootstrap's alphabet (validBootstrapTokenChars).
const tokenChars = "0123456789abcdefghijklmnopqrstuvwxyz"

// randomTokenString draws n characters uniformly from tokenChars, the way
// cluster-bootstrap's randBytes does, but from the host's reader so tests
// are deterministic.
func randomTokenString(r io.Reader, n int) (string, error) {
	max := big.NewInt(int64(len(tokenChars)))
	out := make([]byte, n)
	for i := range out {
		v, err := rand.Int(r, max)
		if err != nil {
			return "", fmt.Errorf("reading random bytes: %w", err)
		}
		out[i] = tokenChars[v.Int64()]
	}
	return string(out), nil
}

func bootstrapTokenBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	id, err := randomTokenString(env.Host.Rand(), bootstrapapi.BootstrapTokenIDBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	secret, err := randomTokenString(env.Host.Rand(), bootstrapapi.BootstrapTokenSecretBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return tokenResult(env, id, secret), nil
}

func parseBootstrapTokenBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, v, s, err := secretStringArg(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	// The message never echoes s: it may be a real token with a typo.
	if s == "" {
		return nil, fmt.Errorf("%s: the token is empty; leave it unset to generate one, or generate one with bootstrap_token()", b.Name())
	}
	if !bootstraputil.IsValidBootstrapToken(s) {
		return nil, fmt.Errorf("%s: the token (%d characters) does not have the form <id>.<secret> = [a-z0-9]{6}.[a-z0-9]{16}; check for upper-case letters, spaces or a missing dot", b.Name(), len(s))
	}
	id, secret := s[:bootstrapapi.BootstrapTokenIDBytes], s[bootstrapapi.BootstrapTokenIDBytes+1:]
	tok := tokenResult(env, id, secret)
	if _, given := v.(*runtime.Secret); given {
		// A token given as a secret (param(secret=True)) stays wholly
		// secret, id too, as the operator handed it over.
		tok = Struct(map[string]starlark.Value{"id": starlark.String(id), "secret": env.NewRegisteredSecret(secret), "token": env.NewRegisteredSecret(s)})
	}
	return tok, nil
}

// tokenResult builds struct(id, secret, token). secret is a Secret, token
// the Secret "<id>." + secret, so a printed token shows as
// "<id>.<redacted>": the id is public (it names the Secret) and helps an
// operator tell tokens apart.
func tokenResult(env *runtime.Env, id, secret string) starlark.Value {
	sec := env.NewRegisteredSecret(secret)
	token, _ := runtime.SecretJoin("", []starlark.Value{starlark.String(id + "."), sec})
	return Struct(map[string]starlark.Value{
		"id": starlark.String(id), "secret": sec, "token": token,
	})
}

func certificateKeyBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32) // kubeadm constants.CertificateKeySize
	if _, err := io.ReadFull(env.Host.Rand(), key); err != nil {
		return nil, fmt.Errorf("%s: reading random bytes: %w", b.Name(), err)
	}
	return env.NewRegisteredSecret(hex.EncodeToString(key)), nil
}

// secretStringArg unpacks the one argument s of a parse_* builtin, a
// string or a Secret, and returns it as given (v) and as its string.
func secretStringArg(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (*runtime.Env, starlark.Value, string, error) {
	var v starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &v); err != nil {
		return nil, nil, "", err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, nil, "", err
	}
	s, err := secretOrString(env, b.Name(), "s", v)
	return env, v, s, err
}

func parseCertificateKeyBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, _, s, err := secretStringArg(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	if err := valid.CertificateKey(s); err != nil {
		return nil, fmt.Errorf("certificate_key: %w; or leave it empty to generate one", err)
	}
	return env.NewRegisteredSecret(s), nil
}
