package kubeadmconfig

// unmountFlags are the unmount2() flags kubeadm reset accepts.
var unmountFlags = []string{"MNT_FORCE", "MNT_DETACH", "MNT_EXPIRE", "UMOUNT_NOFOLLOW"}

// checkReset validates a ResetConfiguration.
func (c *checker) checkReset(rc *ResetConfiguration) {
	c.check(rc.CertificatesDir, "certificatesDir", checkAbsPath)
	rc.CRISocket = c.criSocket(rc.CRISocket, "criSocket")
	c.checkIgnorePreflight(rc.IgnorePreflightErrors, "ignorePreflightErrors")
	for i, fl := range rc.UnmountFlags {
		if !contains(unmountFlags, fl) {
			c.errorf("unmountFlags", "[%d] %q is not an unmount flag; use MNT_FORCE, MNT_DETACH, MNT_EXPIRE or UMOUNT_NOFOLLOW", i, fl)
		}
	}
	c.checkTimeouts(rc.Timeouts)
}
