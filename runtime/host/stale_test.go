package host

import (
	"reflect"
	"testing"
)

func TestIsStaleTemp(t *testing.T) {
	for name, want := range map[string]bool{
		".ca.key.kubelark-1746733187": true,
		".etcd.yaml.kubelark-42":      true,
		"ca.key.kubelark-42":          false, // not hidden
		".kubelark-42":                false, // no target name
		".ca.key.kubelark-":           false,
		".ca.key.kubelark-12x":        false,
		"ca.kubelark-pending":         false, // gen_cert's marker
		".ca.key":                     false,
	} {
		if got := IsStaleTemp(name); got != want {
			t.Errorf("IsStaleTemp(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestRemoveStaleTemps(t *testing.T) {
	f := NewFake()
	f.Put("/etc/kubernetes/pki/.ca.key.kubelark-1", []byte("x"), 0o600)
	f.Put("/etc/kubernetes/pki/etcd/.peer.crt.kubelark-2", []byte("x"), 0o644)
	f.Put("/etc/kubernetes/pki/ca.key", []byte("x"), 0o600)
	f.Put("/etc/other/.a.kubelark-3", []byte("x"), 0o600) // outside the roots
	got, err := RemoveStaleTemps(f, []string{"/etc/kubernetes", "/var/lib/etcd"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/etc/kubernetes/pki/.ca.key.kubelark-1", "/etc/kubernetes/pki/etcd/.peer.crt.kubelark-2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("removed %q, want %q", got, want)
	}
	for _, p := range want {
		if _, _, ok := f.Get(p); ok {
			t.Errorf("%s still there", p)
		}
	}
	for _, p := range []string{"/etc/kubernetes/pki/ca.key", "/etc/other/.a.kubelark-3"} {
		if _, _, ok := f.Get(p); !ok {
			t.Errorf("%s was removed", p)
		}
	}
}
