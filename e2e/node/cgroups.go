package node

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// CgroupRoot is the node's cgroup root: its kubelet is started with
// --cgroup-root so the kubepods trees of several nodes do not collide, and
// teardown removes it whole.
func (n *Node) CgroupRoot() string { return "/" + Prefix + n.Name }

// cgroupMounts returns the mount points of every cgroup (v1 and v2)
// hierarchy on this machine.
func cgroupMounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var mnts []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		// ... mountpoint ... - fstype source options
		l := s.Text()
		pre, post, ok := strings.Cut(l, " - ")
		if !ok {
			continue
		}
		fields, pf := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(pf) < 1 {
			continue
		}
		if pf[0] == "cgroup" || pf[0] == "cgroup2" {
			mnts = append(mnts, fields[4])
		}
	}
	return mnts, s.Err()
}

// makeCgroups creates the node's cgroup root in every hierarchy (the
// kubelet refuses a --cgroup-root that does not exist). cpuset needs cpus and
// mems set before tasks can join; they are copied from the parent.
func (n *Node) makeCgroups() error {
	mnts, err := cgroupMounts()
	if err != nil {
		return err
	}
	for _, m := range mnts {
		d := filepath.Join(m, n.CgroupRoot())
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("node %s: cgroup %s: %w", n.Name, d, err)
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if v, err := os.ReadFile(filepath.Join(m, f)); err == nil {
				if _, err := os.Stat(filepath.Join(d, f)); err == nil {
					if err := os.WriteFile(filepath.Join(d, f), v, 0o644); err != nil {
						return fmt.Errorf("node %s: %s: %w", n.Name, filepath.Join(d, f), err)
					}
				}
			}
		}
	}
	return nil
}

// removeCgroupTree removes the cgroup directory rel (e.g. /kle2e-cp1) in every
// hierarchy, deepest first. Cgroup directories cannot be removed while a
// task is inside, so it retries for a few seconds while exiting processes
// finish.
func removeCgroupTree(rel string) error {
	mnts, err := cgroupMounts()
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range mnts {
		root := filepath.Join(m, rel)
		if _, err := os.Stat(root); err != nil {
			continue
		}
		var dirs []string
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		sort.Slice(dirs, func(i, j int) bool { return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/") })
		for _, d := range dirs {
			var err error
			for i := 0; i < 50; i++ {
				if err = syscall.Rmdir(d); err == nil || errors.Is(err, syscall.ENOENT) {
					err = nil
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("rmdir %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}
