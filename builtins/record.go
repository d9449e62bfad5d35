package builtins

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"unicode/utf8"

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
	// neither content nor sha256 in the plan and is marked secret.
	Secret  bool
	Summary map[string]any
	// Subject is what the builtin call was about when the path does not
	// say it (gen_cert's certificate name); see runtime.Action.Subject.
	Subject string
}

// WriteFile writes w through the host and records one file.write Action.
// It is the one place where builtins turn a file write into a plan entry,
// so every file-writing builtin reports the same way. builtin is the
// builtin's name as recipes call it (b.Name()), never an error prefix.
func WriteFile(thread *starlark.Thread, env *runtime.Env, builtin string, w FileWrite) (host.WriteResult, error) {
	if w.DirMode == 0 {
		w.DirMode = 0o755
	}
	res, err := env.Host.WriteFile(w.Path, w.Data, w.Mode, w.DirMode)
	if err != nil {
		return "", fmt.Errorf("%s: writing %s: %w", builtin, w.Path, err)
	}
	env.Record(thread, builtin, fileAction(w, string(res), w.Mode))
	return res, nil
}

// recordExisting records a file.write Action with Result "unchanged" for a
// file that was found and reused, so the plan lists every file a recipe
// relies on, written or not. The mode is the file's actual mode; w.Data is
// the content found (nil for a secret file).
func recordExisting(thread *starlark.Thread, env *runtime.Env, builtin string, w FileWrite) {
	var mode fs.FileMode
	if fi, err := env.Host.Stat(w.Path); err == nil {
		mode = fi.Mode()
	}
	a := fileAction(w, "unchanged", mode)
	if mode == 0 {
		a.Mode = ""
	}
	env.Record(thread, builtin, a)
}

// fileAction is the plan entry of a file write: mode, summary, and for a
// non-secret file its sha256 and content (text as is, anything else in
// base64), so a plan shows what a file holds, not only that it changed.
func fileAction(w FileWrite, result string, mode fs.FileMode) runtime.Action {
	a := runtime.Action{
		Op: "file.write", Target: w.Path, Result: result, Subject: w.Subject,
		Mode: fmt.Sprintf("%04o", mode.Perm()), Summary: w.Summary, Secret: w.Secret,
	}
	if w.Secret {
		return a
	}
	sum := sha256.Sum256(w.Data)
	a.SHA256 = hex.EncodeToString(sum[:])
	if utf8.Valid(w.Data) {
		a.Content = string(w.Data)
	} else {
		a.ContentBase64 = base64.StdEncoding.EncodeToString(w.Data)
	}
	return a
}
