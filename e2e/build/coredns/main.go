// Command coredns is CoreDNS v1.14.2 (the version kubeadm v1.36.3 deploys),
// built from its release module so the e2e nodes need no registry. It is
// CoreDNS's own main with a smaller plugin set: the plugins of the Corefile
// kubeadm writes (errors, health, ready, kubernetes, prometheus, forward,
// cache, loop, reload, loadbalance) plus log, hosts and rewrite for
// debugging. The full set (core/plugin) pulls in the cloud DNS SDKs, which
// would add many minutes to a cold build on a small machine and nothing the
// kubeadm Corefile uses. The plugin order is CoreDNS's (core/dnsserver's
// directive list), so a Corefile behaves as with the upstream image.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/rewrite"
)

func main() {
	coremain.Run()
}
