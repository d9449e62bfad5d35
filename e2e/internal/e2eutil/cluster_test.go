package e2eutil

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestCNIConflist checks the conflist is valid JSON whose bridge hands out
// addresses from the given Pod CIDR only.
func TestCNIConflist(t *testing.T) {
	var c struct {
		CNIVersion string `json:"cniVersion"`
		Plugins    []struct {
			Type string `json:"type"`
			IPAM struct {
				Type   string `json:"type"`
				Ranges [][]struct {
					Subnet string `json:"subnet"`
				} `json:"ranges"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal([]byte(CNIConflist("10.244.1.0/24")), &c); err != nil {
		t.Fatalf("conflist is not JSON: %v\n%s", err, CNIConflist("10.244.1.0/24"))
	}
	if len(c.Plugins) != 2 || c.Plugins[0].Type != "bridge" || c.Plugins[1].Type != "portmap" {
		t.Fatalf("plugins %+v, want bridge then portmap", c.Plugins)
	}
	ipam := c.Plugins[0].IPAM
	if ipam.Type != "host-local" || len(ipam.Ranges) != 1 || len(ipam.Ranges[0]) != 1 || ipam.Ranges[0][0].Subnet != "10.244.1.0/24" {
		t.Errorf("ipam %+v, want host-local with the one range 10.244.1.0/24", ipam)
	}
}

func TestWorkerImages(t *testing.T) {
	all := []string{"/c/images/kube-apiserver.tar", "/c/images/pause.tar", "/c/images/etcd.tar", "/c/images/kube-proxy.tar",
		"/c/images/coredns.tar", "/c/images/netcheck.tar", "/c/images/kube-scheduler.tar"}
	want := []string{"/c/images/pause.tar", "/c/images/kube-proxy.tar", "/c/images/coredns.tar", "/c/images/netcheck.tar"}
	if got := WorkerImages(all); !reflect.DeepEqual(got, want) {
		t.Errorf("WorkerImages = %v, want %v", got, want)
	}
}
