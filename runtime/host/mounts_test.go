package host

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A real mountinfo excerpt of an e2e node: a tmpfs over /var/lib/kubelet,
// a projected token volume, a path with a space (\040).
const mountinfoText = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw
25 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
310 22 0:52 / /var/lib/kubelet rw,relatime - tmpfs tmpfs rw
420 310 0:60 / /var/lib/kubelet/pods/1f2e/volumes/kubernetes.io~projected/kube-api-access-x8k2p rw,relatime - tmpfs tmpfs rw,size=3952k
421 310 0:61 / /var/lib/kubelet/pods/1f2e/volumes/my\040vol rw,relatime - tmpfs tmpfs rw
430 22 0:62 / /var/lib/kubelet-old rw - tmpfs tmpfs rw
`

func TestParseMountInfo(t *testing.T) {
	table, err := ParseMountInfo(mountinfoText)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/var/lib/kubelet/pods/1f2e/volumes/my vol", "/var/lib/kubelet/pods/1f2e/volumes/kubernetes.io~projected/kube-api-access-x8k2p", "/var/lib/kubelet"}
	if diff := cmp.Diff(want, mountsUnder(table, "/var/lib/kubelet/")); diff != "" {
		t.Errorf("mountsUnder (-want +got):\n%s", diff)
	}
	if _, err := ParseMountInfo("22 1 8:1\n"); err == nil {
		t.Error("a short line parsed")
	}
	if got := unescapeMountPath(`/a\134b\011c\`); got != "/a\\b\tc\\" {
		t.Errorf("unescape = %q", got)
	}
}

// TestSandboxMountsRelocated: under --root, the base's mounts below
// ROOT/under come back as recipe paths, and an unmount goes to ROOT/path.
func TestSandboxMountsRelocated(t *testing.T) {
	f := NewFake()
	f.FMounts = []string{"/", "/var/lib/kubelet", "/img/var/lib/kubelet", "/img/var/lib/kubelet/pods/x"}
	s, err := NewSandbox(f, SandboxOptions{Root: "/img"})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := s.Mounts("/var/lib/kubelet")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/var/lib/kubelet/pods/x", "/var/lib/kubelet"}, ms); diff != "" {
		t.Errorf("mounts (-want +got):\n%s", diff)
	}
	if ok, err := s.Unmount("/var/lib/kubelet/pods/x", UnmountFlags{}); !ok || err != nil {
		t.Fatalf("unmount = %v, %v", ok, err)
	}
	if diff := cmp.Diff([]string{"/img/var/lib/kubelet/pods/x"}, f.Unmounted); diff != "" {
		t.Errorf("unmounted (-want +got):\n%s", diff)
	}
	if _, err := s.Unmount("/proc", UnmountFlags{}); err == nil {
		t.Error("unmount of /proc allowed")
	}
}
