package builtins

// Builtins of join's discovery (kubeadm-facts §7.2-7.4): reading
// kube-public/cluster-info until the bootstrapsigner has signed it for a
// token, taking a kubeconfig apart and putting one together, and the CA
// pins of PEM data. What is fetched, compared and written is policy and
// lives in @stdlib//discovery.star; these only do what Starlark cannot
// (clientcmd, x509, waiting on the host's clock).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/cluster"
	"github.com/kubelark/kubelark/runtime/host"
)

func init() { families = append(families, registerDiscovery) }

func registerDiscovery(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "cluster_info",
		Signature: `cluster_info(client, token_id="", timeout="5m0s", interval="1s", forbidden_ok=False)`,
		Doc: "Reads the ConfigMap kube-public/cluster-info with client, polling until it holds a kubeconfig and, when token_id is given, " +
			"the bootstrapsigner's jws-kubeconfig-<token_id> signature, or until timeout. Returns struct(kubeconfig, signature, status, reachable, error): " +
			"kubeconfig is the kubeconfig value as last read (also when it is not signed: the recipe must not trust it then) or None; " +
			"signature is None when there is none for token_id; status is one of signed, found (a kubeconfig, no token_id asked), unsigned, " +
			"no_kubeconfig, not_found, forbidden, unauthorized (HTTP 401: the credentials are refused), tls (the server's certificate " +
			"does not verify), unreachable (no answer: refused, timed out, no route) or error (another API error); reachable says whether " +
			"the API server answered over HTTP; error is the last failure as text (\"\" when none). unauthorized and tls end the wait at " +
			"once (waiting does not heal them), forbidden does when forbidden_ok. Never fails for a missing object or an unreachable " +
			"server: the recipe words that error. Records one api.get action.",
		Args: []runtime.Arg{
			{Name: "client", Type: "k8s_client", Doc: "usually k8s_client(anonymous=True, server=..., insecure=True): the CA is not known yet"},
			{Name: "token_id", Type: "string", Doc: "the bootstrap token id whose signature to wait for; \"\" = do not wait for one (file discovery)"},
			{Name: "timeout", Type: "duration", Doc: "kubeadm's timeouts.discovery (5m0s)"},
			{Name: "interval", Type: "duration", Doc: "time between reads (kubeadm: 5s)"},
			{Name: "forbidden_ok", Type: "bool", Doc: "return at the first Forbidden answer (file discovery accepts its file as is then, as kubeadm does)"},
		},
		DryRun: "One read, no waiting: through to the cluster when it answers, else kubeconfig is None and reachable False (the recipe plans with a placeholder).",
		Fn:     clusterInfoFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "https_get",
		Signature: `https_get(url, what="", timeout="1m0s")`,
		Doc: "Downloads url (https:// only) through the host and returns the body as a Secret (a discovery kubeconfig may carry " +
			"credentials). The server is verified against this machine's system CA bundle, as kubeadm's HTTPS discovery does " +
			"(Go's default transport). A status other than 200, a body over 64 KiB, or a failed connection or TLS verification " +
			"is an error naming what (the input) and the URL. Records one http.get action (the URL, not the body).",
		Args: []runtime.Arg{
			{Name: "url", Type: "string", Doc: "https:// URL"},
			{Name: "what", Type: "string", Doc: "names the input in errors, e.g. \"discovery_file\""},
			{Name: "timeout", Type: "duration", Doc: "bound of the whole request"},
		},
		DryRun: "Performed in a dry run too: a GET changes nothing, and the dry run discovers what the run would.",
		Fn:     httpsGetFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "kubeconfig_decode",
		Signature: `kubeconfig_decode(data, what="kubeconfig", base_dir="")`,
		Doc: "Parses kubeconfig text (clientcmd) and returns struct(server, ca_pem, cluster_name, user, token, credentials, has_credentials, insecure) " +
			"of the cluster and user of its current context, or of its only cluster when it has no current context. ca_pem is \"\" when the " +
			"cluster carries no CA; token is a Secret, \"\" when the user has none; credentials names the user's kind of credentials: " +
			"\"token\", \"client_certificate\", \"exec\", \"auth_provider\", \"basic\" or \"\" (none); insecure is the cluster's " +
			"insecure-skip-tls-verify. A CA file (certificate-authority) and a token file (tokenFile) are read through the host and inlined, " +
			"as kubeadm's file discovery embeds them; a relative path is relative to base_dir, and refused when base_dir is \"\".",
		Args: []runtime.Arg{
			{Name: "data", Type: "string or Secret", Doc: "kubeconfig YAML (cluster-info's kubeconfig value, a --discovery-file as read_file returns it)"},
			{Name: "what", Type: "string", Doc: "names the input in errors, e.g. \"discovery_file /root/join.conf\""},
			{Name: "base_dir", Type: "string", Doc: "directory of the kubeconfig file, for its relative file references (\"\" for data that is not a local file)"},
		},
		DryRun: "Pure, except the reads of referenced CA and token files (which see files written earlier in the dry run).",
		Fn:     kubeconfigDecodeFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "kubeconfig_encode",
		Signature: `kubeconfig_encode(cluster_name, server, ca_pem, user, token)`,
		Doc: "Returns a kubeconfig (YAML, as clientcmd writes it) with one cluster (server, certificate-authority-data = ca_pem), one token user " +
			"and the context user@cluster_name as current context: join's bootstrap-kubelet.conf (kubeadm-facts §7.4). The result is a Secret " +
			"(it holds the token), so write_file writes it as a secret file.",
		Args: []runtime.Arg{
			{Name: "cluster_name", Type: "string"}, {Name: "server", Type: "string", Doc: "API server URL"},
			{Name: "ca_pem", Type: "string", Doc: "CA certificate(s), PEM; embedded as written (a dry run's placeholder too)"},
			{Name: "user", Type: "string", Doc: "user name, e.g. tls-bootstrap-token-user"},
			{Name: "token", Type: "string or Secret", Doc: "bearer token"},
		},
		DryRun: "Pure.",
		Fn:     kubeconfigEncodeFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "ca_cert_hashes",
		Signature: `ca_cert_hashes(pem)`,
		Doc:       `Returns the "sha256:<hex>" pin of every certificate in pem (SHA-256 of its DER SubjectPublicKeyInfo, kubeadm's pubkeypin), in order: what --discovery-token-ca-cert-hash is compared against.`,
		Args:      []runtime.Arg{{Name: "pem", Type: "string", Doc: "PEM certificate(s), e.g. cluster-info's CA data"}},
		DryRun:    "Pure.",
		Fn:        caCertHashesFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "wait_file",
		Signature: `wait_file(path, timeout="5m0s", interval="1s", name="")`,
		Doc: "Waits (host clock) until path exists, or every path of a list, e.g. the kubelet.conf the kubelet writes during its TLS bootstrap " +
			"and the client certificate it names; fails after timeout naming name and what is missing. Returns \"present\". Records one wait action.",
		Args: []runtime.Arg{
			{Name: "path", Type: "string | list of string"}, {Name: "timeout", Type: "duration"}, {Name: "interval", Type: "duration"},
			{Name: "name", Type: "string", Doc: "what is waited for, in messages (default: the path)"},
		},
		DryRun: "Not live: the wait is recorded (result recorded) and \"recorded\" returned.",
		Fn:     waitFileFn,
	})
}

func clusterInfoFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var clientV starlark.Value
	tokenID, timeoutS, intervalS := "", "5m0s", "1s"
	forbiddenOK := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "client", &clientV, "token_id?", &tokenID, "timeout?", &timeoutS, "interval?", &intervalS,
		"forbidden_ok?", &forbiddenOK); err != nil {
		return nil, err
	}
	c, err := toClient(b.Name(), clientV)
	if err != nil {
		return nil, err
	}
	timeout, interval, err := pollArgs(b.Name(), timeoutS, intervalS)
	if err != nil {
		return nil, err
	}
	sigKey := ""
	if tokenID != "" {
		sigKey = bootstrapapi.JWSSignatureKeyPrefix + tokenID
	}
	target := cluster.Ref("v1", "ConfigMap", "kube-public", bootstrapapi.ConfigMapClusterInfo)
	start := env.Host.Now()
	deadline := start.Add(timeout)
	for attempt := 1; ; attempt++ {
		var kubeconfig, signature starlark.Value = starlark.None, starlark.None
		status, lastErr, reachable := "", "", false
		// One read never outlasts the discovery budget: the client's own
		// retries of an unreachable server stop at the deadline.
		ctx, cancel := context.WithTimeout(env.Ctx, max(deadline.Sub(env.Host.Now()), interval))
		obj, err := c.Get(ctx, "v1", "ConfigMap", "kube-public", bootstrapapi.ConfigMapClusterInfo)
		cancel()
		if err == nil {
			reachable = true
			data, _, _ := unstructuredStrings(obj.Object, "data")
			kc, hasKC := data[bootstrapapi.KubeConfigKey]
			sig, hasSig := data[sigKey]
			if hasKC {
				kubeconfig = starlark.String(kc)
			}
			switch {
			case !hasKC:
				status, lastErr = "no_kubeconfig", fmt.Sprintf("%s has no %q key", target, bootstrapapi.KubeConfigKey)
			case sigKey == "":
				status = "found"
			case !hasSig:
				status, lastErr = "unsigned", fmt.Sprintf("%s has no signature %q (keys: %v)", target, sigKey, sortedKeysOf(data))
			default:
				status, signature = "signed", starlark.String(sig)
			}
		} else {
			status, reachable = clusterInfoStatus(err)
			if status == "not_found" && c.DryRun() {
				// A dry-run overlay with no cluster behind it.
				reachable = false
			}
			lastErr = env.Redact(err.Error())
		}
		terminal := status == "signed" || status == "found" || status == "unauthorized" || status == "tls" || (status == "forbidden" && forbiddenOK)
		if terminal || c.DryRun() || !env.Host.Now().Before(deadline) {
			res := "found"
			if status != "signed" && status != "found" {
				res = "absent"
			}
			env.Record(thread, b.Name(), apiAction(c, runtime.Action{Op: "api.get", Target: target, Result: res,
				Summary: map[string]any{"signature_for": tokenID, "attempts": attempt, "reachable": reachable, "status": status}}))
			return Struct(map[string]starlark.Value{
				"kubeconfig": kubeconfig, "signature": signature, "status": starlark.String(status),
				"reachable": starlark.Bool(reachable), "error": starlark.String(lastErr),
			}), nil
		}
		if attempt == 1 || attempt%10 == 0 {
			if tokenID != "" {
				env.Infof("Waiting for %s to be signed for token id %q (up to %s): %s", target, tokenID, timeout, lastErr)
			} else {
				env.Infof("Waiting for %s (up to %s): %s", target, timeout, lastErr)
			}
		}
		if err := env.Host.Sleep(env.Ctx, interval); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	}
}

// clusterInfoStatus classifies a failed read of cluster-info, so the recipe
// can tell the user which of "wrong address", "wrong CA" and "refused
// credentials" happened; reachable is whether the server answered over HTTP.
func clusterInfoStatus(err error) (status string, reachable bool) {
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
		st        apierrors.APIStatus
	)
	switch {
	case cluster.IsNotFound(err):
		return "not_found", true
	case cluster.IsForbidden(err):
		return "forbidden", true
	case apierrors.IsUnauthorized(err):
		return "unauthorized", true
	case errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalid) || errors.As(err, &verify) || errors.As(err, &record):
		return "tls", false
	case errors.As(err, &st):
		return "error", true
	case strings.Contains(err.Error(), "x509: ") || strings.Contains(err.Error(), "tls: "):
		return "tls", false
	}
	return "unreachable", false
}

// maxDownload bounds https_get: the host's GET reads at most this much, so
// a body of exactly this size may have been cut.
const maxDownload = host.MaxProbeBody

func httpsGetFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var rawURL, what string
	timeoutS := "1m0s"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "url", &rawURL, "what?", &what, "timeout?", &timeoutS); err != nil {
		return nil, err
	}
	if what == "" {
		what = "url"
	}
	timeout, err := durationArg(b.Name(), "timeout", timeoutS)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%s: %s %q is not an https:// URL; give https://host[:port]/path (plain http is refused: the download is what this node will trust)", b.Name(), what, rawURL)
	}
	ctx, cancel := context.WithTimeout(env.Ctx, timeout)
	defer cancel()
	// nil TLS config: Go's defaults, the system CA bundle (kubeadm's
	// https discovery uses http.Transport{} as it is).
	resp, err := env.Host.HTTPGet(ctx, rawURL, nil)
	action := runtime.Action{Op: "http.get", Target: rawURL, Summary: map[string]any{"what": what}}
	if err != nil {
		hint := "check the URL and that this machine can reach it"
		if status, _ := clusterInfoStatus(err); status == "tls" {
			hint = "its server certificate does not verify against this machine's system CA bundle; serve it with a certificate from a CA the system trusts, or copy the file here and pass its path"
		}
		return nil, fmt.Errorf("%s: downloading %s %s failed: %s; %s", b.Name(), what, rawURL, env.Redact(err.Error()), hint)
	}
	if resp.Status != httpOK {
		return nil, fmt.Errorf("%s: downloading %s %s: the server answered HTTP %d, want 200", b.Name(), what, rawURL, resp.Status)
	}
	if len(resp.Body) >= maxDownload {
		return nil, fmt.Errorf("%s: %s %s is %d bytes or more; a discovery kubeconfig is a few KiB (the cap is %d)", b.Name(), what, rawURL, maxDownload, maxDownload)
	}
	action.Result = "performed"
	action.Summary["bytes"] = len(resp.Body)
	env.Record(thread, b.Name(), action)
	return env.NewRegisteredSecret(string(resp.Body)), nil
}

// unstructuredStrings reads a map of strings (a ConfigMap's data).
func unstructuredStrings(obj map[string]any, field string) (map[string]string, bool, error) {
	m, ok := obj[field].(map[string]any)
	if !ok {
		return map[string]string{}, false, nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out, true, nil
}

func sortedKeysOf(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func kubeconfigDecodeFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var dataV starlark.Value
	what, baseDir := "kubeconfig", ""
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "data", &dataV, "what?", &what, "base_dir?", &baseDir); err != nil {
		return nil, err
	}
	data, err := secretOrString(env, b.Name(), "data", dataV)
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.Load([]byte(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %s is not a kubeconfig: %v", b.Name(), what, err)
	}
	clusterName, userName := "", ""
	if ctx, ok := cfg.Contexts[cfg.CurrentContext]; ok && cfg.CurrentContext != "" {
		clusterName, userName = ctx.Cluster, ctx.AuthInfo
	} else if len(cfg.Clusters) == 1 {
		for name := range cfg.Clusters {
			clusterName = name
		}
	} else if len(cfg.Clusters) == 0 {
		return nil, fmt.Errorf("%s: %s defines no cluster; it must hold at least one (server and certificate-authority-data)", b.Name(), what)
	} else {
		return nil, fmt.Errorf("%s: %s has %d clusters and no current context; set current-context to the cluster to use", b.Name(), what, len(cfg.Clusters))
	}
	cl, ok := cfg.Clusters[clusterName]
	if !ok {
		return nil, fmt.Errorf("%s: %s: the current context names cluster %q, which is not in the file", b.Name(), what, clusterName)
	}
	// kubeadm embeds file references (EnsureCertificateAuthorityIsEmbedded,
	// EnsureAuthenticationInfoAreEmbedded): the result is written as
	// bootstrap-kubelet.conf, where a relative path would mean something else.
	readRef := func(field, path string) ([]byte, error) {
		if !filepath.IsAbs(path) {
			if baseDir == "" {
				return nil, fmt.Errorf("%s: %s: %s %q is a relative path and the kubeconfig is not a local file; embed the data or use an absolute path", b.Name(), what, field, path)
			}
			path = filepath.Join(baseDir, path)
		}
		content, ok, err := readOptional(env, path)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: reading %s %s: %w", b.Name(), what, field, path, err)
		}
		if !ok {
			return nil, fmt.Errorf("%s: %s: %s %s does not exist; fix the path or embed the data", b.Name(), what, field, path)
		}
		return content, nil
	}
	caPEM := cl.CertificateAuthorityData
	if len(caPEM) == 0 && cl.CertificateAuthority != "" {
		if caPEM, err = readRef("certificate-authority", cl.CertificateAuthority); err != nil {
			return nil, err
		}
	}
	var token starlark.Value = starlark.String("")
	credentials := ""
	if u := cfg.AuthInfos[userName]; u != nil {
		switch {
		case u.Token != "":
			credentials, token = "token", env.NewRegisteredSecret(u.Token)
		case u.TokenFile != "":
			content, err := readRef("tokenFile", u.TokenFile)
			if err != nil {
				return nil, err
			}
			t := strings.TrimSpace(string(content))
			if t == "" {
				return nil, fmt.Errorf("%s: %s: tokenFile %s is empty", b.Name(), what, u.TokenFile)
			}
			credentials, token = "token", env.NewRegisteredSecret(t)
		case len(u.ClientCertificateData) > 0 || u.ClientCertificate != "":
			credentials = "client_certificate"
		case u.Exec != nil:
			credentials = "exec"
		case u.AuthProvider != nil:
			credentials = "auth_provider"
		case u.Username != "" || u.Password != "":
			credentials = "basic"
		}
	}
	return Struct(map[string]starlark.Value{
		"server": starlark.String(cl.Server), "ca_pem": starlark.String(caPEM),
		"cluster_name": starlark.String(clusterName), "user": starlark.String(userName),
		"token": token, "credentials": starlark.String(credentials), "has_credentials": starlark.Bool(credentials != ""),
		"insecure": starlark.Bool(cl.InsecureSkipTLSVerify),
	}), nil
}

func kubeconfigEncodeFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var clusterName, server, caPEM, user string
	var tokenV starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "cluster_name", &clusterName, "server", &server, "ca_pem", &caPEM, "user", &user, "token", &tokenV); err != nil {
		return nil, err
	}
	token, err := secretOrString(env, b.Name(), "token", tokenV)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, fmt.Errorf("%s: token is empty; the bootstrap kubeconfig authenticates with the TLS bootstrap token", b.Name())
	}
	if err := checkServer(b.Name(), server); err != nil {
		return nil, err
	}
	ctxName := user + "@" + clusterName
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[clusterName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: []byte(caPEM)}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[ctxName] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: user}
	cfg.CurrentContext = ctxName
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	// It carries the token: a Secret, written as a secret file.
	return env.NewRegisteredSecret(string(out)), nil
}

func caCertHashesFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pem string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pem", &pem); err != nil {
		return nil, err
	}
	certs, err := parseCertsPEM([]byte(pem))
	if err != nil {
		return nil, fmt.Errorf("%s: the data is not PEM certificates: %v", b.Name(), err)
	}
	out := make([]starlark.Value, len(certs))
	for i, c := range certs {
		out[i] = starlark.String(spkiHash(c))
	}
	return starlark.NewList(out), nil
}

func waitFileFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	var pathV starlark.Value
	var name string
	timeoutS, intervalS := "5m0s", "1s"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &pathV, "timeout?", &timeoutS, "interval?", &intervalS, "name?", &name); err != nil {
		return nil, err
	}
	var paths []string
	if s, ok := pathV.(starlark.String); ok {
		paths = []string{string(s)}
	} else if paths, err = Strings(b.Name()+": path", pathV); err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: path: no path given", b.Name())
	}
	path := strings.Join(paths, " ")
	timeout, interval, err := pollArgs(b.Name(), timeoutS, intervalS)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = path
	}
	action := runtime.Action{Op: "wait", Target: path, Summary: map[string]any{"name": name, "timeout": timeout.String()}}
	if !env.Host.Live() {
		action.Result = "recorded"
		env.Record(thread, b.Name(), action)
		return starlark.String("recorded"), nil
	}
	start := env.Host.Now()
	for {
		missing := ""
		for _, p := range paths {
			_, ok, err := readOptional(env, p)
			if err != nil {
				return nil, fmt.Errorf("%s: reading %s: %w", b.Name(), p, err)
			}
			if !ok {
				missing = p
				break
			}
		}
		if missing == "" {
			env.Infof("%s appeared after %s", name, env.Host.Now().Sub(start).Round(time.Millisecond))
			action.Result = "performed"
			env.Record(thread, b.Name(), action)
			return starlark.String("present"), nil
		}
		if !env.Host.Now().Before(start.Add(timeout)) {
			return nil, fmt.Errorf("%s: %s did not appear within %s (%s is missing)", b.Name(), name, timeout, missing)
		}
		if err := env.Host.Sleep(env.Ctx, interval); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	}
}
