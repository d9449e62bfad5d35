package builtins

// The kubeconfig family: write_kubeconfig writes the files kubeadm's
// kubeconfig phase writes (admin.conf, super-admin.conf, kubelet.conf,
// controller-manager.conf, scheduler.conf) and the token kubeconfig of a
// joining node (bootstrap-kubelet.conf). The layout follows kubeadm's
// kubeconfigutil.CreateWithCerts/CreateWithToken: one cluster, one user,
// one context "<user>@<cluster>" that is current.

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/url"
	"path"
	"strings"

	"go.starlark.net/starlark"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubelark/kubelark/runtime"
)

func init() { families = append(families, registerKubeconfig) }

func registerKubeconfig(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "write_kubeconfig",
		Signature: `write_kubeconfig(path, cluster_name, server, ca, user, organization=[], token=None, algorithm="RSA-2048", validity="8760h", client_cert=None, client_key=None)`,
		Doc: `Ensures a kubeconfig (mode 0600) with one cluster named cluster_name (server, embedded CA from ca.crt),
one user named user and the current context "<user>@<cluster_name>".
By default the user gets an embedded client certificate (CN=user, O=organization, ClientAuth) signed by
ca.crt/ca.key; NotBefore is the CA's NotBefore and NotAfter start + validity, as in kubeadm.
With token the user authenticates with that bearer token instead; with client_cert/client_key the user
references those files (kubelet-finalize's kubelet.conf).
An existing file is kept when its current-context cluster carries ca.crt (a different server is only a
warning); a file with another CA, or one that cannot be parsed, is an error. Token and file-reference
kubeconfigs hold nothing generated, so they are rewritten to the requested content.
Returns struct(status): "created", "updated" or "unchanged".`,
		Args: []runtime.Arg{
			{Name: "path", Type: "string", Doc: `kubeconfig file ("/etc/kubernetes/admin.conf")`},
			{Name: "cluster_name", Type: "string", Doc: `cluster name ("kubernetes")`},
			{Name: "server", Type: "string", Doc: `API server URL ("https://10.0.0.10:6443")`},
			{Name: "ca", Type: "string", Doc: `CA base path ("/etc/kubernetes/pki/ca": reads ca.crt, and ca.key to sign)`},
			{Name: "user", Type: "string", Doc: "user name, also the client certificate CN"},
			{Name: "organization", Type: "list of string", Doc: "client certificate organizations (groups)"},
			{Name: "token", Type: "string, secret or None", Doc: "bearer token, e.g. bootstrap_token().token; registered as a secret"},
			{Name: "algorithm", Type: "string", Doc: "client key algorithm"},
			{Name: "validity", Type: "duration string", Doc: "client certificate NotAfter = start + validity"},
			{Name: "client_cert", Type: "string or None", Doc: "existing client certificate file to reference instead of embedding a new one"},
			{Name: "client_key", Type: "string or None", Doc: "existing client key file to reference (with client_cert)"},
		},
		DryRun: "The client key and certificate are really generated into the dry-run overlay; the plan records the file as secret with server, user, cluster and auth.",
		Fn:     writeKubeconfig,
	})
}

// kubeconfigSpec is a validated write_kubeconfig request.
type kubeconfigSpec struct {
	path, cluster, server, ca, user string
	orgs                            []string
	token, clientCert, clientKey    string
	alg                             string
}

func (s *kubeconfigSpec) context() string { return s.user + "@" + s.cluster }

func (s *kubeconfigSpec) auth() string {
	if s.token != "" {
		return "token"
	}
	return "client-certificate"
}

func writeKubeconfig(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	s := &kubeconfigSpec{alg: "RSA-2048"}
	validityS := "8760h"
	var orgV, tokenV, certV, keyV starlark.Value = nil, starlark.None, starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &s.path, "cluster_name", &s.cluster,
		"server", &s.server, "ca", &s.ca, "user", &s.user, "organization?", &orgV, "token?", &tokenV,
		"algorithm?", &s.alg, "validity?", &validityS, "client_cert?", &certV, "client_key?", &keyV); err != nil {
		return nil, err
	}
	bn := b.Name()
	// The token is a secret from the moment it is unpacked: register it
	// before any error message could quote it.
	if s.token, err = optSecretOrString(env, bn, "token", tokenV); err != nil {
		return nil, err
	}
	env.RegisterSecret(s.token)
	if !strings.HasPrefix(s.path, "/") {
		return nil, fmt.Errorf("%s: path %q must be an absolute path", bn, s.path)
	}
	bn = bn + ": " + s.path
	if s.cluster == "" {
		return nil, fmt.Errorf("%s: cluster_name is empty; kubeadm uses \"kubernetes\"", bn)
	}
	if s.user == "" {
		return nil, fmt.Errorf("%s: user is empty; give the user name (the client certificate CN), e.g. \"kubernetes-admin\"", bn)
	}
	if err := checkServer(bn, s.server); err != nil {
		return nil, err
	}
	if err := checkBase(bn, "ca", s.ca); err != nil {
		return nil, err
	}
	if s.orgs, err = Strings(bn+": organization", orgV); err != nil {
		return nil, err
	}
	if s.clientCert, err = optString(bn, "client_cert", certV); err != nil {
		return nil, err
	}
	if s.clientKey, err = optString(bn, "client_key", keyV); err != nil {
		return nil, err
	}
	if (s.clientCert == "") != (s.clientKey == "") {
		return nil, fmt.Errorf("%s: client_cert and client_key go together; give both or neither", bn)
	}
	if s.token != "" && s.clientCert != "" {
		return nil, fmt.Errorf("%s: token and client_cert are both given; a kubeconfig user authenticates with one of them", bn)
	}
	if err := checkAlgorithm(bn, s.alg); err != nil {
		return nil, err
	}
	validity, err := parseDuration(bn, "validity", validityS, true)
	if err != nil {
		return nil, err
	}

	caCert, caKey, err := loadCA(env, bn, s.ca)
	if err != nil {
		return nil, err
	}
	generated := s.token == "" && s.clientCert == ""
	name := path.Base(s.path)
	existing, exists, err := readOptional(env, s.path)
	if err != nil {
		return nil, fmt.Errorf("%s: reading: %w", bn, err)
	}
	if exists {
		old, err := checkExistingKubeconfig(env, bn, s, existing, caCert)
		if err != nil {
			return nil, err
		}
		if generated {
			env.Infof("Using existing kubeconfig file: %q", s.path)
			recordExisting(thread, env, b.Name(), FileWrite{Path: s.path, Secret: true, Summary: kubeconfigSummary(old)})
			return Struct(map[string]starlark.Value{"status": starlark.String("unchanged")}), nil
		}
	} else if generated && caKey == nil {
		return nil, fmt.Errorf("%s: missing, and no client certificate can be signed because %s.key is absent (external CA mode); provide %s with a client certificate from your external CA, or provide %s.key", bn, s.ca, name, s.ca)
	}

	user := &clientcmdapi.AuthInfo{}
	summary := map[string]any{"server": s.server, "user": s.user, "cluster": s.cluster, "auth": s.auth()}
	switch {
	case s.token != "":
		user.Token = s.token
	case s.clientCert != "":
		subject, err := clientCertSubject(env, bn, s)
		if err != nil {
			return nil, err
		}
		user.ClientCertificate, user.ClientKey = s.clientCert, s.clientKey
		summary["client_subject"] = subject
		summary["client_certificate_file"] = s.clientCert
	default:
		// kubeadm's NewSignedCert without an explicit NotBefore: it is
		// copied from the CA, and NotAfter counts from the run's start.
		tmpl := &x509.Certificate{
			Subject:               pkix.Name{CommonName: s.user, Organization: s.orgs},
			NotBefore:             caCert.NotBefore,
			NotAfter:              env.Start.Add(validity).UTC(),
			KeyUsage:              x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			BasicConstraintsValid: true,
		}
		key, cert, err := issueCert(env, s.alg, tmpl, caCert, caKey)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", bn, err)
		}
		keyPEM, err := encodeKeyPEM(key)
		if err != nil {
			return nil, fmt.Errorf("%s: encoding key: %w", bn, err)
		}
		user.ClientCertificateData, user.ClientKeyData = encodeCertPEM(cert), keyPEM
		summary["client_subject"] = cert.Subject.String()
	}

	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[s.cluster] = &clientcmdapi.Cluster{Server: s.server, CertificateAuthorityData: encodeCertPEM(caCert)}
	cfg.AuthInfos[s.user] = user
	cfg.Contexts[s.context()] = &clientcmdapi.Context{Cluster: s.cluster, AuthInfo: s.user}
	cfg.CurrentContext = s.context()
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: encoding kubeconfig: %w", bn, err)
	}
	env.Infof("Writing %q kubeconfig file", name)
	res, err := WriteFile(thread, env, b.Name(), FileWrite{Path: s.path, Data: data, Mode: 0o600, Secret: true, Summary: summary})
	if err != nil {
		return nil, err
	}
	return Struct(map[string]starlark.Value{"status": starlark.String(string(res))}), nil
}

// checkServer accepts https URLs with a host, as kubeadm writes them.
func checkServer(bn, server string) error {
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%s: server %q is not an https URL with a host; write it like \"https://10.0.0.10:6443\" (IPv6 in brackets)", bn, server)
	}
	return nil
}

// checkExistingKubeconfig parses an existing kubeconfig and checks that its
// current-context cluster trusts caCert, as kubeadm's validateKubeConfig
// does; a different server is only a warning.
func checkExistingKubeconfig(env *runtime.Env, bn string, s *kubeconfigSpec, data []byte, caCert *x509.Certificate) (*clientcmdapi.Config, error) {
	fix := fmt.Sprintf("remove %s to regenerate it, or point ca at the CA it was made for", s.path)
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("%s: exists but is not a kubeconfig (%v); %s", bn, err, fix)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil {
		return nil, fmt.Errorf("%s: exists but has no current context (current-context %q); %s", bn, cfg.CurrentContext, fix)
	}
	cl := cfg.Clusters[ctx.Cluster]
	if cl == nil {
		return nil, fmt.Errorf("%s: exists but its current context %q names a missing cluster %q; %s", bn, cfg.CurrentContext, ctx.Cluster, fix)
	}
	caData := cl.CertificateAuthorityData
	if len(caData) == 0 && cl.CertificateAuthority != "" {
		if caData, err = env.Host.ReadFile(cl.CertificateAuthority); err != nil {
			return nil, fmt.Errorf("%s: reading its certificate-authority %s: %w", bn, cl.CertificateAuthority, err)
		}
	}
	if len(caData) == 0 {
		return nil, fmt.Errorf("%s: exists but cluster %q has no CA; %s", bn, ctx.Cluster, fix)
	}
	certs, err := parseCertsPEM(caData)
	if err != nil {
		return nil, fmt.Errorf("%s: exists but the CA of cluster %q does not parse (%v); %s", bn, ctx.Cluster, err, fix)
	}
	found := false
	for _, c := range certs {
		found = found || c.Equal(caCert)
	}
	if !found {
		return nil, fmt.Errorf("%s: exists but trusts a different CA (%q) than %s.crt (%q); %s", bn,
			certs[0].Subject.String(), s.ca, caCert.Subject.String(), fix)
	}
	if strings.TrimSuffix(cl.Server, "/") != strings.TrimSuffix(s.server, "/") {
		env.Warnf("kubeconfig %s exists with server %s, the recipe wants %s; keeping the file (remove it to regenerate)", s.path, cl.Server, s.server)
	}
	return cfg, nil
}

// kubeconfigSummary describes an existing kubeconfig for the plan.
func kubeconfigSummary(cfg *clientcmdapi.Config) map[string]any {
	ctx := cfg.Contexts[cfg.CurrentContext]
	out := map[string]any{"cluster": ctx.Cluster, "user": ctx.AuthInfo}
	if cl := cfg.Clusters[ctx.Cluster]; cl != nil {
		out["server"] = cl.Server
	}
	u := cfg.AuthInfos[ctx.AuthInfo]
	switch {
	case u == nil:
		out["auth"] = "none"
	case u.Token != "" || u.TokenFile != "":
		out["auth"] = "token"
	case len(u.ClientCertificateData) > 0 || u.ClientCertificate != "":
		out["auth"] = "client-certificate"
		if certs, err := parseCertsPEM(u.ClientCertificateData); err == nil {
			out["client_subject"] = certs[0].Subject.String()
		}
		if u.ClientCertificate != "" {
			out["client_certificate_file"] = u.ClientCertificate
		}
	default:
		out["auth"] = "other"
	}
	return out
}

// clientCertSubject checks that the referenced client certificate and key
// exist and returns the certificate's subject for the plan.
func clientCertSubject(env *runtime.Env, bn string, s *kubeconfigSpec) (string, error) {
	data, ok, err := readOptional(env, s.clientCert)
	if err != nil {
		return "", fmt.Errorf("%s: reading client_cert %s: %w", bn, s.clientCert, err)
	}
	if !ok {
		return "", fmt.Errorf("%s: client_cert %s not found; reference it only once it exists", bn, s.clientCert)
	}
	certs, err := parseCertsPEM(data)
	if err != nil {
		return "", fmt.Errorf("%s: client_cert %s holds no certificate: %v", bn, s.clientCert, err)
	}
	if s.clientKey != s.clientCert {
		if _, ok, err := readOptional(env, s.clientKey); err != nil || !ok {
			return "", fmt.Errorf("%s: client_key %s is missing or unreadable; reference it only once it exists", bn, s.clientKey)
		}
	}
	return certs[0].Subject.String(), nil
}
