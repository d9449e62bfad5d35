// Package cluster gives builtins API clients: live ones built with client-go
// (kubeconfig, bootstrap token or anonymous credentials) and a dry-run
// factory whose writes land in an in-memory overlay that later reads see.
//
// The Host (runtime/host) owns the run's Factory: Live on a live host,
// NewDryRun(live) under --dry-run (reads pass through to the real cluster),
// NewDryRun(nil) under --root. This package imports neither the host nor
// the runtime, so it knows nothing of files, plans or Starlark: it only
// talks to API servers, on the clock it is given, and reports what a write
// did (created, updated, unchanged).
package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// FieldManager is the server-side apply field manager of every write.
const FieldManager = "kubelark"

// UserAgent is sent with every request.
const UserAgent = "kubelark"

// Results of a write, matching the plan's Action.Result vocabulary.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
	Deleted   = "deleted"
	Absent    = "absent"
)

// Factory builds clients for one cluster. Credentials are chosen explicitly
// by the recipe, so the factory offers one constructor per kind of
// credential kubeadm uses: a kubeconfig (admin.conf, super-admin.conf), a
// bootstrap token (join's TLS-bootstrap client), or nothing (token
// discovery reads cluster-info anonymously).
type Factory interface {
	// ForKubeconfig builds a client from kubeconfig bytes (current
	// context). A non-empty serverOverride replaces the cluster's server:
	// init talks to the local endpoint while admin.conf names the
	// control-plane endpoint.
	ForKubeconfig(data []byte, serverOverride string) (Client, error)
	// ForToken builds a bearer-token client trusting caPEM.
	ForToken(server string, caPEM []byte, token string) (Client, error)
	// Anonymous builds a client without credentials that trusts caPEM, or
	// nothing at all when insecure (token discovery before the CA pin
	// is checked).
	Anonymous(server string, caPEM []byte, insecure bool) (Client, error)
	// RequestCount is the number of HTTP requests sent to API servers so
	// far (benchmarks and tests).
	RequestCount() int64
	// DryRun reports whether writes are only recorded in an overlay.
	DryRun() bool
}

// Client talks to one API server with one identity. Every method retries
// transient failures (connection refused, 429, 5xx) with backoff and names
// the object in its errors, quoting the server's reason.
type Client interface {
	// Apply server-side applies obj with field manager "kubelark" and
	// returns what it did: created (the object did not exist), updated or
	// unchanged (the resourceVersion did not move), with the object as the
	// server holds it afterwards. force takes ownership of fields another
	// manager owns instead of failing with a conflict.
	Apply(ctx context.Context, obj *unstructured.Unstructured, force bool) (string, *unstructured.Unstructured, error)
	// Get returns the object; a missing object is an error satisfying
	// apierrors.IsNotFound.
	Get(ctx context.Context, apiVersion, kind, namespace, name string) (*unstructured.Unstructured, error)
	// List returns the objects of kind in namespace ("" = all namespaces
	// or cluster-scoped) matching labelSelector ("" = all), sorted by
	// namespace and name.
	List(ctx context.Context, apiVersion, kind, namespace, labelSelector string) ([]*unstructured.Unstructured, error)
	// Delete deletes the object (background propagation) and returns
	// deleted, or absent when it did not exist.
	Delete(ctx context.Context, apiVersion, kind, namespace, name string) (string, error)
	// Patch patches an existing object; pt is types.StrategicMergePatchType,
	// MergePatchType or JSONPatchType. A missing object is an error
	// satisfying apierrors.IsNotFound.
	Patch(ctx context.Context, apiVersion, kind, namespace, name string, pt types.PatchType, data []byte) (*unstructured.Unstructured, error)
	// Server is the API server URL, for messages and plans.
	Server() string
	// Identity names the credentials the client sends, without secrets:
	// "user kubernetes-admin (client certificate)", "bootstrap token
	// abcdef", "anonymous"; plans show it on every API write.
	Identity() string
	// DryRun reports whether writes are only recorded.
	DryRun() bool
}

// Ref names an object in messages and plan targets:
// "apiVersion/kind/namespace/name", or "apiVersion/kind/name" for
// cluster-scoped objects.
func Ref(apiVersion, kind, namespace, name string) string {
	if namespace == "" {
		return apiVersion + "/" + kind + "/" + name
	}
	return apiVersion + "/" + kind + "/" + namespace + "/" + name
}

// describe names an object for error messages, as "v1/ConfigMap kube-system/x".
func describe(apiVersion, kind, namespace, name string) string {
	s := apiVersion + "/" + kind + " "
	if namespace != "" {
		s += namespace + "/"
	}
	return s + name
}

// ObjectError wraps a failure of one operation on one object. It unwraps to
// the underlying error so apierrors.IsNotFound and friends keep working.
type ObjectError struct {
	Op       string // "apply", "get", "list", "delete", "patch"
	Object   string // describe() form
	Server   string
	Attempts int
	Err      error
}

func (e *ObjectError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s on %s", e.Op, e.Object, e.Server)
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (gave up after %d attempts)", e.Attempts)
	}
	b.WriteString(": ")
	b.WriteString(reasonText(e.Err))
	if hint := hintFor(e.Op, e.Err); hint != "" {
		b.WriteString("; ")
		b.WriteString(hint)
	}
	return b.String()
}

func (e *ObjectError) Unwrap() error { return e.Err }

// reasonText quotes the server's reason and message for API errors, and the
// plain error otherwise.
func reasonText(err error) string {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		s := st.Status()
		reason := string(apierrors.ReasonForError(err))
		if reason == "" {
			reason = fmt.Sprintf("HTTP %d", s.Code)
		}
		msg := s.Message
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Sprintf("server said %s: %s", reason, msg)
	}
	return err.Error()
}

func hintFor(op string, err error) string {
	switch {
	case apierrors.IsConflict(err) && op == "apply":
		return "another field manager owns these fields; pass force=True to take them over"
	case apierrors.IsForbidden(err):
		return "the credentials lack RBAC permission for this; use a client with more rights (e.g. super-admin.conf)"
	case apierrors.IsUnauthorized(err):
		return "the server rejected the credentials; check the client certificate, token or CA"
	case apierrors.IsInvalid(err):
		return "fix the object in the recipe"
	case isConnection(err):
		return "is the API server running and reachable at this address?"
	}
	return ""
}

// IsNotFound reports whether err says the object does not exist.
func IsNotFound(err error) bool { return apierrors.IsNotFound(err) }

// IsForbidden reports whether err is an RBAC refusal.
func IsForbidden(err error) bool { return apierrors.IsForbidden(err) }

// splitAPIVersion returns group and version of "group/version" or "v1".
func splitAPIVersion(apiVersion string) (group, version string) {
	if i := strings.IndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i], apiVersion[i+1:]
	}
	return "", apiVersion
}

// forApply returns the copy of obj that is sent: managedFields are dropped,
// so an object read back with k8s_get can be modified and applied again
// (the server refuses applied configurations that carry them).
func forApply(obj *unstructured.Unstructured) *unstructured.Unstructured {
	o := obj.DeepCopy()
	o.SetManagedFields(nil)
	return o
}

// checkObject validates what every write needs.
func checkObject(obj *unstructured.Unstructured) error {
	var missing []string
	if obj.GetAPIVersion() == "" {
		missing = append(missing, "apiVersion")
	}
	if obj.GetKind() == "" {
		missing = append(missing, "kind")
	}
	if obj.GetName() == "" {
		missing = append(missing, "metadata.name")
	}
	if len(missing) > 0 {
		return fmt.Errorf("object %s/%s %q lacks %s", obj.GetAPIVersion(), obj.GetKind(), obj.GetName(), strings.Join(missing, ", "))
	}
	return nil
}
