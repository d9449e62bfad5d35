package recipes_test

import (
	"strings"
	"testing"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// fileActions are the plan's file and directory actions.
func fileActions(plan *runtime.Plan) []runtime.Action {
	var out []runtime.Action
	for _, a := range plan.Actions {
		if strings.HasPrefix(a.Op, "file.") || strings.HasPrefix(a.Op, "dir.") {
			out = append(out, a)
		}
	}
	return out
}

// TestSecondRunChangesNothing runs init twice on the same host: the second
// run must reuse every certificate, key and kubeconfig and rewrite no file.
func TestSecondRunChangesNothing(t *testing.T) {
	for _, values := range []string{"", "extras.yaml", "cpe-sans.yaml", "ecdsa.yaml"} {
		t.Run("values="+values, func(t *testing.T) {
			f := newFake()
			first, out, err := runInit(t, f, false, values)
			if err != nil {
				t.Fatalf("first init: %v\n%s", err, out)
			}
			// Preflight rightly refuses existing manifests (as kubeadm
			// does); re-running the other phases is what is tested.
			second, out, err := runInit(t, f, false, values, "skip_phases=preflight")
			if err != nil {
				t.Fatalf("second init: %v\n%s", err, out)
			}
			if n, m := len(fileActions(first)), len(fileActions(second)); n != m || n < 34 {
				t.Errorf("first run recorded %d file actions, second %d", n, m)
			}
			for _, a := range fileActions(second) {
				if a.Result != "unchanged" {
					t.Errorf("second run: %s %s is %s, want unchanged", a.Op, a.Target, a.Result)
				}
			}
		})
	}
}

// TestExternalCA pre-seeds the PKI and kubeconfigs of a first run, removes
// ca.key, and runs init again: kubeadm's external CA mode. Everything is
// reused, no sa key is generated, and the controller-manager gets empty
// signing flags.
func TestExternalCA(t *testing.T) {
	f := initOnFake(t, "")
	if _, err := f.Remove("/etc/kubernetes/pki/ca.key"); err != nil {
		t.Fatal(err)
	}
	plan, out, err := runInit(t, f, false, "", "skip_phases=preflight")
	if err != nil {
		t.Fatalf("init with an external CA: %v\n%s", err, out)
	}
	for _, a := range fileActions(plan) {
		if a.Result != "unchanged" && !strings.HasSuffix(a.Target, "kube-controller-manager.yaml") {
			t.Errorf("external CA mode: %s %s is %s", a.Op, a.Target, a.Result)
		}
		if a.Target == "/etc/kubernetes/pki/ca.key" {
			t.Errorf("external CA mode wrote ca.key")
		}
	}
	for _, want := range []string{"Using existing sa keys", "External CA mode: Using user provided admin.conf"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	kcm := flagMap(t, "kube-controller-manager", readPod(t, f, "kube-controller-manager").Spec.Containers[0].Command)
	if v, ok := kcm["cluster-signing-cert-file"]; !ok || v != "" {
		t.Errorf("--cluster-signing-cert-file = %q (present %v), want empty", v, ok)
	}
	if v, ok := kcm["cluster-signing-key-file"]; !ok || v != "" {
		t.Errorf("--cluster-signing-key-file = %q (present %v), want empty", v, ok)
	}
}

// TestExternalCAMissingFiles: without ca.key, a missing leaf or kubeconfig
// cannot be made, and the error must say which file and what to do.
func TestExternalCAMissingFiles(t *testing.T) {
	for _, missing := range []string{"/etc/kubernetes/pki/apiserver.crt", "/etc/kubernetes/admin.conf"} {
		t.Run(missing, func(t *testing.T) {
			f := initOnFake(t, "")
			for _, p := range []string{"/etc/kubernetes/pki/ca.key", missing} {
				if _, err := f.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
			if missing == "/etc/kubernetes/pki/apiserver.crt" {
				if _, err := f.Remove("/etc/kubernetes/pki/apiserver.key"); err != nil {
					t.Fatal(err)
				}
			}
			_, out, err := runInit(t, f, false, "", "skip_phases=preflight")
			if err == nil {
				t.Fatalf("init succeeded without ca.key and %s:\n%s", missing, out)
			}
			base := missing[strings.LastIndex(missing, "/")+1:]
			base = strings.TrimSuffix(base, ".crt")
			if !strings.Contains(err.Error(), base) {
				t.Errorf("error does not name %s: %v", base, err)
			}
		})
	}
}

// TestDryRunMatchesRealRun: the dry-run plan lists the same files, modes
// and results as a real run on an identical host.
func TestDryRunMatchesRealRun(t *testing.T) {
	dry, out, err := runInit(t, host.NewDryRun(newFake()), true, "")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	real, out, err := runInit(t, newFake(), false, "")
	if err != nil {
		t.Fatalf("real run: %v\n%s", err, out)
	}
	d, r := fileActions(dry), fileActions(real)
	if len(d) != len(r) {
		t.Fatalf("dry run has %d file actions, real run %d", len(d), len(r))
	}
	for i := range d {
		if d[i].Target != r[i].Target || d[i].Mode != r[i].Mode || d[i].Result != r[i].Result {
			t.Errorf("action %d: dry %s %s %s, real %s %s %s", i, d[i].Target, d[i].Mode, d[i].Result, r[i].Target, r[i].Mode, r[i].Result)
		}
	}
}
