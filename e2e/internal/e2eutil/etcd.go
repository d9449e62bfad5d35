package e2eutil

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kubelark/kubelark/e2e/node"
)

// EtcdHTTPClient is an HTTPS client for the etcd of node n (its gRPC
// gateway, so the e2e module needs no etcd client), authenticated with the
// API server's etcd client certificate and verifying with the etcd CA,
// both read from n, dialling inside n.
func EtcdHTTPClient(n *node.Node, timeout time.Duration) (*http.Client, error) {
	var files [3][]byte
	for i, p := range []string{"/etc/kubernetes/pki/apiserver-etcd-client.crt", "/etc/kubernetes/pki/apiserver-etcd-client.key", "/etc/kubernetes/pki/etcd/ca.crt"} {
		b, err := n.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("etcd client of %s: %w", n.Name, err)
		}
		files[i] = b
	}
	pair, err := tls.X509KeyPair(files[0], files[1])
	if err != nil {
		return nil, fmt.Errorf("etcd client certificate of %s: %w", n.Name, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(files[2]) {
		return nil, fmt.Errorf("no certificate in %s's etcd/ca.crt", n.Name)
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext:     n.DialContext,
		TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool},
	}}, nil
}

// EtcdCall sends body ("" = none) to url and decodes a 200 answer into out
// (nil = not decoded); another status is an error with the answer's body.
func EtcdCall(ctx context.Context, c *http.Client, method, url, body string, out any) error {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}
