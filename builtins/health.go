package builtins

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

func init() { families = append(families, registerHealth) }

func registerHealth(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "wait_healthy",
		Signature: `wait_healthy(url, ca=None, insecure=False, client_cert=None, client_key=None, timeout="4m", interval="500ms", name="", expect_body="ok")`,
		Doc: "Polls an HTTP(S) health endpoint until it answers 200 (with body expect_body, compared trimmed; None accepts any body). " +
			"Prints `still waiting for <name> at <url>: <last error>` about every 10s and fails at the timeout with the last error seen. " +
			"Returns \"healthy\", or \"recorded\" when not live.",
		Args: []runtime.Arg{
			{Name: "url", Type: "string", Doc: "e.g. https://127.0.0.1:6443/livez, http://127.0.0.1:10248/healthz"},
			{Name: "ca", Type: "string", Doc: "CA to verify the server: a path or PEM text (default: system roots)"},
			{Name: "insecure", Type: "bool", Doc: "skip server verification (kubeadm probes kube-controller-manager and kube-scheduler this way)"},
			{Name: "client_cert", Type: "string", Doc: "client certificate (path or PEM), with client_key"},
			{Name: "client_key", Type: "string or secret", Doc: "client key (path or PEM)"},
			{Name: "timeout", Type: "duration", Doc: "overall limit (host clock)"},
			{Name: "interval", Type: "duration", Doc: "pause between attempts"},
			{Name: "name", Type: "string", Doc: "component name for messages (default: the URL)"},
			{Name: "expect_body", Type: "string | None", Doc: "required body; None = any 200"},
		},
		DryRun: "Nothing is probed: one wait action is recorded with result \"recorded\" and the call returns at once (also under --root).",
		Fn:     waitHealthyFn,
	})
}

// probeAttemptTimeout bounds one request, so a hanging endpoint still lets
// the loop report progress.
const probeAttemptTimeout = 10 * time.Second

// progressEvery is how often a waiting loop prints that it still waits.
const progressEvery = 10 * time.Second

func waitHealthyFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var rawURL, name string
	var caV, certV, keyV starlark.Value = starlark.None, starlark.None, starlark.None
	var expectV starlark.Value = starlark.String("ok")
	var insecure bool
	timeoutS, intervalS := "4m", "500ms"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "url", &rawURL, "ca?", &caV, "insecure?", &insecure,
		"client_cert?", &certV, "client_key?", &keyV, "timeout?", &timeoutS, "interval?", &intervalS,
		"name?", &name, "expect_body?", &expectV); err != nil {
		return nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: url=%q: want an http:// or https:// URL with a host", b.Name(), rawURL)
	}
	timeout, interval, err := pollArgs(b.Name(), timeoutS, intervalS)
	if err != nil {
		return nil, err
	}
	var expect *string
	if expectV != starlark.None {
		s, ok := starlark.AsString(expectV)
		if !ok {
			return nil, fmt.Errorf("%s: expect_body: got %s, want string or None", b.Name(), expectV.Type())
		}
		expect = &s
	}
	if name == "" {
		name = rawURL
	}
	ca, err := optString(b.Name(), "ca", caV)
	if err != nil {
		return nil, err
	}
	certS, err := optString(b.Name(), "client_cert", certV)
	if err != nil {
		return nil, err
	}
	keyS, err := optSecretOrString(env, b.Name(), "client_key", keyV)
	if err != nil {
		return nil, err
	}
	if (certS == "") != (keyS == "") {
		return nil, fmt.Errorf("%s: client_cert and client_key go together", b.Name())
	}
	if insecure && ca != "" {
		return nil, fmt.Errorf("%s: pass ca or insecure=True, not both", b.Name())
	}
	action := runtime.Action{Op: "wait", Target: rawURL, Summary: map[string]any{"name": name, "timeout": timeout.String()}}
	if !env.Host.Live() {
		action.Result = "recorded"
		env.Record(thread, b.Name(), action)
		return starlark.String("recorded"), nil
	}

	tlsCfg := &tls.Config{InsecureSkipVerify: insecure, MinVersion: tls.VersionTLS12} //nolint:gosec // explicit recipe choice
	if ca != "" {
		pemBytes, err := pemArg(env, b.Name(), "ca", ca)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("%s: ca=%q holds no PEM certificate", b.Name(), shortArg(ca))
		}
		tlsCfg.RootCAs = pool
	}
	if certS != "" {
		certPEM, err := pemArg(env, b.Name(), "client_cert", certS)
		if err != nil {
			return nil, err
		}
		keyPEM, err := pemArg(env, b.Name(), "client_key", keyS)
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("%s: client_cert/client_key: %v", b.Name(), err)
		}
		tlsCfg.Certificates = []tls.Certificate{pair}
	}

	start := env.Host.Now()
	deadline := start.Add(timeout)
	lastReport := start
	env.Infof("Waiting for %s at %s (up to %s)", name, rawURL, timeout)
	for {
		err := probe(env.Ctx, env.Host, tlsCfg, rawURL, expect)
		now := env.Host.Now()
		if err == nil {
			env.Infof("%s is healthy after %s", name, now.Sub(start).Round(time.Millisecond))
			action.Result = "performed"
			env.Record(thread, b.Name(), action)
			return starlark.String("healthy"), nil
		}
		if !now.Before(deadline) {
			return nil, fmt.Errorf("%s: %s at %s is not healthy after %s; last error: %v; check that it is running and read its logs (e.g. crictl ps -a, crictl logs)",
				b.Name(), name, rawURL, timeout, err)
		}
		if now.Sub(lastReport) >= progressEvery {
			env.Infof("still waiting for %s at %s: %v", name, rawURL, err)
			lastReport = now
		}
		if err := pollSleep(env, now, deadline, interval); err != nil {
			return nil, fmt.Errorf("%s: waiting for %s: %w", b.Name(), name, err)
		}
	}
}

// probe does one GET through the host and says why it is not healthy.
func probe(ctx context.Context, n host.Network, tlsCfg *tls.Config, rawURL string, expect *string) error {
	ctx, cancel := context.WithTimeout(ctx, probeAttemptTimeout)
	defer cancel()
	resp, err := n.HTTPGet(ctx, rawURL, tlsCfg)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(string(resp.Body))
	if resp.Status != httpOK {
		return fmt.Errorf("HTTP %d: %s", resp.Status, shortArg(text))
	}
	if expect != nil && text != *expect {
		return fmt.Errorf("HTTP 200 with body %q, want %q", shortArg(text), *expect)
	}
	return nil
}

// httpOK is the status of a healthy answer (net/http's StatusOK; the
// builtins do not import net/http: the host does the HTTP).
const httpOK = 200

// shortArg trims long text for messages.
func shortArg(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
