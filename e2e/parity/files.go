package parity

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// Roots are the node directories both tools write in init and join; an
// Output's Root holds them relative ("etc/kubernetes").
var Roots = []string{"/etc/kubernetes", "/var/lib/kubelet", "/var/lib/etcd"}

// unmodedRoots are directories whose mode neither tool decides in this
// suite: the harness mounts a tmpfs there for kubeadm.
var unmodedRoots = map[string]bool{"/etc/kubernetes": true}

// hostPath maps a node path ("/etc/kubernetes/pki/ca.crt") into o.
func (o *Output) hostPath(nodePath string) string {
	return filepath.Join(o.Root, filepath.FromSlash(strings.TrimPrefix(nodePath, "/")))
}

// ReadFile reads a node path from the output.
func (o *Output) ReadFile(nodePath string) ([]byte, error) {
	return os.ReadFile(o.hostPath(nodePath))
}

// entry is one file system object under the roots.
type entry struct {
	path string // node path
	info fs.FileInfo
}

// walk lists everything under the roots (the roots included), plus any file
// found in Root outside them (a file a tool wrote where it should not;
// directories outside the roots are not listed: the harness mirrors host
// directories there), sorted by path.
func (o *Output) walk() ([]entry, error) {
	var out []entry
	err := filepath.WalkDir(o.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(o.Root, p)
		if err != nil {
			return err
		}
		np := path.Join("/", filepath.ToSlash(rel))
		if d.IsDir() && !underRoot(np) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, entry{path: np, info: info})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

// underRoot reports whether p is a root or below one.
func underRoot(p string) bool {
	for _, r := range Roots {
		if p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

// regularFiles lists the node paths of the regular files under the roots.
func (o *Output) regularFiles() ([]string, error) {
	es, err := o.walk()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range es {
		if e.info.Mode().IsRegular() {
			out = append(out, e.path)
		}
	}
	return out, nil
}

// treeCollector records every file, directory and symlink under the roots
// with its type and permission bits: the set of files and their modes.
type treeCollector struct{}

func (treeCollector) Name() string { return "tree" }

func (treeCollector) Collect(o *Output) (Artifacts, error) {
	es, err := o.walk()
	if err != nil {
		return nil, err
	}
	a := Artifacts{}
	for _, e := range es {
		r := Record{}
		m := e.info.Mode()
		switch {
		case m.IsDir():
			r["type"] = "dir"
		case m&fs.ModeSymlink != 0:
			r["type"] = "symlink"
			if t, err := os.Readlink(o.hostPath(e.path)); err == nil {
				r["target"] = t
			}
		case m.IsRegular():
			r["type"] = "file"
		default:
			r["type"] = m.Type().String()
		}
		if !unmodedRoots[e.path] {
			r["mode"] = fmt.Sprintf("%04o", m.Perm()|m&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
		}
		a["file "+e.path] = r
	}
	return a, nil
}

// fileCollector reads the regular files it matches, one artifact set per
// file.
type fileCollector struct {
	name  string
	match func(nodePath string) bool
	read  func(o *Output, nodePath string, data []byte) (Artifacts, error)
}

func (c fileCollector) Name() string { return c.name }

func (c fileCollector) Collect(o *Output) (Artifacts, error) {
	files, err := o.regularFiles()
	if err != nil {
		return nil, err
	}
	all := Artifacts{}
	for _, p := range files {
		if !c.match(p) {
			continue
		}
		data, err := o.ReadFile(p)
		if err != nil {
			return nil, err
		}
		a, err := c.read(o, p, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if err := all.Add(a); err != nil {
			return nil, err
		}
	}
	return all, nil
}

// rawCollector records the content of every regular file no other file
// collector reads, so a file only one tool writes, or an unexpected file
// both write, is still compared: short text as is, anything else as a hash.
type rawCollector struct {
	others []fileCollector
}

func (rawCollector) Name() string { return "raw" }

func (c rawCollector) Collect(o *Output) (Artifacts, error) {
	files, err := o.regularFiles()
	if err != nil {
		return nil, err
	}
	a := Artifacts{}
next:
	for _, p := range files {
		for _, fc := range c.others {
			if fc.match(p) {
				continue next
			}
		}
		data, err := o.ReadFile(p)
		if err != nil {
			return nil, err
		}
		r := Record{}
		if len(data) <= 4096 && utf8.Valid(data) {
			r["content"] = string(data)
		} else {
			r["sha256"] = fmt.Sprintf("%x", sha256.Sum256(data))
		}
		a["raw "+p] = r
	}
	return a, nil
}
