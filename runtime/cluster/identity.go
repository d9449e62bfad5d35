package cluster

import (
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
)

// The credential identity of a client, as plans show it beside the server
// URL of every API write: a reviewer of a fork's plan sees who would write
// what, where. It never holds a secret: a bootstrap token is named by its
// public id, any other bearer token only by its kind.

// kubeconfigIdentity names the user of the kubeconfig's current context and
// how it authenticates: "user kubernetes-admin (client certificate)".
func kubeconfigIdentity(data []byte) string {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return "kubeconfig"
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil {
		return "kubeconfig (no current context)"
	}
	name := ctx.AuthInfo
	a := cfg.AuthInfos[name]
	if a == nil {
		return "user " + name + " (not defined)"
	}
	var how []string
	if len(a.ClientCertificateData) > 0 || a.ClientCertificate != "" {
		how = append(how, "client certificate")
	}
	if a.Token != "" || a.TokenFile != "" {
		how = append(how, tokenIdentity(a.Token))
	}
	if a.Exec != nil {
		how = append(how, "exec "+a.Exec.Command)
	}
	if a.AuthProvider != nil {
		how = append(how, "auth provider "+a.AuthProvider.Name)
	}
	if a.Username != "" {
		how = append(how, "basic auth "+a.Username)
	}
	if len(how) == 0 {
		how = append(how, "no credentials")
	}
	return "user " + name + " (" + strings.Join(how, ", ") + ")"
}

// tokenIdentity is "bootstrap token ID" for a bootstrap token (the id is
// public, the secret is not shown), else "bearer token".
func tokenIdentity(token string) string {
	if bootstraputil.IsValidBootstrapToken(token) {
		id, _, _ := strings.Cut(token, ".")
		return "bootstrap token " + id
	}
	return "bearer token"
}

// anonymousIdentity is "anonymous", saying so when the server is not
// verified.
func anonymousIdentity(insecure bool) string {
	if insecure {
		return "anonymous (server not verified)"
	}
	return "anonymous"
}
