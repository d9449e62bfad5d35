package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// KeepEnv, when set to 1, keeps node directories (logs, containerd root)
// after teardown for debugging; e2e-clean removes them.
const KeepEnv = "KUBELARK_E2E_KEEP"

// Close tears the node down in the order that leaves nothing behind
// (real-node.md): kubelet; every containerd task (shims outlive containerd
// otherwise) and container; containerd; any process still in the node's
// namespaces; the holder (its exit drops the node's mounts); the network
// namespace; the node's cgroups; its directory. Every step runs even when an
// earlier one failed; the errors are joined.
func (n *Node) Close(ctx context.Context) error {
	if n == nil {
		return nil
	}
	start := time.Now()
	holder := 0
	if n.holder != nil && n.holder.Process != nil {
		holder = n.holder.Process.Pid
	}
	err := teardown(ctx, n.Name, n.Dir, holder, n.log)
	fmt.Fprintf(n.log, "node %s: torn down in %s\n", n.Name, time.Since(start).Round(time.Millisecond))
	return err
}

// teardown works from PIDs and names only, so e2e-clean can use it on the
// leftovers of a crashed run. holder 0 means: read it from the pid file.
func teardown(ctx context.Context, name, dir string, holder int, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
			fmt.Fprintf(log, "node %s: teardown: %v\n", name, err)
		}
	}
	if holder == 0 {
		holder = readPID(filepath.Join(dir, "holder.pid"))
	}
	if holder != 0 && !isHolder(holder, name) {
		holder = 0 // pid reused by an unrelated process
	}
	if svc := filepath.Join(dir, "node-svc"); fileExists(svc) {
		if out, err := exec.CommandContext(ctx, svc, "stop", "kubelet").CombinedOutput(); err != nil {
			add(fmt.Errorf("stop kubelet: %w: %s", err, strings.TrimSpace(string(out))))
		}
	}
	ctrd := readPID(filepath.Join(dir, "containerd.pid"))
	if ctrd != 0 && !cmdlineHas(ctrd, filepath.Join(dir, "containerd", "config.toml")) {
		ctrd = 0
	}
	if holder != 0 && ctrd != 0 && alive(ctrd) {
		add(removeContainers(ctx, holder))
	}
	if ctrd != 0 {
		add(stopPID(ctrd, "containerd", 10*time.Second))
	}
	mntNS := ""
	if holder != 0 {
		mntNS, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", holder))
		for _, p := range nsMembers(holder, fmt.Sprintf("/run/netns/%s%s", Prefix, name)) {
			add(stopPID(p, "leftover process", 5*time.Second))
		}
		add(stopPID(holder, "namespace holder", 5*time.Second))
	}
	if mntNS != "" {
		// A container being (re)started while its runtime stopped (a
		// crash-looping static Pod) can leave a "runc init" that lives in
		// the mount namespace but not in the node's network namespace:
		// stop those too, and report only what survives.
		for _, p := range inMountNS(mntNS) {
			fmt.Fprintf(log, "node %s: teardown: stopping process %d (%s) left in the node's mount namespace\n", name, p, cmdline(p))
			_ = stopPID(p, "leftover process", 5*time.Second)
		}
		for _, p := range inMountNS(mntNS) {
			add(fmt.Errorf("process %d (%s) is still in the node's mount namespace", p, cmdline(p)))
		}
	}
	add(deleteNetns(ctx, Prefix+name))
	add(removeCgroupTree("/" + Prefix + name))
	if os.Getenv(KeepEnv) != "1" {
		add(os.RemoveAll(dir))
	}
	return errors.Join(errs...)
}

// removeContainers kills and deletes every task and container in every
// containerd namespace of the node. A shim may close its connection while
// its task is being killed ("ttrpc: closed"), so deletion is retried and only
// what is still listed after a few rounds counts as an error.
func removeContainers(ctx context.Context, holder int) error {
	ctr := func(args ...string) ([]byte, error) {
		a := append([]string{"-t", strconv.Itoa(holder), "-m", "-n", "--", "ctr", "-a", ContainerdSocket}, args...)
		c := exec.CommandContext(ctx, "nsenter", a...)
		c.WaitDelay = 5 * time.Second
		return c.CombinedOutput()
	}
	list := func(ns, kind string) ([]string, error) {
		out, err := ctr("-n", ns, kind, "ls", "-q")
		if err != nil {
			return nil, fmt.Errorf("ctr -n %s %s ls: %w: %s", ns, kind, err, bytes.TrimSpace(out))
		}
		return strings.Fields(string(out)), nil
	}
	out, err := ctr("namespaces", "ls", "-q")
	if err != nil {
		return fmt.Errorf("ctr namespaces ls: %w: %s", err, out)
	}
	var errs []error
	for _, ns := range strings.Fields(string(out)) {
		for _, kind := range []string{"tasks", "containers"} {
			var last []byte
			var ids []string
			for round := 0; ; round++ {
				if ids, err = list(ns, kind); err != nil || len(ids) == 0 || round == 10 {
					break
				}
				for _, id := range ids {
					if kind == "tasks" {
						ctr("-n", ns, "tasks", "kill", "-a", "-s", "SIGKILL", id)
						last, _ = ctr("-n", ns, "tasks", "delete", "-f", id)
					} else {
						last, _ = ctr("-n", ns, "containers", "delete", id)
					}
				}
				time.Sleep(time.Duration(round+1) * 100 * time.Millisecond)
			}
			if err != nil {
				errs = append(errs, err)
			} else if len(ids) > 0 {
				errs = append(errs, fmt.Errorf("containerd namespace %s: %s %s remain after deletion: %s", ns, kind, strings.Join(ids, " "), bytes.TrimSpace(last)))
			}
		}
	}
	return errors.Join(errs...)
}

// stopPID sends SIGTERM, waits up to grace, then SIGKILL and waits again.
func stopPID(pid int, what string, grace time.Duration) error {
	if !alive(pid) {
		return nil
	}
	syscall.Kill(pid, syscall.SIGTERM)
	if waitDead(pid, grace) {
		return nil
	}
	syscall.Kill(pid, syscall.SIGKILL)
	if waitDead(pid, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", what, pid)
}

func waitDead(pid int, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if !alive(pid) {
			return true
		}
	}
	return !alive(pid)
}

// alive reports whether pid runs; a zombie counts as dead (PID 1 of the VM
// does not reap orphans, so exited shims stay zombies).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	st := s[i+2]
	return st != 'Z' && st != 'X'
}

// isHolder checks that pid is the holder of node name: its mount namespace
// carries the node's tmpfs mounts (sources named kle2e-<name>).
func isHolder(pid int, name string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	return err == nil && alive(pid) && strings.Contains(string(b), " "+Prefix+name+" ")
}

func cmdlineHas(pid int, s string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(b), s)
}

// nsMembers lists live processes other than the holder (and this process)
// in the holder's mount namespace or in the network namespace netnsPath.
func nsMembers(holder int, netnsPath string) []int {
	mnt, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", holder))
	var netIno uint64
	var st syscall.Stat_t
	if syscall.Stat(netnsPath, &st) == nil {
		netIno = st.Ino
	}
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == holder || pid == os.Getpid() || !alive(pid) {
			continue
		}
		if m, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid)); err == nil && mnt != "" && m == mnt {
			pids = append(pids, pid)
			continue
		}
		var ps syscall.Stat_t
		if netIno != 0 && syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &ps) == nil && ps.Ino == netIno {
			pids = append(pids, pid)
		}
	}
	return pids
}

// inMountNS lists live processes in the mount namespace mntNS ("mnt:[...]").
func inMountNS(mntNS string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		if m, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid)); err == nil && m == mntNS {
			pids = append(pids, pid)
		}
	}
	return pids
}

func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Clean removes the leftovers of crashed runs: every node directory under
// StateDir() (processes by their pid files, namespaces, cgroups), then any
// remaining network namespace or cgroup whose name starts with Prefix.
func Clean(ctx context.Context, log io.Writer) error {
	if os.Geteuid() != 0 {
		return errNotRoot
	}
	var errs []error
	ents, _ := os.ReadDir(StateDir())
	for _, e := range ents {
		if e.IsDir() {
			fmt.Fprintf(log, "cleaning node %s\n", e.Name())
			if err := teardown(ctx, e.Name(), filepath.Join(StateDir(), e.Name()), 0, log); err != nil {
				errs = append(errs, err)
			}
			os.RemoveAll(filepath.Join(StateDir(), e.Name()))
		}
	}
	nss, _ := os.ReadDir("/run/netns")
	for _, e := range nss {
		if strings.HasPrefix(e.Name(), Prefix) {
			fmt.Fprintf(log, "deleting network namespace %s\n", e.Name())
			errs = append(errs, deleteNetns(ctx, e.Name()))
		}
	}
	mnts, _ := cgroupMounts()
	seen := map[string]bool{}
	for _, m := range mnts {
		cg, _ := os.ReadDir(m)
		for _, e := range cg {
			if e.IsDir() && strings.HasPrefix(e.Name(), Prefix) && !seen[e.Name()] {
				seen[e.Name()] = true
				fmt.Fprintf(log, "removing cgroup /%s\n", e.Name())
				errs = append(errs, removeCgroupTree("/"+e.Name()))
			}
		}
	}
	return errors.Join(errs...)
}

func itoa(i int) string { return strconv.Itoa(i) }

func atoi(s string) int { i, _ := strconv.Atoi(s); return i }
