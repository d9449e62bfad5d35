package builtins

import (
	"fmt"
	"math/big"
	"net"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubelark/kubelark/internal/valid"
	"github.com/kubelark/kubelark/runtime"
)

// The net module: pure address helpers recipes need for kubeadm's address
// policy (the kubernetes Service VIP is the 1st address of the service
// CIDR, the DNS IP the 10th; IPv6 endpoints are bracketed; SANs are IPs or
// DNS names). Starlark has no address arithmetic of its own.

func init() { families = append(families, registerNet) }

// whatArg documents the optional argument that names the input in errors,
// so that a recipe validating a parameter reports the parameter, not the
// builtin (Starlark cannot catch an error to reword it).
var whatArg = runtime.Arg{Name: "what", Type: "string", Doc: "names the value in errors, e.g. the parameter it came from (\"pod_subnet\"); default: the builtin's name"}

// errPrefix is what an error of builtin b starts with: what, when given.
func errPrefix(b *starlark.Builtin, what string) string {
	if what != "" {
		return what
	}
	return b.Name()
}

func registerNet(r *runtime.Registry) {
	pure := "Pure: nothing is recorded."
	for _, b := range []*runtime.Builtin{
		{
			Name: "net.cidr_ip", Signature: "net.cidr_ip(cidr, n)",
			Doc: "Returns the n-th address of a CIDR as a string (n=0 is the network address). net.cidr_ip(\"10.96.0.0/12\", 10) == \"10.96.0.10\". " +
				"Host bits of cidr are ignored, like kubeadm's GetIndexedIP. Errors if n is negative or outside the CIDR.",
			Args: []runtime.Arg{{Name: "cidr", Type: "string", Doc: "one CIDR (take the first of a dual-stack list with net.parse_cidrs(s)[0])"}, {Name: "n", Type: "int", Doc: "index >= 0"}},
			Fn:   netCIDRIP,
		},
		{
			Name: "net.is_ipv6", Signature: "net.is_ipv6(s)",
			Doc:  "Reports whether s is an IPv6 address or an IPv6 CIDR (IPv4-mapped addresses count as IPv4). Errors if s is neither an IP address nor a CIDR.",
			Args: []runtime.Arg{{Name: "s", Type: "string", Doc: "address or CIDR"}},
			Fn:   netIsIPv6,
		},
		{
			Name: "net.is_ip", Signature: "net.is_ip(s)",
			Doc:  "Reports whether s is an IPv4 or IPv6 address (no brackets, no zone, no prefix length).",
			Args: []runtime.Arg{{Name: "s", Type: "string"}},
			Fn:   netIsIP,
		},
		{
			Name: "net.join_host_port", Signature: "net.join_host_port(host, port)",
			Doc:  "Joins host and port, bracketing IPv6 addresses: (\"::1\", 6443) -> \"[::1]:6443\".",
			Args: []runtime.Arg{{Name: "host", Type: "string"}, {Name: "port", Type: "int or string", Doc: "0..65535"}},
			Fn:   netJoinHostPort,
		},
		{
			Name: "net.split_host_port", Signature: `net.split_host_port(s, what="")`,
			Doc: "Splits \"host:port\", \"[v6]:port\", a bare host or a bare IPv6 address into (host, port) with port an int, or None when s has no port. " +
				"Like kubeadm's ParseHostPort, the host must be an IP address or an RFC 1123 DNS subdomain and the port 1..65535.",
			Args: []runtime.Arg{{Name: "s", Type: "string", Doc: "e.g. a controlPlaneEndpoint"}, whatArg},
			Fn:   netSplitHostPort,
		},
		{
			Name: "net.is_dns_subdomain", Signature: "net.is_dns_subdomain(s)",
			Doc:  "Reports whether s is an RFC 1123 DNS subdomain (lower case, at most 253 characters), as Kubernetes validates names and DNS SANs.",
			Args: []runtime.Arg{{Name: "s", Type: "string"}},
			Fn:   netIsDNSSubdomain,
		},
		{
			Name: "net.is_wildcard_dns", Signature: "net.is_wildcard_dns(s)",
			Doc:  "Reports whether s is a wildcard DNS subdomain such as \"*.example.com\" (accepted by kubeadm as a certificate SAN).",
			Args: []runtime.Arg{{Name: "s", Type: "string"}},
			Fn:   netIsWildcardDNS,
		},
		{
			Name: "net.parse_cidrs", Signature: `net.parse_cidrs(s, what="")`,
			Doc: "Splits a comma-separated CIDR list (a serviceSubnet or podSubnet), or takes a list of CIDR strings, and returns the trimmed CIDRs, validating each. " +
				"Dual-stack allows at most one IPv4 and one IPv6 CIDR. The empty string and the empty list give [].",
			Args: []runtime.Arg{{Name: "s", Type: "string or list", Doc: "e.g. \"10.96.0.0/12,fd00:10:96::/112\" or [\"10.96.0.0/12\"]"}, whatArg},
			Fn:   netParseCIDRs,
		},
	} {
		b.DryRun = pure
		r.Add(b)
	}
}

func netCIDRIP(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var cidr string
	var n starlark.Int
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "cidr", &cidr, "n", &n); err != nil {
		return nil, err
	}
	if strings.Contains(cidr, ",") {
		return nil, fmt.Errorf("%s: %q is a list of CIDRs; pass one, e.g. net.parse_cidrs(s)[0]", b.Name(), cidr)
	}
	_, ipnet, err := net.ParseCIDR(strings.TrimSpace(cidr))
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not a CIDR; write it as address/prefix, e.g. 10.96.0.0/12 or fd00::/108", b.Name(), cidr)
	}
	idx := n.BigInt()
	if idx.Sign() < 0 {
		return nil, fmt.Errorf("%s: index %s is negative; the first address of %s is index 0", b.Name(), n, ipnet)
	}
	ones, bits := ipnet.Mask.Size()
	size := new(big.Int).Lsh(big.NewInt(1), uint(bits-ones))
	if idx.Cmp(size) >= 0 {
		return nil, fmt.Errorf("%s: index %s is outside %s, which has %s addresses (0..%s); use a larger CIDR or a smaller index", b.Name(), n, ipnet, size, new(big.Int).Sub(size, big.NewInt(1)))
	}
	base := ipnet.IP
	sum := new(big.Int).Add(new(big.Int).SetBytes(base), idx)
	out := make(net.IP, len(base))
	sum.FillBytes(out)
	return starlark.String(out.String()), nil
}

func netIsIPv6(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s); err != nil {
		return nil, err
	}
	ip := net.ParseIP(s)
	if ip == nil {
		var err error
		if ip, _, err = net.ParseCIDR(s); err != nil {
			return nil, fmt.Errorf("%s: %q is neither an IP address nor a CIDR; check it with net.is_ip first when it may be a host name", b.Name(), s)
		}
	}
	return starlark.Bool(ip.To4() == nil), nil
}

func netIsIP(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s); err != nil {
		return nil, err
	}
	return starlark.Bool(net.ParseIP(s) != nil), nil
}

func netJoinHostPort(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var host string
	var port starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "host", &host, "port", &port); err != nil {
		return nil, err
	}
	if host == "" {
		return nil, fmt.Errorf("%s: host is empty; pass an IP address or DNS name", b.Name())
	}
	var p int64
	switch v := port.(type) {
	case starlark.Int:
		var ok bool
		if p, ok = v.Int64(); !ok {
			p = -1
		}
	case starlark.String:
		var err error
		if p, err = strconv.ParseInt(string(v), 10, 32); err != nil {
			return nil, fmt.Errorf("%s: port %q is not a number; pass an int such as 6443", b.Name(), string(v))
		}
	default:
		return nil, fmt.Errorf("%s: port is a %s; pass an int such as 6443", b.Name(), port.Type())
	}
	if p < 0 || p > 65535 {
		return nil, fmt.Errorf("%s: port %s is out of range 0..65535", b.Name(), port)
	}
	return starlark.String(net.JoinHostPort(host, strconv.FormatInt(p, 10))), nil
}

func netSplitHostPort(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s, what string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s, "what?", &what); err != nil {
		return nil, err
	}
	host, port, err := valid.HostPort(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", errPrefix(b, what), err)
	}
	portV := starlark.Value(starlark.None)
	if port != 0 {
		portV = starlark.MakeInt(port)
	}
	return starlark.Tuple{starlark.String(host), portV}, nil
}

func netIsDNSSubdomain(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s); err != nil {
		return nil, err
	}
	return starlark.Bool(len(validation.IsDNS1123Subdomain(s)) == 0), nil
}

func netIsWildcardDNS(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s); err != nil {
		return nil, err
	}
	return starlark.Bool(len(validation.IsWildcardDNS1123Subdomain(s)) == 0), nil
}

func netParseCIDRs(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	var what string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &v, "what?", &what); err != nil {
		return nil, err
	}
	var s string
	switch x := v.(type) {
	case starlark.String:
		s = string(x)
	case *starlark.List, starlark.Tuple:
		items, err := Strings(errPrefix(b, what), x)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if strings.Contains(it, ",") {
				return nil, fmt.Errorf("%s: list entry %q holds a comma; give one CIDR per entry", errPrefix(b, what), it)
			}
		}
		s = strings.Join(items, ",")
	default:
		return nil, fmt.Errorf("%s: got %s, want a comma-separated string or a list of CIDRs", errPrefix(b, what), v.Type())
	}
	cidrs, err := splitCIDRList(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", errPrefix(b, what), err)
	}
	out := make([]starlark.Value, len(cidrs))
	for i, c := range cidrs {
		out[i] = starlark.String(c)
	}
	return starlark.NewList(out), nil
}

// splitCIDRList applies kubeadm's rule for serviceSubnet and podSubnet
// (valid.CIDRList, the rule typed parameters are checked with too).
func splitCIDRList(s string) ([]string, error) { return valid.CIDRList(s) }
