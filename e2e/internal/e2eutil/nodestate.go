package e2eutil

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/kubelark/kubelark/e2e/node"
)

// What a node holds, as an observer outside kubelark sees it: the files in
// its private directories, the containers and Pod sandboxes in its
// containerd, the mounts in its mount namespace. The reset scenario takes
// these right after a node starts and again after `kubelark run reset`,
// and compares.

// ResetDirs are the node directories kubeadm's reset cleans (facts §8:
// the certificate and manifest dirs and kubeconfig files under
// /etc/kubernetes, the contents of /var/lib/kubelet and of the etcd data
// dir). Each is a private tmpfs of the e2e node, empty when it starts.
var ResetDirs = []string{"/etc/kubernetes", "/var/lib/kubelet", "/var/lib/etcd"}

// Entry is one path in a listing: its kind ("dir", "file", "symlink",
// "other") and, for a file, its size.
type Entry struct {
	Kind string
	Size int64
}

// Listing maps a path inside the node to what is there.
type Listing map[string]Entry

// ListDirs walks dirs inside node n (through the holder's root, so the
// node's private mounts are what is read) without following symlinks and
// lists every path at or below them. A missing dir is listed as nothing.
func ListDirs(n *node.Node, dirs ...string) (Listing, error) {
	l := Listing{}
	for _, d := range dirs {
		root := n.HostPath(d)
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			inNode := filepath.Join(d, rel)
			switch t := e.Type(); {
			case t.IsDir():
				l[inNode] = Entry{Kind: "dir"}
			case t&fs.ModeSymlink != 0:
				l[inNode] = Entry{Kind: "symlink"}
			case t.IsRegular():
				var size int64
				if fi, err := e.Info(); err == nil {
					size = fi.Size()
				}
				l[inNode] = Entry{Kind: "file", Size: size}
			default:
				l[inNode] = Entry{Kind: "other"}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("node %s: list %s: %w", n.Name, d, err)
		}
	}
	return l, nil
}

// Added is every path of after that before does not have (or has as
// another kind), sorted, split into directories and everything else.
func Added(before, after Listing) (dirs, files []string) {
	for p, e := range after {
		if b, ok := before[p]; ok && b.Kind == e.Kind {
			continue
		}
		if e.Kind == "dir" {
			dirs = append(dirs, p)
		} else {
			files = append(files, fmt.Sprintf("%s (%s, %d bytes)", p, e.Kind, e.Size))
		}
	}
	sort.Strings(dirs)
	sort.Strings(files)
	return dirs, files
}

// CRIObject is a container or Pod sandbox in the node's containerd (the
// CRI plugin's k8s.io namespace): its id and image, and kind "sandbox" or
// "container" (the io.cri-containerd.kind label).
type CRIObject struct {
	ID, Image, Kind string
}

func (o CRIObject) String() string { return fmt.Sprintf("%s %s (%s)", o.Kind, o.ID, o.Image) }

// CRIObjects lists every container and Pod sandbox containerd holds for the
// CRI on node n, with `ctr` inside the node: an observer independent of
// the CRI client kubelark uses.
func CRIObjects(ctx context.Context, n *node.Node) ([]CRIObject, error) {
	var all []CRIObject
	seen := map[string]bool{}
	for _, kind := range []string{"sandbox", "container", ""} {
		args := []string{"ctr", "-n", "k8s.io", "-a", node.ContainerdSocket, "containers", "ls"}
		if kind != "" {
			args = append(args, fmt.Sprintf(`labels."io.cri-containerd.kind"==%s`, kind))
		}
		out, err := n.Exec(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("node %s: %s: %w\n%s", n.Name, strings.Join(args, " "), err, out)
		}
		for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if i == 0 || len(f) < 2 || seen[f[0]] { // header: CONTAINER IMAGE RUNTIME
				continue
			}
			seen[f[0]] = true
			k := kind
			if k == "" {
				k = "unlabelled"
			}
			all = append(all, CRIObject{ID: f[0], Image: f[1], Kind: k})
		}
	}
	return all, nil
}

// Mounts are the mount points at or below dir in node n's mount namespace
// (the holder's /proc/PID/mountinfo: containerd, the kubelet and the
// containers share it), in mountinfo order. Octal escapes (\040 for a
// space) are decoded.
func Mounts(n *node.Node, dir string) ([]string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", n.HolderPID()))
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", n.Name, err)
	}
	defer f.Close()
	dir = filepath.Clean(dir)
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("node %s: mountinfo: %w", n.Name, err)
	}
	return out, nil
}

func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// NodeState is a node's state as the reset scenario compares it.
type NodeState struct {
	Files  Listing  // ListDirs(ResetDirs...)
	Mounts []string // Mounts("/var/lib/kubelet")
}

// TakeNodeState lists n's reset dirs and its mounts under /var/lib/kubelet.
func TakeNodeState(n *node.Node) (NodeState, error) {
	l, err := ListDirs(n, ResetDirs...)
	if err != nil {
		return NodeState{}, err
	}
	m, err := Mounts(n, "/var/lib/kubelet")
	if err != nil {
		return NodeState{}, err
	}
	return NodeState{Files: l, Mounts: m}, nil
}
