package builtins

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/cluster"
)

func init() { families = append(families, registerAPI) }

func registerAPI(r *runtime.Registry) {
	clientArg := runtime.Arg{Name: "client", Type: "k8s_client", Doc: "from k8s_client()"}
	r.Add(&runtime.Builtin{
		Name:      "k8s_client",
		Signature: "k8s_client(kubeconfig=None, server=None, token=None, ca=None, anonymous=False, insecure=False, timeout=None)",
		Doc: "Builds an API client with explicitly chosen credentials.\n" +
			"Exactly one of: kubeconfig (path of a kubeconfig file, read through the host so a dry run sees files it would have written), " +
			"token (bootstrap or bearer token; needs server and ca), anonymous=True (needs server and ca, or insecure=True). " +
			"Returns a value of type k8s_client with attributes server, identity (the credentials without secrets: the kubeconfig path and user, a bootstrap token's id, anonymous) and dry_run. " +
			"Every api.* action records both server and identity in the plan.",
		Args: []runtime.Arg{
			{Name: "kubeconfig", Type: "string", Doc: "path of a kubeconfig file (its current context is used)"},
			{Name: "server", Type: "string", Doc: "API server URL; with kubeconfig it overrides the file's server (init talks to the local endpoint)"},
			{Name: "token", Type: "string or secret", Doc: "bearer token, e.g. bootstrap_token().token (registered as a secret)"},
			{Name: "ca", Type: "string", Doc: "CA certificate: a path, or PEM text"},
			{Name: "anonymous", Type: "bool", Doc: "no credentials (token discovery reads cluster-info this way)"},
			{Name: "insecure", Type: "bool", Doc: "anonymous only: skip server verification (the caller must verify what it reads, e.g. with a CA pin)"},
			{Name: "timeout", Type: "string", Doc: "how long each call retries transient failures (connection refused, 429, 5xx), e.g. \"1m0s\" (kubeadm's timeouts.kubernetesAPICall); default 1m"},
		},
		DryRun: "Under --dry-run the client writes into an in-memory overlay that later reads see; reads fall through to the real cluster (the one the credentials name) when it answers; under --root there is no cluster behind the overlay.",
		Fn:     k8sClientFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "k8s_apply",
		Signature: "k8s_apply(client, objects, force=False, forbidden_ok=False)",
		Doc: "Server-side applies objects (field manager kubelark) and returns them as the server holds them afterwards.\n" +
			"objects is one dict, a list of dicts, or YAML text (several documents allowed; v1 List objects are flattened). " +
			"Every object is checked for apiVersion, kind and metadata.name before any is sent. Namespaced kinds without a namespace go to \"default\". " +
			"Records one api.apply action per object, result created, updated or unchanged; Secret data is redacted from the plan.",
		Args: []runtime.Arg{clientArg,
			{Name: "objects", Type: "dict | list | string", Doc: "the objects"},
			{Name: "force", Type: "bool", Doc: "take over fields another field manager owns instead of failing with a conflict"},
			{Name: "forbidden_ok", Type: "bool", Doc: "return None instead of failing when the server answers Forbidden (kubeadm tries admin.conf, then super-admin.conf)"},
		},
		DryRun: "Nothing is sent; the objects enter the overlay and the would-be result (created/updated/unchanged against the overlay and, if reachable, the cluster) is recorded.",
		Fn:     k8sApplyFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "k8s_get",
		Signature: `k8s_get(client, api_version, kind, name, namespace="", wait_for_existence="0s", wait_for_access="0s")`,
		Doc:       "Returns the object as a dict, or None when it does not exist (after waiting up to wait_for_existence for it to appear). With wait_for_access, a Forbidden answer is retried until then: RBAC changes reach the API server's authorizer a moment after they are stored, so a credential just granted access uses this to wait until it may act.",
		Args: []runtime.Arg{clientArg,
			{Name: "api_version", Type: "string", Doc: `e.g. "v1", "apps/v1"`},
			{Name: "kind", Type: "string", Doc: `e.g. "ConfigMap"`},
			{Name: "name", Type: "string"},
			{Name: "namespace", Type: "string", Doc: `"" = default for namespaced kinds`},
			{Name: "wait_for_existence", Type: "duration", Doc: "poll (every 500ms, host clock) until the object exists, e.g. the Node the kubelet registers"},
			{Name: "wait_for_access", Type: "duration", Doc: "poll (every 500ms) while the server answers Forbidden, e.g. right after a ClusterRoleBinding was created"},
		},
		DryRun: "Reads the overlay, then the cluster if reachable; never waits.",
		Fn:     k8sGetFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "k8s_list",
		Signature: `k8s_list(client, api_version, kind, namespace="", label_selector="")`,
		Doc:       "Returns the objects of a kind as a list of dicts sorted by namespace and name.",
		Args: []runtime.Arg{clientArg,
			{Name: "api_version", Type: "string"}, {Name: "kind", Type: "string"},
			{Name: "namespace", Type: "string", Doc: `"" = all namespaces`},
			{Name: "label_selector", Type: "string", Doc: `e.g. "k8s-app=kube-dns"`},
		},
		DryRun: "Lists the cluster if reachable, with the overlay's writes and deletions applied.",
		Fn:     k8sListFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "k8s_delete",
		Signature: `k8s_delete(client, api_version, kind, name, namespace="")`,
		Doc:       "Deletes an object (background propagation). Returns \"deleted\", or \"absent\" when it did not exist. Records one api.delete action.",
		Args: []runtime.Arg{clientArg,
			{Name: "api_version", Type: "string"}, {Name: "kind", Type: "string"}, {Name: "name", Type: "string"},
			{Name: "namespace", Type: "string"},
		},
		DryRun: "The deletion is recorded in the overlay (later reads do not see the object).",
		Fn:     k8sDeleteFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "k8s_patch",
		Signature: `k8s_patch(client, api_version, kind, name, patch, namespace="", type="strategic", wait_for_existence="0s")`,
		Doc: "Patches an existing object and returns it. patch is a dict, a list (JSON patch), JSON/YAML text, or a function called with " +
			"the current object that returns the patch (kubeadm computes the Node's taints from the existing ones). " +
			"Records one api.patch action, result updated or unchanged.",
		Args: []runtime.Arg{clientArg,
			{Name: "api_version", Type: "string"}, {Name: "kind", Type: "string"}, {Name: "name", Type: "string"},
			{Name: "patch", Type: "dict | list | string | function"},
			{Name: "namespace", Type: "string"},
			{Name: "type", Type: "string", Doc: `"strategic", "merge" or "json"`},
			{Name: "wait_for_existence", Type: "duration", Doc: "poll (every 500ms) until the object exists, e.g. the Node the kubelet registers"},
		},
		DryRun: "Applied to the overlay's copy. When the object does not exist yet (the Node a kubelet would register), the patch is recorded with result \"recorded\" and None is returned.",
		Fn:     k8sPatchFn,
	})
}

// k8sClient is the Starlark value holding a cluster.Client.
type k8sClient struct {
	c    cluster.Client
	kind string // "kubeconfig", "token", "anonymous"
}

var _ starlark.HasAttrs = (*k8sClient)(nil)

func (k *k8sClient) String() string {
	return fmt.Sprintf("<k8s_client %s %s>", k.kind, k.c.Server())
}
func (k *k8sClient) Type() string          { return "k8s_client" }
func (k *k8sClient) Freeze()               {}
func (k *k8sClient) Truth() starlark.Bool  { return starlark.True }
func (k *k8sClient) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: k8s_client") }
func (k *k8sClient) AttrNames() []string   { return []string{"dry_run", "identity", "server"} }
func (k *k8sClient) Attr(name string) (starlark.Value, error) {
	switch name {
	case "server":
		return starlark.String(k.c.Server()), nil
	case "identity":
		return starlark.String(k.c.Identity()), nil
	case "dry_run":
		return starlark.Bool(k.c.DryRun()), nil
	}
	return nil, nil
}

// pemArg returns PEM given inline, or reads it from a path through the host.
func pemArg(env *runtime.Env, fn, arg, v string) ([]byte, error) {
	if strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
		return []byte(v), nil
	}
	b, err := env.Host.ReadFile(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %s=%q: %w; pass a path to a PEM file or the PEM text itself", fn, arg, v, err)
	}
	return b, nil
}

func k8sClientFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var kcV, serverV, tokenV, caV starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None
	var timeoutV starlark.Value = starlark.None
	var anonymous, insecure bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "kubeconfig?", &kcV, "server?", &serverV, "token?", &tokenV,
		"ca?", &caV, "anonymous?", &anonymous, "insecure?", &insecure, "timeout?", &timeoutV); err != nil {
		return nil, err
	}
	var kubeconfig, server, token, ca, timeout string
	for arg, p := range map[string]struct {
		v   starlark.Value
		dst *string
	}{"kubeconfig": {kcV, &kubeconfig}, "server": {serverV, &server}, "token": {tokenV, &token}, "ca": {caV, &ca}, "timeout": {timeoutV, &timeout}} {
		s, err := optString(b.Name(), arg, p.v)
		if arg == "token" {
			s, err = optSecretOrString(env, b.Name(), arg, p.v)
		}
		if err != nil {
			return nil, err
		}
		*p.dst = s
	}
	modes := 0
	for _, on := range []bool{kubeconfig != "", token != "", anonymous} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		return nil, fmt.Errorf("%s: choose exactly one kind of credentials: kubeconfig=PATH, token=TOKEN (with server= and ca=), or anonymous=True (with server= and ca= or insecure=True)", b.Name())
	}
	if insecure && !anonymous {
		return nil, fmt.Errorf("%s: insecure=True is only for anonymous clients; never send credentials to an unverified server", b.Name())
	}
	f := env.Host.Clients()
	var c cluster.Client
	kind := ""
	switch {
	case kubeconfig != "":
		kind = "kubeconfig"
		if token != "" || ca != "" {
			return nil, fmt.Errorf("%s: token and ca do not combine with kubeconfig (the kubeconfig carries its credentials and CA)", b.Name())
		}
		data, err := env.Host.ReadFile(kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("%s: kubeconfig=%q: %w", b.Name(), kubeconfig, err)
		}
		if c, err = f.ForKubeconfig(data, server); err != nil {
			return nil, fmt.Errorf("%s: kubeconfig=%q: %w", b.Name(), kubeconfig, err)
		}
	case token != "":
		kind = "token"
		env.RegisterSecret(token)
		if _, sec, ok := strings.Cut(token, "."); ok {
			env.RegisterSecret(sec)
		}
		if server == "" || ca == "" {
			return nil, fmt.Errorf("%s: a token client needs server= and ca= (the token must only go to a verified server)", b.Name())
		}
		caPEM, err := pemArg(env, b.Name(), "ca", ca)
		if err != nil {
			return nil, err
		}
		if c, err = f.ForToken(server, caPEM, token); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	default:
		kind = "anonymous"
		var caPEM []byte
		if ca != "" {
			if caPEM, err = pemArg(env, b.Name(), "ca", ca); err != nil {
				return nil, err
			}
		}
		if c, err = f.Anonymous(server, caPEM, insecure); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	}
	credential := c.Identity()
	if kind == "kubeconfig" {
		credential = "kubeconfig " + kubeconfig + ", " + credential
	}
	rc := runClient{Client: c, credential: credential, warn: func(m string) { env.Warnf("API server: %s", m) }}
	if timeout != "" {
		d, err := time.ParseDuration(timeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s: timeout=%q: want a positive duration like \"1m0s\"", b.Name(), timeout)
		}
		rc.retry = &cluster.Retry{Timeout: d, Initial: 500 * time.Millisecond, Max: 5 * time.Second}
	}
	return &k8sClient{c: rc, kind: kind}, nil
}

// runClient ties a client's calls to the run: the server's warnings go to
// the run's printer, and every call gets the retry budget its
// k8s_client(timeout=...) asked for (nil: the factory's), so a recipe's API
// call timeout (kubeadm's timeouts.kubernetesAPICall) bounds how long an
// unreachable API server is retried.
type runClient struct {
	cluster.Client
	// credential is the client's identity with how the recipe chose it
	// (the kubeconfig path), for the plan's api.* actions.
	credential string
	warn       func(string)
	retry      *cluster.Retry
}

// Identity is the credential the plan shows: the kubeconfig path and its
// user, a bootstrap token's id, or anonymous.
func (b runClient) Identity() string { return b.credential }

// apiAction is an api.* action naming where it goes: the server URL and
// the credential identity, so a reviewer of a fork's plan sees a write to
// https://evil.example for what it is.
func apiAction(c cluster.Client, a runtime.Action) runtime.Action {
	a.Server, a.Credential = c.Server(), c.Identity()
	return a
}

func (b runClient) ctx(ctx context.Context) context.Context {
	ctx = cluster.WithWarnings(ctx, b.warn)
	if b.retry != nil {
		ctx = cluster.WithRetry(ctx, *b.retry)
	}
	return ctx
}

func (b runClient) Apply(ctx context.Context, obj *unstructured.Unstructured, force bool) (string, *unstructured.Unstructured, error) {
	return b.Client.Apply(b.ctx(ctx), obj, force)
}

func (b runClient) Get(ctx context.Context, apiVersion, kind, namespace, name string) (*unstructured.Unstructured, error) {
	return b.Client.Get(b.ctx(ctx), apiVersion, kind, namespace, name)
}

func (b runClient) List(ctx context.Context, apiVersion, kind, namespace, labelSelector string) ([]*unstructured.Unstructured, error) {
	return b.Client.List(b.ctx(ctx), apiVersion, kind, namespace, labelSelector)
}

func (b runClient) Delete(ctx context.Context, apiVersion, kind, namespace, name string) (string, error) {
	return b.Client.Delete(b.ctx(ctx), apiVersion, kind, namespace, name)
}

func (b runClient) Patch(ctx context.Context, apiVersion, kind, namespace, name string, pt types.PatchType, data []byte) (*unstructured.Unstructured, error) {
	return b.Client.Patch(b.ctx(ctx), apiVersion, kind, namespace, name, pt, data)
}

func toClient(fn string, v starlark.Value) (cluster.Client, error) {
	k, ok := v.(*k8sClient)
	if !ok {
		return nil, fmt.Errorf("%s: client: got %s, want k8s_client (from k8s_client())", fn, v.Type())
	}
	return k.c, nil
}

// objectsArg turns a dict, a list of dicts or YAML text into objects,
// checking each for apiVersion, kind and metadata.name.
func objectsArg(fn string, v starlark.Value) ([]*unstructured.Unstructured, error) {
	var raw []map[string]any
	var where []string
	switch v := v.(type) {
	case starlark.String:
		docs, err := decodeYAMLDocs(string(v))
		if err != nil {
			return nil, fmt.Errorf("%s: objects: %w", fn, err)
		}
		for i, d := range docs {
			raw = append(raw, d)
			where = append(where, fmt.Sprintf("objects (YAML document %d)", i+1))
		}
	case *starlark.Dict:
		m, err := objectData(fn, "objects", v)
		if err != nil {
			return nil, err
		}
		raw, where = append(raw, m), append(where, "objects")
	case *starlark.List, starlark.Tuple:
		it := v.(starlark.Indexable)
		for i := 0; i < it.Len(); i++ {
			d, ok := it.Index(i).(*starlark.Dict)
			if !ok {
				return nil, fmt.Errorf("%s: objects[%d]: got %s, want dict", fn, i, it.Index(i).Type())
			}
			at := fmt.Sprintf("objects[%d]", i)
			m, err := objectData(fn, at, d)
			if err != nil {
				return nil, err
			}
			raw, where = append(raw, m), append(where, at)
		}
	default:
		return nil, fmt.Errorf("%s: objects: got %s, want dict, list of dicts or YAML text", fn, v.Type())
	}
	var out []*unstructured.Unstructured
	for i, m := range raw {
		items, err := flattenList(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", fn, where[i], err)
		}
		for _, o := range items {
			u := &unstructured.Unstructured{Object: o}
			var missing []string
			if u.GetAPIVersion() == "" {
				missing = append(missing, "apiVersion")
			}
			if u.GetKind() == "" {
				missing = append(missing, "kind")
			}
			if u.GetName() == "" {
				missing = append(missing, "metadata.name")
			}
			if len(missing) > 0 {
				return nil, fmt.Errorf("%s: %s (%s %q): missing %s", fn, where[i], u.GetKind(), u.GetName(), strings.Join(missing, ", "))
			}
			out = append(out, u)
		}
	}
	return out, nil
}

// flattenList expands a v1 List (kubectl's format for several objects).
func flattenList(m map[string]any) ([]map[string]any, error) {
	if kind, _ := m["kind"].(string); kind != "List" {
		return []map[string]any{m}, nil
	}
	items, _ := m["items"].([]any)
	out := make([]map[string]any, 0, len(items))
	for i, it := range items {
		o, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("List items[%d] is not an object", i)
		}
		out = append(out, o)
	}
	return out, nil
}

// decodeYAMLDocs decodes multi-document YAML (or JSON) into maps with
// int64 numbers, skipping empty documents.
func decodeYAMLDocs(s string) ([]map[string]any, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(s)))
	var out []map[string]any
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("YAML document %d: %w", n, err)
		}
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("YAML document %d: %w", n, err)
		}
		if t := strings.TrimSpace(string(j)); t == "null" || t == "" {
			continue
		}
		var m map[string]any
		if err := utiljson.Unmarshal(j, &m); err != nil {
			return nil, fmt.Errorf("YAML document %d is not a mapping: %w", n, err)
		}
		out = append(out, m)
	}
}

// isSecret reports whether obj is a core Secret.
func isSecret(obj *unstructured.Unstructured) bool {
	return obj.GetAPIVersion() == "v1" && obj.GetKind() == "Secret"
}

// planObject is the copy of obj recorded in the plan: Secret data and
// stringData values redacted and every registered secret scrubbed from
// strings.
func planObject(env *runtime.Env, obj *unstructured.Unstructured) map[string]any {
	o := obj.DeepCopy().Object
	if isSecret(obj) {
		for _, field := range []string{"data", "stringData"} {
			if m, ok := o[field].(map[string]any); ok {
				for k := range m {
					m[k] = runtime.Redacted
				}
			}
		}
	}
	return scrub(env, o).(map[string]any)
}

func scrub(env *runtime.Env, v any) any {
	switch v := v.(type) {
	case string:
		return env.Redact(v)
	case map[string]any:
		for k, e := range v {
			v[k] = scrub(env, e)
		}
	case []any:
		for i, e := range v {
			v[i] = scrub(env, e)
		}
	}
	return v
}

// registerTokenSecret marks the token secret of a bootstrap-token Secret so
// it never reaches output (the join command carries it).
func registerTokenSecret(env *runtime.Env, obj *unstructured.Unstructured) {
	if !isSecret(obj) {
		return
	}
	if t, _, _ := unstructured.NestedString(obj.Object, "type"); t != "bootstrap.kubernetes.io/token" {
		return
	}
	if s, ok, _ := unstructured.NestedString(obj.Object, "stringData", "token-secret"); ok {
		env.RegisterSecret(s)
	}
	if s, ok, _ := unstructured.NestedString(obj.Object, "data", "token-secret"); ok {
		if d, err := base64.StdEncoding.DecodeString(s); err == nil {
			env.RegisterSecret(string(d))
		}
	}
}

func objectValue(obj *unstructured.Unstructured) (starlark.Value, error) {
	if obj == nil {
		return starlark.None, nil
	}
	v, err := runtime.FromGo(obj.Object)
	if err == nil && isSecret(obj) {
		err = secretDataValues(v)
	}
	return v, err
}

func k8sApplyFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var clientV, objectsV starlark.Value
	var force, forbiddenOK bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "client", &clientV, "objects", &objectsV, "force?", &force, "forbidden_ok?", &forbiddenOK); err != nil {
		return nil, err
	}
	c, err := toClient(b.Name(), clientV)
	if err != nil {
		return nil, err
	}
	objs, err := objectsArg(b.Name(), objectsV)
	if err != nil {
		return nil, err
	}
	out := make([]starlark.Value, 0, len(objs))
	for _, obj := range objs {
		registerTokenSecret(env, obj)
		result, applied, err := c.Apply(env.Ctx, obj, force)
		if err != nil {
			if forbiddenOK && cluster.IsForbidden(err) {
				env.Infof("%s: forbidden for these credentials; the recipe will try others", cluster.Ref(obj.GetAPIVersion(), obj.GetKind(), obj.GetNamespace(), obj.GetName()))
				return starlark.None, nil
			}
			return nil, fmt.Errorf("%s: %s", b.Name(), env.Redact(err.Error()))
		}
		recorded := obj.DeepCopy()
		recorded.SetNamespace(applied.GetNamespace())
		env.Record(thread, b.Name(), apiAction(c, runtime.Action{
			Op:     "api.apply",
			Target: cluster.Ref(obj.GetAPIVersion(), obj.GetKind(), applied.GetNamespace(), obj.GetName()),
			Result: result,
			Object: planObject(env, recorded),
			Secret: isSecret(obj),
		}))
		v, err := objectValue(applied)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		out = append(out, v)
	}
	return starlark.NewList(out), nil
}

func durationArg(fn, arg, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: %s=%q is not a duration; use Go syntax like \"500ms\", \"30s\" or \"4m\"", fn, arg, s)
	}
	return d, nil
}

// pollArgs parses the timeout= and interval= of a builtin that polls
// (wait_healthy, cluster_info, wait_file): durations, the interval
// positive.
func pollArgs(fn, timeoutS, intervalS string) (timeout, interval time.Duration, err error) {
	if timeout, err = durationArg(fn, "timeout", timeoutS); err != nil {
		return 0, 0, err
	}
	if interval, err = durationArg(fn, "interval", intervalS); err != nil {
		return 0, 0, err
	}
	if interval <= 0 {
		return 0, 0, fmt.Errorf("%s: interval must be positive", fn)
	}
	return timeout, interval, nil
}

// pollSleep sleeps one poll interval on the host clock, cut short at the
// deadline so the last try lands on it (wait_healthy and the etcd waits).
func pollSleep(env *runtime.Env, now, deadline time.Time, interval time.Duration) error {
	if rest := deadline.Sub(now); rest < interval {
		interval = rest
	}
	return env.Host.Sleep(env.Ctx, interval)
}

// waitForObject polls until the object exists or wait passes, and while the
// server answers Forbidden until waitAccess passes (host clock). It returns
// nil, nil when the object is absent; dry-run clients never wait.
func waitForObject(env *runtime.Env, c cluster.Client, apiVersion, kind, namespace, name string, wait, waitAccess time.Duration) (*unstructured.Unstructured, error) {
	start := env.Host.Now()
	for {
		obj, err := c.Get(env.Ctx, apiVersion, kind, namespace, name)
		if err == nil {
			return obj, nil
		}
		now := env.Host.Now()
		switch {
		case cluster.IsForbidden(err):
			if c.DryRun() || !now.Before(start.Add(waitAccess)) {
				return nil, err
			}
		case cluster.IsNotFound(err):
			if c.DryRun() || !now.Before(start.Add(wait)) {
				return nil, nil
			}
		default:
			return nil, err
		}
		if err := env.Host.Sleep(env.Ctx, 500*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

type objectArgs struct {
	client                            cluster.Client
	apiVersion, kind, name, namespace string
}

func k8sGetFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var clientV starlark.Value
	var a objectArgs
	wait, waitAccess := "0s", "0s"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "client", &clientV, "api_version", &a.apiVersion, "kind", &a.kind,
		"name", &a.name, "namespace?", &a.namespace, "wait_for_existence?", &wait, "wait_for_access?", &waitAccess); err != nil {
		return nil, err
	}
	if a.client, err = toClient(b.Name(), clientV); err != nil {
		return nil, err
	}
	d, err := durationArg(b.Name(), "wait_for_existence", wait)
	if err != nil {
		return nil, err
	}
	da, err := durationArg(b.Name(), "wait_for_access", waitAccess)
	if err != nil {
		return nil, err
	}
	obj, err := waitForObject(env, a.client, a.apiVersion, a.kind, a.namespace, a.name, d, da)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", b.Name(), env.Redact(err.Error()))
	}
	return objectValue(obj)
}

func k8sListFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var clientV starlark.Value
	var apiVersion, kind, namespace, selector string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "client", &clientV, "api_version", &apiVersion, "kind", &kind,
		"namespace?", &namespace, "label_selector?", &selector); err != nil {
		return nil, err
	}
	c, err := toClient(b.Name(), clientV)
	if err != nil {
		return nil, err
	}
	l, err := c.List(env.Ctx, apiVersion, kind, namespace, selector)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", b.Name(), env.Redact(err.Error()))
	}
	out := make([]starlark.Value, len(l))
	for i, o := range l {
		if out[i], err = objectValue(o); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	}
	return starlark.NewList(out), nil
}

func k8sDeleteFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var clientV starlark.Value
	var apiVersion, kind, name, namespace string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "client", &clientV, "api_version", &apiVersion, "kind", &kind,
		"name", &name, "namespace?", &namespace); err != nil {
		return nil, err
	}
	c, err := toClient(b.Name(), clientV)
	if err != nil {
		return nil, err
	}
	res, err := c.Delete(env.Ctx, apiVersion, kind, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", b.Name(), env.Redact(err.Error()))
	}
	env.Record(thread, b.Name(), apiAction(c, runtime.Action{Op: "api.delete", Target: cluster.Ref(apiVersion, kind, namespace, name), Result: res}))
	return starlark.String(res), nil
}

var patchTypes = map[string]types.PatchType{
	"strategic": types.StrategicMergePatchType,
	"merge":     types.MergePatchType,
	"json":      types.JSONPatchType,
}

// patchBytes encodes a patch value as JSON; text may be JSON or YAML.
func patchBytes(v starlark.Value) ([]byte, any, error) {
	if s, ok := v.(starlark.String); ok {
		j, err := yaml.YAMLToJSON([]byte(s))
		if err != nil {
			return nil, nil, fmt.Errorf("patch text is neither JSON nor YAML: %w", err)
		}
		var g any
		if err := utiljson.Unmarshal(j, &g); err != nil {
			return nil, nil, err
		}
		return j, g, nil
	}
	g, err := runtime.ToGo(v)
	if err != nil {
		return nil, nil, fmt.Errorf("patch: %w", err)
	}
	if _, ok := g.(map[string]any); !ok {
		if _, ok := g.([]any); !ok {
			return nil, nil, fmt.Errorf("patch: got %s, want dict, list or text", v.Type())
		}
	}
	j, err := json.Marshal(g)
	return j, g, err
}

func k8sPatchFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var clientV, patchV starlark.Value
	var apiVersion, kind, name, namespace string
	typ, wait := "strategic", "0s"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "client", &clientV, "api_version", &apiVersion, "kind", &kind,
		"name", &name, "patch", &patchV, "namespace?", &namespace, "type?", &typ, "wait_for_existence?", &wait); err != nil {
		return nil, err
	}
	c, err := toClient(b.Name(), clientV)
	if err != nil {
		return nil, err
	}
	pt, ok := patchTypes[typ]
	if !ok {
		return nil, fmt.Errorf("%s: type=%q: want \"strategic\", \"merge\" or \"json\"", b.Name(), typ)
	}
	d, err := durationArg(b.Name(), "wait_for_existence", wait)
	if err != nil {
		return nil, err
	}
	target := cluster.Ref(apiVersion, kind, namespace, name)
	cur, err := waitForObject(env, c, apiVersion, kind, namespace, name, d, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", b.Name(), env.Redact(err.Error()))
	}
	if cur == nil {
		if c.DryRun() {
			summary := map[string]any{"type": typ, "note": "the object does not exist yet in the dry run"}
			if _, isFn := patchV.(starlark.Callable); !isFn {
				if _, g, err := patchBytes(patchV); err == nil {
					summary["patch"] = scrub(env, g)
				}
			}
			env.Record(thread, b.Name(), apiAction(c, runtime.Action{Op: "api.patch", Target: target, Result: "recorded", Summary: summary}))
			return starlark.None, nil
		}
		if d > 0 {
			return nil, fmt.Errorf("%s: %s did not appear within %s on %s; for a Node, check that the kubelet is running and registered", b.Name(), target, d, c.Server())
		}
		return nil, fmt.Errorf("%s: %s does not exist on %s; pass wait_for_existence= to wait for it", b.Name(), target, c.Server())
	}
	if fn, isFn := patchV.(starlark.Callable); isFn {
		curV, err := objectValue(cur)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		if patchV, err = starlark.Call(thread, fn, starlark.Tuple{curV}, nil); err != nil {
			return nil, err
		}
	}
	data, g, err := patchBytes(patchV)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	out, err := c.Patch(env.Ctx, apiVersion, kind, namespace, name, pt, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", b.Name(), env.Redact(err.Error()))
	}
	result := cluster.Updated
	if rv := cur.GetResourceVersion(); rv != "" && rv == out.GetResourceVersion() ||
		rv == "" && reflect.DeepEqual(cur.Object, out.Object) {
		result = cluster.Unchanged
	}
	env.Record(thread, b.Name(), apiAction(c, runtime.Action{Op: "api.patch", Target: cluster.Ref(apiVersion, kind, out.GetNamespace(), name), Result: result,
		Summary: map[string]any{"type": typ, "patch": scrub(env, g)}}))
	return objectValue(out)
}
