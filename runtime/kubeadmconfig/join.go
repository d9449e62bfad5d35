package kubeadmconfig

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// mapJoin maps a JoinConfiguration to join_* parameters, for the join
// recipe. Required fields (discovery, node name) are not enforced here:
// --values and --set may still provide them; the recipe checks.
func (m *mapper) mapJoin(c *JoinConfiguration) {
	if c.DryRun {
		m.unsupported("dryRun", "pass --dry-run to `kubelark run` instead")
	}
	m.mapNodeRegistration("join_", &c.NodeRegistration, "nodeRegistration")
	if c.CACertPath != "" {
		if msg := checkAbsPath(c.CACertPath); msg != "" || !strings.HasSuffix(c.CACertPath, ".crt") {
			m.errorf("caCertPath", "%q must be an absolute path to a .crt file", c.CACertPath)
		} else {
			m.set("join_ca_cert_path", c.CACertPath, "caCertPath")
		}
	}
	m.mapDiscovery(&c.Discovery)
	if cp := c.ControlPlane; cp != nil {
		m.set("join_control_plane", true, "controlPlane")
		m.mapAPIEndpoint("join_", &cp.LocalAPIEndpoint, "controlPlane.localAPIEndpoint")
		if cp.CertificateKey != "" {
			if msg := checkCertificateKey(cp.CertificateKey); msg != "" {
				m.errorf("controlPlane.certificateKey", "%s", msg)
			} else {
				m.secret(cp.CertificateKey)
				m.set("join_certificate_key", cp.CertificateKey, "controlPlane.certificateKey")
			}
		}
	}
	m.setStrings("join_skip_phases", c.SkipPhases, "skipPhases")
	m.mapPatches(c.Patches, "recipes/join.star")
	m.mapTimeouts("join_", c.Timeouts, "join",
		"controlPlaneComponentHealthCheck", "kubeletHealthCheck", "kubernetesAPICall", "etcdAPICall", "tlsBootstrap", "discovery")
}

func (m *mapper) mapDiscovery(d *Discovery) {
	f := "discovery"
	if d.BootstrapToken != nil && d.File != nil {
		m.errorf(f, "bootstrapToken and file are mutually exclusive; keep one")
		return
	}
	if bt := d.BootstrapToken; bt != nil {
		bf := f + ".bootstrapToken"
		if bt.Token != "" {
			m.setToken("join_token", bt.Token, bf+".token")
		}
		if bt.APIServerEndpoint != "" {
			if _, _, err := net.SplitHostPort(bt.APIServerEndpoint); err != nil {
				m.errorf(bf+".apiServerEndpoint", "%q must be host:port of the API server (e.g. 10.0.0.10:6443)", bt.APIServerEndpoint)
			} else if msg := checkHostPort(bt.APIServerEndpoint); msg != "" {
				m.errorf(bf+".apiServerEndpoint", "%s", msg)
			} else {
				m.set("join_api_server_endpoint", bt.APIServerEndpoint, bf+".apiServerEndpoint")
			}
		}
		if len(bt.CACertHashes) > 0 && bt.UnsafeSkipCAVerification {
			m.warnf(bf+".unsafeSkipCAVerification", "is true although caCertHashes are given; the hashes are still checked")
		}
		if bt.CACertHashes != nil {
			ok := true
			for i, h := range bt.CACertHashes {
				if msg := checkCACertHash(h); msg != "" {
					m.errorf(fmt.Sprintf("%s.caCertHashes[%d]", bf, i), "%s", msg)
					ok = false
				}
			}
			if ok {
				m.setStrings("join_ca_cert_hashes", bt.CACertHashes, bf+".caCertHashes")
			}
		}
		if bt.UnsafeSkipCAVerification {
			m.set("join_unsafe_skip_ca_verification", true, bf+".unsafeSkipCAVerification")
		}
	}
	if fd := d.File; fd != nil {
		p := fd.KubeConfigPath
		ff := f + ".file.kubeConfigPath"
		u, err := url.Parse(p)
		switch {
		case p == "":
			m.errorf(ff, "is empty; give a kubeconfig path or an https:// URL")
		case err != nil:
			m.errorf(ff, "%q is neither a file path nor a URL: %v", p, err)
		case u.Scheme != "" && u.Scheme != "https" && u.Scheme != "file":
			m.errorf(ff, "%q: a URL must use https (or file://)", p)
		default:
			m.set("join_discovery_file", p, ff)
		}
	}
	if d.TLSBootstrapToken != "" {
		m.setToken("join_tls_bootstrap_token", d.TLSBootstrapToken, f+".tlsBootstrapToken")
	}
}

func (m *mapper) setToken(param, tok, f string) {
	if msg := checkToken(tok); msg != "" {
		m.errorf(f, "%s", msg)
		return
	}
	m.secretToken(tok)
	m.set(param, tok, f)
}
