package host

import (
	"bytes"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// MemFS is an in-memory file tree. It is the fake file system of unit tests
// and the overlay of the dry-run host. Paths are cleaned absolute paths.
type MemFS struct {
	mu      sync.Mutex
	entries map[string]*memEntry // path -> entry; a nil *memEntry is a tombstone
	now     func() time.Time
}

type memEntry struct {
	data  []byte
	mode  fs.FileMode // includes fs.ModeDir for directories
	mtime time.Time
}

// NewMemFS returns an empty tree containing only "/".
func NewMemFS(now func() time.Time) *MemFS {
	if now == nil {
		now = time.Now
	}
	m := &MemFS{entries: map[string]*memEntry{}, now: now}
	m.entries["/"] = &memEntry{mode: fs.ModeDir | 0o755}
	return m
}

func clean(p string) string { return path.Clean("/" + p) }

// lookup returns (entry, known). known=false means the tree holds nothing
// for p (a base file system may); a tombstone returns (nil, true).
func (m *MemFS) lookup(p string) (*memEntry, bool) {
	e, ok := m.entries[p]
	return e, ok
}

// Get returns content and mode of a regular file, for tests.
func (m *MemFS) Get(p string) ([]byte, fs.FileMode, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[clean(p)]
	if !ok || e == nil || e.mode.IsDir() {
		return nil, 0, false
	}
	return append([]byte(nil), e.data...), exactMode(e.mode), true
}

// Put stores a file (and its parents) directly, for test fixtures.
func (m *MemFS) Put(p string, data []byte, mode fs.FileMode) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p = clean(p)
	m.mkdirs(path.Dir(p), 0o755, 0o755)
	m.entries[p] = &memEntry{data: append([]byte(nil), data...), mode: mode.Perm(), mtime: m.now()}
}

// Paths lists every regular file, sorted, for tests.
func (m *MemFS) Paths() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for p, e := range m.entries {
		if e != nil && !e.mode.IsDir() {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// mkdirs creates the missing directories of p: p itself with mode, its
// parents with parentMode.
func (m *MemFS) mkdirs(p string, mode, parentMode fs.FileMode) bool {
	created := false
	p = clean(p)
	for _, d := range ancestors(p) {
		if e, ok := m.entries[d]; !ok || e == nil {
			dm := parentMode
			if d == p {
				dm = mode
			}
			m.entries[d] = &memEntry{mode: fs.ModeDir | exactMode(dm), mtime: m.now()}
			created = true
		}
	}
	return created
}

// ancestors returns "/", "/a", "/a/b" for "/a/b".
func ancestors(p string) []string {
	p = clean(p)
	out := []string{"/"}
	if p == "/" {
		return out
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i := range parts {
		out = append(out, "/"+strings.Join(parts[:i+1], "/"))
	}
	return out
}

func (m *MemFS) ReadFile(p string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.lookup(clean(p))
	if !ok || e == nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	if e.mode.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errIsDir}
	}
	return append([]byte(nil), e.data...), nil
}

func (m *MemFS) Stat(p string) (fs.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p = clean(p)
	e, ok := m.lookup(p)
	if !ok || e == nil {
		return nil, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
	}
	return memInfo{name: path.Base(p), e: e}, nil
}

func (m *MemFS) ReadDir(p string) ([]fs.DirEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p = clean(p)
	e, ok := m.lookup(p)
	if !ok || e == nil {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: fs.ErrNotExist}
	}
	if !e.mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: errNotDir}
	}
	prefix := strings.TrimSuffix(p, "/") + "/"
	var out []fs.DirEntry
	for q, c := range m.entries {
		if c == nil || !strings.HasPrefix(q, prefix) || q == p {
			continue
		}
		if strings.Contains(q[len(prefix):], "/") {
			continue
		}
		out = append(out, fs.FileInfoToDirEntry(memInfo{name: path.Base(q), e: c}))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

func (m *MemFS) WriteFile(p string, data []byte, mode, dirMode fs.FileMode) (WriteResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p = clean(p)
	if e, ok := m.lookup(path.Dir(p)); ok && e != nil && !e.mode.IsDir() {
		return "", &fs.PathError{Op: "write", Path: p, Err: errNotDir}
	}
	res := Created
	if e, ok := m.lookup(p); ok && e != nil {
		if e.mode.IsDir() {
			return "", &fs.PathError{Op: "write", Path: p, Err: errIsDir}
		}
		if bytes.Equal(e.data, data) && exactMode(e.mode) == exactMode(mode) {
			return Unchanged, nil
		}
		res = Updated
	}
	m.mkdirs(path.Dir(p), dirMode, dirMode)
	m.entries[p] = &memEntry{data: append([]byte(nil), data...), mode: exactMode(mode), mtime: m.now()}
	return res, nil
}

func (m *MemFS) MkdirAll(p string, mode fs.FileMode) (WriteResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p = clean(p)
	if e, ok := m.lookup(p); ok && e != nil {
		if !e.mode.IsDir() {
			return "", &fs.PathError{Op: "mkdir", Path: p, Err: errNotDir}
		}
		return Unchanged, nil
	}
	m.mkdirs(p, mode, ParentDirMode)
	return Created, nil
}

func (m *MemFS) Remove(p string) (WriteResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p = clean(p)
	e, ok := m.lookup(p)
	if !ok || e == nil {
		return Absent, nil
	}
	if e.mode.IsDir() {
		prefix := strings.TrimSuffix(p, "/") + "/"
		for q, c := range m.entries {
			if c != nil && strings.HasPrefix(q, prefix) {
				return "", &fs.PathError{Op: "remove", Path: p, Err: errNotEmpty}
			}
		}
	}
	delete(m.entries, p)
	return Deleted, nil
}

type memInfo struct {
	name string
	e    *memEntry
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return int64(len(i.e.data)) }
func (i memInfo) Mode() fs.FileMode  { return i.e.mode }
func (i memInfo) ModTime() time.Time { return i.e.mtime }
func (i memInfo) IsDir() bool        { return i.e.mode.IsDir() }
func (i memInfo) Sys() any           { return nil }

type strErr string

func (e strErr) Error() string { return string(e) }

const (
	errIsDir    = strErr("is a directory")
	errNotDir   = strErr("not a directory")
	errNotEmpty = strErr("directory not empty")
)
