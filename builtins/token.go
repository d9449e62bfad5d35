package builtins

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"
	corev1 "k8s.io/api/core/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	bootstrapsecrets "k8s.io/cluster-bootstrap/util/secrets"

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
		Name:      "bootstrap_token_info",
		Signature: "bootstrap_token_info(secret)",
		Doc: "The public fields of a bootstrap token Secret (a dict from k8s_get or k8s_list, whose data values are secrets): struct(id, description, expiration, ttl, expired, usages, groups) " +
			"with expiration the RFC 3339 text as stored (\"\" = never expires), ttl the time left by the host clock in kubectl's short form (\"23h\"; \"<invalid>\" once past; \"\" = never), usages sorted and the extra groups as written. The token secret is not returned. " +
			"A Secret that is not a bootstrap token (type, name bootstrap-token-<id>, token-id, groups) is an error naming it.",
		Args:   []runtime.Arg{{Name: "secret", Type: "dict", Doc: "a kube-system/bootstrap-token-<id> Secret"}},
		DryRun: "Pure.",
		Fn:     bootstrapTokenInfoBuiltin,
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

// bootstrapTokenInfoBuiltin reads the public half of a bootstrap token
// Secret (as k8s_get/k8s_list return it, data values being secrets): the
// id, description, expiration, usages and extra groups `token list`
// shows. The token secret itself is never read out; a Secret that is not
// a well-formed bootstrap token (wrong type, name and token-id differing,
// a malformed id) is an error naming the Secret, as kubeadm's
// BootstrapTokenFromSecret refuses it.
func bootstrapTokenInfoBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "secret", &v); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	g, _, err := runtime.ToGoSecrets(v)
	if err != nil {
		return nil, fmt.Errorf("%s: secret: %w", b.Name(), err)
	}
	obj, ok := g.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: secret: got %s, want the Secret dict from k8s_get or k8s_list", b.Name(), v.Type())
	}
	var s corev1.Secret
	if err := k8sruntime.DefaultUnstructuredConverter.FromUnstructured(obj, &s); err != nil {
		return nil, fmt.Errorf("%s: secret: not a v1 Secret: %v", b.Name(), err)
	}
	if s.Type != bootstrapapi.SecretTypeBootstrapToken {
		return nil, fmt.Errorf("%s: Secret %s/%s has type %q, not %q", b.Name(), s.Namespace, s.Name, s.Type, bootstrapapi.SecretTypeBootstrapToken)
	}
	nameID, ok := bootstrapsecrets.ParseName(s.Name)
	if !ok {
		return nil, fmt.Errorf("%s: Secret %s/%s: the name is not bootstrap-token-<id>", b.Name(), s.Namespace, s.Name)
	}
	id := bootstrapsecrets.GetData(&s, bootstrapapi.BootstrapTokenIDKey)
	if id != nameID {
		return nil, fmt.Errorf("%s: Secret %s/%s: token-id %q does not match the name's id %q", b.Name(), s.Namespace, s.Name, id, nameID)
	}
	// GetGroups validates; the groups are shown as written, like kubeadm.
	if _, err := bootstrapsecrets.GetGroups(&s); err != nil {
		return nil, fmt.Errorf("%s: Secret %s/%s: %v", b.Name(), s.Namespace, s.Name, err)
	}
	var groups []string
	if g := bootstrapsecrets.GetData(&s, bootstrapapi.BootstrapTokenExtraGroupsKey); g != "" {
		groups = strings.Split(g, ",")
	}
	var usages []starlark.Value
	for k := range s.Data {
		if u, ok := strings.CutPrefix(k, bootstrapapi.BootstrapTokenUsagePrefix); ok && bootstrapsecrets.GetData(&s, k) == "true" {
			usages = append(usages, starlark.String(u))
		}
	}
	sort.Slice(usages, func(i, j int) bool { return usages[i].(starlark.String) < usages[j].(starlark.String) })
	gv := make([]starlark.Value, 0, len(groups))
	for _, x := range groups {
		gv = append(gv, starlark.String(x))
	}
	// The time left, by the host clock, in kubectl's short form ("23h",
	// "59m"; "<invalid>" once expired), as kubeadm's token list shows it.
	exp := bootstrapsecrets.GetData(&s, bootstrapapi.BootstrapTokenExpirationKey)
	ttl, expired := "", false
	if exp != "" {
		t, err := time.Parse(time.RFC3339, exp)
		if err != nil {
			return nil, fmt.Errorf("%s: Secret %s/%s: expiration %q is not RFC 3339 (the token controllers treat it as expired); delete the token and create a new one", b.Name(), s.Namespace, s.Name, exp)
		}
		left := t.Sub(env.Host.Now())
		ttl, expired = duration.ShortHumanDuration(left), left <= 0
	}
	return Struct(map[string]starlark.Value{
		"id":          starlark.String(id),
		"description": starlark.String(bootstrapsecrets.GetData(&s, bootstrapapi.BootstrapTokenDescriptionKey)),
		"expiration":  starlark.String(exp),
		"ttl":         starlark.String(ttl),
		"expired":     starlark.Bool(expired),
		"usages":      starlark.NewList(usages),
		"groups":      starlark.NewList(gv),
	}), nil
}
