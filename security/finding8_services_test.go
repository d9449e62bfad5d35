package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeServiceManagers puts logging systemctl, rc-service and rc-update
// scripts first in PATH for the runs of this test, and returns the file
// where every call's argv lands. With no /run/systemd/system the live host
// picks OpenRC (rc-service); on a systemd machine systemctl is the fake.
func fakeServiceManagers(t *testing.T) (log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "argv.log")
	for _, name := range []string{"systemctl", "rc-service", "rc-update"} {
		script := "#!/bin/sh\necho \"" + name + " $*\" >> " + log + "\nexit 3\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return log
}

func serviceCalls(t *testing.T, log string) string {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// TestFinding8DryRunQueryFlagUnitNeverReachesServiceManager: a dry run ran
// the service manager's is-active with the recipe's "unit" --evil-flag=1
// in its argv. Now the name is refused before any command is built.
func TestFinding8DryRunQueryFlagUnitNeverReachesServiceManager(t *testing.T) {
	log := fakeServiceManagers(t)
	for _, action := range []string{"is-active", "is-enabled"} {
		r := kubelark(t, "run", recipe(t, `service("--evil-flag=1", "`+action+`")`), "--dry-run")
		if r.Code == 0 || !strings.Contains(r.Stderr, `unit "--evil-flag=1" starts with "-"`) {
			t.Errorf("%s of --evil-flag=1 was not refused (exit %d):\n%s", action, r.Code, r.Output())
		}
	}
	if calls := serviceCalls(t, log); strings.Contains(calls, "evil") {
		t.Errorf("the service manager ran with the recipe's flag:\n%s", calls)
	}
}

// TestFinding8PreflightServiceCheckFlagUnitRefused: the same word through a
// preflight service check (service_active, service_enabled).
func TestFinding8PreflightServiceCheckFlagUnitRefused(t *testing.T) {
	log := fakeServiceManagers(t)
	for _, kind := range []string{"service_active", "service_enabled"} {
		src := `preflight_check([{"kind": "` + kind + `", "unit": "--evil-flag=1"}])`
		r := kubelark(t, "run", recipe(t, src), "--dry-run")
		if r.Code == 0 || !strings.Contains(r.Stderr, `field "unit": unit "--evil-flag=1" starts with "-"`) {
			t.Errorf("%s of --evil-flag=1 was not refused (exit %d):\n%s", kind, r.Code, r.Output())
		}
	}
	if calls := serviceCalls(t, log); strings.Contains(calls, "evil") {
		t.Errorf("the service manager ran with the recipe's flag:\n%s", calls)
	}
}

// TestFinding8StopSshdRefused: a recipe could stop sshd (or restart any
// unit) on a live run; a dry run recorded it as fine. Control actions are
// allowed on the kubelet only, and refused alike in dry runs and --root.
func TestFinding8StopSshdRefused(t *testing.T) {
	log := fakeServiceManagers(t)
	for _, src := range []string{`service("sshd", "stop")`, `service("sshd.service", "restart")`, `service("containerd", "stop")`, `service("kubelet", "daemon-reload")` + "\n" + `service("docker", "start")`} {
		for _, mode := range [][]string{{"--dry-run"}, {"--root", t.TempDir()}} {
			r := kubelark(t, append([]string{"run", recipe(t, src)}, mode...)...)
			if r.Code == 0 || !strings.Contains(r.Stderr, "is not one a recipe may") || !strings.Contains(r.Stderr, "allowed on kubelet only") {
				t.Errorf("%s %v was not refused (exit %d):\n%s", src, mode, r.Code, r.Output())
			}
		}
	}
	// The kubelet stays controllable, and the plan shows each action.
	r := kubelark(t, "run", recipe(t, `service("kubelet", "daemon-reload")`+"\n"+`service("kubelet.service", "restart")`), "--dry-run", "-o", "json")
	if r.Code != 0 || !strings.Contains(r.Stdout, `"op": "service.daemon-reload"`) || !strings.Contains(r.Stdout, `"op": "service.restart"`) {
		t.Errorf("kubelet actions are not in the plan (exit %d):\n%s", r.Code, r.Output())
	}
	if calls := serviceCalls(t, log); strings.Contains(calls, "sshd") || strings.Contains(calls, "restart") || strings.Contains(calls, "stop") {
		t.Errorf("a dry run or --root run controlled a service:\n%s", calls)
	}
}

// TestFinding8MalformedUnitNamesRefused: names outside systemd's unit name
// syntax, or naming a non-service unit, never reach a query either.
func TestFinding8MalformedUnitNamesRefused(t *testing.T) {
	log := fakeServiceManagers(t)
	for _, unit := range []string{"kubelet;reboot", "kubelet x", "kubelet\\nx", "../kubelet", ".kubelet", "kubelet.socket", "a@b@c", ""} {
		r := kubelark(t, "run", recipe(t, `service("`+unit+`", "is-active")`), "--dry-run")
		if r.Code == 0 {
			t.Errorf("unit %q was accepted:\n%s", unit, r.Output())
		}
	}
	if calls := serviceCalls(t, log); calls != "" {
		t.Errorf("the service manager ran for malformed names:\n%s", calls)
	}
}
