package builtins

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubelark/kubelark/runtime/host"
)

func TestWriteFileModesAndStatus(t *testing.T) {
	h := host.NewFake()
	run := mustExecStar(t, h, `
a = write_file("/etc/kubernetes/x/a.conf", "hello\n", mode=0o600, dir_mode=0o700)
b = write_file("/etc/kubernetes/x/a.conf", "hello\n", mode=0o600)
c = write_file("/etc/kubernetes/x/a.conf", b"bye\n", mode=0o600)
d = write_file("/etc/kubernetes/x/key", "SECRET", secret=True)
res = [a.status, b.status, c.status, d.status]
`)
	if diff := cmp.Diff(`["created", "unchanged", "updated", "created"]`, run.globals["res"].String()); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	data, mode, ok := h.Get("/etc/kubernetes/x/a.conf")
	if !ok || string(data) != "bye\n" || mode != 0o600 {
		t.Errorf("a.conf = %q %o %v", data, mode, ok)
	}
	if _, mode, _ := h.Get("/etc/kubernetes/x/key"); mode != 0o644 {
		t.Errorf("default mode = %o, want 0644", mode)
	}
	if got := dirMode(t, h, "/etc/kubernetes/x"); got != fs.FileMode(0o700).String() {
		t.Errorf("dir mode = %s, want 0700", got)
	}
	acts := run.env.Plan().Actions
	if len(acts) != 4 {
		t.Fatalf("actions = %v", ops(run.env))
	}
	if acts[0].Mode != "0600" || acts[0].SHA256 == "" || acts[0].Builtin != "write_file" || acts[0].At != "test.star:2" {
		t.Errorf("action 0 = %+v", acts[0])
	}
	if !acts[3].Secret || acts[3].SHA256 != "" {
		t.Errorf("secret action carries content hash: %+v", acts[3])
	}
}

func TestWriteFileErrors(t *testing.T) {
	h := host.NewFake()
	wantErr(t, h, `write_file("etc/x", "a")`, "write_file", `path "etc/x" is relative`, `"/etc/x"`)
	wantErr(t, h, `write_file("", "a")`, "path is empty")
	wantErr(t, h, `write_file("/etc/x", 3)`, "content is a int")
	wantErr(t, h, `write_file("/etc/x", "a", mode=644)`, "/etc/x: mode 644 looks like a decimal number", "0o644")
	wantErr(t, h, `write_file("/etc/x", "a", mode=-1)`, "mode -1 is out of range")
	wantErr(t, h, `write_file("/etc/x", "a", mode=0o10000)`, "mode 4096 is out of range", "0..0o7777")
	wantErr(t, h, `write_file("/etc/x", "a", dir_mode="0755")`, "dir_mode is a string")
	h.Put("/etc/file", []byte("x"), 0o644)
	wantErr(t, h, `write_file("/etc/file/sub", "a")`, "write_file: writing /etc/file/sub", "not a directory")
}

func TestMkdirRemoveReadExists(t *testing.T) {
	h := host.NewFake()
	h.Put("/etc/kubernetes/admin.conf", []byte("cfg"), 0o600)
	run := mustExecStar(t, h, `
m1 = mkdir("/var/lib/etcd")
m2 = mkdir("/var/lib/etcd", mode=0o755)
m3 = mkdir("/srv/sticky", mode=0o1777)
content = read_file("/etc/kubernetes/admin.conf")
e1 = path_exists("/etc/kubernetes/admin.conf")
e2 = path_exists("/var/lib/etcd")
r1 = remove_file("/etc/kubernetes/admin.conf")
r2 = remove_file("/etc/kubernetes/admin.conf")
e3 = path_exists("/etc/kubernetes/admin.conf")
res = [m1.status, m2.status, content, e1, e2, r1.status, r2.status, e3]
`)
	if diff := cmp.Diff(`["created", "unchanged", "cfg", True, True, "deleted", "absent", False]`, run.globals["res"].String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := dirMode(t, h, "/var/lib/etcd"); got != fs.FileMode(0o700).String() {
		t.Errorf("etcd dir mode = %s, want 0700 (existing dirs keep their mode)", got)
	}
	want := []string{
		"dir.create /var/lib/etcd created 0700",
		"dir.create /var/lib/etcd unchanged 0755",
		"dir.create /srv/sticky created 1777",
		"file.delete /etc/kubernetes/admin.conf deleted",
		"file.delete /etc/kubernetes/admin.conf absent",
	}
	if diff := cmp.Diff(want, ops(run.env)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if !strings.Contains(run.out.String(), "[kubelark] deleted file (delete) /etc/kubernetes/admin.conf") {
		t.Errorf("printed:\n%s", run.out)
	}
}

func TestReadRemoveErrors(t *testing.T) {
	h := host.NewFake()
	wantErr(t, h, `read_file("/nope")`, "read_file: /nope: no such file", "path_exists")
	h.Put("/d/f", []byte("x"), 0o644)
	wantErr(t, h, `remove_file("/d")`, "remove_file: /d", "not empty", "empty directories")
	wantErr(t, h, `path_exists(1)`, "path is a int")
}

func TestModeArgRoundTrip(t *testing.T) {
	for _, n := range []uint32{0, 0o600, 0o644, 0o755, 0o1777, 0o2755, 0o4755, 0o7777} {
		m, err := modeArg("t", "/x", "mode", starlarkInt(n))
		if err != nil {
			t.Fatalf("%o: %v", n, err)
		}
		if got := modeBits(m); got != n {
			t.Errorf("modeBits(modeArg(%o)) = %o", n, got)
		}
	}
	if _, err := modeArg("t", "/x", "mode", starlarkInt(0o10000)); err == nil {
		t.Error("0o10000 accepted")
	}
}

func TestListDir(t *testing.T) {
	h := host.NewFake()
	h.Put("/etc/kubernetes/pki/ca.crt", []byte("x"), 0o644)
	h.Put("/etc/kubernetes/pki/etcd/ca.crt", []byte("x"), 0o644)
	h.Put("/etc/kubernetes/pki/apiserver.key", []byte("x"), 0o600)
	run := mustExecStar(t, h, `
names = list_dir("/etc/kubernetes/pki")
def empty(d):
    for n in list_dir(d):
        if n.endswith("/"):
            for m in list_dir(d + "/" + n):
                remove_file(d + "/" + n + m)
        remove_file(d + "/" + n.rstrip("/"))
empty("/etc/kubernetes/pki")
after = list_dir("/etc/kubernetes/pki")
`)
	if got := run.globals["names"].String(); got != `["apiserver.key", "ca.crt", "etcd/"]` {
		t.Errorf("list_dir = %s", got)
	}
	if got := run.globals["after"].String(); got != `[]` {
		t.Errorf("after emptying = %s", got)
	}
	wantErr(t, h, `list_dir("/nope")`, "list_dir: /nope: no such directory")
	h.Put("/f", []byte("x"), 0o644)
	wantErr(t, h, `list_dir("/f")`, "list_dir: /f", "not a directory")
}

// TestMkdirParentsMode: parents_mode gives the missing parents inside the
// sandbox's roots the asked mode (kubeadm's MkdirAll(dataDir, 0700) makes
// /var/lib/etcd 0700 for dataDir /var/lib/etcd/data), while parents
// outside the roots (/var, /var/lib on an empty machine) stay 0755; without
// parents_mode every missing parent is 0755.
func TestMkdirParentsMode(t *testing.T) {
	fake := host.NewFake()
	h, err := host.NewSandbox(fake, host.SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustExecStar(t, h, `
mkdir("/var/lib/etcd/data", mode = 0o700, parents_mode = 0o700)
mkdir("/etc/kubernetes/pki/etcd", mode = 0o700)
`)
	for p, want := range map[string]fs.FileMode{
		"/var": 0o755, "/var/lib": 0o755, "/var/lib/etcd": 0o700, "/var/lib/etcd/data": 0o700,
		"/etc/kubernetes": 0o755, "/etc/kubernetes/pki": 0o755, "/etc/kubernetes/pki/etcd": 0o700,
	} {
		if got := dirMode(t, fake, p); got != want.String() {
			t.Errorf("%s: mode %s, want %s", p, got, want)
		}
	}
	wantErr(t, h, `mkdir("/var/lib/etcd/x/y", parents_mode = 0o4700)`, "parents_mode", "setuid")
}
