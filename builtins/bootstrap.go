package builtins

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"sort"

	"go.starlark.net/starlark"
	"k8s.io/cluster-bootstrap/token/jws"

	"github.com/kubelark/kubelark/internal/valid"
	"github.com/kubelark/kubelark/runtime"
)

func init() { families = append(families, registerBootstrap) }

func registerBootstrap(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "jws_sign",
		Signature: "jws_sign(token_id, token_secret, payload)",
		Doc: "Returns the detached JWS (HS256, header {\"alg\":\"HS256\",\"kid\":<token_id>}) of payload, as the controller-manager's " +
			"bootstrapsigner writes into cluster-info's jws-kubeconfig-<token_id> key.",
		Args: []runtime.Arg{
			{Name: "token_id", Type: "string", Doc: "6 characters [a-z0-9]"},
			{Name: "token_secret", Type: "string or secret", Doc: "16 characters [a-z0-9], e.g. bootstrap_token().secret"},
			{Name: "payload", Type: "string", Doc: "the signed content (cluster-info's kubeconfig value)"},
		},
		DryRun: "Pure computation, same in every mode.",
		Fn:     jwsSignFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "jws_verify",
		Signature: "jws_verify(token_id, token_secret, payload, signature)",
		Doc:       "Reports whether signature is the detached JWS of payload for this token (token discovery checks cluster-info this way).",
		Args: []runtime.Arg{
			{Name: "token_id", Type: "string"}, {Name: "token_secret", Type: "string"},
			{Name: "payload", Type: "string"}, {Name: "signature", Type: "string", Doc: "the jws-kubeconfig-<token_id> value"},
		},
		DryRun: "Pure computation, same in every mode.",
		Fn:     jwsVerifyFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "encrypt_certs",
		Signature: "encrypt_certs(key, files)",
		Doc: "Encrypts each file content with AES-256-GCM (fresh 12-byte nonce from the host's randomness, no additional data) " +
			"and returns a dict name -> base64(nonce || ciphertext || tag), ready as the data of the kubeadm-certs Secret. " +
			"An empty or None content gives an empty value (kubeadm's rule for a missing source file).",
		Args: []runtime.Arg{
			{Name: "key", Type: "string or secret", Doc: "certificate key: 64 hex characters (32 bytes)"},
			{Name: "files", Type: "dict", Doc: "Secret key (\"ca.key\", \"etcd-ca.crt\"…) -> file content (string or secret)"},
		},
		DryRun: "Pure computation, same in every mode.",
		Fn:     encryptCertsFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "decrypt_certs",
		Signature: "decrypt_certs(key, data, wrong_key_ok=False)",
		Doc: "Reverses encrypt_certs: data is the kubeadm-certs Secret's data (name -> base64). Returns name -> content; empty values are skipped; " +
			"any value that does not decrypt fails the whole call (no partial result), naming the key. A private key (a *.key name or PEM private key) " +
			"comes back as a secret, a certificate or public key as a string, so write_file can give each its mode (0600, 0644).\n" +
			"With wrong_key_ok, a value that does not open with the key (a wrong key, or a Secret re-uploaded with another one) returns None " +
			"instead of failing, so the recipe can say which command gives the current key; malformed data still fails.",
		Args: []runtime.Arg{
			{Name: "key", Type: "string", Doc: "certificate key: 64 hex characters"},
			{Name: "data", Type: "dict", Doc: "name -> base64 ciphertext"},
			{Name: "wrong_key_ok", Type: "bool", Doc: "return None (nothing decrypted) when the key does not open a value"},
		},
		DryRun: "Pure computation, same in every mode.",
		Fn:     decryptCertsFn,
	})
}

var (
	tokenIDRe     = regexp.MustCompile(`\A[a-z0-9]{6}\z`)
	tokenSecretRe = regexp.MustCompile(`\A[a-z0-9]{16}\z`)
)

func checkToken(fn, id, secret string) error {
	if !tokenIDRe.MatchString(id) {
		return fmt.Errorf("%s: token_id %q: want 6 characters from [a-z0-9]", fn, id)
	}
	if !tokenSecretRe.MatchString(secret) {
		return fmt.Errorf("%s: token_secret: want 16 characters from [a-z0-9]", fn)
	}
	return nil
}

func jwsSignFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var id, payload string
	var secretV starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "token_id", &id, "token_secret", &secretV, "payload", &payload); err != nil {
		return nil, err
	}
	secret, err := secretOrString(env, b.Name(), "token_secret", secretV)
	if err != nil {
		return nil, err
	}
	env.RegisterSecret(secret)
	if err := checkToken(b.Name(), id, secret); err != nil {
		return nil, err
	}
	sig, err := jws.ComputeDetachedSignature(payload, id, secret)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return starlark.String(sig), nil
}

func jwsVerifyFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var id, payload, sig string
	var secretV starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "token_id", &id, "token_secret", &secretV, "payload", &payload, "signature", &sig); err != nil {
		return nil, err
	}
	secret, err := secretOrString(env, b.Name(), "token_secret", secretV)
	if err != nil {
		return nil, err
	}
	env.RegisterSecret(secret)
	if err := checkToken(b.Name(), id, secret); err != nil {
		return nil, err
	}
	return starlark.Bool(jws.DetachedTokenIsValid(sig, payload, id, secret)), nil
}

// certKeyAEAD parses a certificate key (kubeadm-facts §6) into AES-256-GCM.
func certKeyAEAD(env *runtime.Env, fn, keyHex string) (cipher.AEAD, error) {
	env.RegisterSecret(keyHex)
	if err := valid.CertificateKey(keyHex); err != nil {
		return nil, fmt.Errorf("%s: key: %w", fn, err)
	}
	key, _ := hex.DecodeString(keyHex)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	return cipher.NewGCM(block)
}

// stringDict converts a dict of string -> string or secret (None allowed
// as value); secret values are registered for the textual redaction.
func stringDict(env *runtime.Env, fn, arg string, d *starlark.Dict) (map[string]string, []string, error) {
	out := make(map[string]string, d.Len())
	var keys []string
	for _, it := range d.Items() {
		k, ok := starlark.AsString(it[0])
		if !ok {
			return nil, nil, fmt.Errorf("%s: %s: key %s is a %s, want string", fn, arg, it[0], it[0].Type())
		}
		v := ""
		if it[1] != starlark.None {
			var secret bool
			if v, secret, ok = runtime.AsSecretOrString(it[1]); !ok {
				return nil, nil, fmt.Errorf("%s: %s[%q]: got %s, want string or secret", fn, arg, k, it[1].Type())
			}
			if secret {
				env.RegisterSecretValue(it[1])
			}
		}
		out[k] = v
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return out, keys, nil
}

func encryptCertsFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var keyV starlark.Value
	var files *starlark.Dict
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &keyV, "files", &files); err != nil {
		return nil, err
	}
	keyHex, err := secretOrString(env, b.Name(), "key", keyV)
	if err != nil {
		return nil, err
	}
	aead, err := certKeyAEAD(env, b.Name(), keyHex)
	if err != nil {
		return nil, err
	}
	in, keys, err := stringDict(env, b.Name(), "files", files)
	if err != nil {
		return nil, err
	}
	out := starlark.NewDict(len(keys))
	for _, k := range keys {
		v := ""
		if in[k] != "" {
			nonce := make([]byte, aead.NonceSize())
			if _, err := io.ReadFull(env.Host.Rand(), nonce); err != nil {
				return nil, fmt.Errorf("%s: reading randomness: %w", b.Name(), err)
			}
			v = base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(in[k]), nil))
		}
		if err := out.SetKey(starlark.String(k), starlark.String(v)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func decryptCertsFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var keyV starlark.Value
	var data *starlark.Dict
	var wrongKeyOK bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &keyV, "data", &data, "wrong_key_ok?", &wrongKeyOK); err != nil {
		return nil, err
	}
	keyHex, err := secretOrString(env, b.Name(), "key", keyV)
	if err != nil {
		return nil, err
	}
	aead, err := certKeyAEAD(env, b.Name(), keyHex)
	if err != nil {
		return nil, err
	}
	in, keys, err := stringDict(env, b.Name(), "data", data)
	if err != nil {
		return nil, err
	}
	out := starlark.NewDict(len(keys))
	for _, k := range keys {
		if in[k] == "" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(in[k])
		if err != nil {
			return nil, fmt.Errorf("%s: data[%q] is not base64: %v", b.Name(), k, err)
		}
		ns := aead.NonceSize()
		if len(raw) < ns+aead.Overhead() {
			return nil, fmt.Errorf("%s: data[%q] is too short to be an encrypted certificate", b.Name(), k)
		}
		plain, err := aead.Open(nil, raw[:ns], raw[ns:], nil)
		if err != nil && wrongKeyOK {
			return starlark.None, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: data[%q] does not decrypt with this key; is the certificate key right, and was kubeadm-certs uploaded with it (it expires with its 2h token)?", b.Name(), k)
		}
		// The private keys are what the encryption protects: secrets. The
		// certificates and public keys are public (written 0644, read back
		// as strings), so they come back as strings.
		var v starlark.Value = starlark.String(plain)
		if IsSecretFile(k, plain) {
			v = env.NewRegisteredSecret(string(plain))
		}
		if err := out.SetKey(starlark.String(k), v); err != nil {
			return nil, err
		}
	}
	return out, nil
}
