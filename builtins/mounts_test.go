package builtins

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubelark/kubelark/runtime/host"
)

var kubeletMounts = []string{"/", "/proc", "/var/lib/kubelet", "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/token",
	"/var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/cache", "/var/lib/kubeletx", "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/p1/shm"}

func TestMountsAndUnmount(t *testing.T) {
	h := host.NewFake()
	h.FMounts = append([]string(nil), kubeletMounts...)
	h.Put("/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/token/token", []byte("t"), 0o600)
	run := mustExecStar(t, h, `
before = mounts("/var/lib/kubelet")
res = [unmount(m) for m in before if m != "/var/lib/kubelet"]
lazy = unmount("/var/lib/kubelet", flags = ["MNT_DETACH"])
absent = unmount("/var/lib/kubelet/pods")
after = mounts("/var/lib/kubelet")
removed = remove_tree("/var/lib/kubelet")
`)
	want := `["/var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/cache", "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/token", "/var/lib/kubelet"]`
	if diff := cmp.Diff(want, run.globals["before"].String()); diff != "" {
		t.Errorf("mounts (-want +got):\n%s", diff)
	}
	if run.globals["res"].String() != `["unmounted", "unmounted"]` || run.str(t, "lazy") != "unmounted" || run.str(t, "absent") != "absent" || run.globals["after"].String() != "[]" {
		t.Errorf("res=%s lazy=%s absent=%s after=%s", run.globals["res"], run.globals["lazy"], run.globals["absent"], run.globals["after"])
	}
	if diff := cmp.Diff([]string{"/var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/cache", "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/token", "/var/lib/kubelet MNT_DETACH"}, h.Unmounted); diff != "" {
		t.Errorf("unmounted (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"mount.unmount /var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/cache unmounted", "mount.unmount /var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/token unmounted",
		"mount.unmount /var/lib/kubelet unmounted", "mount.unmount /var/lib/kubelet/pods absent"}, ops(run.env)[:4]); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

func TestUnmountErrors(t *testing.T) {
	fake := host.NewFake()
	fake.FMounts = append([]string(nil), kubeletMounts...)
	h, err := host.NewSandbox(fake, host.SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, h, `unmount("/var/lib/kubelet", flags = ["MNT_LAZY"])`, "unmount: /var/lib/kubelet", `unknown unmount flag "MNT_LAZY"`, "MNT_DETACH")
	wantErr(t, h, `unmount("/var/lib/kubelet", flags = [2])`, "flags[0] is a int")
	wantErr(t, h, `unmount("/var/lib/kubelet", flags = "MNT_DETACH")`, "unmount", "flags")
	wantErr(t, h, `unmount("var/lib/kubelet")`, "relative")
	wantErr(t, h, `unmount("/proc")`, "refusing to unmount /proc", "outside the allowed roots")
	wantErr(t, h, `unmount("/")`, "refusing to unmount /")
	wantErr(t, h, `unmount("/run/containerd/io.containerd.grpc.v1.cri/sandboxes/p1/shm")`, "refusing to unmount")
	wantErr(t, h, `mounts("/proc/x")`, "refusing to list mounts of /proc/x")
	fake.FUnmountErr = map[string]error{"/var/lib/kubelet": errBusy}
	wantErr(t, h, `unmount("/var/lib/kubelet")`, "unmount: /var/lib/kubelet: device or resource busy", "MNT_DETACH")
	if len(fake.Unmounted) != 0 {
		t.Errorf("refused calls unmounted: %v", fake.Unmounted)
	}
}

func TestUnmountDryRun(t *testing.T) {
	fake := host.NewFake()
	fake.FMounts = append([]string(nil), kubeletMounts...)
	h, err := host.NewSandbox(host.NewDryRun(fake), host.SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	run := mustExecStar(t, h, `
r = [unmount(m) for m in mounts("/var/lib/kubelet")]
after = mounts("/var/lib/kubelet")
again = unmount("/var/lib/kubelet")
`)
	if run.globals["r"].String() != `["unmounted", "unmounted", "unmounted"]` || run.globals["after"].String() != "[]" || run.str(t, "again") != "absent" {
		t.Errorf("r=%s after=%s again=%s", run.globals["r"], run.globals["after"], run.globals["again"])
	}
	if len(fake.Unmounted) != 0 || len(fake.FMounts) != len(kubeletMounts) {
		t.Errorf("the dry run unmounted: %v", fake.Unmounted)
	}
	if a := run.env.Plan().Actions; len(a) != 4 || a[0].Result != "recorded" || a[3].Result != "absent" {
		t.Errorf("plan = %v", ops(run.env))
	}
}

var errBusy = syscallErr("device or resource busy")

type syscallErr string

func (e syscallErr) Error() string { return string(e) }
