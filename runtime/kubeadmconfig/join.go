package kubeadmconfig

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// checkJoin validates a JoinConfiguration. Required fields (discovery,
// node name) are not enforced here: --values and --set may still provide
// them; the join recipe checks.
func (c *checker) checkJoin(jc *JoinConfiguration) {
	c.checkNodeRegistration(&jc.NodeRegistration, "nodeRegistration")
	if jc.CACertPath != "" {
		if msg := checkAbsPath(jc.CACertPath); msg != "" || !strings.HasSuffix(jc.CACertPath, ".crt") {
			c.errorf("caCertPath", "%q must be an absolute path to a .crt file", jc.CACertPath)
		}
	}
	c.checkDiscovery(&jc.Discovery)
	if cp := jc.ControlPlane; cp != nil {
		c.checkAPIEndpoint(&cp.LocalAPIEndpoint, "controlPlane.localAPIEndpoint")
		c.checkCertificateKey(cp.CertificateKey, "controlPlane.certificateKey")
	}
	c.checkTimeouts(jc.Timeouts)
}

func (c *checker) checkDiscovery(d *Discovery) {
	f := "discovery"
	if d.BootstrapToken != nil && d.File != nil {
		c.errorf(f, "bootstrapToken and file are mutually exclusive; keep one")
		return
	}
	if bt := d.BootstrapToken; bt != nil {
		bf := f + ".bootstrapToken"
		c.checkSecretToken(bt.Token, bf+".token")
		if bt.APIServerEndpoint != "" {
			if _, _, err := net.SplitHostPort(bt.APIServerEndpoint); err != nil {
				c.errorf(bf+".apiServerEndpoint", "%q must be host:port of the API server (e.g. 10.0.0.10:6443)", bt.APIServerEndpoint)
			} else if msg := checkHostPort(bt.APIServerEndpoint); msg != "" {
				c.errorf(bf+".apiServerEndpoint", "%s", msg)
			}
		}
		if len(bt.CACertHashes) > 0 && bt.UnsafeSkipCAVerification {
			c.warnf(bf+".unsafeSkipCAVerification", "is true although caCertHashes are given; the hashes are still checked")
		}
		for i, h := range bt.CACertHashes {
			if msg := checkCACertHash(h); msg != "" {
				c.errorf(fmt.Sprintf("%s.caCertHashes[%d]", bf, i), "%s", msg)
			}
		}
	}
	if fd := d.File; fd != nil {
		p := fd.KubeConfigPath
		ff := f + ".file.kubeConfigPath"
		u, err := url.Parse(p)
		switch {
		case p == "":
			c.errorf(ff, "is empty; give a kubeconfig path or an https:// URL")
		case err != nil:
			c.errorf(ff, "%q is neither a file path nor a URL: %v", p, err)
		case u.Scheme != "" && u.Scheme != "https" && u.Scheme != "file":
			c.errorf(ff, "%q: a URL must use https (or file://)", p)
		}
	}
	c.checkSecretToken(d.TLSBootstrapToken, f+".tlsBootstrapToken")
}

// checkSecretToken validates a bootstrap token that is given and registers
// it as a secret.
func (c *checker) checkSecretToken(tok, f string) {
	if tok == "" {
		return
	}
	if msg := checkToken(tok); msg != "" {
		c.errorf(f, "%s", msg)
		return
	}
	c.secretToken(tok)
}
