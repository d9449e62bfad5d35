package builtins

// Builtins of join's discovery (kubeadm-facts §7.2-7.4): reading
// kube-public/cluster-info until the bootstrapsigner has signed it for a
// token, taking a kubeconfig apart and putting one together, and the CA
// pins of PEM data. What is fetched, compared and written is policy and
// lives in @stdlib//discovery.star; these only do what Starlark cannot
// (clientcmd, x509, waiting on the host's clock).

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/cluster"
)

func init() { families = append(families, registerDiscovery) }

func registerDiscovery(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "cluster_info",
		Signature: `cluster_info(client, token_id="", timeout="5m0s", interval="1s")`,
		Doc: "Reads the ConfigMap kube-public/cluster-info with client, polling until it holds a kubeconfig and, when token_id is given, " +
			"the bootstrapsigner's jws-kubeconfig-<token_id> signature, or until timeout. Returns struct(kubeconfig, signature, reachable, error): " +
			"kubeconfig and signature are None when not (yet) there; reachable says whether the API server answered at all; error is the last " +
			"failure as text (\"\" when none). Never fails for a missing object or an unreachable server: the recipe words that error. " +
			"Records one api.get action.",
		Args: []runtime.Arg{
			{Name: "client", Type: "k8s_client", Doc: "usually k8s_client(anonymous=True, server=..., insecure=True): the CA is not known yet"},
			{Name: "token_id", Type: "string", Doc: "the bootstrap token id whose signature to wait for; \"\" = do not wait for one (file discovery)"},
			{Name: "timeout", Type: "duration", Doc: "kubeadm's timeouts.discovery (5m0s)"},
			{Name: "interval", Type: "duration", Doc: "time between reads (kubeadm: 5s)"},
		},
		DryRun: "One read, no waiting: through to the cluster when it answers, else kubeconfig is None and reachable False (the recipe plans with a placeholder).",
		Fn:     clusterInfoFn,
	})
	r.Add(&runtime.Builtin{
		Name:      "kubeconfig_decode",
		Signature: `kubeconfig_decode(data, what="kubeconfig")`,
		Doc: "Parses kubeconfig text (clientcmd) and returns struct(server, ca_pem, cluster_name, user, token, has_credentials) of the cluster " +
			"and user of its current context, or of its only cluster when it has no current context. ca_pem is \"\" when the cluster " +
			"carries no CA data; token is a Secret, \"\" when the user has none. A CA or token given as a file reference is refused.",
		Args: []runtime.Arg{
			{Name: "data", Type: "string or Secret", Doc: "kubeconfig YAML (cluster-info's kubeconfig value, a --discovery-file as read_file returns it)"},
			{Name: "what", Type: "string", Doc: "names the input in errors, e.g. \"discovery_file /root/join.conf\""},
		},
		DryRun: "Pure.",
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
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "client", &clientV, "token_id?", &tokenID, "timeout?", &timeoutS, "interval?", &intervalS); err != nil {
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
	var kubeconfig, signature starlark.Value = starlark.None, starlark.None
	reachable, lastErr := false, ""
	for attempt := 1; ; attempt++ {
		// One read never outlasts the discovery budget: the client's own
		// retries of an unreachable server stop at the deadline.
		ctx, cancel := context.WithTimeout(env.Ctx, max(deadline.Sub(env.Host.Now()), interval))
		obj, err := c.Get(ctx, "v1", "ConfigMap", "kube-public", bootstrapapi.ConfigMapClusterInfo)
		cancel()
		switch {
		case err == nil:
			reachable = true
			data, _, _ := unstructuredStrings(obj.Object, "data")
			kc, hasKC := data[bootstrapapi.KubeConfigKey]
			sig, hasSig := data[sigKey]
			switch {
			case !hasKC:
				lastErr = fmt.Sprintf("%s has no %q key", target, bootstrapapi.KubeConfigKey)
			case sigKey != "" && !hasSig:
				lastErr = fmt.Sprintf("%s has no signature %q (keys: %v)", target, sigKey, sortedKeysOf(data))
			default:
				kubeconfig = starlark.String(kc)
				if hasSig {
					signature = starlark.String(sig)
				}
				lastErr = ""
			}
		case cluster.IsNotFound(err):
			reachable, lastErr = !c.DryRun(), env.Redact(err.Error())
		default:
			lastErr = env.Redact(err.Error())
		}
		done := kubeconfig != starlark.None || c.DryRun() || !env.Host.Now().Before(deadline)
		if done {
			res := "found"
			if kubeconfig == starlark.None {
				res = "absent"
			}
			env.Record(thread, b.Name(), apiAction(c, runtime.Action{Op: "api.get", Target: target, Result: res,
				Summary: map[string]any{"signature_for": tokenID, "attempts": attempt, "reachable": reachable}}))
			return Struct(map[string]starlark.Value{
				"kubeconfig": kubeconfig, "signature": signature,
				"reachable": starlark.Bool(reachable), "error": starlark.String(lastErr),
			}), nil
		}
		if attempt == 1 || attempt%10 == 0 {
			env.Infof("Waiting for %s to be signed for token id %q (up to %s): %s", target, tokenID, timeout, lastErr)
		}
		if err := env.Host.Sleep(env.Ctx, interval); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	}
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
	what := "kubeconfig"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "data", &dataV, "what?", &what); err != nil {
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
	} else {
		return nil, fmt.Errorf("%s: %s has %d clusters and no current context; set current-context to the cluster to use", b.Name(), what, len(cfg.Clusters))
	}
	cl, ok := cfg.Clusters[clusterName]
	if !ok {
		return nil, fmt.Errorf("%s: %s: the current context names cluster %q, which is not in the file", b.Name(), what, clusterName)
	}
	if cl.CertificateAuthority != "" && len(cl.CertificateAuthorityData) == 0 {
		return nil, fmt.Errorf("%s: %s: cluster %q refers to the CA file %s; embed it as certificate-authority-data", b.Name(), what, clusterName, cl.CertificateAuthority)
	}
	var token starlark.Value = starlark.String("")
	hasCreds := false
	if u := cfg.AuthInfos[userName]; u != nil {
		if u.TokenFile != "" || u.ClientCertificate != "" || u.ClientKey != "" {
			return nil, fmt.Errorf("%s: %s: user %q refers to credential files; embed them (token, client-certificate-data, client-key-data)", b.Name(), what, userName)
		}
		hasCreds = u.Token != "" || len(u.ClientCertificateData) > 0 || u.Exec != nil || u.AuthProvider != nil
		if u.Token != "" {
			token = env.NewRegisteredSecret(u.Token)
		}
	}
	return Struct(map[string]starlark.Value{
		"server": starlark.String(cl.Server), "ca_pem": starlark.String(cl.CertificateAuthorityData),
		"cluster_name": starlark.String(clusterName), "user": starlark.String(userName),
		"token": token, "has_credentials": starlark.Bool(hasCreds),
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
