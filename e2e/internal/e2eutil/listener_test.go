package e2eutil

import (
	"net"
	"os"
	"reflect"
	"testing"
)

func TestListeningInodes(t *testing.T) {
	// 0x192B = 6443; the second line is an established connection to 6443,
	// the third a listener on another port, the last a listener on [::]:6443.
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:192B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0B00560A:192B 0C00560A:D431 01 00000000:00000000 02:000A7D52 00000000     0        0 4343 2 0000000000000000 20 4 30 10 -1
   2: 0100007F:2833 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0
`
	got, err := ListeningInodes(tcp, 6443)
	if err != nil || !reflect.DeepEqual(got, []uint64{4242}) {
		t.Errorf("ListeningInodes(tcp, 6443) = %v, %v; want [4242]", got, err)
	}
	tcp6 := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:192B 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5151 1 0000000000000000 100 0 0 10 0
`
	if got, err := ListeningInodes(tcp6, 6443); err != nil || !reflect.DeepEqual(got, []uint64{5151}) {
		t.Errorf("ListeningInodes(tcp6, 6443) = %v, %v; want [5151]", got, err)
	}
	if got, err := ListeningInodes(tcp, 10259); err != nil || len(got) != 0 {
		t.Errorf("ListeningInodes(tcp, 10259) = %v, %v; want none", got, err)
	}
	if _, err := ListeningInodes("header\n 0: 00000000 00000000:0000 0A a b c d e 1\n", 1); err == nil {
		t.Errorf("a local address without a port parsed")
	}
}

// TestSocketOwnersFindsThisProcess opens a real listener and finds this
// process as its owner through /proc, as ListenersOn does in a node.
func TestSocketOwnersFindsThisProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	b, err := os.ReadFile("/proc/self/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	ino, err := ListeningInodes(string(b), port)
	if err != nil || len(ino) != 1 {
		t.Fatalf("listening inodes on :%d = %v, %v; want one", port, ino, err)
	}
	owners := socketOwners(map[uint64]bool{ino[0]: true})
	if !reflect.DeepEqual(owners, []int{os.Getpid()}) {
		t.Errorf("owners of the listener = %v, want [%d]", owners, os.Getpid())
	}
}

func TestCgroupIDs(t *testing.T) {
	const cid = "3f2a6b1c9d8e7f60112233445566778899aabbccddeeff00112233445566aabb"
	for _, tc := range []struct{ path, pod, cid string }{
		{"/kle2e-shcp1/kubepods/burstable/pod0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6/" + cid, "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6", cid},
		// A static Pod's kubelet UID is the manifest's hash (32 hex).
		{"/kle2e-shcp1/kubepods/burstable/pod9b1c2d3e4f5061728394a5b6c7d8e9f0/" + cid, "9b1c2d3e4f5061728394a5b6c7d8e9f0", cid},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0d1e2f3a_4b5c_6d7e_8f90_a1b2c3d4e5f6.slice/cri-containerd-" + cid + ".scope",
			"0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6", cid},
		{"/kle2e-shcp1/kubepods/besteffort/pod0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6", "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6", ""},
		{"/kle2e-shcp1", "", ""},
		{"/user.slice/" + cid, "", ""},
	} {
		pod, c := CgroupIDs(tc.path)
		if pod != tc.pod || c != tc.cid {
			t.Errorf("CgroupIDs(%s) = %q, %q; want %q, %q", tc.path, pod, c, tc.pod, tc.cid)
		}
	}
	proc := "12:pids:/kle2e-shcp1/kubepods/burstable/podx\n11:memory:/kle2e-shcp1/kubepods/burstable/pod1/c\n1:name=systemd:/\n"
	if got := PodCgroup(proc); got != "/kle2e-shcp1/kubepods/burstable/podx" {
		t.Errorf("PodCgroup = %q", got)
	}
	if got := PodCgroup("1:cpu:/\n0::/init.scope\n"); got != "/init.scope" {
		t.Errorf("PodCgroup without kubepods = %q, want /init.scope", got)
	}
}

func TestParseTasks(t *testing.T) {
	out := "TASK                                                                PID     STATUS\n" +
		"aaaa    1234    RUNNING\nbbbb    0    STOPPED\n"
	got, err := ParseTasks(out)
	if err != nil || !reflect.DeepEqual(got, map[int]string{1234: "aaaa"}) {
		t.Errorf("ParseTasks = %v, %v", got, err)
	}
	if _, err := ParseTasks("TASK PID STATUS\nx y RUNNING\n"); err == nil {
		t.Errorf("a non-numeric pid parsed")
	}
}
