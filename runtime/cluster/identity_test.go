package cluster

import (
	"strings"
	"testing"
)

func TestClientIdentity(t *testing.T) {
	kc := []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443", insecure-skip-tls-verify: true}}]
users: [{name: kubernetes-admin, user: {client-certificate-data: QUJD, client-key-data: QUJD}}]
contexts: [{name: x, context: {cluster: c, user: kubernetes-admin}}]
current-context: x
`)
	f := NewDryRun(nil)
	c, err := f.ForKubeconfig(kc, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Identity(); got != "user kubernetes-admin (client certificate)" {
		t.Errorf("kubeconfig identity = %q", got)
	}
	c, err = f.ForToken("https://10.0.0.1:6443", []byte("CA"), "abcdef.0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Identity(); got != "bootstrap token abcdef" {
		t.Errorf("token identity = %q", got)
	}
	c, _ = f.ForToken("https://10.0.0.1:6443", []byte("CA"), "opaque-service-account-token")
	if got := c.Identity(); got != "bearer token" || strings.Contains(got, "opaque") {
		t.Errorf("bearer identity = %q", got)
	}
	c, _ = f.Anonymous("https://10.0.0.1:6443", nil, true)
	if got := c.Identity(); got != "anonymous (server not verified)" {
		t.Errorf("anonymous identity = %q", got)
	}
	l := NewLive(LiveOptions{})
	if c, err = l.Anonymous("https://10.0.0.1:6443", nil, true); err != nil || c.Identity() != "anonymous (server not verified)" {
		t.Errorf("live anonymous identity = %v %v", c, err)
	}
	tokenKC := strings.Replace(string(kc), "{client-certificate-data: QUJD, client-key-data: QUJD}", "{token: abcdef.0123456789abcdef}", 1)
	if c, err = l.ForKubeconfig([]byte(tokenKC), ""); err != nil || c.Identity() != "user kubernetes-admin (bootstrap token abcdef)" {
		t.Errorf("live kubeconfig identity = %v %v", c, err)
	}
}
