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

	"github.com/kubelark/kubelark/runtime"
)

// Bootstrap tokens and certificate keys: the two secrets kubeadm hands to
// joining nodes. They are generated from the host's randomness source
// (crypto/rand live, seeded in tests) and registered with the Env so they
// are redacted from every printed line and from the plan.

func init() { families = append(families, registerToken) }

func registerToken(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "bootstrap_token",
		Signature: "bootstrap_token()",
		Doc: "Generates a random bootstrap token \"<id>.<secret>\" (6 and 16 characters of [a-z0-9], as kubeadm) and returns struct(id, secret, token).\n" +
			"The secret is registered as a secret: it is redacted from output and plans.",
		DryRun: "A real token is generated (never printed).",
		Fn:     bootstrapTokenBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "parse_bootstrap_token",
		Signature: "parse_bootstrap_token(s)",
		Doc:       "Validates a bootstrap token \"<id>.<secret>\" ([a-z0-9]{6}.[a-z0-9]{16}) and returns struct(id, secret, token). The secret is registered as a secret.",
		Args:      []runtime.Arg{{Name: "s", Type: "string", Doc: "the token, e.g. from --set token=..."}},
		DryRun:    "Pure apart from registering the secret.",
		Fn:        parseBootstrapTokenBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "certificate_key",
		Signature: "certificate_key()",
		Doc:       "Generates a certificate key for upload-certs: 32 random bytes as 64 lower-case hex characters (kubeadm's CreateCertificateKey). Registered as a secret.",
		DryRun:    "A real key is generated (never printed).",
		Fn:        certificateKeyBuiltin,
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
	var s string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
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
	return tokenResult(env, id, secret), nil
}

// tokenResult registers the secret and builds struct(id, secret, token).
// The secret is registered before the token, so a printed token shows as
// "<id>.<redacted>": the id is public (it names the Secret) and helps an
// operator tell tokens apart.
func tokenResult(env *runtime.Env, id, secret string) starlark.Value {
	token := bootstraputil.TokenFromIDAndSecret(id, secret)
	env.RegisterSecret(secret)
	env.RegisterSecret(token)
	return Struct(map[string]starlark.Value{
		"id": starlark.String(id), "secret": starlark.String(secret), "token": starlark.String(token),
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
	s := hex.EncodeToString(key)
	env.RegisterSecret(s)
	return starlark.String(s), nil
}
