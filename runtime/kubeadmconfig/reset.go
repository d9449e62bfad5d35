package kubeadmconfig

// unmountFlags are the unmount2() flags kubeadm reset accepts.
var unmountFlags = []string{"MNT_FORCE", "MNT_DETACH", "MNT_EXPIRE", "UMOUNT_NOFOLLOW"}

// mapReset maps a ResetConfiguration to reset_* parameters, for the reset
// recipe.
func (m *mapper) mapReset(c *ResetConfiguration) {
	if c.CleanupTmpDir {
		m.set("reset_cleanup_tmp_dir", true, "cleanupTmpDir")
	}
	m.setChecked("reset_cert_dir", c.CertificatesDir, "certificatesDir", checkAbsPath)
	if c.CRISocket != "" {
		norm, warn, msg := normalizeCRISocket(c.CRISocket)
		if msg != "" {
			m.errorf("criSocket", "%s", msg)
		} else {
			if warn != "" {
				m.warnf("criSocket", "%s", warn)
			}
			m.set("reset_cri_socket", norm, "criSocket")
		}
	}
	if c.DryRun {
		m.unsupported("dryRun", "pass --dry-run to `kubelark run` instead")
	}
	if c.Force {
		m.set("reset_force", true, "force")
	}
	m.mapIgnorePreflight("reset_", c.IgnorePreflightErrors, "ignorePreflightErrors")
	m.setStrings("reset_skip_phases", c.SkipPhases, "skipPhases")
	if c.UnmountFlags != nil {
		ok := true
		for i, fl := range c.UnmountFlags {
			if !contains(unmountFlags, fl) {
				m.errorf("unmountFlags", "[%d] %q is not an unmount flag; use MNT_FORCE, MNT_DETACH, MNT_EXPIRE or UMOUNT_NOFOLLOW", i, fl)
				ok = false
			}
		}
		if ok {
			m.setStrings("reset_unmount_flags", c.UnmountFlags, "unmountFlags")
		}
	}
	// reset talks to the API server (to read the cluster config) and to etcd
	// (to remove this node's member).
	m.mapTimeouts("reset_", c.Timeouts, "reset", "kubernetesAPICall", "etcdAPICall")
}
