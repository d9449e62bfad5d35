package builtins

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/net/http/httpproxy"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/kubelark/kubelark/runtime/host"
)

// Kubernetes version facts these checks follow (kubeadm v1.36.3,
// app/constants): the release the recipes mirror and the oldest kubelet it
// supports (minor-3).
const (
	pfKubeadmVersion     = "v1.36.3"
	pfMinKubeletVersion  = "v1.33.0"
	pfCgroupV1ErrorMinor = 35 // kubelet >= 1.35 refuses cgroup v1 by default
)

// pathName is kubeadm's naming of path checks: "/" becomes "-".
func pathName(prefix, p string) string { return prefix + "-" + strings.ReplaceAll(p, "/", "-") }

// title upper-cases the first letter, as kubeadm's strings.Title on a unit.
func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

var pfKinds map[string]pfKind

func init() {
	pfKinds = map[string]pfKind{
		"is_privileged_user":        {"error if the effective user is not root. Name IsPrivilegedUser.", parsePrivileged},
		"num_cpu":                   {"{min=2}: error if fewer CPUs. Name NumCPU.", parseNumCPU},
		"mem":                       {"{min_mb=1700}: error if less RAM (sysinfo). Name Mem.", parseMem},
		"kubernetes_version":        {"{version, kubeadm_version=\"" + pfKubeadmVersion + "\"}: warning if version is a newer minor than kubeadm_version, error if unparsable. Name KubernetesVersion.", parseKubernetesVersion},
		"service_active":            {"{unit, ports=[]}: warning if the unit is active (firewalld). Name: the unit, capitalised (Firewalld).", parseServiceActive},
		"service_enabled":           {"{unit}: warning if the unit is not enabled or cannot be checked. Name Service-<Unit>.", parseServiceEnabled},
		"port":                      {"{port}: error if TCP :port cannot be bound. Name Port-<port>.", parsePort},
		"file_available":            {"{path}: error if the file exists. Name FileAvailable-<path with - for />.", parseFileAvailable},
		"dir_available":             {"{path}: error if the directory exists and is not empty. Name DirAvailable-<path>.", parseDirAvailable},
		"file_existing":             {"{binary} or {path}: error if the binary is not in PATH (FileExisting-<binary>) or the file does not exist (FileExisting-<path>).", parseFileExisting},
		"file_content":              {"{path, content}: error if the file does not start with content. Name FileContent-<path>.", parseFileContent},
		"http_proxy":                {"{url} or {host, proto=\"https\"}: warning if the URL would go through a proxy (*_PROXY/NO_PROXY of the environment). Name HTTPProxy.", parseHTTPProxy},
		"http_proxy_cidr":           {"{cidr, proto=\"https\"}: warning if the CIDR's first host address would be proxied. Name HTTPProxyCIDR.", parseHTTPProxyCIDR},
		"swap":                      {"warning if /proc/swaps lists swap. Name Swap.", parseSwap},
		"hostname":                  {"{name=<lower-cased hostname>} (alias node_name): warning if not a DNS subdomain or not resolvable. Name Hostname.", parseHostname},
		"kubelet_version":           {"{min=\"" + pfMinKubeletVersion + "\", control_plane_version=\"\"} (alias kubernetes_version): error if `kubelet --version` is unparsable, older than min, or a newer minor than the control plane. Name KubeletVersion.", parseKubeletVersion},
		"cri":                       {"{socket}: error if the CRI RuntimeService Status RPC fails or reports RuntimeReady false (NetworkReady is ignored). Name CRI.", parseCRI},
		"container_runtime_version": {"{socket}: warning if the CRI does not implement the RuntimeConfig RPC (cgroup driver detection), error if the call fails otherwise. Name ContainerRuntimeVersion.", parseContainerRuntimeVersion},
		"image_pull":                {"{socket, images, policy=\"IfNotPresent\" (or \"Always\", \"Never\"), serial=True, sandbox_image=\"\"}: pulls the images through the CRI (IfNotPresent: only missing ones; Never: none); error per image that fails. Skipped in a dry run. Warns (log) when the CRI's sandbox image differs from sandbox_image. Name ImagePull.", parseImagePull},
		"system_verification": {"{kubernetes_version=\"" + pfKubeadmVersion + "\"}: kernel release not 5.4/5.10/5.15/>=6 is a warning; cgroups v1 is an error when the kubelet version is >= 1.35 (a warning before); missing cgroup v2 controllers are errors. Kernel config is not checked. Name SystemVerification.",
			parseSystemVerification},
		"external_files": {"{paths}: error for each file that does not exist. Name ExternalEtcdClientCertificates.", parseExternalFiles},
	}
}

func parsePrivileged(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	return "IsPrivilegedUser", func(c *pfCtx) []pfFinding {
		if c.h.EUID() != 0 {
			return []pfFinding{pfError("user is not running as root")}
		}
		return nil
	}
}

func parseNumCPU(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	min := a.num("min", false, 2)
	return "NumCPU", func(c *pfCtx) []pfFinding {
		if n := c.h.NumCPU(); int64(n) < min {
			return []pfFinding{pfError("the number of available CPUs %d is less than the required %d", n, min)}
		}
		return nil
	}
}

func parseMem(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	min := a.num("min_mb", false, 1700)
	return "Mem", func(c *pfCtx) []pfFinding {
		mb, err := c.h.MemoryMB()
		if err != nil {
			return []pfFinding{pfError("cannot read the system memory: %v", err)}
		}
		if mb < min {
			return []pfFinding{pfError("the system RAM (%d MB) is less than the minimum %d MB", mb, min)}
		}
		return nil
	}
}

func parseKubernetesVersion(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	v := a.str("version", true, "")
	kv := a.str("kubeadm_version", false, pfKubeadmVersion)
	return "KubernetesVersion", func(c *pfCtx) []pfFinding {
		k8s, err := version.ParseSemantic(v)
		if err != nil {
			return []pfFinding{pfError("couldn't parse Kubernetes version %q: %v", v, err)}
		}
		kadm, err := version.ParseSemantic(kv)
		if err != nil {
			return []pfFinding{pfError("couldn't parse kubeadm version %q: %v", kv, err)}
		}
		firstUnsupported := version.MustParseSemantic(fmt.Sprintf("%d.%d.0-0", kadm.Major(), kadm.Minor()+1))
		if k8s.AtLeast(firstUnsupported) {
			return []pfFinding{pfWarning("Kubernetes version is greater than kubeadm version. Please consider to upgrade kubeadm. "+
				"Kubernetes version: %s. Kubeadm version: %d.%d.x", v, kadm.Major(), kadm.Minor())}
		}
		return nil
	}
}

func parseServiceActive(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	unit := a.str("unit", true, "")
	if err := host.CheckServicePolicy("is-active", unit); a.err == nil && unit != "" && err != nil {
		a.err = fmt.Errorf("%s: field \"unit\": %w", a.whereOr(), err)
	}
	ports := a.ints("ports")
	return title(unit), func(c *pfCtx) []pfFinding {
		if err := c.h.Service(c.ctx, "is-active", unit); err != nil {
			return nil // inactive, missing, or state unknown
		}
		if len(ports) > 0 {
			return []pfFinding{pfWarning("%s is active, please ensure ports %v are open or your cluster may not function correctly", unit, ports)}
		}
		return []pfFinding{pfWarning("%s is active", unit)}
	}
}

func parseServiceEnabled(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	unit := a.str("unit", true, "")
	if err := host.CheckServicePolicy("is-enabled", unit); a.err == nil && unit != "" && err != nil {
		a.err = fmt.Errorf("%s: field \"unit\": %w", a.whereOr(), err)
	}
	return "Service-" + title(unit), func(c *pfCtx) []pfFinding {
		err := c.h.Service(c.ctx, "is-enabled", unit)
		switch {
		case err == nil, errors.Is(err, host.ErrNotLive):
			return nil
		case errors.Is(err, host.ErrNoServiceManager):
			return []pfFinding{pfWarning("cannot check whether the %s service is enabled: %v", unit, err)}
		}
		switch c.h.ServiceManager() {
		case "openrc":
			return []pfFinding{pfWarning("%s service is not enabled, please run 'rc-update add %s default'", unit, unit)}
		case "command":
			return []pfFinding{pfWarning("%s service is not enabled according to the service command: %v", unit, err)}
		}
		return []pfFinding{pfWarning("%s service is not enabled, please run 'systemctl enable %s.service'", unit, unit)}
	}
}

func parsePort(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	port := a.num("port", true, 0)
	if a.err == nil && (port < 1 || port > 65535) {
		a.err = fmt.Errorf("%s: field \"port\": %d is not a TCP port (1-65535)", a.whereOr(), port)
	}
	return fmt.Sprintf("Port-%d", port), func(c *pfCtx) []pfFinding {
		free, err := c.h.PortFree(int(port))
		if err != nil {
			return []pfFinding{pfError("cannot check port %d: %v", port, err)}
		}
		if !free {
			return []pfFinding{pfError("Port %d is in use", port)}
		}
		return nil
	}
}

func parseFileAvailable(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	p := a.str("path", true, "")
	return pathName("FileAvailable", p), func(c *pfCtx) []pfFinding {
		if _, err := c.h.Stat(p); err == nil {
			return []pfFinding{pfError("%s already exists", p)}
		}
		return nil
	}
}

func parseDirAvailable(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	p := a.str("path", true, "")
	return pathName("DirAvailable", p), func(c *pfCtx) []pfFinding {
		entries, err := c.h.ReadDir(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return []pfFinding{pfError("unable to check if %s is empty: %v", p, err)}
		}
		if len(entries) > 0 {
			return []pfFinding{pfError("%s is not empty", p)}
		}
		return nil
	}
}

func parseFileExisting(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	bin := a.str("binary", false, "")
	p := a.str("path", false, "")
	if a.err == nil && (bin == "") == (p == "") {
		a.err = fmt.Errorf("%s: give exactly one of \"binary\" (looked up in PATH) or \"path\"", a.whereOr())
	}
	if bin != "" {
		return "FileExisting-" + bin, func(c *pfCtx) []pfFinding {
			if _, err := c.h.LookPath(bin); err != nil {
				return []pfFinding{pfError("%s not found in system path", bin)}
			}
			return nil
		}
	}
	return pathName("FileExisting", p), func(c *pfCtx) []pfFinding {
		if _, err := c.h.Stat(p); err != nil {
			return []pfFinding{pfError("%s doesn't exist", p)}
		}
		return nil
	}
}

func parseFileContent(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	p := a.str("path", true, "")
	want := a.str("content", true, "")
	return pathName("FileContent", p), func(c *pfCtx) []pfFinding {
		b, err := c.h.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return []pfFinding{pfError("%s does not exist", p)}
		}
		if err != nil {
			return []pfFinding{pfError("%v", err)} // the sandbox's refusal, verbatim
		}
		if !strings.HasPrefix(string(b), want) {
			return []pfFinding{pfError("%s contents are not set to %s", p, want)}
		}
		return nil
	}
}

// proxyFor answers like net/http.ProxyFromEnvironment, but over the host's
// environment (so tests and --dry-run see the same thing). CIDRs in
// NO_PROXY are honoured, as the API server's transport does.
func proxyFor(environ []string, u *url.URL) (*url.URL, error) {
	get := func(names ...string) string {
		for _, n := range names {
			for _, kv := range environ {
				if k, v, ok := strings.Cut(kv, "="); ok && k == n && v != "" {
					return v
				}
			}
		}
		return ""
	}
	cfg := &httpproxy.Config{
		HTTPProxy:  get("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: get("HTTPS_PROXY", "https_proxy"),
		NoProxy:    get("NO_PROXY", "no_proxy"),
	}
	return cfg.ProxyFunc()(u)
}

func parseHTTPProxy(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	raw := a.str("url", false, "")
	hostName := a.str("host", false, "")
	proto := a.str("proto", false, "https")
	if a.err == nil && (raw == "") == (hostName == "") {
		a.err = fmt.Errorf("%s: give exactly one of \"url\" or \"host\" (with optional \"proto\")", a.whereOr())
	}
	if hostName != "" {
		if ip := net.ParseIP(hostName); ip != nil && ip.To4() == nil {
			hostName = "[" + hostName + "]"
		}
		raw = proto + "://" + hostName
	}
	if a.err == nil && !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	return "HTTPProxy", func(c *pfCtx) []pfFinding {
		u, err := url.Parse(raw)
		if err != nil {
			return []pfFinding{pfError("cannot parse %q: %v", raw, err)}
		}
		proxy, err := proxyFor(c.h.Environ(), u)
		if err != nil {
			return []pfFinding{pfError("cannot evaluate the proxy for %q: %v", raw, err)}
		}
		if proxy != nil {
			return []pfFinding{pfWarning("Connection to %q uses proxy %q. If that is not intended, adjust your proxy settings", raw, proxy.Redacted())}
		}
		return nil
	}
}

func parseHTTPProxyCIDR(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	cidr := a.str("cidr", true, "")
	proto := a.str("proto", false, "https")
	var target string
	if a.err == nil {
		pfx, err := netip.ParsePrefix(strings.TrimSpace(cidr))
		if err != nil {
			a.err = fmt.Errorf("%s: field \"cidr\": %q is not a CIDR (e.g. 10.96.0.0/12): %v", a.whereOr(), cidr, err)
		} else {
			ip := pfx.Masked().Addr().Next() // the first host address, as kubeadm tests
			target = fmt.Sprintf("%s://%s/", proto, ip)
			if ip.Is6() {
				target = fmt.Sprintf("%s://[%s]:1234/", proto, ip)
			}
		}
	}
	return "HTTPProxyCIDR", func(c *pfCtx) []pfFinding {
		u, _ := url.Parse(target)
		proxy, err := proxyFor(c.h.Environ(), u)
		if err != nil {
			return []pfFinding{pfError("cannot evaluate the proxy for %q: %v", target, err)}
		}
		if proxy != nil {
			return []pfFinding{pfWarning("connection to %q uses proxy %q. This may lead to malfunctional cluster setup. "+
				"Make sure that Pod and Services IP ranges specified correctly as exceptions in proxy configuration", cidr, proxy.Redacted())}
		}
		return nil
	}
}

func parseSwap(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	return "Swap", func(c *pfCtx) []pfFinding {
		b, err := c.h.ReadFile("/proc/swaps")
		if err != nil {
			return nil // no /proc/swaps: nothing to warn about (as kubeadm)
		}
		lines := 0
		for _, l := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(l) != "" {
				lines++
			}
		}
		if lines > 1 {
			return []pfFinding{pfWarning("swap is supported for cgroup v2 only. The kubelet must be properly configured to use swap. " +
				"Please refer to https://kubernetes.io/docs/concepts/architecture/nodes/#swap-memory, or disable swap on the node")}
		}
		return nil
	}
}

func parseHostname(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	name := a.str("name", false, "")
	if alias := a.str("node_name", false, ""); name == "" {
		name = alias
	}
	return "Hostname", func(c *pfCtx) []pfFinding {
		n := name
		if n == "" {
			h, err := c.h.Hostname()
			if err != nil {
				return []pfFinding{pfWarning("cannot read the hostname: %v", err)}
			}
			n = strings.ToLower(strings.TrimSpace(h))
		}
		var out []pfFinding
		for _, msg := range validation.IsDNS1123Subdomain(n) {
			out = append(out, pfWarning("invalid node name format %q: %s", n, msg))
		}
		addrs, err := c.h.LookupHost(n)
		if err != nil {
			out = append(out, pfWarning("hostname %q: %v", n, err))
		} else if len(addrs) == 0 {
			out = append(out, pfWarning("hostname %q could not be reached", n))
		}
		return out
	}
}

var kubeletVersionRE = regexp.MustCompile(`^\s*Kubernetes v((0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)([-0-9a-zA-Z_\.+]*)?)\s*$`)

func parseKubeletVersion(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	min := a.str("min", false, pfMinKubeletVersion)
	cp := a.str("control_plane_version", false, "")
	if alias := a.str("kubernetes_version", false, ""); cp == "" {
		cp = alias
	}
	return "KubeletVersion", func(c *pfCtx) []pfFinding {
		out, err := c.h.Exec(c.ctx, "kubelet", "--version")
		if err != nil {
			return []pfFinding{pfError("couldn't get kubelet version: %v", err)}
		}
		m := kubeletVersionRE.FindStringSubmatch(string(out))
		if m == nil {
			return []pfFinding{pfError("couldn't get kubelet version: cannot parse output of 'kubelet --version': %q", strings.TrimSpace(string(out)))}
		}
		kv, err := version.ParseSemantic(m[1])
		if err != nil {
			return []pfFinding{pfError("couldn't get kubelet version: %v", err)}
		}
		minV, err := version.ParseSemantic(min)
		if err != nil {
			return []pfFinding{pfError("couldn't parse the minimum kubelet version %q: %v", min, err)}
		}
		if kv.LessThan(minV) {
			return []pfFinding{pfError("Kubelet version %q is lower than kubeadm can support. Please upgrade kubelet", kv)}
		}
		if cp != "" {
			k8s, err := version.ParseSemantic(cp)
			if err != nil {
				return []pfFinding{pfError("couldn't parse Kubernetes version %q: %v", cp, err)}
			}
			if kv.Major() > k8s.Major() || kv.Minor() > k8s.Minor() {
				return []pfFinding{pfError("the kubelet version is higher than the control plane version. This is not a supported "+
					"version skew and may lead to a malfunctional cluster. Kubelet version: %q Control plane version: %q", kv, k8s)}
			}
		}
		return nil
	}
}

var kernelReleaseREs = []*regexp.Regexp{
	regexp.MustCompile(`^5\.4.*$`), regexp.MustCompile(`^5\.10.*$`), regexp.MustCompile(`^5\.15.*$`),
	regexp.MustCompile(`^([6-9]|[1-9][0-9]+)\.([0-9]+)\.([0-9]+).*$`),
}

func parseSystemVerification(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	kv := a.str("kubernetes_version", false, pfKubeadmVersion)
	var v1Error bool
	if a.err == nil {
		v, err := version.ParseGeneric(kv)
		if err != nil {
			a.err = fmt.Errorf("%s: field \"kubernetes_version\": %q is not a version: %v", a.whereOr(), kv, err)
		} else {
			v1Error = v.Major() > 1 || v.Minor() >= pfCgroupV1ErrorMinor
		}
	}
	return "SystemVerification", func(c *pfCtx) []pfFinding {
		var out []pfFinding
		rel, err := c.h.KernelRelease()
		if err != nil {
			out = append(out, pfWarning("cannot read the kernel release: %v", err))
		} else if !matchAny(kernelReleaseREs, rel) {
			out = append(out, pfWarning("kernel release %s is unsupported. Recommended LTS versions from the 5.x series are "+
				"5.4, 5.10 and 5.15. Any 6.x version is also supported. For cgroups v2 support, the recommended version is 5.10 or newer", rel))
		}
		return append(out, checkCgroups(c, v1Error)...)
	}
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// checkCgroups reads the cgroup mount through the host's files:
// cgroup.controllers at the root exists only on the v2 unified hierarchy.
func checkCgroups(c *pfCtx, v1Error bool) []pfFinding {
	const root = "/sys/fs/cgroup"
	if _, err := c.h.Stat(root); err != nil {
		return []pfFinding{pfWarning("cannot determine the cgroup version: %v", err)}
	}
	b, err := c.h.ReadFile(root + "/cgroup.controllers")
	if errors.Is(err, fs.ErrNotExist) {
		msg := "the system uses cgroups v1 (" + root + "/cgroup.controllers not found); kubelet >= 1.35 refuses to start " +
			"on cgroups v1 unless its configuration sets failCgroupV1: false. Migrate the node to cgroups v2, or set " +
			"failCgroupV1: false in the kubelet configuration and ignore this check"
		if v1Error {
			return []pfFinding{pfError("%s", msg)}
		}
		return []pfFinding{pfWarning("%s", msg)}
	}
	if err != nil {
		return []pfFinding{pfWarning("cannot read %s/cgroup.controllers: %v", root, err)}
	}
	have := map[string]bool{}
	for _, f := range strings.Fields(string(b)) {
		have[f] = true
	}
	// devices and freezer are built into cgroup v2 (BPF, cgroup.freeze)
	// and never listed in cgroup.controllers.
	var missing []string
	for _, want := range []string{"cpu", "cpuset", "memory", "pids"} {
		if !have[want] {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return []pfFinding{pfError("missing required cgroups: %s (enable them in %s/cgroup.subtree_control)", strings.Join(missing, ", "), root)}
	}
	return nil
}

func parseExternalFiles(a *pfArgs) (string, func(*pfCtx) []pfFinding) {
	paths := a.strs("paths", true)
	return "ExternalEtcdClientCertificates", func(c *pfCtx) []pfFinding {
		var out []pfFinding
		for _, p := range paths {
			if p == "" {
				continue
			}
			if _, err := c.h.Stat(p); err != nil {
				out = append(out, pfError("%s doesn't exist", p))
			}
		}
		return out
	}
}
