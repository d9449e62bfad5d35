package builtins

import (
	"errors"
	"fmt"
	"io/fs"

	"go.starlark.net/starlark"
	"sigs.k8s.io/yaml"

	"github.com/kubelark/kubelark/runtime"
)

// read_kubeconfig: a kubeconfig is a secret file (it holds the client key
// or a token), so read_file returns it as a Secret that yaml.decode
// refuses. Recipes still need its public parts (the server, the CA, the
// current context) for cluster-info and the health probes; this reader
// decodes the file and keeps each user's credentials Secrets.

func init() { families = append(families, registerKubeconfigRead) }

func registerKubeconfigRead(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "read_kubeconfig",
		Signature: "read_kubeconfig(path)",
		Doc: "Reads and decodes the kubeconfig at path (as yaml.decode would). In each users[].user, every value except the public ones " +
			"(client-certificate, client-certificate-data, client-key, username, tokenFile, as, as-groups, as-uid) is a secret: " +
			"client-key-data, token, password, auth-provider and exec settings print as <redacted>.",
		Args:   []runtime.Arg{{Name: "path", Type: "string", Doc: "absolute path of a kubeconfig file"}},
		DryRun: "Reads see files written earlier in the same dry run.",
		Fn:     readKubeconfigBuiltin,
	})
}

// publicUserKeys are the kubeconfig user fields that are not credentials.
var publicUserKeys = map[string]bool{
	"client-certificate": true, "client-certificate-data": true, "client-key": true,
	"username": true, "tokenFile": true, "as": true, "as-groups": true, "as-uid": true,
}

func readKubeconfigBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, target, err := unpackPath(thread, b, args, kwargs, "path")
	if err != nil {
		return nil, err
	}
	data, err := env.Host.ReadFile(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %s: no such file; check path_exists(path) first", b.Name(), target)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", b.Name(), target, err)
	}
	var g any
	if err := yaml.Unmarshal(data, &g); err != nil {
		// The YAML error may quote a line of the file: do not echo it.
		return nil, fmt.Errorf("%s: %s is not a YAML kubeconfig; regenerate it (kubelark run init --phases kubeconfig)", b.Name(), target)
	}
	v, err := runtime.FromGo(g)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", b.Name(), target, err)
	}
	kc, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: %s: the document is a %s, want a kubeconfig mapping", b.Name(), target, v.Type())
	}
	if err := secretUsers(env, kc); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", b.Name(), target, err)
	}
	return kc, nil
}

// secretUsers turns every credential of kc's users into Secrets.
func secretUsers(env *runtime.Env, kc *starlark.Dict) error {
	users, _, _ := kc.Get(starlark.String("users"))
	list, ok := users.(*starlark.List)
	if !ok {
		return nil
	}
	for i := 0; i < list.Len(); i++ {
		entry, ok := list.Index(i).(*starlark.Dict)
		if !ok {
			continue
		}
		u, _, _ := entry.Get(starlark.String("user"))
		user, ok := u.(*starlark.Dict)
		if !ok {
			continue
		}
		for _, it := range user.Items() {
			if k, ok := it[0].(starlark.String); ok && publicUserKeys[string(k)] {
				continue
			}
			if err := user.SetKey(it[0], secretLeaves(env, it[1])); err != nil {
				return err
			}
		}
	}
	return nil
}

// secretLeaves returns v with every string inside it a Secret.
func secretLeaves(env *runtime.Env, v starlark.Value) starlark.Value {
	switch v := v.(type) {
	case starlark.String:
		return env.NewRegisteredSecret(string(v))
	case *starlark.List:
		for i := 0; i < v.Len(); i++ {
			_ = v.SetIndex(i, secretLeaves(env, v.Index(i)))
		}
	case *starlark.Dict:
		for _, it := range v.Items() {
			_ = v.SetKey(it[0], secretLeaves(env, it[1]))
		}
	}
	return v
}
