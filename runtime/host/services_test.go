package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeManager makes a PATH dir holding a script named bin that appends its
// arguments to a log file, and returns the dir and the log path.
func fakeManager(t *testing.T, bins ...string) (string, string) {
	dir := t.TempDir()
	log := filepath.Join(dir, "calls.log")
	for _, b := range bins {
		writeScript(t, dir, b, `echo "`+b+` $*" >> `+log+`
case "$*" in *broken*) echo "unit broken not found" >&2; exit 5;; esac`)
	}
	return dir, log
}

func calls(t *testing.T, log string) []string {
	b, _ := os.ReadFile(log)
	return strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "_"))
}

func TestServiceSystemd(t *testing.T) {
	bin, log := fakeManager(t, "systemctl", "rc-service")
	marker := t.TempDir()
	l := NewLive(LiveOptions{Environ: []string{"PATH=" + bin}, SystemdMarker: marker, ServiceCommand: "/nonexistent {action}"})
	if got := l.ServiceManager(); got != "systemd" {
		t.Fatalf("manager = %s", got)
	}
	ctx := context.Background()
	for _, a := range []string{"daemon-reload", "restart", "is-active"} {
		if err := l.Service(ctx, a, "kubelet"); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"systemctl_daemon-reload", "systemctl_restart_kubelet", "systemctl_is-active_kubelet"}
	if got := calls(t, log); !reflect.DeepEqual(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	writeScript(t, bin, "systemctl", `echo "unit kubelet not found" >&2; exit 5`)
	err := l.Service(ctx, "restart", "kubelet")
	if err == nil || !strings.Contains(err.Error(), "systemctl restart kubelet") || !strings.Contains(err.Error(), "unit kubelet not found") {
		t.Fatalf("error should name the command and its output: %v", err)
	}
	if err := l.Service(ctx, "reboot", "kubelet"); err == nil {
		t.Fatal("unknown action accepted")
	}
}

func TestServiceSystemctlWithoutSystemdFallsThrough(t *testing.T) {
	bin, log := fakeManager(t, "systemctl", "rc-service", "rc-update")
	l := NewLive(LiveOptions{Environ: []string{"PATH=" + bin}, SystemdMarker: filepath.Join(bin, "missing")})
	if got := l.ServiceManager(); got != "openrc" {
		t.Fatalf("manager = %s", got)
	}
	ctx := context.Background()
	for _, a := range []string{"daemon-reload", "restart", "stop", "is-active"} {
		if err := l.Service(ctx, a, "kubelet"); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"rc-service_kubelet_restart", "rc-service_kubelet_stop", "rc-service_kubelet_status"}
	if got := calls(t, log); !reflect.DeepEqual(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	// rc-update show default prints nothing here: kubelet is not enabled.
	if err := l.Service(ctx, "is-enabled", "kubelet"); err == nil {
		t.Fatal("is-enabled should fail when the unit is not in the default runlevel")
	}
}

func TestServiceCommand(t *testing.T) {
	bin, log := fakeManager(t, "node-svc")
	l := NewLive(LiveOptions{Environ: []string{"PATH=/nowhere"}, SystemdMarker: bin,
		ServiceCommand: filepath.Join(bin, "node-svc") + " --unit={unit} {action}"})
	if got := l.ServiceManager(); got != "command" {
		t.Fatalf("manager = %s", got)
	}
	if err := l.Service(context.Background(), "restart", "kubelet"); err != nil {
		t.Fatal(err)
	}
	if got := calls(t, log); !reflect.DeepEqual(got, []string{"node-svc_--unit=kubelet_restart"}) {
		t.Fatalf("calls = %v", got)
	}
}

func TestServiceCommandArgs(t *testing.T) {
	for _, tc := range []struct {
		tmpl, action, unit string
		want               []string
	}{
		{"/usr/local/bin/node-svc {action} {unit}", "restart", "kubelet", []string{"/usr/local/bin/node-svc", "restart", "kubelet"}},
		{"/usr/local/bin/node-svc {action} {unit}", "daemon-reload", "", []string{"/usr/local/bin/node-svc", "daemon-reload"}},
		{"svc", "stop", "kubelet", []string{"svc", "stop", "kubelet"}},
		{"svc --name={unit}.service", "start", "kubelet", []string{"svc", "--name=kubelet.service"}},
	} {
		if got := ServiceCommandArgs(tc.tmpl, tc.action, tc.unit); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ServiceCommandArgs(%q, %q, %q) = %q, want %q", tc.tmpl, tc.action, tc.unit, got, tc.want)
		}
	}
}

func TestServiceNone(t *testing.T) {
	l := NewLive(LiveOptions{Environ: []string{"PATH=/nowhere"}})
	if got := l.ServiceManager(); got != "none" {
		t.Fatalf("manager = %s", got)
	}
	err := l.Service(context.Background(), "restart", "kubelet")
	if !errors.Is(err, ErrNoServiceManager) || !strings.Contains(err.Error(), "--service-command") {
		t.Fatalf("err = %v", err)
	}
}

// A service command that starts a daemon which keeps our output pipe open
// must return once the command itself has exited.
func TestServiceCommandBackgroundDaemon(t *testing.T) {
	bin := t.TempDir()
	writeScript(t, bin, "svc", `/bin/sleep 5 &
echo started`)
	l := NewLive(LiveOptions{Environ: []string{"PATH=/nowhere"}, ServiceCommand: filepath.Join(bin, "svc") + " {action} {unit}"})
	start := time.Now()
	if err := l.Service(context.Background(), "start", "kubelet"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("took %v: waited for the daemon", d)
	}
}
