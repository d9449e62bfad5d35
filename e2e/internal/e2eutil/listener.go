package e2eutil

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/kubelark/kubelark/e2e/node"
)

// Listener is a process that holds a listening TCP socket on a port inside
// a node's network namespace, and the container it runs in. The self-hosting
// test asks it who serves :6443: a static Pod's container or a DaemonSet
// Pod's; a readiness probe cannot tell them apart, the socket's owner can.
type Listener struct {
	Port    int
	PID     int
	Cmdline string
	// Cgroup is the process's cgroup path (the kubelet's pod cgroups live
	// under the node's cgroup root /kle2e-<node>/kubepods/...).
	Cgroup string
	// PodUID is the Pod UID the kubelet put in the cgroup path ("pod<uid>"),
	// "" outside a Pod. For a static Pod it is the kubelet's own UID (the
	// manifest's hash), not the mirror Pod's metadata.uid.
	PodUID string
	// ContainerID is the containerd container whose task is PID or one of
	// its ancestors (containerd's task list in the node, namespace k8s.io),
	// "" when none is. It is the ID a Pod's status reports as
	// "containerd://<id>".
	ContainerID string
}

func (l Listener) String() string {
	return fmt.Sprintf("pid %d (%s) on :%d, container %q, pod UID %q, cgroup %s", l.PID, l.Cmdline, l.Port, l.ContainerID, l.PodUID, l.Cgroup)
}

// ListenersOn lists the processes with a listening TCP socket (IPv4 or IPv6)
// on port in node n's network namespace: the socket inodes come from the
// namespace's /proc/<holder>/net/tcp{,6}, their owners from every process's
// /proc/<pid>/fd, the containers from each owner's cgroup and from
// containerd's task list in the node. No listener is an empty list, not an
// error.
func ListenersOn(ctx context.Context, n *node.Node, port int) ([]Listener, error) {
	inodes := map[uint64]bool{}
	for _, f := range []string{"tcp", "tcp6"} {
		p := fmt.Sprintf("/proc/%d/net/%s", n.HolderPID(), f)
		b, err := os.ReadFile(p)
		if err != nil {
			if f == "tcp6" && os.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		ino, err := ListeningInodes(string(b), port)
		if err != nil {
			return nil, fmt.Errorf("node %s: %s: %w", n.Name, p, err)
		}
		for _, i := range ino {
			inodes[i] = true
		}
	}
	if len(inodes) == 0 {
		return nil, nil
	}
	pids := socketOwners(inodes)
	if len(pids) == 0 {
		return nil, nil
	}
	tasks, err := ContainerdTasks(ctx, n)
	if err != nil {
		return nil, err
	}
	var out []Listener
	for _, pid := range pids {
		l := Listener{Port: port, PID: pid, Cmdline: cmdline(pid)}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); err == nil {
			l.Cgroup = PodCgroup(string(b))
			l.PodUID, _ = CgroupIDs(l.Cgroup)
		}
		for p := pid; p > 1; p = parentPID(p) {
			if id, ok := tasks[p]; ok {
				l.ContainerID = id
				break
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// ListenerOn is the one process listening on port in n's network namespace;
// none, or several (a port shared by two processes), is an error that lists
// what was found.
func ListenerOn(ctx context.Context, n *node.Node, port int) (Listener, error) {
	ls, err := ListenersOn(ctx, n, port)
	if err != nil {
		return Listener{}, err
	}
	if len(ls) != 1 {
		var s []string
		for _, l := range ls {
			s = append(s, l.String())
		}
		return Listener{}, fmt.Errorf("node %s: %d processes listen on TCP port %d, want 1: %v", n.Name, len(ls), port, s)
	}
	l := ls[0]
	// The cgroup and the task list are two views of one container: a
	// container ID in the cgroup path must be containerd's.
	if _, cid := CgroupIDs(l.Cgroup); cid != "" && l.ContainerID != "" && cid != l.ContainerID {
		return Listener{}, fmt.Errorf("node %s: the listener on :%d is in the cgroup of container %s but containerd's task is %s: %s", n.Name, port, cid, l.ContainerID, l)
	}
	return l, nil
}

// ListeningInodes parses a /proc/net/tcp or tcp6 table and returns the
// socket inodes in state LISTEN (0A) whose local port is port.
func ListeningInodes(table string, port int) ([]uint64, error) {
	var out []uint64
	sc := bufio.NewScanner(strings.NewReader(table))
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		i := strings.LastIndexByte(f[1], ':')
		if i < 0 {
			return nil, fmt.Errorf("local address %q has no port", f[1])
		}
		p, err := strconv.ParseUint(f[1][i+1:], 16, 16)
		if err != nil {
			return nil, fmt.Errorf("local address %q: %w", f[1], err)
		}
		if f[3] != "0A" || int(p) != port {
			continue
		}
		ino, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("inode %q: %w", f[9], err)
		}
		out = append(out, ino)
	}
	return out, sc.Err()
}

// socketOwners are the live processes with an open fd on one of the socket
// inodes, sorted.
func socketOwners(inodes map[uint64]bool) []int {
	ents, _ := os.ReadDir("/proc")
	seen := map[int]bool{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join("/proc", e.Name(), "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(target, "socket:[") {
				continue
			}
			ino, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]"), 10, 64)
			if err == nil && inodes[ino] {
				seen[pid] = true
			}
		}
	}
	var pids []int
	for p := range seen {
		pids = append(pids, p)
	}
	sort.Ints(pids)
	return pids
}

// PodCgroup picks from /proc/<pid>/cgroup the path of a kubelet Pod cgroup
// (one containing "kubepods"), else the first non-root path, else "".
func PodCgroup(procCgroup string) string {
	var first string
	for _, line := range strings.Split(procCgroup, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		p := parts[2]
		if strings.Contains(p, "kubepods") {
			return p
		}
		if first == "" && p != "/" {
			first = p
		}
	}
	return first
}

var (
	podSegment       = regexp.MustCompile(`(?:^|[-/])pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}|[0-9a-f]{32})(?:\.slice)?$`)
	containerSegment = regexp.MustCompile(`^(?:cri-containerd-)?([0-9a-f]{64})(?:\.scope)?$`)
)

// CgroupIDs extracts the Pod UID (segment "pod<uid>", cgroupfs or systemd
// naming) and the container ID (a 64-hex last segment) from a kubelet Pod
// cgroup path; either is "" when absent.
func CgroupIDs(path string) (podUID, containerID string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		if m := podSegment.FindStringSubmatch(s); m != nil {
			podUID = strings.ReplaceAll(m[1], "_", "-")
			if i+1 < len(segs) {
				if c := containerSegment.FindStringSubmatch(segs[len(segs)-1]); c != nil {
					containerID = c[1]
				}
			}
		}
	}
	return podUID, containerID
}

// ContainerdTasks maps each running containerd task's PID to its container
// ID, from `ctr -n k8s.io tasks ls` inside the node (the kubelet's CRI
// namespace).
func ContainerdTasks(ctx context.Context, n *node.Node) (map[int]string, error) {
	out, err := n.Exec(ctx, "ctr", "-n", "k8s.io", "-a", node.ContainerdSocket, "tasks", "ls")
	if err != nil {
		return nil, fmt.Errorf("node %s: ctr tasks ls: %w: %s", n.Name, err, strings.TrimSpace(string(out)))
	}
	return ParseTasks(string(out))
}

// ParseTasks parses `ctr tasks ls` output (TASK PID STATUS).
func ParseTasks(out string) (map[int]string, error) {
	m := map[int]string{}
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 3 {
			continue
		}
		pid, err := strconv.Atoi(f[1])
		if err != nil {
			return nil, fmt.Errorf("ctr tasks ls: line %q: pid: %w", line, err)
		}
		if pid > 0 {
			m[pid] = f[0]
		}
	}
	return m, nil
}

func parentPID(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	pp, _ := strconv.Atoi(f[1])
	return pp
}

func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	s := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}
