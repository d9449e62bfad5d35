package node

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Linux capability numbers the harness cares about.
const (
	capNetAdmin    = 12
	capSysAdmin    = 21
	capSysResource = 24
)

// CheckHost fails early, with the reason, when this machine cannot run e2e
// nodes: not root, or missing the capabilities namespaces and mounts need.
// A missing CAP_SYS_RESOURCE is expected on the Firecracker VMs the suite was
// developed on; the containerd config sets restrict_oom_score_adj so runc
// never tries to lower oom_score_adj (real-node.md).
func CheckHost() error {
	if os.Geteuid() != 0 {
		return errNotRoot
	}
	bnd, err := capBnd()
	if err != nil {
		return err
	}
	for c, name := range map[int]string{capSysAdmin: "CAP_SYS_ADMIN", capNetAdmin: "CAP_NET_ADMIN"} {
		if bnd&(1<<c) == 0 {
			return fmt.Errorf("the bounding capability set (CapBnd %#x in /proc/self/status) lacks %s, which the e2e nodes need for namespaces and mounts; run on a machine or container with it", bnd, name)
		}
	}
	return nil
}

// HasSysResource reports whether CAP_SYS_RESOURCE is in the bounding set.
func HasSysResource() bool {
	bnd, err := capBnd()
	return err == nil && bnd&(1<<capSysResource) != 0
}

func capBnd() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, fmt.Errorf("/proc/self/status has no CapBnd line")
}
