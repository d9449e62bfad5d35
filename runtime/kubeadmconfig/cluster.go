package kubeadmconfig

import (
	"fmt"
	"net/url"
	"sort"
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

// mapCluster maps a ClusterConfiguration.
func (m *mapper) mapCluster(c *ClusterConfiguration) {
	m.mapEtcd(&c.Etcd)
	m.mapNetworking(c)
	if c.KubernetesVersion != "" {
		if v, msg := normalizeVersion(c.KubernetesVersion); msg != "" {
			m.errorf("kubernetesVersion", "%s", msg)
		} else {
			m.set("kubernetes_version", v, "kubernetesVersion")
		}
	}
	if c.ControlPlaneEndpoint != "" {
		// Kept as written: without a port the recipe adds bind_port, as
		// kubeadm does.
		if msg := checkHostPort(c.ControlPlaneEndpoint); msg != "" {
			m.errorf("controlPlaneEndpoint", "%s; give host or host:port (a load balancer's DNS name or IP)", msg)
		} else {
			m.set("control_plane_endpoint", c.ControlPlaneEndpoint, "controlPlaneEndpoint")
		}
	}

	m.mapComponent("apiserver", &c.APIServer.ControlPlaneComponent, "apiServer")
	if c.APIServer.CertSANs != nil {
		sans := make([]string, len(c.APIServer.CertSANs))
		ok := true
		for i, s := range c.APIServer.CertSANs {
			sans[i] = strings.ToLower(s) // kubeadm lower-cases them
			if msg := checkSAN(sans[i]); msg != "" {
				m.errorf(fmt.Sprintf("apiServer.certSANs[%d]", i), "%s", msg)
				ok = false
			}
		}
		if ok {
			m.setStrings("cert_sans", sans, "apiServer.certSANs")
		}
	}
	m.mapComponent("controller_manager", &c.ControllerManager, "controllerManager")
	m.mapComponent("scheduler", &c.Scheduler, "scheduler")

	if c.DNS.Disabled {
		m.set("dns_disabled", true, "dns.disabled")
	}
	m.mapImageMeta("dns_", &c.DNS.ImageMeta, "dns")
	if c.Proxy.Disabled {
		m.set("proxy_disabled", true, "proxy.disabled")
	}
	m.setChecked("cert_dir", c.CertificatesDir, "certificatesDir", checkAbsPath)
	m.setChecked("image_repository", c.ImageRepository, "imageRepository", checkImageRepository)
	m.mapFeatureGates(c.FeatureGates)
	m.setChecked("cluster_name", c.ClusterName, "clusterName", checkDNSSubdomain)
	if c.EncryptionAlgorithm != "" {
		if !contains(encryptionAlgorithms, c.EncryptionAlgorithm) {
			m.errorf("encryptionAlgorithm", "%q is not supported; use one of %s", c.EncryptionAlgorithm, strings.Join(encryptionAlgorithms, ", "))
		} else {
			m.set("encryption_algorithm", c.EncryptionAlgorithm, "encryptionAlgorithm")
		}
	}
	m.mapValidity(c)
}

// mapComponent maps extraArgs/extraVolumes/extraEnvs of one control-plane
// component to <name>_extra_args, <name>_extra_volumes, <name>_extra_envs.
func (m *mapper) mapComponent(name string, c *ControlPlaneComponent, f string) {
	m.setArgs(name+"_extra_args", c.ExtraArgs, f+".extraArgs")
	m.setVolumes(name+"_extra_volumes", c.ExtraVolumes, f+".extraVolumes")
	m.setEnvs(name+"_extra_envs", c.ExtraEnvs, f+".extraEnvs")
}

// mapImageMeta maps <prefix>image_repository and <prefix>image_tag; the
// defaults (cluster imageRepository, the version's etcd/CoreDNS tag) are
// the stdlib's business.
func (m *mapper) mapImageMeta(prefix string, im *ImageMeta, f string) {
	if im.ImageRepository != "" {
		if msg := checkImageRepository(im.ImageRepository); msg != "" {
			m.errorf(f+".imageRepository", "%s", msg)
		} else {
			m.set(prefix+"image_repository", im.ImageRepository, f+".imageRepository")
		}
	}
	if im.ImageTag != "" {
		if msg := checkImageTag(im.ImageTag); msg != "" {
			m.errorf(f+".imageTag", "%s", msg)
		} else {
			m.set(prefix+"image_tag", im.ImageTag, f+".imageTag")
		}
	}
}

func (m *mapper) mapEtcd(e *Etcd) {
	if e.Local != nil && e.External != nil {
		m.errorf("etcd", "local and external are mutually exclusive; keep one")
		return
	}
	if l := e.Local; l != nil {
		m.mapImageMeta("etcd_", &l.ImageMeta, "etcd.local")
		m.setChecked("etcd_data_dir", l.DataDir, "etcd.local.dataDir", checkAbsPath)
		m.setArgs("etcd_extra_args", l.ExtraArgs, "etcd.local.extraArgs")
		m.setEnvs("etcd_extra_envs", l.ExtraEnvs, "etcd.local.extraEnvs")
		m.setSANs("etcd_server_cert_sans", l.ServerCertSANs, "etcd.local.serverCertSANs")
		m.setSANs("etcd_peer_cert_sans", l.PeerCertSANs, "etcd.local.peerCertSANs")
	}
	if x := e.External; x != nil {
		f := "etcd.external"
		withTLS := x.CAFile != "" || x.CertFile != "" || x.KeyFile != ""
		if (x.CertFile == "") != (x.KeyFile == "") {
			m.errorf(f, "certFile and keyFile go together; set both or neither")
		}
		if x.CertFile != "" && x.CAFile == "" {
			m.errorf(f+".caFile", "is required when certFile and keyFile are set")
		}
		if len(x.Endpoints) == 0 {
			m.errorf(f+".endpoints", "at least one endpoint is required, e.g. https://10.0.0.5:2379")
		}
		m.setURLs("etcd_external_endpoints", x.Endpoints, withTLS, f+".endpoints")
		m.setURLs("etcd_external_http_endpoints", x.HTTPEndpoints, false, f+".httpEndpoints")
		for _, p := range []struct{ param, value, field string }{
			{"etcd_external_ca", x.CAFile, "caFile"},
			{"etcd_external_cert", x.CertFile, "certFile"},
			{"etcd_external_key", x.KeyFile, "keyFile"},
		} {
			if p.value == "" {
				continue
			}
			if msg := checkAbsPath(p.value); msg != "" {
				m.errorf(f+"."+p.field, "%s", msg)
				continue
			}
			m.set(p.param, p.value, f+"."+p.field)
		}
	}
}

func (m *mapper) setSANs(param string, sans []string, f string) {
	ok := true
	for i, s := range sans {
		if msg := checkSAN(s); msg != "" {
			m.errorf(fmt.Sprintf("%s[%d]", f, i), "%s", msg)
			ok = false
		}
	}
	if ok {
		m.setStrings(param, sans, f)
	}
}

// setURLs validates endpoint URLs (scheme required; https when TLS files
// are given, as kubeadm requires).
func (m *mapper) setURLs(param string, urls []string, requireHTTPS bool, f string) {
	if urls == nil {
		return
	}
	ok := true
	for i, s := range urls {
		u, err := url.Parse(s)
		switch {
		case err != nil:
			m.errorf(fmt.Sprintf("%s[%d]", f, i), "%q is not a URL (%v); write scheme://host:port, e.g. https://10.0.0.5:2379", s, err)
		case u.Scheme == "" || u.Host == "":
			m.errorf(fmt.Sprintf("%s[%d]", f, i), "%q needs a scheme and a host, e.g. https://10.0.0.5:2379", s)
		case requireHTTPS && u.Scheme != "https":
			m.errorf(fmt.Sprintf("%s[%d]", f, i), "%q must use https because TLS files are configured", s)
		default:
			continue
		}
		ok = false
	}
	if ok {
		m.setStrings(param, urls, f)
	}
}

func (m *mapper) mapNetworking(c *ClusterConfiguration) {
	n := &c.Networking
	if n.ServiceSubnet != "" {
		if msg := checkCIDRs(n.ServiceSubnet, minServiceSubnetAddrs, maxServiceSubnetBits); msg != "" {
			m.errorf("networking.serviceSubnet", "%s", msg)
		} else {
			m.set("service_subnet", n.ServiceSubnet, "networking.serviceSubnet")
		}
	}
	if n.PodSubnet != "" {
		msg := checkCIDRs(n.PodSubnet, minPodSubnetAddrs, 0)
		if msg == "" && argValue(c.ControllerManager.ExtraArgs, "allocate-node-cidrs") != "false" {
			msg = checkNodeMask(n.PodSubnet, c.ControllerManager.ExtraArgs)
		}
		if msg != "" {
			m.errorf("networking.podSubnet", "%s", msg)
		} else {
			m.set("pod_subnet", n.PodSubnet, "networking.podSubnet")
		}
	}
	m.setChecked("dns_domain", n.DNSDomain, "networking.dnsDomain", checkDNSSubdomain)
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

// mapFeatureGates validates kubeadm's feature gates. None has a parameter:
// in v1.36 NodeLocalCRISocket is GA and locked on, PublicKeysECDSA is
// replaced by encryptionAlgorithm, and kubelark does not implement
// RootlessControlPlane. A gate set to its default is accepted with a warning.
func (m *mapper) mapFeatureGates(gates map[string]bool) {
	names := make([]string, 0, len(gates))
	for k := range gates {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := gates[k]
		f := "featureGates." + k
		switch k {
		case "NodeLocalCRISocket":
			if !v {
				m.errorf(f, "is GA and locked to true in kubeadm v1.36; remove it")
				continue
			}
		case "PublicKeysECDSA":
			if v {
				m.unsupported(f, "set encryptionAlgorithm: ECDSA-P256 instead")
				continue
			}
		case "RootlessControlPlane":
			if v {
				m.unsupported(f, "kubelark does not run the control plane as non-root; fork stdlib/controlplane.star to set securityContext")
				continue
			}
		default:
			m.errorf(f, "unknown kubeadm feature gate; known: NodeLocalCRISocket, PublicKeysECDSA, RootlessControlPlane (component feature gates go in extraArgs feature-gates)")
			continue
		}
		m.warnf(f, "is the default (%v); ignored", v)
	}
}

// mapValidity maps the certificate validity periods, warning like kubeadm
// when they exceed its defaults or each other.
func (m *mapper) mapValidity(c *ClusterConfiguration) {
	var cert, ca time.Duration
	if p := c.CertificateValidityPeriod; p != nil {
		if msg := checkDuration(*p); msg != "" {
			m.errorf("certificateValidityPeriod", "%s", msg)
		} else {
			cert, _ = time.ParseDuration(*p)
			m.set("certificate_validity", *p, "certificateValidityPeriod")
			if cert > defaultCertValidity {
				m.warnf("certificateValidityPeriod", "%s is more than the recommended %s", cert, defaultCertValidity)
			}
		}
	}
	if p := c.CACertificateValidityPeriod; p != nil {
		if msg := checkDuration(*p); msg != "" {
			m.errorf("caCertificateValidityPeriod", "%s", msg)
		} else {
			ca, _ = time.ParseDuration(*p)
			m.set("ca_certificate_validity", *p, "caCertificateValidityPeriod")
			if ca > defaultCACertValidity {
				m.warnf("caCertificateValidityPeriod", "%s is more than the recommended %s", ca, defaultCACertValidity)
			}
		}
	}
	if cert > 0 && ca > 0 && cert > ca {
		m.warnf("certificateValidityPeriod", "%s is more than caCertificateValidityPeriod %s; certificates will outlive their CA", cert, ca)
	}
}
