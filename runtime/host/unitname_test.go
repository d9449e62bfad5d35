package host

import (
	"context"
	"strings"
	"testing"
)

func TestCheckServicePolicy(t *testing.T) {
	for _, ok := range [][2]string{
		{"restart", "kubelet"}, {"daemon-reload", "kubelet.service"}, {"is-active", "firewalld"},
		{"is-enabled", "containerd"}, {"is-active", "cri-docker.service"},
	} {
		if err := CheckServicePolicy(ok[0], ok[1]); err != nil {
			t.Errorf("%s %s: %v", ok[0], ok[1], err)
		}
	}
	for _, bad := range [][3]string{
		{"stop", "sshd", `unit "sshd" is not one a recipe may stop`},
		{"restart", "containerd", "allowed on kubelet only"},
		{"is-active", "sshd", "is-active is allowed on kubelet, containerd"},
		{"reboot", "kubelet", `unknown service action "reboot"`},
		{"is-active", "--evil-flag=1", `starts with "-"`},
		{"is-active", "-kubelet.service", `starts with "-"`},
		{"is-active", ".service", "no name before .service"},
		{"is-active", "kubelet;id", `contains ';'`},
		{"is-active", "kubelet.socket", "is a socket unit"},
		{"is-active", "a@b@c", `more than one "@"`},
		{"is-active", "", "empty"},
		{"is-active", strings.Repeat("k", 256), "longer than systemd's 255"},
	} {
		err := CheckServicePolicy(bad[0], bad[1])
		if err == nil || !strings.Contains(err.Error(), bad[2]) {
			t.Errorf("%s %q: err = %v, want %q", bad[0], bad[1], err, bad[2])
		}
	}
}

// The hosts check again right before a command would be built.
func TestServiceHostsRefuseOutsidePolicy(t *testing.T) {
	l := NewLive(LiveOptions{Environ: []string{"PATH=/nonexistent"}, ServiceCommand: "/nonexistent {action} {unit}"})
	for _, h := range []Host{l, NewDryRun(l)} {
		if err := h.Service(context.Background(), "is-active", "--evil-flag=1"); err == nil || !strings.Contains(err.Error(), `starts with "-"`) {
			t.Errorf("%T: err = %v", h, err)
		}
		if err := h.Service(context.Background(), "stop", "sshd"); err == nil || !strings.Contains(err.Error(), "allowed on kubelet only") {
			t.Errorf("%T: err = %v", h, err)
		}
	}
}
