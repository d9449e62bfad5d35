package cluster

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// LiveOptions tune the live factory; zero values take the defaults.
type LiveOptions struct {
	// Retry is the transient-failure policy (default DefaultRetry()).
	Retry Retry
	// QPS and Burst raise client-go's client-side rate limit (default
	// 50/100: a run applies a few dozen objects in a burst, and client-go's
	// 5/10 default would throttle it for seconds).
	QPS   float32
	Burst int
	// Timeout bounds one HTTP request (default 30s).
	Timeout time.Duration
	// Clock times the retries; it is the Host's clock (nil: the wall
	// clock, for tests of this package).
	Clock Clock
}

// Live builds client-go clients that talk to real API servers.
type Live struct {
	opts  LiveOptions
	count atomic.Int64
}

var _ Factory = (*Live)(nil)

// NewLive returns a live factory.
func NewLive(opts LiveOptions) *Live {
	if opts.Retry == (Retry{}) {
		opts.Retry = DefaultRetry()
	}
	if opts.QPS == 0 {
		opts.QPS = 50
	}
	if opts.Burst == 0 {
		opts.Burst = 100
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = WallClock{}
	}
	return &Live{opts: opts}
}

// RequestCount counts HTTP requests sent by every client of this factory.
func (f *Live) RequestCount() int64 { return f.count.Load() }

// DryRun is false: live clients write.
func (f *Live) DryRun() bool { return false }

// ForKubeconfig builds a client from kubeconfig bytes.
func (f *Live) ForKubeconfig(data []byte, serverOverride string) (Client, error) {
	cfg, err := restConfigFromKubeconfig(data, serverOverride)
	if err != nil {
		return nil, err
	}
	return f.newClient(cfg, kubeconfigIdentity(data))
}

// ForToken builds a bearer-token client.
func (f *Live) ForToken(server string, caPEM []byte, token string) (Client, error) {
	if server == "" || token == "" {
		return nil, fmt.Errorf("a token client needs a server URL and a token")
	}
	if len(caPEM) == 0 {
		return nil, fmt.Errorf("a token client for %s needs the cluster CA certificate (a bearer token must not be sent to an unverified server)", server)
	}
	return f.newClient(&rest.Config{Host: server, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: caPEM}}, tokenIdentity(token))
}

// Anonymous builds a client without credentials.
func (f *Live) Anonymous(server string, caPEM []byte, insecure bool) (Client, error) {
	cfg, err := anonymousConfig(server, caPEM, insecure)
	if err != nil {
		return nil, err
	}
	return f.newClient(cfg, anonymousIdentity(insecure))
}

func restConfigFromKubeconfig(data []byte, serverOverride string) (*rest.Config, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("invalid kubeconfig: %w", err)
	}
	if serverOverride != "" {
		cfg.Host = serverOverride
	}
	if cfg.Host == "" {
		return nil, fmt.Errorf("the kubeconfig's current context names no server; set one or pass server=")
	}
	return cfg, nil
}

func anonymousConfig(server string, caPEM []byte, insecure bool) (*rest.Config, error) {
	if server == "" {
		return nil, fmt.Errorf("an anonymous client needs a server URL")
	}
	if insecure && len(caPEM) > 0 {
		return nil, fmt.Errorf("an anonymous client takes either a CA or insecure, not both")
	}
	if !insecure && len(caPEM) == 0 {
		return nil, fmt.Errorf("an anonymous client for %s needs the cluster CA, or insecure=True (only to fetch data whose integrity is checked another way, like cluster-info against a CA pin)", server)
	}
	return &rest.Config{Host: server, TLSClientConfig: rest.TLSClientConfig{CAData: caPEM, Insecure: insecure}}, nil
}

type countingRT struct {
	rt    http.RoundTripper
	count *atomic.Int64
}

func (c countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.count.Add(1)
	return c.rt.RoundTrip(r)
}

type warnKey struct{}

// WithWarnings sends the server's warning headers (deprecations) of calls
// made with ctx to warn: the caller knows where a warning belongs (the
// run's printer), the factory does not. Without it warnings are dropped
// rather than left to klog on stderr.
func WithWarnings(ctx context.Context, warn func(msg string)) context.Context {
	return context.WithValue(ctx, warnKey{}, warn)
}

// ctxWarnings routes a warning header to the WithWarnings sink of the
// request's context.
type ctxWarnings struct{}

func (ctxWarnings) HandleWarningHeaderWithContext(ctx context.Context, code int, agent, text string) {
	if w, ok := ctx.Value(warnKey{}).(func(string)); ok && code == 299 && text != "" {
		w(text)
	}
}

// WallClock is the machine's clock: the live Host's Now and Sleep, and the
// default Clock of clients made outside a Host (this package's tests).
type WallClock struct{}

func (WallClock) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx is done.
func (WallClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (f *Live) newClient(cfg *rest.Config, identity string) (Client, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = UserAgent
	cfg.QPS, cfg.Burst, cfg.Timeout = f.opts.QPS, f.opts.Burst, f.opts.Timeout
	cfg.WarningHandler, cfg.WarningHandlerWithContext = nil, ctxWarnings{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingRT{rt: rt, count: &f.count} })
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("building an HTTP client for %s: %w", cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("building a client for %s: %w", cfg.Host, err)
	}
	disc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("building a discovery client for %s: %w", cfg.Host, err)
	}
	return &liveClient{server: cfg.Host, identity: identity, dyn: dyn, mapper: newMapper(disc), retry: f.opts.Retry, clock: f.opts.Clock}, nil
}

type liveClient struct {
	server   string
	identity string
	dyn      dynamic.Interface
	mapper   *mapper
	retry    Retry
	clock    Clock
}

func (c *liveClient) Server() string   { return c.server }
func (c *liveClient) Identity() string { return c.identity }
func (c *liveClient) DryRun() bool     { return false }

// resource resolves the dynamic resource for kind. Namespaced kinds without
// a namespace use "default" (as kubectl does) unless allNamespaces, and
// cluster-scoped kinds drop any namespace given.
func (c *liveClient) resource(apiVersion, kind, namespace string, allNamespaces bool) (dynamic.ResourceInterface, string, error) {
	mp, err := c.mapper.lookup(apiVersion, kind)
	if err != nil {
		return nil, "", err
	}
	if !mp.Namespaced {
		return c.dyn.Resource(mp.Resource), "", nil
	}
	if namespace == "" {
		if allNamespaces {
			return c.dyn.Resource(mp.Resource), "", nil
		}
		namespace = metav1.NamespaceDefault
	}
	return c.dyn.Resource(mp.Resource).Namespace(namespace), namespace, nil
}

func (c *liveClient) fail(op, apiVersion, kind, namespace, name string, attempts int, err error) error {
	if err == nil {
		return nil
	}
	return &ObjectError{Op: op, Object: describe(apiVersion, kind, namespace, name), Server: c.server, Attempts: attempts, Err: err}
}

func (c *liveClient) Apply(ctx context.Context, obj *unstructured.Unstructured, force bool) (string, *unstructured.Unstructured, error) {
	if err := checkObject(obj); err != nil {
		return "", nil, err
	}
	av, kind, name := obj.GetAPIVersion(), obj.GetKind(), obj.GetName()
	ns := obj.GetNamespace()
	var (
		result string
		out    *unstructured.Unstructured
	)
	attempts, err := retry(ctx, c.clock, retryFrom(ctx, c.retry), func() error {
		ri, rns, err := c.resource(av, kind, obj.GetNamespace(), false)
		if err != nil {
			return err
		}
		ns = rns
		o := forApply(obj)
		o.SetNamespace(rns)
		before, err := ri.Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			before = nil
		case err != nil:
			return err
		}
		after, err := ri.Apply(ctx, name, o, metav1.ApplyOptions{FieldManager: FieldManager, Force: force})
		if err != nil {
			return err
		}
		out = after
		switch {
		case before == nil:
			result = Created
		case before.GetResourceVersion() == after.GetResourceVersion():
			result = Unchanged
		default:
			result = Updated
		}
		return nil
	})
	if err != nil {
		return "", nil, c.fail("apply", av, kind, ns, name, attempts, err)
	}
	return result, out, nil
}

func (c *liveClient) Get(ctx context.Context, apiVersion, kind, namespace, name string) (*unstructured.Unstructured, error) {
	var out *unstructured.Unstructured
	attempts, err := retry(ctx, c.clock, retryFrom(ctx, c.retry), func() error {
		ri, ns, err := c.resource(apiVersion, kind, namespace, false)
		if err != nil {
			return err
		}
		namespace = ns
		out, err = ri.Get(ctx, name, metav1.GetOptions{})
		return err
	})
	return out, c.fail("get", apiVersion, kind, namespace, name, attempts, err)
}

func (c *liveClient) List(ctx context.Context, apiVersion, kind, namespace, labelSelector string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	attempts, err := retry(ctx, c.clock, retryFrom(ctx, c.retry), func() error {
		ri, _, err := c.resource(apiVersion, kind, namespace, true)
		if err != nil {
			return err
		}
		l, err := ri.List(ctx, metav1.ListOptions{LabelSelector: labelSelector})
		if err != nil {
			return err
		}
		out = make([]*unstructured.Unstructured, len(l.Items))
		for i := range l.Items {
			out[i] = &l.Items[i]
		}
		return nil
	})
	if err != nil {
		what := "(all)"
		if labelSelector != "" {
			what = "-l " + labelSelector
		}
		return nil, c.fail("list", apiVersion, kind, namespace, what, attempts, err)
	}
	sortObjects(out)
	return out, nil
}

func (c *liveClient) Delete(ctx context.Context, apiVersion, kind, namespace, name string) (string, error) {
	result := Deleted
	attempts, err := retry(ctx, c.clock, retryFrom(ctx, c.retry), func() error {
		ri, ns, err := c.resource(apiVersion, kind, namespace, false)
		if err != nil {
			return err
		}
		namespace = ns
		bg := metav1.DeletePropagationBackground
		err = ri.Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &bg})
		if apierrors.IsNotFound(err) {
			result = Absent
			return nil
		}
		return err
	})
	if err != nil {
		return "", c.fail("delete", apiVersion, kind, namespace, name, attempts, err)
	}
	return result, nil
}

func (c *liveClient) Patch(ctx context.Context, apiVersion, kind, namespace, name string, pt types.PatchType, data []byte) (*unstructured.Unstructured, error) {
	var out *unstructured.Unstructured
	attempts, err := retry(ctx, c.clock, retryFrom(ctx, c.retry), func() error {
		ri, ns, err := c.resource(apiVersion, kind, namespace, false)
		if err != nil {
			return err
		}
		namespace = ns
		out, err = ri.Patch(ctx, name, pt, data, metav1.PatchOptions{FieldManager: FieldManager})
		return err
	})
	return out, c.fail("patch", apiVersion, kind, namespace, name, attempts, err)
}

func sortObjects(l []*unstructured.Unstructured) {
	sort.Slice(l, func(i, j int) bool {
		if l[i].GetNamespace() != l[j].GetNamespace() {
			return l[i].GetNamespace() < l[j].GetNamespace()
		}
		return l[i].GetName() < l[j].GetName()
	})
}
