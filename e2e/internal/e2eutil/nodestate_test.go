package e2eutil

import (
	"reflect"
	"testing"
)

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{
		"/var/lib/kubelet":               "/var/lib/kubelet",
		`/var/lib/kubelet/a\040b`:        "/var/lib/kubelet/a b",
		`/x\134y`:                        `/x\y`,
		`/trailing\04`:                   `/trailing\04`,
		`/var/lib/kubelet/pods/u\011tab`: "/var/lib/kubelet/pods/u\ttab",
	} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAdded(t *testing.T) {
	before := Listing{"/etc/kubernetes": {Kind: "dir"}, "/var/lib/etcd": {Kind: "dir"}}
	after := Listing{
		"/etc/kubernetes":            {Kind: "dir"},
		"/etc/kubernetes/pki":        {Kind: "dir"},
		"/etc/kubernetes/admin.conf": {Kind: "file", Size: 5},
		"/var/lib/etcd":              {Kind: "symlink"},
	}
	dirs, files := Added(before, after)
	if !reflect.DeepEqual(dirs, []string{"/etc/kubernetes/pki"}) {
		t.Errorf("dirs %q", dirs)
	}
	want := []string{"/etc/kubernetes/admin.conf (file, 5 bytes)", "/var/lib/etcd (symlink, 0 bytes)"}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("files %q, want %q", files, want)
	}
}
