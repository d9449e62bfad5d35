package builtins

import (
	"testing"

	"github.com/kubelark/kubelark/runtime/host"
)

func TestNetFunctions(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`net.cidr_ip("10.96.0.0/12", 1)`, `"10.96.0.1"`},
		{`net.cidr_ip("10.96.0.0/12", 10)`, `"10.96.0.10"`},
		{`net.cidr_ip("10.96.0.0/12", 0)`, `"10.96.0.0"`},
		{`net.cidr_ip("10.96.0.5/12", 10)`, `"10.96.0.10"`}, // host bits ignored
		{`net.cidr_ip("10.0.0.0/24", 255)`, `"10.0.0.255"`},
		{`net.cidr_ip("10.0.0.0/23", 256)`, `"10.0.1.0"`},
		{`net.cidr_ip(" 192.168.0.0/16", 300)`, `"192.168.1.44"`},
		{`net.cidr_ip("fd00:10:96::/112", 10)`, `"fd00:10:96::a"`},
		{`net.cidr_ip("fd00::/8", 0x10000000000000000)`, `"fd00:0:0:1::"`}, // index 2^64, beyond int64
		{`net.cidr_ip("0.0.0.0/0", 4294967295)`, `"255.255.255.255"`},
		{`net.is_ipv6("::1")`, `True`},
		{`net.is_ipv6("fd00::/108")`, `True`},
		{`net.is_ipv6("10.0.0.1")`, `False`},
		{`net.is_ipv6("10.96.0.0/12")`, `False`},
		{`net.is_ipv6("::ffff:10.0.0.1")`, `False`},
		{`net.is_ip("10.0.0.1")`, `True`},
		{`net.is_ip("2001:db8::1")`, `True`},
		{`net.is_ip("[::1]")`, `False`},
		{`net.is_ip("10.0.0.0/8")`, `False`},
		{`net.is_ip("example.com")`, `False`},
		{`net.is_ip("")`, `False`},
		{`net.join_host_port("10.0.0.1", 6443)`, `"10.0.0.1:6443"`},
		{`net.join_host_port("fd00::1", 6443)`, `"[fd00::1]:6443"`},
		{`net.join_host_port("cp.example.com", "443")`, `"cp.example.com:443"`},
		{`net.split_host_port("10.0.0.1:6443")`, `("10.0.0.1", 6443)`},
		{`net.split_host_port("[fd00::1]:6443")`, `("fd00::1", 6443)`},
		{`net.split_host_port("[fd00::1]")`, `("fd00::1", None)`},
		{`net.split_host_port("fd00::1")`, `("fd00::1", None)`},
		{`net.split_host_port("cp.example.com")`, `("cp.example.com", None)`},
		{`net.split_host_port("cp.example.com:443")`, `("cp.example.com", 443)`},
		{`net.is_dns_subdomain("cp.example.com")`, `True`},
		{`net.is_dns_subdomain("node1")`, `True`},
		{`net.is_dns_subdomain("Node1")`, `False`},
		{`net.is_dns_subdomain("*.example.com")`, `False`},
		{`net.is_dns_subdomain("a_b")`, `False`},
		{`net.is_dns_subdomain("")`, `False`},
		{`net.is_wildcard_dns("*.example.com")`, `True`},
		{`net.is_wildcard_dns("example.com")`, `False`},
		{`net.is_wildcard_dns("*.*.example.com")`, `False`},
		{`net.parse_cidrs("")`, `[]`},
		{`net.parse_cidrs("10.96.0.0/12")`, `["10.96.0.0/12"]`},
		{`net.parse_cidrs("10.96.0.0/12, fd00:10:96::/112")`, `["10.96.0.0/12", "fd00:10:96::/112"]`},
		{`net.parse_cidrs("fd00::/108,10.96.0.0/12")`, `["fd00::/108", "10.96.0.0/12"]`},
		{`net.parse_cidrs([" 10.96.0.0/12", "fd00::/108"])`, `["10.96.0.0/12", "fd00::/108"]`},
		{`net.parse_cidrs([])`, `[]`},
		{`net.split_host_port("cp.example.com:443", what = "control_plane_endpoint")`, `("cp.example.com", 443)`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			run := mustExecStar(t, host.NewFake(), "x = "+tc.expr)
			if got := run.globals["x"].String(); got != tc.want {
				t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
			}
		})
	}
}

func TestNetErrors(t *testing.T) {
	h := host.NewFake()
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`net.cidr_ip("10.0.0.0/24", 256)`, []string{"net.cidr_ip: index 256 is outside 10.0.0.0/24, which has 256 addresses (0..255)"}},
		{`net.cidr_ip("fd00::/120", 300)`, []string{"outside fd00::/120"}},
		{`net.cidr_ip("10.0.0.0/24", -1)`, []string{"index -1 is negative"}},
		{`net.cidr_ip("10.0.0.1", 1)`, []string{`"10.0.0.1" is not a CIDR`}},
		{`net.cidr_ip("10.96.0.0/12,fd00::/108", 1)`, []string{"is a list of CIDRs", "net.parse_cidrs(s)[0]"}},
		{`net.cidr_ip("10.0.0.0/24", "1")`, []string{"net.cidr_ip", "n"}},
		{`net.is_ipv6("node1")`, []string{`net.is_ipv6: "node1" is neither an IP address nor a CIDR`}},
		{`net.join_host_port("h", 70000)`, []string{"port 70000 is out of range"}},
		{`net.join_host_port("h", "http")`, []string{`port "http" is not a number`}},
		{`net.join_host_port("", 1)`, []string{"host is empty"}},
		{`net.split_host_port("h:0")`, []string{`port "0" must be a number between 1 and 65535`}},
		{`net.split_host_port("h:https")`, []string{`port "https"`}},
		{`net.split_host_port(":6443")`, []string{"has no host"}},
		{`net.split_host_port("")`, []string{"has no host"}},
		{`net.split_host_port("Bad_Host:6443")`, []string{`host "Bad_Host" must be an IP address or a lower-case RFC 1123 DNS name`}},
		{`net.parse_cidrs("10.96.0.0/12,10.97.0.0/16")`, []string{"10.96.0.0/12 and 10.97.0.0/16 are both IPv4", "at most one IPv4 and one IPv6"}},
		{`net.parse_cidrs("fd00::/108,fd01::/108")`, []string{"both IPv6"}},
		{`net.parse_cidrs("10.96.0.0/12,,fd00::/108")`, []string{"entry 2 is empty"}},
		{`net.parse_cidrs("10.96.0.0")`, []string{`"10.96.0.0" is not a CIDR`}},
		{`net.parse_cidrs("10.96.0.0", what = "service_subnet")`, []string{`service_subnet: "10.96.0.0": "10.96.0.0" is not a CIDR`}},
		{`net.parse_cidrs(["10.96.0.0/12", "10.97.0.0/16"], what = "pod_subnet")`, []string{`pod_subnet: "10.96.0.0/12,10.97.0.0/16": 10.96.0.0/12 and 10.97.0.0/16 are both IPv4`}},
		{`net.parse_cidrs(["10.96.0.0/12,fd00::/108"])`, []string{"net.parse_cidrs: list entry", "holds a comma"}},
		{`net.parse_cidrs([1])`, []string{"net.parse_cidrs"}},
		{`net.parse_cidrs(1)`, []string{"net.parse_cidrs: got int, want a comma-separated string or a list of CIDRs"}},
		{`net.split_host_port("a:b:c", what = "control_plane_endpoint")`, []string{`control_plane_endpoint: "a:b:c": host "a:b:c" must be an IP address`}},
		{`net.split_host_port("h:99999", what = "control_plane_endpoint")`, []string{`control_plane_endpoint: "h:99999": port "99999"`}},
	} {
		t.Run(tc.expr, func(t *testing.T) { wantErr(t, h, tc.expr, tc.want...) })
	}
}
