package builtins

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// TestJWSKnownAnswer checks jws_sign against the format kubeadm-facts §5.3
// describes, recomputed here with crypto/hmac.
func TestJWSKnownAnswer(t *testing.T) {
	a := newAPITest(t, host.NewFake(), nil)
	payload := "apiVersion: v1\nkind: Config\n"
	g := a.mustExec(t, `
sig = jws_sign("abcdef", "0123456789abcdef", `+"\"apiVersion: v1\\nkind: Config\\n\""+`)
ok = jws_verify("abcdef", "0123456789abcdef", `+"\"apiVersion: v1\\nkind: Config\\n\""+`, sig)
bad_payload = jws_verify("abcdef", "0123456789abcdef", "other", sig)
bad_secret = jws_verify("abcdef", "0123456789abcdeg", `+"\"apiVersion: v1\\nkind: Config\\n\""+`, sig)
`)
	const header = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImFiY2RlZiJ9"
	if h, _ := base64.RawURLEncoding.DecodeString(header); string(h) != `{"alg":"HS256","kid":"abcdef"}` {
		t.Fatalf("test header decodes to %s", h)
	}
	mac := hmac.New(sha256.New, []byte("0123456789abcdef"))
	mac.Write([]byte(header + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))))
	want := header + ".." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	if got := string(g["sig"].(starlark.String)); got != want {
		t.Errorf("jws_sign = %s\nwant      %s", got, want)
	}
	if g["ok"] != starlark.True || g["bad_payload"] != starlark.False || g["bad_secret"] != starlark.False {
		t.Errorf("verify: ok=%v bad_payload=%v bad_secret=%v", g["ok"], g["bad_payload"], g["bad_secret"])
	}
	if _, err := a.exec(`jws_sign("ABCDEF", "0123456789abcdef", "x")`); err == nil || !strings.Contains(err.Error(), "token_id") {
		t.Errorf("bad token id: %v", err)
	}
	if strings.Contains(a.env.Redact("0123456789abcdef"), "0123") {
		t.Error("token secret not registered")
	}
}

const certKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

func TestEncryptDecryptCerts(t *testing.T) {
	a := newAPITest(t, host.NewFake(), nil)
	g := a.mustExec(t, `
files = {"ca.crt": "-----BEGIN CERTIFICATE-----\nMII\n", "ca.key": "-----BEGIN RSA PRIVATE KEY-----\nsecret\n", "external-etcd.crt": ""}
enc = encrypt_certs("`+certKey+`", files)
enc2 = encrypt_certs("`+certKey+`", files)
dec = decrypt_certs("`+certKey+`", enc)
same = sorted(dec.keys()) == sorted([k for k, v in files.items() if v])
`)
	if g["same"] != starlark.True {
		t.Errorf("round trip: %v", g["dec"])
	}
	// decrypt_certs returns the original bytes: a private key as a
	// secret, a certificate as a string.
	for _, it := range g["dec"].(*starlark.Dict).Items() {
		want, _, _ := g["files"].(*starlark.Dict).Get(it[0])
		if it[0] == starlark.String("ca.key") {
			if s, ok := it[1].(*runtime.Secret); !ok || s.Reveal() != string(want.(starlark.String)) {
				t.Errorf("dec[%s] = %v (%s), want a secret of the original content", it[0], it[1], it[1].Type())
			}
		} else if it[1] != want {
			t.Errorf("dec[%s] = %v (%s), want the original content as a string", it[0], it[1], it[1].Type())
		}
	}
	// wrong_key_ok: a key that opens nothing gives None, and nothing else.
	w := a.mustExec(t, `
enc = encrypt_certs("`+certKey+`", {"ca.crt": "x"})
wrong = decrypt_certs("`+strings.Repeat("ab", 32)+`", enc, wrong_key_ok = True)
right = decrypt_certs("`+certKey+`", enc, wrong_key_ok = True)
`)
	if w["wrong"] != starlark.None {
		t.Errorf("wrong key with wrong_key_ok = %v, want None", w["wrong"])
	}
	if d, ok := w["right"].(*starlark.Dict); !ok || d.Len() != 1 {
		t.Errorf("right key with wrong_key_ok = %v, want the decrypted dict", w["right"])
	}
	enc := g["enc"].(*starlark.Dict)
	v, _, _ := enc.Get(starlark.String("ca.key"))
	v2, _, _ := g["enc2"].(*starlark.Dict).Get(starlark.String("ca.key"))
	if v == v2 {
		t.Error("two encryptions share a nonce")
	}
	if e, _, _ := enc.Get(starlark.String("external-etcd.crt")); e != starlark.String("") {
		t.Errorf("empty content must give an empty value, got %v", e)
	}
	// The format is kubeadm's: nonce (12 bytes) || AES-256-GCM seal, no AD.
	raw, err := base64.StdEncoding.DecodeString(string(v.(starlark.String)))
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	for i := range key {
		var b byte
		for _, c := range certKey[2*i : 2*i+2] {
			b = b<<4 | byte(strings.IndexRune("0123456789abcdef", c))
		}
		key[i] = b
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, raw[:12], raw[12:], nil)
	if err != nil || string(plain) != "-----BEGIN RSA PRIVATE KEY-----\nsecret\n" {
		t.Errorf("independent decryption: %q, %v", plain, err)
	}

	a.vars = starlark.StringDict{"enc": g["enc"]}
	other := strings.Repeat("ab", 32)
	for src, want := range map[string]string{
		`decrypt_certs("` + other + `", enc)`:             `data["ca.crt"] does not decrypt with this key`,
		`decrypt_certs("` + certKey + `", {"a": "!!"})`:   `data["a"] is not base64`,
		`decrypt_certs("` + certKey + `", {"a": "AAAA"})`: `too short`,
		`encrypt_certs("abc", {})`:                        "64 hex characters",
		`encrypt_certs("` + certKey + `", {"a": 1})`:      `files["a"]: got int`,
	} {
		if _, err := a.exec(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", src, err, want)
		}
	}
	if strings.Contains(a.env.Redact("key "+certKey), certKey) {
		t.Error("certificate key not registered as a secret")
	}
}
