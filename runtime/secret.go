package runtime

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Secret is the Starlark value of a secret: a token secret, a certificate
// key, a private key, the data of a Kubernetes Secret, a param(secret=True)
// value, the content of a file the sandbox classes as secret.
//
// Its bytes cannot leave through Starlark: str(), repr(), "%s" and every
// print path show "<redacted>" in place of each secret part; json/yaml
// encoding and the Go data conversion refuse it; it has no methods, no
// len(), no indexing or slicing. Only builtins that need the real bytes
// (write_file, k8s_apply into a Secret's data, jws_sign, encrypt_certs,
// write_kubeconfig(token=), k8s_client(token=), output(reveal=True) on a
// live run) take them out with Reveal.
//
// Concatenation with + keeps the type: "--set token=" + tok.token is a
// Secret whose public parts stay readable ("--set token=abcdef.<redacted>")
// so the join command can be built in Starlark and printed in full only on
// a live stdout. Safety does not depend on remembering every print path:
// a secret concatenated into a fail() message or a builtin argument shows
// as <redacted> by construction.
type Secret struct {
	parts []secretPart
}

// secretPart is one piece of a Secret: public text (a literal joined to
// it with +) or secret bytes.
type secretPart struct {
	text   string
	secret bool
}

var (
	_ starlark.Value      = (*Secret)(nil)
	_ starlark.HasBinary  = (*Secret)(nil)
	_ starlark.Comparable = (*Secret)(nil)
)

// NewSecret wraps s as a wholly secret value.
func NewSecret(s string) *Secret { return &Secret{parts: []secretPart{{text: s, secret: true}}} }

// Reveal returns the real bytes. Only builtins that must hand them to the
// world (write a key file, sign, build a Secret) call it; what they print
// or record goes through Env.Redact.
func (s *Secret) Reveal() string {
	var b strings.Builder
	for _, p := range s.parts {
		b.WriteString(p.text)
	}
	return b.String()
}

// secretTexts are the secret parts, for registering with the textual
// redaction (the second line of defence).
func (s *Secret) secretTexts() []string {
	var out []string
	for _, p := range s.parts {
		if p.secret {
			out = append(out, p.text)
		}
	}
	return out
}

// String is the redacted rendering: public parts as they are, each secret
// part as <redacted>.
func (s *Secret) String() string {
	var b strings.Builder
	for _, p := range s.parts {
		if p.secret {
			b.WriteString(Redacted)
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

func (s *Secret) Type() string         { return "secret" }
func (s *Secret) Freeze()              {}
func (s *Secret) Truth() starlark.Bool { return len(s.Reveal()) > 0 }

// Hash refuses: a secret as a dict key would be printed with the dict.
func (s *Secret) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: secret (a secret cannot be a dict key or set element)")
}

// CompareSameType allows == and != between secrets (is this the token
// I was given?); ordering would be an oracle on the bytes.
func (s *Secret) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	eq := s.Reveal() == y.(*Secret).Reveal()
	switch op {
	case syntax.EQL:
		return eq, nil
	case syntax.NEQ:
		return !eq, nil
	}
	return false, fmt.Errorf("secrets are not ordered (%s is refused; == and != work)", op)
}

// Binary implements + with strings and secrets, giving a Secret. Every
// other operator is refused by returning nil (Starlark's own message
// names the operator and the types, never the value).
func (s *Secret) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	if op != syntax.PLUS {
		return nil, nil
	}
	var other []secretPart
	switch y := y.(type) {
	case starlark.String:
		other = []secretPart{{text: string(y)}}
	case *Secret:
		other = y.parts
	default:
		return nil, nil
	}
	out := &Secret{}
	if side == starlark.Left {
		out.parts = append(append(out.parts, s.parts...), other...)
	} else {
		out.parts = append(append(out.parts, other...), s.parts...)
	}
	return out, nil
}

// SecretJoin is sep.join(items) for items that may be secrets: a Secret
// when any is, else a plain string.
func SecretJoin(sep string, items []starlark.Value) (starlark.Value, error) {
	out := &Secret{}
	any := false
	for i, it := range items {
		if i > 0 && sep != "" {
			out.parts = append(out.parts, secretPart{text: sep})
		}
		switch it := it.(type) {
		case starlark.String:
			out.parts = append(out.parts, secretPart{text: string(it)})
		case *Secret:
			out.parts = append(out.parts, it.parts...)
			any = true
		default:
			return nil, fmt.Errorf("item %d is a %s, want string or secret", i, it.Type())
		}
	}
	if !any {
		return starlark.String(out.Reveal()), nil
	}
	return out, nil
}

// AsSecretOrString unpacks a string or a Secret: the real bytes and
// whether they are secret. A builtin that takes either (write_file's
// content, a token) calls it, and registers secret bytes with the Env so
// that the textual redaction also covers them.
func AsSecretOrString(v starlark.Value) (s string, secret, ok bool) {
	switch v := v.(type) {
	case starlark.String:
		return string(v), false, true
	case *Secret:
		return v.Reveal(), true, true
	}
	return "", false, false
}

// RegisterSecretValue registers the secret parts of v (a Secret, or a
// list or dict holding Secrets) for the textual redaction of printed
// lines, plans and errors, and as typed secrets (HoldsSecret).
func (e *Env) RegisterSecretValue(v starlark.Value) {
	switch v := v.(type) {
	case *Secret:
		for _, t := range v.secretTexts() {
			e.registerTyped(t)
		}
	case *starlark.List:
		for i := 0; i < v.Len(); i++ {
			e.RegisterSecretValue(v.Index(i))
		}
	case *starlark.Dict:
		for _, it := range v.Items() {
			e.RegisterSecretValue(it[1])
		}
	}
}

// NewRegisteredSecret wraps s as a Secret and registers its bytes with the
// textual redaction: what every builtin that produces a secret returns.
func (e *Env) NewRegisteredSecret(s string) *Secret {
	e.registerTyped(s)
	return NewSecret(s)
}

// registerTyped registers the bytes of a Secret value: for the textual
// redaction, and for HoldsSecret.
func (e *Env) registerTyped(s string) {
	e.RegisterSecret(s)
	if len(s) < 6 {
		return
	}
	e.mu.Lock()
	e.typed = append(e.typed, s)
	e.mu.Unlock()
}

// HoldsSecret reports whether data contains the bytes of a Secret value of
// this run (one the recipe wrote to a file and reads back). Only typed
// secrets count: the textual registry also holds every string of a secret
// parameter (a token's "24h" ttl, its groups), which ordinary files share.
func (e *Env) HoldsSecret(data string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.typed {
		if strings.Contains(data, s) {
			return true
		}
	}
	return false
}

// secretParamValue is the value of a param(secret=True): a string is a
// Secret; in a list or dict (bootstrap_tokens) the strings under a "token"
// key are, while the other entries (ttl, description, usages) stay plain
// so that the recipe can validate them (they are still redacted
// textually, as every string of a secret parameter is).
func secretParamValue(v starlark.Value) starlark.Value {
	switch v := v.(type) {
	case starlark.String:
		return NewSecret(string(v))
	case *starlark.List:
		for i := 0; i < v.Len(); i++ {
			secretTokenKey(v.Index(i))
		}
	case *starlark.Dict:
		secretTokenKey(v)
	}
	return v
}

// secretTokenKey makes the string under d["token"] a Secret, if d is a dict.
func secretTokenKey(d starlark.Value) {
	if d, ok := d.(*starlark.Dict); ok {
		if s, found, _ := d.Get(starlark.String("token")); found {
			if s, ok := s.(starlark.String); ok {
				_ = d.SetKey(starlark.String("token"), NewSecret(string(s)))
			}
		}
	}
}
