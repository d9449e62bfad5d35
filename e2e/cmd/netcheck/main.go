// Command netcheck is the test program of the e2e image
// kubelark.test/netcheck: run in a Pod, it proves the cluster network works
// as a user's workload sees it. It resolves a name through the cluster DNS
// Service (CoreDNS), then calls the API server's /healthz through the
// `kubernetes` Service, once by ClusterIP and once by the name
// kubernetes.default.svc resolved through the Pod's own resolv.conf (search
// path and ndots as the kubelet wrote them), with the service account's CA
// and token. It retries each check until -timeout, prints what it saw and
// exits 0 only when every check passed.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

func main() {
	dnsIP := flag.String("dns", "10.96.0.10", "cluster DNS Service IP to query directly")
	name := flag.String("name", "kubernetes.default.svc.cluster.local", "name to resolve through -dns")
	want := flag.String("want", "10.96.0.1", "address -name must resolve to (\"\" = any)")
	apiIP := flag.String("api", "10.96.0.1", "ClusterIP of the kubernetes Service")
	apiName := flag.String("api-name", "kubernetes.default.svc", "name of the kubernetes Service, resolved with the Pod's resolv.conf")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	ok := true
	check := func(what string, f func(context.Context) (string, error)) {
		var last error
		for {
			c, cancel := context.WithTimeout(ctx, 5*time.Second)
			got, err := f(c)
			cancel()
			if err == nil {
				fmt.Printf("ok   %s: %s\n", what, got)
				return
			}
			if last == nil {
				fmt.Printf("...  %s: %v (retrying)\n", what, err)
			}
			last = err
			select {
			case <-ctx.Done():
				fmt.Printf("FAIL %s: %v\n", what, last)
				ok = false
				return
			case <-time.After(time.Second):
			}
		}
	}

	check(fmt.Sprintf("resolve %s via %s", *name, *dnsIP), func(c context.Context) (string, error) {
		r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, net.JoinHostPort(*dnsIP, "53"))
		}}
		addrs, err := r.LookupHost(c, *name)
		if err != nil {
			return "", err
		}
		if *want != "" && !contains(addrs, *want) {
			return "", fmt.Errorf("got %v, want %s", addrs, *want)
		}
		return strings.Join(addrs, ","), nil
	})

	client, err := apiClient()
	if err != nil {
		fmt.Printf("FAIL service account: %v\n", err)
		os.Exit(1)
	}
	token, _ := os.ReadFile(saDir + "/token")
	for _, host := range []string{*apiIP, *apiName} {
		u := "https://" + net.JoinHostPort(host, "443") + "/healthz"
		check("GET "+u, func(c context.Context) (string, error) {
			req, err := http.NewRequestWithContext(c, http.MethodGet, u, nil)
			if err != nil {
				return "", err
			}
			if len(token) > 0 {
				req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
			}
			resp, err := client.Do(req)
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			if resp.StatusCode != http.StatusOK {
				return "", fmt.Errorf("status %s: %s", resp.Status, body)
			}
			return fmt.Sprintf("%s %q", resp.Status, body), nil
		})
	}
	if !ok {
		os.Exit(1)
	}
	fmt.Println("netcheck: all checks passed")
}

// apiClient trusts only the cluster CA of the service account volume and
// checks the API server certificate for the Service name, as client-go's
// in-cluster configuration does.
func apiClient() (*http.Client, error) {
	ca, err := os.ReadFile(saDir + "/ca.crt")
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%s/ca.crt: no certificate", saDir)
	}
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "kubernetes.default.svc"},
	}}, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
