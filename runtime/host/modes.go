package host

import "io/fs"

// ParentDirMode is the mode of the missing parent directories a MkdirAll
// creates on its way to the directory asked for (and under --root, of the
// relocated tree's /etc, /var, /var/lib...): the documented directory mode,
// 0755, as mkdir -p and kubeadm leave them. The mode a recipe asks for
// applies to the directory it names, never to parents it did not name.
const ParentDirMode fs.FileMode = 0o755

// modeMask keeps the bits chmod(2) sets: permissions plus setuid, setgid
// and sticky (Go's os.Chmod maps fs.ModeSetuid/ModeSetgid/ModeSticky to
// the Unix bits). Perm() alone would drop the special bits silently.
const modeMask = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// exactMode is the part of m a host sets and compares: a file whose
// permissions match but whose setuid bit differs is not Unchanged.
func exactMode(m fs.FileMode) fs.FileMode { return m & modeMask }
