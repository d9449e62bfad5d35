package kubeadmconfig

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
)

// mapInit maps an InitConfiguration (parameters without prefix: it is the
// init recipe's own document).
func (m *mapper) mapInit(c *InitConfiguration) {
	m.mapBootstrapTokens(c.BootstrapTokens)
	if c.DryRun {
		m.unsupported("dryRun", "pass --dry-run to `kubelark run` instead")
	}
	m.mapNodeRegistration("", &c.NodeRegistration, "nodeRegistration")
	m.mapAPIEndpoint("", &c.LocalAPIEndpoint, "localAPIEndpoint")
	if c.CertificateKey != "" {
		if msg := checkCertificateKey(c.CertificateKey); msg != "" {
			m.errorf("certificateKey", "%s", msg)
		} else {
			m.secret(c.CertificateKey)
			m.set("certificate_key", c.CertificateKey, "certificateKey")
		}
	}
	m.setStrings("skip_phases", c.SkipPhases, "skipPhases")
	m.mapPatches(c.Patches, "recipes/init.star")
	// kubeadm init waits on the kubelet, the control plane, the API and
	// etcd; it never discovers or TLS-bootstraps.
	m.mapTimeouts("", c.Timeouts, "init", "controlPlaneComponentHealthCheck", "kubeletHealthCheck", "kubernetesAPICall", "etcdAPICall")
}

// mapBootstrapTokens maps the first token to token, token_ttl,
// token_expires, token_description, token_usages and token_groups, and any
// further tokens to bootstrap_tokens (a list of dicts with the keys token,
// ttl, expires, description, usages, groups; only the keys that were given).
// A token without a value means "generate one", as in kubeadm.
func (m *mapper) mapBootstrapTokens(tokens []BootstrapToken) {
	var extra []any
	for i, t := range tokens {
		f := fmt.Sprintf("bootstrapTokens[%d]", i)
		d := map[string]any{}
		ok := true
		bad := func(sub, format string, args ...any) {
			m.errorf(f+"."+sub, format, args...)
			ok = false
		}
		if t.Token != "" {
			if msg := checkToken(t.Token); msg != "" {
				bad("token", "%s", msg)
			} else {
				m.secretToken(t.Token)
				d["token"] = t.Token
			}
		}
		if t.Description != "" {
			d["description"] = t.Description
		}
		if t.TTL != nil && t.Expires != nil {
			bad("ttl", "ttl and expires are mutually exclusive; keep one")
		}
		if t.TTL != nil {
			if msg := checkDuration(*t.TTL); msg != "" {
				bad("ttl", "%s", msg)
			}
			d["ttl"] = *t.TTL
		}
		if t.Expires != nil {
			if _, err := time.Parse(time.RFC3339, *t.Expires); err != nil {
				bad("expires", "%q is not an RFC 3339 time such as 2030-01-02T15:04:05Z", *t.Expires)
			}
			d["expires"] = *t.Expires
		}
		if t.Usages != nil {
			if err := bootstraputil.ValidateUsages(t.Usages); err != nil {
				bad("usages", "%v", err)
			}
			d["usages"] = stringList(t.Usages)
		}
		if t.Groups != nil {
			if t.Usages != nil && !contains(t.Usages, "authentication") {
				bad("groups", "groups need the \"authentication\" usage; add it to usages or remove groups")
			}
			for _, g := range t.Groups {
				if err := bootstraputil.ValidateBootstrapGroupName(g); err != nil {
					bad("groups", "%v", err)
				}
			}
			d["groups"] = stringList(t.Groups)
		}
		if !ok {
			continue
		}
		if i == 0 {
			for _, k := range []string{"token", "ttl", "expires", "description", "usages", "groups"} {
				if v, set := d[k]; set {
					param := "token_" + k
					if k == "token" {
						param = "token"
					}
					m.set(param, v, f+"."+k)
				}
			}
			continue
		}
		if _, set := d["token"]; !set {
			d["token"] = ""
		}
		extra = append(extra, d)
	}
	if len(extra) > 0 {
		m.set("bootstrap_tokens", extra, "bootstrapTokens[1:]")
	}
}

// mapNodeRegistration is shared by init ("" prefix) and join ("join_").
func (m *mapper) mapNodeRegistration(prefix string, n *NodeRegistrationOptions, f string) {
	if n.Name != "" {
		if msg := checkDNSSubdomain(n.Name); msg != "" {
			m.errorf(f+".name", "%s; node names are lower-case DNS names", msg)
		} else {
			m.set(prefix+"node_name", n.Name, f+".name")
		}
	}
	if n.CRISocket != "" {
		norm, warn, msg := normalizeCRISocket(n.CRISocket)
		switch {
		case msg != "":
			m.errorf(f+".criSocket", "%s", msg)
		default:
			if warn != "" {
				m.warnf(f+".criSocket", "%s", warn)
			}
			m.set(prefix+"cri_socket", norm, f+".criSocket")
		}
	}
	m.setTaints(prefix+"taints", n.Taints, f+".taints")
	m.setArgs(prefix+"kubelet_extra_args", n.KubeletExtraArgs, f+".kubeletExtraArgs")
	m.mapIgnorePreflight(prefix, n.IgnorePreflightErrors, f+".ignorePreflightErrors")
	switch n.ImagePullPolicy {
	case "":
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
		m.set(prefix+"image_pull_policy", string(n.ImagePullPolicy), f+".imagePullPolicy")
	default:
		m.errorf(f+".imagePullPolicy", "%q is not a pull policy; use Always, IfNotPresent or Never", n.ImagePullPolicy)
	}
	if n.ImagePullSerial != nil {
		m.set(prefix+"image_pull_serial", *n.ImagePullSerial, f+".imagePullSerial")
	}
}

// mapIgnorePreflight checks the kubeadm rule that "all" stands alone
// (names are case-insensitive).
func (m *mapper) mapIgnorePreflight(prefix string, names []string, f string) {
	if names == nil {
		return
	}
	hasAll := false
	for _, n := range names {
		if strings.EqualFold(n, "all") {
			hasAll = true
		}
	}
	if hasAll && len(names) > 1 {
		m.errorf(f, "lists \"all\" together with other checks; keep only \"all\" or only the names")
		return
	}
	m.setStrings(prefix+"ignore_preflight_errors", names, f)
}

// mapAPIEndpoint maps localAPIEndpoint (init: advertise_address/bind_port;
// join: join_advertise_address/join_bind_port).
func (m *mapper) mapAPIEndpoint(prefix string, e *APIEndpoint, f string) {
	if e.AdvertiseAddress != "" {
		if msg := checkIP(e.AdvertiseAddress); msg != "" {
			m.errorf(f+".advertiseAddress", "%s; give this node's IP, or leave it out to use the default-route interface's IP", msg)
		} else {
			m.set(prefix+"advertise_address", e.AdvertiseAddress, f+".advertiseAddress")
		}
	}
	if e.BindPort != nil {
		if msg := checkPort(*e.BindPort); msg != "" {
			m.errorf(f+".bindPort", "%s (leave it out for the default 6443)", msg)
		} else {
			m.set(prefix+"bind_port", *e.BindPort, f+".bindPort")
		}
	}
}

func (m *mapper) mapPatches(p *Patches, recipe string) {
	if p != nil && p.Directory != "" {
		m.unsupported("patches.directory",
			fmt.Sprintf("kubelark does not apply kubeadm patch files; fork %s (or the stdlib module that builds the object) and change the manifests or configs there", recipe))
	}
}

// timeoutParams names the parameter suffix of each Timeouts field.
var timeoutParams = []struct {
	field, param string
	get          func(*Timeouts) *string
}{
	{"controlPlaneComponentHealthCheck", "timeout_control_plane_component_health_check", func(t *Timeouts) *string { return t.ControlPlaneComponentHealthCheck }},
	{"kubeletHealthCheck", "timeout_kubelet_health_check", func(t *Timeouts) *string { return t.KubeletHealthCheck }},
	{"kubernetesAPICall", "timeout_kubernetes_api_call", func(t *Timeouts) *string { return t.KubernetesAPICall }},
	{"etcdAPICall", "timeout_etcd_api_call", func(t *Timeouts) *string { return t.EtcdAPICall }},
	{"tlsBootstrap", "timeout_tls_bootstrap", func(t *Timeouts) *string { return t.TLSBootstrap }},
	{"discovery", "timeout_discovery", func(t *Timeouts) *string { return t.Discovery }},
	{"upgradeManifests", "timeout_upgrade_manifests", func(t *Timeouts) *string { return t.UpgradeManifests }},
}

// mapTimeouts maps the timeouts the workflow uses to <prefix>timeout_*.
// The others are validated and reported as warnings, not errors: kubeadm
// itself accepts (and `kubeadm config print` writes) every timeout in every
// configuration, so rejecting them would refuse kubeadm's own defaults.
func (m *mapper) mapTimeouts(prefix string, t *Timeouts, workflow string, used ...string) {
	if t == nil {
		return
	}
	for _, tp := range timeoutParams {
		v := tp.get(t)
		if v == nil {
			continue
		}
		f := "timeouts." + tp.field
		if msg := checkDuration(*v); msg != "" {
			m.errorf(f, "%s", msg)
			continue
		}
		if !contains(used, tp.field) {
			m.warnf(f, "has no effect on %s (kubelark's %s never waits for this); ignored", workflow, workflow)
			continue
		}
		m.set(prefix+tp.param, *v, f)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
