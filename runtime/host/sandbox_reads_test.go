package host

import (
	"errors"
	"strings"
	"testing"
)

// Reads are confined to the write roots, ReadOnlyPaths and the user's read
// paths; every other read is an *OutsideRootsError saying how to allow it.
func TestSandboxReadsConfined(t *testing.T) {
	f := NewFake()
	for _, p := range []string{"/etc/shadow", "/etc/kubernetes/pki/ca.crt", "/proc/sys/net/ipv4/ip_forward", "/etc/etcd/ca.crt", "/etc/etcd/other.key"} {
		f.Put(p, []byte("x"), 0o600)
	}
	s, err := NewSandbox(f, SandboxOptions{AllowReads: []string{"/etc/etcd/ca.crt"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/etc/kubernetes/pki/ca.crt", "/proc/sys/net/ipv4/ip_forward", "/etc/etcd/ca.crt"} {
		if _, err := s.ReadFile(p); err != nil {
			t.Errorf("read %s: %v", p, err)
		}
	}
	for _, p := range []string{"/etc/shadow", "/etc/etcd/other.key", "/etc/kubernetes/../shadow", "/proc/1/environ"} {
		_, err := s.ReadFile(p)
		var oe *OutsideRootsError
		if !errors.As(err, &oe) || !oe.ReadOnly || !strings.Contains(err.Error(), "--allow-read") {
			t.Errorf("read %s: %v, want a refusal naming --allow-read", p, err)
		}
	}
	if _, err := s.Stat("/root/.ssh"); err == nil || !strings.Contains(err.Error(), "refusing to stat /root/.ssh") {
		t.Errorf("stat: %v", err)
	}
	if _, err := s.ReadDir("/home"); err == nil || !strings.Contains(err.Error(), "refusing to list /home") {
		t.Errorf("readdir: %v", err)
	}
}

func TestRootPolicy(t *testing.T) {
	for r, want := range map[string]string{
		"/":                     "contains",
		"/etc":                  "shared with the rest of the system",
		"/var/lib":              "shared with the rest of the system",
		"/tmp":                  "shared with the rest of the system",
		"/usr":                  "where nothing may be written",
		"/usr/local/bin":        "is under /usr",
		"/root/.ssh":            "is under /root",
		"/home/alice":           "is under /home",
		"/etc/ssh":              "where nothing may be written",
		"/etc/systemd/system":   "is under /etc/systemd",
		"/run":                  "where nothing may be written",
		"/var/lib/etcd-vz":      "",
		"/etc/kubernetes/pki-x": "",
		"/opt/etcd":             "",
		"/data/kubelet":         "",
		"/tmp/scratch":          "",
		"/srv/alice/etcd":       "is under /srv/alice", // the invoking user's $HOME
	} {
		err := checkRootPolicy(r, []string{"/srv/alice"})
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v, want allowed", r, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want %q", r, err, want)
		}
	}
}

// The user's roots widen the sandbox once; one already inside a root adds
// nothing; a refused one names its source.
func TestSandboxAllowUserRoots(t *testing.T) {
	s, err := NewSandbox(NewFake(), SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	added, err := s.AllowUserRoots([]UserRoot{
		{Path: "/var/lib/etcd-vz", Source: "--config ClusterConfiguration.etcd.local.dataDir"},
		{Path: "/etc/kubernetes/pki-x", Source: "--set cert_dir"},
		{Path: "/etc/etcd/ca.crt", Source: "--config ClusterConfiguration.etcd.external.caFile", Read: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 2 || added[0].Path != "/var/lib/etcd-vz" || added[0].Access != "write" || added[1].Access != "read" {
		t.Fatalf("added = %+v", added)
	}
	if _, err := s.WriteFile("/var/lib/etcd-vz/member/x", nil, 0o600, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteFile("/etc/etcd/ca.crt", nil, 0o600, 0o700); err == nil {
		t.Fatal("a read path was writable")
	}
	_, err = s.AllowUserRoots([]UserRoot{{Path: "/etc", Source: "--set etcd_data_dir"}})
	if err == nil || !strings.Contains(err.Error(), "refusing allowed root /etc from --set etcd_data_dir") {
		t.Fatalf("/etc: %v", err)
	}
	_, err = s.AllowUserRoots([]UserRoot{{Path: "/dev/zero", Source: "--set ca", Read: true}})
	if err == nil || !strings.Contains(err.Error(), "kernel or device interface") {
		t.Fatalf("/dev/zero: %v", err)
	}
}
