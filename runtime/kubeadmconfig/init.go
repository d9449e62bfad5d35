package kubeadmconfig

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
)

// checkInit validates an InitConfiguration and normalizes the values
// kubeadm itself normalizes (criSocket scheme).
func (c *checker) checkInit(ic *InitConfiguration) {
	c.checkBootstrapTokens(ic.BootstrapTokens)
	c.checkNodeRegistration(&ic.NodeRegistration, "nodeRegistration")
	c.checkAPIEndpoint(&ic.LocalAPIEndpoint, "localAPIEndpoint")
	c.checkCertificateKey(ic.CertificateKey, "certificateKey")
	c.checkTimeouts(ic.Timeouts)
}

// checkBootstrapTokens validates every token like kubeadm's
// bootstraptoken/v1 decoder and validation; a token without a value
// means "generate one", as in kubeadm.
func (c *checker) checkBootstrapTokens(tokens []BootstrapToken) {
	for i, t := range tokens {
		f := fmt.Sprintf("bootstrapTokens[%d]", i)
		if t.Token != "" {
			if msg := checkToken(t.Token); msg != "" {
				c.errorf(f+".token", "%s", msg)
			} else {
				c.secretToken(t.Token)
			}
		}
		if t.TTL != nil && t.Expires != nil {
			c.errorf(f+".ttl", "ttl and expires are mutually exclusive; keep one")
		}
		if t.TTL != nil {
			if msg := checkDuration(*t.TTL); msg != "" {
				c.errorf(f+".ttl", "%s", msg)
			}
		}
		if t.Expires != nil {
			if _, err := time.Parse(time.RFC3339, *t.Expires); err != nil {
				c.errorf(f+".expires", "%q is not an RFC 3339 time such as 2030-01-02T15:04:05Z", *t.Expires)
			}
		}
		if t.Usages != nil {
			if err := bootstraputil.ValidateUsages(t.Usages); err != nil {
				c.errorf(f+".usages", "%v", err)
			}
		}
		if t.Groups != nil {
			if t.Usages != nil && !contains(t.Usages, "authentication") {
				c.errorf(f+".groups", "groups need the \"authentication\" usage; add it to usages or remove groups")
			}
			for _, g := range t.Groups {
				if err := bootstraputil.ValidateBootstrapGroupName(g); err != nil {
					c.errorf(f+".groups", "%v", err)
				}
			}
		}
	}
}

// checkNodeRegistration is shared by init and join. A criSocket without a
// scheme gets "unix://" with a warning, as kubeadm does.
func (c *checker) checkNodeRegistration(n *NodeRegistrationOptions, f string) {
	if n.Name != "" {
		if msg := checkDNSSubdomain(n.Name); msg != "" {
			c.errorf(f+".name", "%s; node names are lower-case DNS names", msg)
		}
	}
	n.CRISocket = c.criSocket(n.CRISocket, f+".criSocket")
	c.checkTaints(n.Taints, f+".taints")
	c.checkArgs(n.KubeletExtraArgs, f+".kubeletExtraArgs")
	c.checkIgnorePreflight(n.IgnorePreflightErrors, f+".ignorePreflightErrors")
	switch n.ImagePullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		c.errorf(f+".imagePullPolicy", "%q is not a pull policy; use Always, IfNotPresent or Never", n.ImagePullPolicy)
	}
}

// criSocket validates a CRI socket and returns it with kubeadm's
// normalization applied.
func (c *checker) criSocket(sock, f string) string {
	if sock == "" {
		return sock
	}
	norm, warn, msg := normalizeCRISocket(sock)
	if msg != "" {
		c.errorf(f, "%s", msg)
		return sock
	}
	if warn != "" {
		c.warnf(f, "%s", warn)
	}
	return norm
}

// checkIgnorePreflight checks the kubeadm rule that "all" stands alone
// (names are case-insensitive).
func (c *checker) checkIgnorePreflight(names []string, f string) {
	hasAll := false
	for _, n := range names {
		if strings.EqualFold(n, "all") {
			hasAll = true
		}
	}
	if hasAll && len(names) > 1 {
		c.errorf(f, "lists \"all\" together with other checks; keep only \"all\" or only the names")
	}
}

// checkAPIEndpoint validates localAPIEndpoint (init, and join's
// controlPlane).
func (c *checker) checkAPIEndpoint(e *APIEndpoint, f string) {
	if e.AdvertiseAddress != "" {
		if msg := checkIP(e.AdvertiseAddress); msg != "" {
			c.errorf(f+".advertiseAddress", "%s; give this node's IP, or leave it out to use the default-route interface's IP", msg)
		}
	}
	if e.BindPort != nil {
		if msg := checkPort(*e.BindPort); msg != "" {
			c.errorf(f+".bindPort", "%s (leave it out for the default 6443)", msg)
		}
	}
}

// checkCertificateKey validates a certificate key and registers it as a
// secret.
func (c *checker) checkCertificateKey(key, f string) {
	if key == "" {
		return
	}
	if msg := checkCertificateKey(key); msg != "" {
		c.errorf(f, "%s", msg)
		return
	}
	c.secret(key)
}

// checkTimeouts validates every timeout's duration syntax. Which timeouts
// a workflow uses is the recipe's business: kubeadm itself accepts (and
// `kubeadm config print` writes) every timeout in every configuration.
func (c *checker) checkTimeouts(t *Timeouts) {
	if t == nil {
		return
	}
	for _, tf := range []struct {
		field string
		value *string
	}{
		{"controlPlaneComponentHealthCheck", t.ControlPlaneComponentHealthCheck},
		{"kubeletHealthCheck", t.KubeletHealthCheck},
		{"kubernetesAPICall", t.KubernetesAPICall},
		{"etcdAPICall", t.EtcdAPICall},
		{"tlsBootstrap", t.TLSBootstrap},
		{"discovery", t.Discovery},
		{"upgradeManifests", t.UpgradeManifests},
	} {
		if tf.value != nil {
			if msg := checkDuration(*tf.value); msg != "" {
				c.errorf("timeouts."+tf.field, "%s", msg)
			}
		}
	}
}
