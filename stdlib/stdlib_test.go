package stdlib_test

import (
	"io/fs"
	"sort"
	"strings"
	"testing"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/kubelark/kubelark/recipes"
	"github.com/kubelark/kubelark/stdlib"
)

// contractNames are the names docs/contracts.md predeclares in every module:
// the recipe-level API and the builtins. A module using any other global is
// a typo that would only fail at run time, in the middle of a phase.
var contractNames = []string{
	// recipe-level API
	"param", "params", "phase_decl", "phases", "phase", "info", "warn", "output", "with_prefix", "run", "struct", "json", "yaml", "fail",
	// builtins
	"gen_cert", "gen_key_pair", "write_kubeconfig", "ca_cert_hash", "static_pod", "write_file", "mkdir",
	"read_file", "path_exists", "component_config", "net", "hostname", "default_ip", "proxy_env",
	"bootstrap_token", "certificate_key", "preflight_check", "kubelet_restart", "kubelet_stop", "service",
	// API builtins and their helpers
	"k8s_client", "k8s_apply", "k8s_get", "k8s_list", "k8s_delete", "k8s_patch", "k8s_wait", "wait_healthy",
	"jws_sign", "jws_verify", "encrypt_certs", "decrypt_certs", "parse_bootstrap_token", "bootstrap_token_info", "parse_certificate_key", "read_kubeconfig", "component_config_hash",
	"base64", "timestamp", "duration_string", "duration", "regex_match", "regex_replace",
	// join's discovery and TLS bootstrap (builtins/discovery.go), remove_file
	"cluster_info", "https_get", "kubeconfig_decode", "kubeconfig_encode", "ca_cert_hashes", "wait_file", "remove_file",
	// control-plane join's etcd (builtins/etcd.go)
	"etcd_client",
	// reset (recipes/reset.star; builtins/ of branch resetb)
	"list_dir", "remove_tree", "check_writable", "real_path", "mounts", "unmount", "cri_client", "confirm", "netfilter_flush", "nft_delete_tables",
}

// placeholders are modules that predate the namespace convention (the
// runtime's hello.star example loads greeting() directly).
var placeholders = map[string]bool{"greeting.star": true}

// TestModulesResolve parses every embedded module and recipe and resolves
// its names: syntax errors and undefined names fail here, not on a node.
func TestModulesResolve(t *testing.T) {
	predeclared := map[string]bool{}
	for _, n := range contractNames {
		predeclared[n] = true
	}
	isPredeclared := func(name string) bool { return predeclared[name] }
	for _, tc := range []struct {
		label string
		fsys  fs.FS
	}{{"stdlib", stdlib.FS}, {"recipes", recipes.FS}} {
		files, err := fs.Glob(tc.fsys, "*.star")
		// The command families' recipes (recipes/token/create.star).
		sub, _ := fs.Glob(tc.fsys, "*/*.star")
		files = append(files, sub...)
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no .star files embedded (%v)", tc.label, err)
		}
		for _, name := range files {
			src, err := fs.ReadFile(tc.fsys, name)
			if err != nil {
				t.Fatal(err)
			}
			opts := &syntax.FileOptions{TopLevelControl: false}
			f, err := opts.Parse(tc.label+"/"+name, src, 0)
			if err != nil {
				t.Errorf("%s", err)
				continue
			}
			if err := resolve.File(f, isPredeclared, starlark.Universe.Has); err != nil {
				t.Errorf("%s", err)
			}
		}
	}
}

// TestModulesExportTheirNamespace checks the convention recipes rely on:
// x.star defines a struct named x (load("@stdlib//x.star", "x")).
func TestModulesExportTheirNamespace(t *testing.T) {
	files := []string{"config.star", "controlplane.star", "etcd.star", "kubeconfig.star", "kubelet.star", "pki.star", "preflight.star", "staticpod.star"}
	sort.Strings(files)
	for _, name := range files {
		if placeholders[name] {
			continue
		}
		src, _ := fs.ReadFile(stdlib.FS, name)
		ns := strings.TrimSuffix(name, ".star")
		if !strings.Contains(string(src), "\n"+ns+" = struct(") {
			t.Errorf("%s does not define its namespace struct %q", name, ns)
		}
	}
}
