package builtins

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// FileWrite describes one file a builtin writes.
type FileWrite struct {
	Path    string
	Data    []byte
	Mode    fs.FileMode
	DirMode fs.FileMode
	// Secret content (a private key, a kubeconfig with a client key) gets
	// no sha256 in the plan and is marked secret.
	Secret  bool
	Summary map[string]any
}

// WriteFile writes w through the host and records one file.write Action.
// It is the one place where builtins turn a file write into a plan entry,
// so every file-writing builtin reports the same way.
func WriteFile(thread *starlark.Thread, env *runtime.Env, builtin string, w FileWrite) (host.WriteResult, error) {
	if w.DirMode == 0 {
		w.DirMode = 0o755
	}
	res, err := env.Host.WriteFile(w.Path, w.Data, w.Mode, w.DirMode)
	if err != nil {
		return "", fmt.Errorf("%s: writing %s: %w", builtin, w.Path, err)
	}
	a := runtime.Action{
		Op: "file.write", Target: w.Path, Result: string(res),
		Mode: fmt.Sprintf("%04o", w.Mode.Perm()), Summary: w.Summary, Secret: w.Secret,
	}
	if !w.Secret {
		sum := sha256.Sum256(w.Data)
		a.SHA256 = hex.EncodeToString(sum[:])
	}
	env.Record(thread, builtin, a)
	return res, nil
}
