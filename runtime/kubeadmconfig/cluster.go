package kubeadmconfig

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// kubeadm v1.36 constants used by the checks below.
const (
	minServiceSubnetAddrs   = 10
	maxServiceSubnetBits    = 20
	minPodSubnetAddrs       = 14
	podSubnetNodeMaskMaxDif = 16
	defaultCertValidity     = 365 * 24 * time.Hour
	defaultCACertValidity   = 10 * 365 * 24 * time.Hour
)

var encryptionAlgorithms = []string{"ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-3072", "RSA-4096"}

// checkCluster validates a ClusterConfiguration and applies kubeadm's own
// normalization (a "v" before kubernetesVersion, certSANs lower-cased).
func (c *checker) checkCluster(cc *ClusterConfiguration) {
	c.checkEtcd(&cc.Etcd)
	c.checkNetworking(cc)
	if cc.KubernetesVersion != "" {
		if v, msg := normalizeVersion(cc.KubernetesVersion); msg != "" {
			c.errorf("kubernetesVersion", "%s", msg)
		} else {
			cc.KubernetesVersion = v
		}
	}
	// Kept as written: without a port the recipe adds bind_port, as
	// kubeadm does.
	if cc.ControlPlaneEndpoint != "" {
		if msg := checkHostPort(cc.ControlPlaneEndpoint); msg != "" {
			c.errorf("controlPlaneEndpoint", "%s; give host or host:port (a load balancer's DNS name or IP)", msg)
		}
	}
	c.checkComponent(&cc.APIServer.ControlPlaneComponent, "apiServer")
	for i, s := range cc.APIServer.CertSANs {
		cc.APIServer.CertSANs[i] = strings.ToLower(s) // kubeadm lower-cases them
	}
	c.checkSANs(cc.APIServer.CertSANs, "apiServer.certSANs")
	c.checkComponent(&cc.ControllerManager, "controllerManager")
	c.checkComponent(&cc.Scheduler, "scheduler")
	c.checkImageMeta(&cc.DNS.ImageMeta, "dns")
	c.check(cc.CertificatesDir, "certificatesDir", checkAbsPath)
	c.check(cc.ImageRepository, "imageRepository", checkImageRepository)
	c.check(cc.ClusterName, "clusterName", checkDNSSubdomain)
	if cc.EncryptionAlgorithm != "" && !contains(encryptionAlgorithms, cc.EncryptionAlgorithm) {
		c.errorf("encryptionAlgorithm", "%q is not supported; use one of %s", cc.EncryptionAlgorithm, strings.Join(encryptionAlgorithms, ", "))
	}
	c.checkValidity(cc)
}

// checkComponent validates extraArgs/extraVolumes/extraEnvs of one
// control-plane component.
func (c *checker) checkComponent(cp *ControlPlaneComponent, f string) {
	c.checkArgs(cp.ExtraArgs, f+".extraArgs")
	c.checkVolumes(cp.ExtraVolumes, f+".extraVolumes")
	c.checkEnvs(cp.ExtraEnvs, f+".extraEnvs")
}

// checkImageMeta validates an image repository and tag override.
func (c *checker) checkImageMeta(im *ImageMeta, f string) {
	c.check(im.ImageRepository, f+".imageRepository", checkImageRepository)
	c.check(im.ImageTag, f+".imageTag", checkImageTag)
}

func (c *checker) checkEtcd(e *Etcd) {
	if e.Local != nil && e.External != nil {
		c.errorf("etcd", "local and external are mutually exclusive; keep one")
		return
	}
	if l := e.Local; l != nil {
		c.checkImageMeta(&l.ImageMeta, "etcd.local")
		c.check(l.DataDir, "etcd.local.dataDir", checkAbsPath)
		c.checkArgs(l.ExtraArgs, "etcd.local.extraArgs")
		c.checkEnvs(l.ExtraEnvs, "etcd.local.extraEnvs")
		c.checkSANs(l.ServerCertSANs, "etcd.local.serverCertSANs")
		c.checkSANs(l.PeerCertSANs, "etcd.local.peerCertSANs")
	}
	if x := e.External; x != nil {
		f := "etcd.external"
		withTLS := x.CAFile != "" || x.CertFile != "" || x.KeyFile != ""
		if (x.CertFile == "") != (x.KeyFile == "") {
			c.errorf(f, "certFile and keyFile go together; set both or neither")
		}
		if x.CertFile != "" && x.CAFile == "" {
			c.errorf(f+".caFile", "is required when certFile and keyFile are set")
		}
		if len(x.Endpoints) == 0 {
			c.errorf(f+".endpoints", "at least one endpoint is required, e.g. https://10.0.0.5:2379")
		}
		c.checkURLs(x.Endpoints, withTLS, f+".endpoints")
		c.checkURLs(x.HTTPEndpoints, false, f+".httpEndpoints")
		c.check(x.CAFile, f+".caFile", checkAbsPath)
		c.check(x.CertFile, f+".certFile", checkAbsPath)
		c.check(x.KeyFile, f+".keyFile", checkAbsPath)
	}
}

func (c *checker) checkSANs(sans []string, f string) {
	for i, s := range sans {
		if msg := checkSAN(s); msg != "" {
			c.errorf(fmt.Sprintf("%s[%d]", f, i), "%s", msg)
		}
	}
}

// checkURLs validates endpoint URLs (scheme required; https when TLS files
// are given, as kubeadm requires).
func (c *checker) checkURLs(urls []string, requireHTTPS bool, f string) {
	for i, s := range urls {
		u, err := url.Parse(s)
		switch {
		case err != nil:
			c.errorf(fmt.Sprintf("%s[%d]", f, i), "%q is not a URL (%v); write scheme://host:port, e.g. https://10.0.0.5:2379", s, err)
		case u.Scheme == "" || u.Host == "":
			c.errorf(fmt.Sprintf("%s[%d]", f, i), "%q needs a scheme and a host, e.g. https://10.0.0.5:2379", s)
		case requireHTTPS && u.Scheme != "https":
			c.errorf(fmt.Sprintf("%s[%d]", f, i), "%q must use https because TLS files are configured", s)
		}
	}
}

func (c *checker) checkNetworking(cc *ClusterConfiguration) {
	n := &cc.Networking
	if n.ServiceSubnet != "" {
		if msg := checkCIDRs(n.ServiceSubnet, minServiceSubnetAddrs, maxServiceSubnetBits); msg != "" {
			c.errorf("networking.serviceSubnet", "%s", msg)
		}
	}
	if n.PodSubnet != "" {
		msg := checkCIDRs(n.PodSubnet, minPodSubnetAddrs, 0)
		if msg == "" && argValue(cc.ControllerManager.ExtraArgs, "allocate-node-cidrs") != "false" {
			msg = checkNodeMask(n.PodSubnet, cc.ControllerManager.ExtraArgs)
		}
		if msg != "" {
			c.errorf("networking.podSubnet", "%s", msg)
		}
	}
	c.check(n.DNSDomain, "networking.dnsDomain", checkDNSSubdomain)
}

func argValue(args []Arg, name string) string {
	v := ""
	for _, a := range args {
		if a.Name == name {
			v = a.Value
		}
	}
	return v
}

// checkNodeMask checks, like kubeadm, that each pod CIDR can hold the
// per-node CIDRs the controller-manager will cut from it (node mask /24 for
// IPv4 and /64 for IPv6 unless node-cidr-mask-size-ipv4/-ipv6 say otherwise).
func checkNodeMask(subnets string, cm []Arg) string {
	for _, s := range strings.Split(subnets, ",") {
		v6 := strings.Contains(s, ":")
		flag, nodeMask := "node-cidr-mask-size-ipv4", 24
		if v6 {
			flag, nodeMask = "node-cidr-mask-size-ipv6", 64
		}
		if v := argValue(cm, flag); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Sprintf("controllerManager.extraArgs %s=%q is not an integer", flag, v)
			}
			nodeMask = n
		}
		_, after, _ := strings.Cut(s, "/")
		mask, _ := strconv.Atoi(after)
		if mask > nodeMask {
			return fmt.Sprintf("%q is smaller than one node's range (/%d); use a larger pod subnet or set controllerManager.extraArgs %s", s, nodeMask, flag)
		}
		if nodeMask-mask > podSubnetNodeMaskMaxDif {
			return fmt.Sprintf("%q: the pod subnet mask (/%d) and the node mask (/%d) differ by more than %d; use a smaller pod subnet or a smaller %s", s, mask, nodeMask, podSubnetNodeMaskMaxDif, flag)
		}
	}
	return ""
}

// checkValidity checks the certificate validity periods, warning like
// kubeadm when they exceed its defaults or each other.
func (c *checker) checkValidity(cc *ClusterConfiguration) {
	var cert, ca time.Duration
	if p := cc.CertificateValidityPeriod; p != nil {
		if msg := checkDuration(*p); msg != "" {
			c.errorf("certificateValidityPeriod", "%s", msg)
		} else {
			cert, _ = time.ParseDuration(*p)
			if cert > defaultCertValidity {
				c.warnf("certificateValidityPeriod", "%s is more than the recommended %s", cert, defaultCertValidity)
			}
		}
	}
	if p := cc.CACertificateValidityPeriod; p != nil {
		if msg := checkDuration(*p); msg != "" {
			c.errorf("caCertificateValidityPeriod", "%s", msg)
		} else {
			ca, _ = time.ParseDuration(*p)
			if ca > defaultCACertValidity {
				c.warnf("caCertificateValidityPeriod", "%s is more than the recommended %s", ca, defaultCACertValidity)
			}
		}
	}
	if cert > 0 && ca > 0 && cert > ca {
		c.warnf("certificateValidityPeriod", "%s is more than caCertificateValidityPeriod %s; certificates will outlive their CA", cert, ca)
	}
}
