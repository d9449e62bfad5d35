package builtins

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
)

// Secrets at the builtin boundary: which arguments take a runtime.Secret
// and reveal its bytes, which results are Secrets, and which files the
// sandbox classes as secret when a recipe reads them.

// secretOrString unpacks an argument that may be a string or a Secret
// (a token, a key, file content). Secret bytes are registered with the
// textual redaction, the second line of defence, before anything can
// print them.
func secretOrString(env *runtime.Env, builtin, arg string, v starlark.Value) (string, error) {
	s, secret, ok := runtime.AsSecretOrString(v)
	if !ok {
		return "", fmt.Errorf("%s: %s: got %s, want string or secret", builtin, arg, v.Type())
	}
	if secret {
		env.RegisterSecretValue(v)
	}
	return s, nil
}

// optSecretOrString is secretOrString for an optional argument (None or
// absent = "").
func optSecretOrString(env *runtime.Env, builtin, arg string, v starlark.Value) (string, error) {
	if v == nil || v == starlark.None {
		return "", nil
	}
	return secretOrString(env, builtin, arg, v)
}

// secretDataPath matches where a Secret may go in an object: one value of
// the data or stringData of a v1 Secret (keys may hold dots: "ca.key").
var secretDataPath = regexp.MustCompile(`^\.(data|stringData)\.[^\[]+$`)

// checkSecretPaths refuses an object that carries a secret anywhere but
// in the data or stringData of a v1 Secret: in a ConfigMap, an annotation
// or a label it would be stored and shown in clear. The message names the
// field, never the value.
func checkSecretPaths(fn, where string, m map[string]any, paths []string) error {
	isSecretObj := m["apiVersion"] == "v1" && m["kind"] == "Secret"
	for _, p := range paths {
		if !isSecretObj || !secretDataPath.MatchString(p) {
			kind, _ := m["kind"].(string)
			return fmt.Errorf("%s: %s: %s (a %s) is a secret; a secret goes only into the data or stringData of a v1 Secret, where the plan redacts it", fn, where, strings.TrimPrefix(p, "."), kind)
		}
	}
	return nil
}

// secretDataValues makes the data and stringData values of v, a v1
// Secret read from or applied to the API server, Secrets: what k8s_get
// reads from a Secret stays secret in the recipe.
func secretDataValues(v starlark.Value) error {
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil
	}
	for _, field := range []string{"data", "stringData"} {
		x, found, _ := d.Get(starlark.String(field))
		fd, ok := x.(*starlark.Dict)
		if !found || !ok {
			continue
		}
		for _, it := range fd.Items() {
			if s, ok := it[1].(starlark.String); ok {
				if err := fd.SetKey(it[0], runtime.NewSecret(string(s))); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// secretFileNames are base names that hold credentials whatever their
// content: the shadow password files and SSH host keys.
var secretFileNames = regexp.MustCompile(`^(g?shadow-?|ssh_host_.*_key|.*\.key|.*\.pem-key|id_(rsa|dsa|ecdsa|ed25519))$`)

// kubeconfigCredential matches the credential fields of a kubeconfig user.
var kubeconfigCredential = regexp.MustCompile(`(?m)^\s*(client-key-data|token|password|id-token|refresh-token|client-secret)\s*:`)

// kubeconfigJSONCredential is kubeconfigCredential for a JSON kubeconfig.
var kubeconfigJSONCredential = regexp.MustCompile(`"(client-key-data|token|password|id-token|refresh-token|client-secret)"\s*:`)

// IsSecretFile reports whether the file at p with content data is secret:
// read_file returns its content as a Secret. A file is secret by name
// (*.key such as ca.key and sa.key, /etc/shadow and gshadow, SSH host and
// user keys) or by content (a PEM private key of any kind, a kubeconfig
// with credentials: client-key-data, token, password, auth-provider
// tokens).
func IsSecretFile(p string, data []byte) bool {
	if secretFileNames.MatchString(path.Base(p)) {
		return true
	}
	if bytes.Contains(data, []byte("PRIVATE KEY-----")) {
		return true
	}
	if !bytes.Contains(data, []byte("Config")) {
		return false
	}
	return kubeconfigCredential.Match(data) || kubeconfigJSONCredential.Match(data)
}

// objectData converts one object dict for k8s_apply: Secrets are let
// through only into a v1 Secret's data or stringData.
func objectData(fn, where string, d *starlark.Dict) (map[string]any, error) {
	g, paths, err := runtime.ToGoSecrets(d)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", fn, where, err)
	}
	m := g.(map[string]any)
	if err := checkSecretPaths(fn, where, m, paths); err != nil {
		return nil, err
	}
	return m, nil
}

// registeredSecret wraps s as a Secret registered with the thread's Env.
func registeredSecret(thread *starlark.Thread, s string) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	return env.NewRegisteredSecret(s), nil
}
