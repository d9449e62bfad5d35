package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kubelark/kubelark/builtins"
	"github.com/kubelark/kubelark/recipes"
	"github.com/kubelark/kubelark/runtime/host"
	"github.com/kubelark/kubelark/stdlib"
)

// TestResetCommandLine: `kubelark reset` is kubeadm reset's command line
// with one word changed: its flags are the recipe's, and --force,
// --cleanup-tmp-dir, --cert-dir, --cri-socket, --kubeconfig,
// --ignore-preflight-errors and --skip-phases work as kubeadm's.
func TestResetCommandLine(t *testing.T) {
	real := func(t *testing.T) (*app, *bytes.Buffer, *bytes.Buffer) {
		a, stdout, stderr, _ := testApp(t)
		a.recipes, a.stdlib, a.registry = recipes.FS, stdlib.FS, builtins.Registry
		a.newHost = func(o hostOptions) (host.Host, error) {
			if o.DryRun {
				return host.NewDryRun(host.NewFake()), nil
			}
			return host.NewFake(), nil
		}
		return a, stdout, stderr
	}
	a, stdout, stderr := real(t)
	if code := execute(context.Background(), a, []string{"reset", "--help"}); code != 0 {
		t.Fatalf("reset --help: exit %d: %s", code, stderr)
	}
	help := stdout.String()
	for _, f := range []string{"--force", "--cleanup-tmp-dir", "--cert-dir", "--cri-socket", "--kubeconfig", "--ignore-preflight-errors", "--skip-phases", "--dry-run", "--config"} {
		if !strings.Contains(help, f) {
			t.Errorf("kubelark reset --help lacks %s:\n%s", f, help)
		}
	}
	a, stdout, stderr = real(t)
	args := []string{"reset", "--dry-run", "--force", "--cleanup-tmp-dir", "--cert-dir", "/etc/kubernetes/pki", "--cri-socket", "unix:///run/containerd/containerd.sock",
		"--kubeconfig", "/etc/kubernetes/admin.conf", "--ignore-preflight-errors", "all", "--skip-phases", "cleanup-network"}
	if code := execute(context.Background(), a, args); code != 0 {
		t.Fatalf("%v: exit %d: %s%s", args, code, stdout, stderr)
	}
	if !strings.Contains(stdout.String(), "nothing to do") {
		t.Errorf("a reset dry run of an empty machine:\n%s", stdout)
	}
}
