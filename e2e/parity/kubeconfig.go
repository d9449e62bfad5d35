package parity

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
)

// kubeconfigCollector reads the kubeconfig files (*.conf directly under
// /etc/kubernetes): names, servers, which CA file is embedded, and the
// client certificate's identity (subject = user and groups), usages,
// validity and key.
var kubeconfigCollector = fileCollector{
	name: "kubeconfigs",
	match: func(p string) bool {
		return path.Dir(p) == "/etc/kubernetes" && path.Ext(p) == ".conf"
	},
	read: readKubeconfig,
}

func readKubeconfig(o *Output, p string, data []byte) (Artifacts, error) {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, err
	}
	idx, err := o.certIndex()
	if err != nil {
		return nil, err
	}
	r := Record{"current_context": cfg.CurrentContext}
	r["clusters"] = set(keys(cfg.Clusters))
	r["users"] = set(keys(cfg.AuthInfos))
	r["contexts"] = set(keys(cfg.Contexts))
	for name, c := range cfg.Clusters {
		pre := "cluster[" + name + "]"
		r[pre+".server"] = c.Server
		switch {
		case len(c.CertificateAuthorityData) > 0:
			r[pre+".ca"] = fileHolding(c.CertificateAuthorityData, idx)
		case c.CertificateAuthority != "":
			r[pre+".ca"] = "file reference: " + c.CertificateAuthority
		default:
			r[pre+".ca"] = Absent
		}
		if c.InsecureSkipTLSVerify {
			r[pre+".insecure_skip_tls_verify"] = "true"
		}
		if c.TLSServerName != "" {
			r[pre+".tls_server_name"] = c.TLSServerName
		}
		if c.ProxyURL != "" {
			r[pre+".proxy_url"] = c.ProxyURL
		}
	}
	for name, ctx := range cfg.Contexts {
		pre := "context[" + name + "]"
		r[pre+".cluster"] = ctx.Cluster
		r[pre+".user"] = ctx.AuthInfo
		if ctx.Namespace != "" {
			r[pre+".namespace"] = ctx.Namespace
		}
	}
	for name, u := range cfg.AuthInfos {
		pre := "user[" + name + "]"
		if u.Token != "" {
			r[pre+".token"] = "present"
		}
		if u.ClientCertificate != "" {
			r[pre+".client_certificate_file"] = u.ClientCertificate
		}
		if u.ClientKey != "" {
			r[pre+".client_key_file"] = u.ClientKey
		}
		if len(u.ClientCertificateData) > 0 {
			certs, err := parseCerts(u.ClientCertificateData)
			if err != nil {
				return nil, err
			}
			certFields(r, pre+".client_cert", certs[0], idx)
			r[pre+".client_cert.groups"] = set(certs[0].Subject.Organization)
			r[pre+".client_cert.count"] = strconv.Itoa(len(certs))
			if len(u.ClientKeyData) > 0 {
				key, pemType, err := parsePrivateKey(u.ClientKeyData)
				if err != nil {
					return nil, err
				}
				r[pre+".client_key.pem_type"] = pemType
				r[pre+".client_key.matches_cert"] = strconv.FormatBool(samePublicKey(certs[0].PublicKey, key.Public()))
			}
		}
		if u.Exec != nil {
			r[pre+".exec"] = u.Exec.Command + " " + strings.Join(u.Exec.Args, " ")
		}
	}
	return Artifacts{"kubeconfig " + p: r}, nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
