package valid

import (
	"strings"
	"testing"
)

func TestValidators(t *testing.T) {
	ok := []error{
		Token("abcdef.0123456789abcdef"),
		CertificateKey(strings.Repeat("0f", 32)),
		IP("fd00::1"),
	}
	for i, err := range ok {
		if err != nil {
			t.Errorf("ok[%d]: %v", i, err)
		}
	}
	if _, err := Duration("4m0s"); err != nil {
		t.Error(err)
	}
	if c, err := CIDRList("10.96.0.0/12, fd00::/108"); err != nil || len(c) != 2 {
		t.Errorf("CIDRList = %v, %v", c, err)
	}
	if h, p, err := HostPort("[fd00::1]:6443"); err != nil || h != "fd00::1" || p != 6443 {
		t.Errorf("HostPort = %q %d %v", h, p, err)
	}
	if h, p, err := HostPort("cp.example.com"); err != nil || h != "cp.example.com" || p != 0 {
		t.Errorf("HostPort = %q %d %v", h, p, err)
	}
	// The secret kinds never quote the value.
	for _, err := range []error{Token("abcdef.0123456789ABCDEX"), CertificateKey("secretsecret")} {
		if err == nil || strings.Contains(err.Error(), "ABCDEX") || strings.Contains(err.Error(), "secretsecret") {
			t.Errorf("err = %v", err)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "10.0.0.0/8,10.1.0.0/16", "a,,b"} {
		if _, err := CIDRList(bad); err == nil {
			t.Errorf("CIDRList(%q) accepted", bad)
		}
	}
	for _, bad := range []string{":6443", "Bad_Host:1", "cp:0", "cp:http"} {
		if _, _, err := HostPort(bad); err == nil {
			t.Errorf("HostPort(%q) accepted", bad)
		}
	}
}
