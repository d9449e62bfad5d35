package recipes_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubelark/kubelark/builtins"
	"github.com/kubelark/kubelark/recipes"
	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/stdlib"
)

func describeInit(t *testing.T) *runtime.Description {
	t.Helper()
	d, err := runtime.Describe(context.Background(), runtime.Options{
		Recipe: "init", RecipeFS: recipes.FS, StdlibFS: stdlib.FS, Registry: builtins.Registry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestInitPhaseTree: the tree init.star composes from the modules' PHASE
// declarations is kubeadm v1.36.3's `kubeadm init` phase list (without its
// "all" pseudo-phases), with kubeadm's help texts.
func TestInitPhaseTree(t *testing.T) {
	want := []string{
		"preflight", "certs", "certs/ca", "certs/apiserver", "certs/apiserver-kubelet-client",
		"certs/front-proxy-ca", "certs/front-proxy-client", "certs/etcd-ca", "certs/etcd-server", "certs/etcd-peer",
		"certs/etcd-healthcheck-client", "certs/apiserver-etcd-client", "certs/sa",
		"kubeconfig", "kubeconfig/admin", "kubeconfig/super-admin", "kubeconfig/kubelet", "kubeconfig/controller-manager", "kubeconfig/scheduler",
		"etcd", "etcd/local", "control-plane", "control-plane/apiserver", "control-plane/controller-manager", "control-plane/scheduler",
		"kubelet-start", "wait-control-plane", "upload-config", "upload-config/kubeadm", "upload-config/kubelet",
		"upload-certs", "mark-control-plane", "bootstrap-token", "kubelet-finalize", "kubelet-finalize/enable-client-cert-rotation",
		"addon", "addon/coredns", "addon/kube-proxy", "self-hosting", "show-join-command",
	}
	d := describeInit(t)
	var got []string
	docs := map[string]string{}
	for _, p := range d.Phases {
		got = append(got, p.Path)
		docs[p.Path] = p.Doc
		if p.Doc == "" {
			t.Errorf("phase %s has no doc", p.Path)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	for path, doc := range map[string]string{
		"certs":                       "Certificate generation",
		"certs/ca":                    "Generate the self-signed Kubernetes CA to provision identities for other Kubernetes components",
		"certs/sa":                    "Generate a private key for signing service account tokens along with its public key",
		"kubeconfig/kubelet":          "Generate a kubeconfig file for the kubelet to use *only* for cluster bootstrapping purposes",
		"control-plane/apiserver":     "Generates the kube-apiserver static Pod manifest",
		"upload-certs":                "Upload certificates to kubeadm-certs",
		"addon/kube-proxy":            "Install the kube-proxy addon to a Kubernetes cluster",
		"certs/apiserver-etcd-client": "Generate the certificate the apiserver uses to access etcd",
	} {
		if docs[path] != doc {
			t.Errorf("%s: doc %q, want kubeadm's %q", path, docs[path], doc)
		}
	}
	if d.SkipParam != "skip_phases" {
		t.Errorf("skip parameter %q, want skip_phases", d.SkipParam)
	}
}

// TestInitFlags: kubeadm init's flags, each answered by the parameter
// kubeadm maps it to (--feature-gates has no parameter yet).
func TestInitFlags(t *testing.T) {
	want := map[string]string{
		"pod-network-cidr": "pod_subnet", "control-plane-endpoint": "control_plane_endpoint", "upload-certs": "upload_certs",
		"apiserver-advertise-address": "advertise_address", "apiserver-bind-port": "bind_port", "service-cidr": "service_subnet",
		"service-dns-domain": "dns_domain", "kubernetes-version": "kubernetes_version", "token": "token", "token-ttl": "token_ttl",
		"cri-socket": "cri_socket", "node-name": "node_name", "certificate-key": "certificate_key", "skip-token-print": "skip_token_print", "feature-gates": "feature_gates",
		"apiserver-cert-extra-sans": "cert_sans", "cert-dir": "cert_dir", "image-repository": "image_repository",
		"ignore-preflight-errors": "ignore_preflight_errors", "skip-phases": "skip_phases",
	}
	got := map[string]string{}
	for _, p := range describeInit(t).Params {
		if p.Flag != "" {
			got[p.Flag] = p.Name
		}
		if p.Name == "ignore_preflight_errors" && !p.Merge {
			t.Errorf("ignore_preflight_errors: the flag must add to the configured list, as kubeadm unions them")
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
}

// TestInitFlagsRun: kubeadm's command line works on init, and
// --skip-token-print withholds the token as kubeadm does.
func TestInitFlagsRun(t *testing.T) {
	plan, out, err := runInitFlags(t, []runtime.FlagValue{
		{Name: "pod-network-cidr", Values: []string{"10.244.0.0/16"}},
		{Name: "skip-token-print", Values: []string{"true"}},
		{Name: "skip-phases", Values: []string{"addon/kube-proxy"}},
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if plan.Params["pod_subnet"] != "10.244.0.0/16" {
		t.Errorf("pod_subnet = %v", plan.Params["pod_subnet"])
	}
	if !strings.Contains(out, "kubeadm join 10.0.0.10:6443 --token <value withheld>") {
		t.Errorf("token not withheld:\n%s", out)
	}
	for _, ph := range plan.Phases {
		if ph.Name == "addon/kube-proxy" && ph.Skipped != "skipped by --skip-phases addon/kube-proxy" {
			t.Errorf("addon/kube-proxy: %+v", ph)
		}
	}
}

func runInitFlags(t *testing.T, flags []runtime.FlagValue) (*runtime.Plan, string, error) {
	t.Helper()
	var out strings.Builder
	plan, err := runtime.Run(context.Background(), runtime.Options{
		Recipe: "init", RecipeFS: recipes.FS, StdlibFS: stdlib.FS, Registry: builtins.Registry(),
		DryRun: true, Host: newFake(), Out: &out, Flags: flags,
	})
	return plan, out.String(), err
}

// TestInitFeatureGatesFlag: --feature-gates takes kubeadm's spelling
// (Name=true,Name2=false) and the same table as ClusterConfiguration's
// featureGates: a gate at its default is ignored with a warning, a gate
// kubelark cannot honour and an unknown gate are refused before anything
// is planned.
func TestInitFeatureGatesFlag(t *testing.T) {
	gates := func(v string) []runtime.FlagValue {
		return []runtime.FlagValue{{Name: "feature-gates", Values: []string{v}}}
	}
	plan, out, err := runInitFlags(t, gates("NodeLocalCRISocket=true"))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "feature_gates: NodeLocalCRISocket is the default (true); ignored") {
		t.Errorf("no warning for a gate at its default:\n%s", out)
	}
	if len(plan.Actions) == 0 {
		t.Error("a gate at its default stopped the run")
	}
	for flag, want := range map[string]string{
		"PublicKeysECDSA=true":     "PublicKeysECDSA is not supported: set encryptionAlgorithm: ECDSA-P256",
		"NodeLocalCRISocket=false": "NodeLocalCRISocket is GA and locked to true",
		"Rootless=true":            "Rootless is not a kubeadm v1.36 feature gate; known: NodeLocalCRISocket, PublicKeysECDSA, RootlessControlPlane",
		"PublicKeysECDSA=maybe":    "PublicKeysECDSA is string; want true or false",
	} {
		plan, out, err := runInitFlags(t, gates(flag))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--feature-gates %s: err = %v, want it to contain %q\n%s", flag, err, want, out)
			continue
		}
		if len(plan.Actions) != 0 {
			t.Errorf("--feature-gates %s: %d actions planned before the refusal", flag, len(plan.Actions))
		}
	}
}
