package kubeadmconfig

import (
	"fmt"
	"math/big"
	"net"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/version"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"

	"github.com/kubelark/kubelark/internal/valid"
)

// Validators return "" when the value is fine, else a message that says
// what is wrong and how to fix it (the caller adds the field path). They
// follow kubeadm v1.36's validation (cmd/kubeadm/app/apis/kubeadm/validation)
// so a file kubeadm accepts is accepted here and vice versa, except where a
// comment says otherwise.

// checkCIDRs validates a comma-separated list of at most one CIDR per IP
// family (dual-stack), each with at least minAddrs addresses and, when
// maxHostBits > 0, at most that many host bits.
func checkCIDRs(s string, minAddrs int64, maxHostBits int) string {
	parts := strings.Split(s, ",")
	if len(parts) > 2 {
		return fmt.Sprintf("%q has %d CIDRs; give one CIDR, or two (one IPv4 and one IPv6) for dual-stack, separated by a comma", s, len(parts))
	}
	families := map[bool]string{}
	for _, p := range parts {
		ip, n, err := net.ParseCIDR(p)
		if err != nil {
			return fmt.Sprintf("%q is not a valid CIDR (like 10.96.0.0/12 or fd00::/108)", p)
		}
		v6 := ip.To4() == nil
		if prev, dup := families[v6]; dup {
			return fmt.Sprintf("%q and %q are of the same IP family; dual-stack needs one IPv4 and one IPv6 CIDR", prev, p)
		}
		families[v6] = p
		ones, bits := n.Mask.Size()
		size := new(big.Int).Lsh(big.NewInt(1), uint(bits-ones))
		if size.Cmp(big.NewInt(minAddrs)) < 0 {
			return fmt.Sprintf("%q has %s address(es), the minimum is %d; use a larger range", p, size, minAddrs)
		}
		if maxHostBits > 0 && bits-ones > maxHostBits {
			return fmt.Sprintf("%q is too large; for %d-bit addresses the mask must be /%d or longer", p, bits, bits-maxHostBits)
		}
	}
	return ""
}

func checkIP(s string) string {
	if net.ParseIP(s) == nil {
		return fmt.Sprintf("%q is not an IP address", s)
	}
	return ""
}

func checkPort(p int64) string {
	if p < 1 || p > 65535 {
		return fmt.Sprintf("port %d is out of range; use 1-65535", p)
	}
	return ""
}

// checkHostPort validates host[:port] with host an IP or DNS name, like
// kubeadm's ParseHostPort.
func checkHostPort(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = s, ""
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("%q: port %q must be a number between 1 and 65535", s, port)
		}
	}
	if net.ParseIP(host) != nil {
		return ""
	}
	if errs := validation.IsDNS1123Subdomain(host); len(errs) > 0 {
		return fmt.Sprintf("%q: host %q must be an IP address or a DNS name (%s)", s, host, strings.Join(errs, "; "))
	}
	return ""
}

// checkToken validates a bootstrap token without ever echoing it.
func checkToken(s string) string {
	if !bootstraputil.IsValidBootstrapToken(s) {
		return `is not a valid bootstrap token: it must match [a-z0-9]{6}.[a-z0-9]{16} (value not shown: it is a secret); generate one with "kubeadm token generate"`
	}
	return ""
}

// checkDuration validates a metav1.Duration string.
func checkDuration(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Sprintf("%q is not a duration; use Go syntax such as \"24h\", \"90m\" or \"1h30m\"", s)
	}
	if d < 0 {
		return fmt.Sprintf("%q is negative", s)
	}
	return ""
}

func checkAbsPath(s string) string {
	if !path.IsAbs(s) {
		return fmt.Sprintf("%q is not an absolute path; start it with /", s)
	}
	return ""
}

// checkSAN accepts an IP, a DNS name or a wildcard DNS name.
func checkSAN(s string) string {
	if net.ParseIP(s) != nil {
		return ""
	}
	if len(validation.IsDNS1123Subdomain(s)) == 0 || len(validation.IsWildcardDNS1123Subdomain(s)) == 0 {
		return ""
	}
	return fmt.Sprintf("%q is not an IP address, a DNS name or a wildcard DNS name (*.example.com)", s)
}

func checkDNSSubdomain(s string) string {
	if errs := validation.IsDNS1123Subdomain(s); len(errs) > 0 {
		return fmt.Sprintf("%q is not a valid DNS name: %s", s, strings.Join(errs, "; "))
	}
	return ""
}

// The image reference grammar of github.com/distribution/reference, which
// kubeadm uses to check imageRepository.
const (
	domainComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	domainRE        = `(?:` + domainComponent + `(?:\.` + domainComponent + `)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?`
	pathComponent   = `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
)

var (
	repoRE = regexp.MustCompile(`^(?:` + domainRE + `/)?` + pathComponent + `(?:/` + pathComponent + `)*$`)
	tagRE  = regexp.MustCompile(`^[\w][\w.-]{0,127}(?:@sha256:[a-f0-9]{64})?$`)
)

// checkImageRepository checks that "<repo>/name:tag" is a valid reference.
func checkImageRepository(s string) string {
	if !repoRE.MatchString(s + "/name") {
		return fmt.Sprintf("%q is not a valid image repository (like registry.k8s.io or my.registry:5000/k8s); no scheme, lower-case path", s)
	}
	return ""
}

func checkImageTag(s string) string {
	if !tagRE.MatchString(s) {
		return fmt.Sprintf("%q is not a valid image tag (letters, digits, '_', '.', '-'; at most 128 characters)", s)
	}
	return ""
}

// normalizeVersion accepts an exact Kubernetes version with or without the
// leading "v" and returns it with the "v". Version labels (stable-1,
// latest, ci/...) are rejected: resolving them needs the internet, which a
// kubelark run must not need.
func normalizeVersion(s string) (string, string) {
	v := strings.TrimPrefix(s, "v")
	if _, err := version.ParseSemantic(v); err != nil {
		return "", fmt.Sprintf("%q is not an exact version; give one such as v1.36.3 (labels like stable-1 are not resolved)", s)
	}
	return "v" + v, ""
}

// checkCertificateKey validates a hex-encoded 32-byte AES key without
// echoing it.
func checkCertificateKey(s string) string {
	if valid.CertificateKey(s) != nil {
		return fmt.Sprintf("must be 64 hexadecimal characters (a 32-byte AES key), got %d characters (value not shown: it is a secret); create one with \"kubeadm certs certificate-key\"", len(s))
	}
	return ""
}

// normalizeCRISocket mirrors kubeadm: a bare path gets "unix://" (with a
// warning); any scheme other than unix is an error.
func normalizeCRISocket(s string) (norm, warning, errMsg string) {
	if !strings.Contains(s, "://") {
		if !path.IsAbs(s) {
			return "", "", fmt.Sprintf("%q is neither a unix:// URL nor an absolute socket path", s)
		}
		return "unix://" + s, fmt.Sprintf("%q has no URL scheme; using %q (write the scheme to silence this warning)", s, "unix://"+s), ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", "", fmt.Sprintf("%q is not a valid URL: %v", s, err)
	}
	if u.Scheme != "unix" {
		return "", "", fmt.Sprintf("%q: only the unix:// scheme is supported, got %q", s, u.Scheme)
	}
	if u.Path == "" {
		return "", "", fmt.Sprintf("%q has no socket path", s)
	}
	return s, "", ""
}

// caCertHashRE is the only pin format kubeadm accepts.
var caCertHashRE = regexp.MustCompile(`^(?i)sha256:[0-9a-f]{64}$`)

func checkCACertHash(s string) string {
	if !caCertHashRE.MatchString(s) {
		return fmt.Sprintf("%q is not a CA public key pin; the format is sha256:<64 hex characters> (see `kubeadm token create --print-join-command`)", s)
	}
	return ""
}
