package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// baseReadTimeout bounds one read of the base cluster in dry-run: a dry run
// must not hang on an address nothing listens on.
const baseReadTimeout = 5 * time.Second

// DryRunFactory records writes instead of sending them. Writes land in an
// in-memory overlay shared by every client of the factory (one overlay per
// cluster, whatever the credentials), so a later Get sees the object an
// earlier Apply would have created. Reads fall through to the base factory
// when one is given and its server answers; otherwise missing objects are
// NotFound.
//
// Apply's would-be result is an approximation of server-side apply: the
// object is unchanged when every field it sets already has that value
// (lists compared element by element), otherwise fields are merged into the
// existing object (maps merged, lists replaced).
type DryRunFactory struct {
	base Factory

	mu          sync.Mutex
	overlay     map[objKey]*entry
	unreachable map[string]error // server -> why the base is not used
}

type objKey struct{ group, kind, namespace, name string }

type entry struct {
	obj     *unstructured.Unstructured // nil = deleted
	deleted bool
}

var _ Factory = (*DryRunFactory)(nil)

// NewDryRun returns a dry-run factory over base (nil when no cluster is
// reachable or wanted).
func NewDryRun(base Factory) *DryRunFactory {
	return &DryRunFactory{base: base, overlay: map[objKey]*entry{}, unreachable: map[string]error{}}
}

// DryRun is true.
func (f *DryRunFactory) DryRun() bool { return true }

// RequestCount counts the base factory's requests (reads only).
func (f *DryRunFactory) RequestCount() int64 {
	if f.base == nil {
		return 0
	}
	return f.base.RequestCount()
}

// ForKubeconfig validates the kubeconfig as the live factory would.
func (f *DryRunFactory) ForKubeconfig(data []byte, serverOverride string) (Client, error) {
	cfg, err := restConfigFromKubeconfig(data, serverOverride)
	if err != nil {
		return nil, err
	}
	c := &dryClient{f: f, server: cfg.Host, identity: kubeconfigIdentity(data)}
	if f.base != nil {
		if c.base, err = f.base.ForKubeconfig(data, serverOverride); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ForToken validates its arguments as the live factory would.
func (f *DryRunFactory) ForToken(server string, caPEM []byte, token string) (Client, error) {
	if server == "" || token == "" {
		return nil, fmt.Errorf("a token client needs a server URL and a token")
	}
	if len(caPEM) == 0 {
		return nil, fmt.Errorf("a token client for %s needs the cluster CA certificate (a bearer token must not be sent to an unverified server)", server)
	}
	c := &dryClient{f: f, server: server, identity: tokenIdentity(token)}
	if f.base != nil {
		var err error
		if c.base, err = f.base.ForToken(server, caPEM, token); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Anonymous validates its arguments as the live factory would.
func (f *DryRunFactory) Anonymous(server string, caPEM []byte, insecure bool) (Client, error) {
	if _, err := anonymousConfig(server, caPEM, insecure); err != nil {
		return nil, err
	}
	c := &dryClient{f: f, server: server, identity: anonymousIdentity(insecure)}
	if f.base != nil {
		var err error
		if c.base, err = f.base.Anonymous(server, caPEM, insecure); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Objects returns the overlay's current objects (deleted ones excluded),
// sorted, for tests and summaries.
func (f *DryRunFactory) Objects() []*unstructured.Unstructured {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*unstructured.Unstructured
	for _, e := range f.overlay {
		if !e.deleted {
			out = append(out, e.obj.DeepCopy())
		}
	}
	sortObjects(out)
	return out
}

type dryClient struct {
	f        *DryRunFactory
	server   string
	identity string
	base     Client // nil = no cluster behind
}

func (c *dryClient) Server() string   { return c.server }
func (c *dryClient) Identity() string { return c.identity }
func (c *dryClient) DryRun() bool     { return true }

// scope resolves the namespace a kind's object lives in without a server:
// built-in kinds by table, unknown kinds are namespaced iff a namespace is
// given.
func scope(apiVersion, kind, namespace string) string {
	namespaced, ok := knownNamespaced(apiVersion, kind)
	switch {
	case ok && !namespaced:
		return ""
	case ok && namespace == "":
		return metav1.NamespaceDefault
	}
	return namespace
}

func key(apiVersion, kind, namespace, name string) objKey {
	g, _ := splitAPIVersion(apiVersion)
	return objKey{group: g, kind: kind, namespace: namespace, name: name}
}

func notFound(apiVersion, kind, name string) error {
	g, _ := splitAPIVersion(apiVersion)
	res := strings.ToLower(kind) + "s"
	if m, ok := builtinMapping(apiVersion, kind); ok {
		res = m.Resource.Resource
	}
	return apierrors.NewNotFound(schema.GroupResource{Group: g, Resource: res}, name)
}

func (c *dryClient) fail(op, apiVersion, kind, namespace, name string, err error) error {
	if err == nil {
		return nil
	}
	return &ObjectError{Op: op, Object: describe(apiVersion, kind, namespace, name), Server: c.server + " (dry-run)", Err: err}
}

// baseUsable says whether reads may go to the base cluster.
func (c *dryClient) baseUsable() bool {
	if c.base == nil {
		return false
	}
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	_, bad := c.f.unreachable[c.server]
	return !bad
}

// baseCall runs one read against the base with a single attempt and a short
// timeout. It reports whether the base answered; a connection failure marks
// the server unreachable for the rest of the run.
func (c *dryClient) baseCall(ctx context.Context, fn func(ctx context.Context) error) (answered bool, err error) {
	if !c.baseUsable() {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(WithRetry(ctx, Retry{}), baseReadTimeout)
	defer cancel()
	err = fn(ctx)
	if err == nil || apierrors.IsNotFound(err) {
		return true, err
	}
	if isConnection(err) || ctx.Err() != nil {
		c.f.mu.Lock()
		c.f.unreachable[c.server] = err
		c.f.mu.Unlock()
	}
	// Any other failure (no cluster, forbidden, unknown kind): the dry
	// run proceeds as if the object did not exist.
	return false, nil
}

// current returns the object as the run would see it: overlay first, then
// the base cluster; nil when absent.
func (c *dryClient) current(ctx context.Context, apiVersion, kind, namespace, name string) (*unstructured.Unstructured, error) {
	k := key(apiVersion, kind, namespace, name)
	c.f.mu.Lock()
	e, ok := c.f.overlay[k]
	c.f.mu.Unlock()
	if ok {
		if e.deleted {
			return nil, nil
		}
		return e.obj.DeepCopy(), nil
	}
	var obj *unstructured.Unstructured
	answered, err := c.baseCall(ctx, func(ctx context.Context) error {
		var err error
		obj, err = c.base.Get(ctx, apiVersion, kind, namespace, name)
		return err
	})
	if !answered || apierrors.IsNotFound(err) {
		return nil, nil
	}
	return obj, err
}

func (c *dryClient) store(apiVersion, kind, namespace, name string, obj *unstructured.Unstructured) {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	if obj == nil {
		c.f.overlay[key(apiVersion, kind, namespace, name)] = &entry{deleted: true}
		return
	}
	c.f.overlay[key(apiVersion, kind, namespace, name)] = &entry{obj: obj.DeepCopy()}
}

// fakeUID gives overlay objects a stable UID so recipes can build owner
// references in dry-run (kubeadm-certs is owned by its token Secret).
func fakeUID(k objKey) string {
	s := sha256.Sum256([]byte("kubelark-dry-run\x00" + k.group + "\x00" + k.kind + "\x00" + k.namespace + "\x00" + k.name))
	h := hex.EncodeToString(s[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (c *dryClient) Apply(ctx context.Context, obj *unstructured.Unstructured, force bool) (string, *unstructured.Unstructured, error) {
	if err := checkObject(obj); err != nil {
		return "", nil, err
	}
	av, kind, name := obj.GetAPIVersion(), obj.GetKind(), obj.GetName()
	ns := scope(av, kind, obj.GetNamespace())
	applied := forApply(obj)
	applied.SetNamespace(ns)
	cur, err := c.current(ctx, av, kind, ns, name)
	if err != nil {
		return "", nil, c.fail("apply", av, kind, ns, name, err)
	}
	if cur == nil {
		applied.SetUID(types.UID(fakeUID(key(av, kind, ns, name))))
		c.store(av, kind, ns, name, applied)
		return Created, applied.DeepCopy(), nil
	}
	if subset(withoutServerFields(applied.Object), cur.Object) {
		return Unchanged, cur, nil
	}
	merged := &unstructured.Unstructured{Object: mergeMaps(cur.Object, applied.Object)}
	merged.SetAPIVersion(av)
	c.store(av, kind, ns, name, merged)
	return Updated, merged.DeepCopy(), nil
}

func (c *dryClient) Get(ctx context.Context, apiVersion, kind, namespace, name string) (*unstructured.Unstructured, error) {
	ns := scope(apiVersion, kind, namespace)
	cur, err := c.current(ctx, apiVersion, kind, ns, name)
	if err == nil && cur == nil {
		err = notFound(apiVersion, kind, name)
	}
	return cur, c.fail("get", apiVersion, kind, ns, name, err)
}

func (c *dryClient) List(ctx context.Context, apiVersion, kind, namespace, labelSelector string) ([]*unstructured.Unstructured, error) {
	sel, err := labels.Parse(labelSelector)
	if err != nil {
		return nil, fmt.Errorf("list %s/%s: invalid label selector %q: %w", apiVersion, kind, labelSelector, err)
	}
	if namespaced, ok := knownNamespaced(apiVersion, kind); ok && !namespaced {
		namespace = ""
	}
	byKey := map[objKey]*unstructured.Unstructured{}
	var baseList []*unstructured.Unstructured
	if _, err := c.baseCall(ctx, func(ctx context.Context) error {
		var err error
		baseList, err = c.base.List(ctx, apiVersion, kind, namespace, labelSelector)
		return err
	}); err != nil {
		return nil, err
	}
	for _, o := range baseList {
		byKey[key(apiVersion, kind, o.GetNamespace(), o.GetName())] = o
	}
	g, _ := splitAPIVersion(apiVersion)
	c.f.mu.Lock()
	for k, e := range c.f.overlay {
		if k.group != g || k.kind != kind || (namespace != "" && k.namespace != namespace) {
			continue
		}
		if e.deleted || !sel.Matches(labels.Set(e.obj.GetLabels())) {
			delete(byKey, k)
			continue
		}
		byKey[k] = e.obj.DeepCopy()
	}
	c.f.mu.Unlock()
	out := make([]*unstructured.Unstructured, 0, len(byKey))
	for _, o := range byKey {
		out = append(out, o)
	}
	sortObjects(out)
	return out, nil
}

func (c *dryClient) Delete(ctx context.Context, apiVersion, kind, namespace, name string) (string, error) {
	ns := scope(apiVersion, kind, namespace)
	cur, err := c.current(ctx, apiVersion, kind, ns, name)
	if err != nil {
		return "", c.fail("delete", apiVersion, kind, ns, name, err)
	}
	c.store(apiVersion, kind, ns, name, nil)
	if cur == nil {
		return Absent, nil
	}
	return Deleted, nil
}

func (c *dryClient) Patch(ctx context.Context, apiVersion, kind, namespace, name string, pt types.PatchType, data []byte) (*unstructured.Unstructured, error) {
	ns := scope(apiVersion, kind, namespace)
	cur, err := c.current(ctx, apiVersion, kind, ns, name)
	if err == nil && cur == nil {
		err = notFound(apiVersion, kind, name)
	}
	if err != nil {
		return nil, c.fail("patch", apiVersion, kind, ns, name, err)
	}
	out, err := applyPatch(cur, pt, data)
	if err != nil {
		return nil, c.fail("patch", apiVersion, kind, ns, name, apierrors.NewBadRequest(err.Error()))
	}
	c.store(apiVersion, kind, ns, name, out)
	return out.DeepCopy(), nil
}

// withoutServerFields drops fields the server owns from an applied object
// before comparing it with the stored one (a template's resourceVersion "0").
func withoutServerFields(o map[string]any) map[string]any {
	md, ok := o["metadata"].(map[string]any)
	if !ok {
		return o
	}
	c := make(map[string]any, len(o))
	for k, v := range o {
		c[k] = v
	}
	m := make(map[string]any, len(md))
	for k, v := range md {
		switch k {
		case "resourceVersion", "uid", "creationTimestamp", "managedFields", "generation":
		default:
			m[k] = v
		}
	}
	c["metadata"] = m
	return c
}

// subset reports whether every field of want has the same value in have.
// Lists must have the same length and elements that are subsets, so server
// defaults inside list elements do not count as differences.
func subset(want, have any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return len(w) == 0 && have == nil
		}
		for k, wv := range w {
			hv, present := h[k]
			if !present {
				if wv == nil {
					continue
				}
				if m, ok := wv.(map[string]any); ok && len(m) == 0 {
					continue
				}
				return false
			}
			if !subset(wv, hv) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return len(w) == 0 && have == nil
		}
		for i := range w {
			if !subset(w[i], h[i]) {
				return false
			}
		}
		return true
	}
	if wf, ok := number(want); ok {
		hf, ok := number(have)
		return ok && wf == hf
	}
	return reflect.DeepEqual(want, have)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// mergeMaps returns base with patch's fields merged in: maps recursively,
// everything else (lists included) replaced.
func mergeMaps(base, patch map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(patch))
	for k, v := range base {
		out[k] = v
	}
	for k, pv := range patch {
		if pm, ok := pv.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(bm, pm)
				continue
			}
		}
		out[k] = pv
	}
	return runtimeDeepCopy(out)
}

func runtimeDeepCopy(m map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: m}).DeepCopy().Object
}
