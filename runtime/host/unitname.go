package host

// Which services a recipe may touch, and how a unit name must look before
// it reaches a service manager's argv. The policy is checked by the
// service builtins (so a dry run refuses what a real run would) and again
// by the Live and DryRun hosts right before a command is built, so that no
// path — service(), kubelet_restart(), a preflight service check — can put
// an arbitrary word into systemctl's, rc-service's or --service-command's
// arguments.

import (
	"fmt"
	"slices"
	"strings"
)

// ControlUnits are the units a recipe may daemon-reload, restart, stop or
// start: only the kubelet, as kubeadm init/join/reset/upgrade act on the
// kubelet alone. The container runtime, sshd, the firewall and everything
// else on the node belong to the operator.
var ControlUnits = []string{"kubelet"}

// QueryUnits are the units a recipe may ask is-active/is-enabled about:
// read-only questions kubeadm's preflight asks (the kubelet, the container
// runtimes, firewalld).
var QueryUnits = []string{"kubelet", "containerd", "crio", "docker", "cri-docker", "firewalld"}

// ControlActions and QueryActions are the service actions there are.
var (
	ControlActions = []string{"daemon-reload", "restart", "stop", "start"}
	QueryActions   = []string{"is-active", "is-enabled"}
)

// maxUnitName is systemd's UNIT_NAME_MAX.
const maxUnitName = 255

// ValidateUnitName checks systemd's unit name syntax, restricted to what a
// recipe may name: NAME or NAME.service, NAME of ASCII letters, digits and
// ":-_.\@" (one "@" at most, for a template instance), not starting with
// "-" or "." (a leading "-" would be read as an option by the service
// manager). The error quotes the name with %q, so control characters show.
func ValidateUnitName(unit string) error {
	const allowed = "a unit name is letters, digits and \":-_.\\@\", optionally ending in \".service\", e.g. \"kubelet\""
	base := strings.TrimSuffix(unit, ".service")
	switch {
	case unit == "":
		return fmt.Errorf("the unit name is empty; %s", allowed)
	case len(unit) > maxUnitName:
		return fmt.Errorf("unit name of %d bytes is longer than systemd's %d", len(unit), maxUnitName)
	case base == "":
		return fmt.Errorf("unit %q has no name before .service; %s", unit, allowed)
	case base[0] == '-' || base[0] == '.':
		return fmt.Errorf("unit %q starts with %q; %s", unit, base[:1], allowed)
	case strings.Count(base, "@") > 1:
		return fmt.Errorf("unit %q has more than one \"@\"; %s", unit, allowed)
	}
	for _, c := range base {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(":-_.\\@", c)
		if !ok {
			return fmt.Errorf("unit %q contains %q; %s", unit, c, allowed)
		}
	}
	if i := strings.LastIndex(base, "."); i >= 0 && isUnitSuffix(base[i:]) {
		return fmt.Errorf("unit %q is a %s unit; recipes act on services only", unit, base[i+1:])
	}
	return nil
}

// isUnitSuffix reports whether s is a systemd unit type suffix other than
// .service (a socket, timer, mount, … is not a service).
func isUnitSuffix(s string) bool {
	switch s {
	case ".socket", ".device", ".mount", ".automount", ".swap", ".target", ".path", ".timer", ".slice", ".scope":
		return true
	}
	return false
}

// CheckServicePolicy refuses an unknown action, a malformed unit name, and
// a unit outside ControlUnits (control actions) or QueryUnits (queries).
func CheckServicePolicy(action, unit string) error {
	var units []string
	switch {
	case slices.Contains(ControlActions, action):
		units = ControlUnits
	case slices.Contains(QueryActions, action):
		units = QueryUnits
	default:
		return fmt.Errorf("unknown service action %q; use one of %s", action, strings.Join(append(append([]string(nil), ControlActions...), QueryActions...), ", "))
	}
	if err := ValidateUnitName(unit); err != nil {
		return err
	}
	if !slices.Contains(units, strings.TrimSuffix(unit, ".service")) {
		return fmt.Errorf("unit %q is not one a recipe may %s: %s is allowed on %s only (see docs/security.md)", unit, action, action, strings.Join(units, ", "))
	}
	return nil
}
