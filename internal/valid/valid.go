// Package valid holds the syntax checks of kubeadm's typed inputs that both
// the runtime (typed parameters, checked before the first phase) and the
// builtins (net.parse_cidrs, net.split_host_port, duration, the certificate
// key of upload-certs) apply, so the two can never disagree. Errors say what
// is wrong and how to write it; the secret kinds (Token, CertificateKey)
// never quote the value.
package valid

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
)

// Token checks the bootstrap token syntax [a-z0-9]{6}.[a-z0-9]{16}
// (cluster-bootstrap's IsValidBootstrapToken).
func Token(s string) error {
	if bootstraputil.IsValidBootstrapToken(s) {
		return nil
	}
	return errors.New("not a bootstrap token: write 6 lower-case letters or digits, a dot, and 16 more, e.g. abcdef.0123456789abcdef (kubeadm token generate prints one)")
}

// CertificateKey checks a certificate key of upload-certs: 32 bytes as 64
// hex characters.
func CertificateKey(s string) error {
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return nil
	}
	return errors.New("a certificate key is 64 hex characters (32 bytes), as printed by certificate_key() or `kubeadm certs certificate-key`")
}

// Duration parses a Go duration ("24h", "4m0s").
func Duration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; use Go syntax like \"500ms\", \"90s\", \"4m0s\" or \"1h30m\"", s)
	}
	return d, nil
}

// IP checks an IP address literal.
func IP(s string) error {
	if net.ParseIP(s) == nil {
		return fmt.Errorf("%q is not an IP address; write e.g. 192.168.0.10 or fd00::10", s)
	}
	return nil
}

// CIDRList applies kubeadm's rule for serviceSubnet and podSubnet: one
// CIDR, or a comma-separated dual-stack pair with one CIDR of each family.
// An empty (or blank) string is an empty list.
func CIDRList(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]string, 0, len(parts))
	var seen [2]string // [0] IPv4, [1] IPv6
	for i, part := range parts {
		c := strings.TrimSpace(part)
		if c == "" {
			return nil, fmt.Errorf("%q: entry %d is empty; separate CIDRs with single commas", s, i+1)
		}
		ip, _, err := net.ParseCIDR(c)
		if err != nil {
			return nil, fmt.Errorf("%q: %q is not a CIDR; write address/prefix, e.g. 10.96.0.0/12 or fd00::/108", s, c)
		}
		fam, famName := 0, "IPv4"
		if ip.To4() == nil {
			fam, famName = 1, "IPv6"
		}
		if seen[fam] != "" {
			return nil, fmt.Errorf("%q: %s and %s are both %s; dual-stack allows at most one IPv4 and one IPv6 CIDR", s, seen[fam], c, famName)
		}
		seen[fam] = c
		out = append(out, c)
	}
	return out, nil
}

// HostPort splits host[:port] as kubeadm's ParseHostPort does: no port (or
// an unbracketed IPv6 address) means the whole string is the host, port 0.
// The host must be an IP address or a lower-case RFC 1123 DNS name, the
// port 1-65535.
func HostPort(s string) (string, int, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = s, ""
		if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			host = s[1 : len(s)-1]
		}
	}
	if host == "" {
		return "", 0, fmt.Errorf("%q has no host; write host:port, e.g. cp.example.com:6443 or [fd00::1]:6443", s)
	}
	if net.ParseIP(host) == nil && len(validation.IsDNS1123Subdomain(host)) > 0 {
		return "", 0, fmt.Errorf("%q: host %q must be an IP address or a lower-case RFC 1123 DNS name (bracket IPv6 addresses with a port: [fd00::1]:6443)", s, host)
	}
	if port == "" {
		return host, 0, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("%q: port %q must be a number between 1 and 65535", s, port)
	}
	return host, n, nil
}
