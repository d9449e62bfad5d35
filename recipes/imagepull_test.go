package recipes_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/kubelark/kubelark/runtime/host"
)

// TestPreflightImagePull checks the list the init recipe hands to the
// ImagePull check (kubeadm config images list, in its order) and that the
// params image_pull_policy, proxy_disabled and dns_disabled reach it.
func TestPreflightImagePull(t *testing.T) {
	all := []string{
		"registry.k8s.io/kube-apiserver:v1.36.3",
		"registry.k8s.io/kube-controller-manager:v1.36.3",
		"registry.k8s.io/kube-scheduler:v1.36.3",
		"registry.k8s.io/kube-proxy:v1.36.3",
		"registry.k8s.io/coredns/coredns:v1.14.2",
		"registry.k8s.io/pause:3.10.2",
		"registry.k8s.io/etcd:3.6.8-0",
	}
	for name, tc := range map[string]struct {
		values  string
		set     []string
		present []string
		want    []string
	}{
		"defaults pull what is missing": {present: all[:2], want: all[2:]},
		"always":                        {set: []string{"image_pull_policy=Always"}, present: all, want: all},
		"never":                         {set: []string{"image_pull_policy=Never"}},
		"no proxy, no dns, parallel": {set: []string{"proxy_disabled=true", "dns_disabled=true", "image_pull_serial=false"},
			want: []string{all[0], all[1], all[2], all[5], all[6]}},
		"external etcd": {values: "external-etcd.yaml", want: all[:6]},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			for _, p := range []string{"ca.crt", "apiserver-etcd-client.crt", "apiserver-etcd-client.key"} {
				f.Put("/etc/etcd/pki/"+p, []byte("fixture\n"), 0o600)
			}
			cri := f.FCRI.(*host.FakeCRI)
			cri.AddImages(tc.present...)
			_, out, err := runInit(t, f, false, tc.values, tc.set...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			got := append([]string(nil), cri.Pulled...)
			if strings.Contains(name, "parallel") { // pull order is not fixed
				got = sortedCopy(got)
				tc.want = sortedCopy(tc.want)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("pulled:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// TestPreflightImagePullSkippedWithoutRuntime: with no container runtime
// the CRI check fails once and ImagePull is skipped with one line, instead
// of an error per image about the same missing runtime.
func TestPreflightImagePullSkippedWithoutRuntime(t *testing.T) {
	f := newFake()
	f.FCRI = nil
	_, out, err := runInit(t, f, false, "")
	if err == nil || !strings.Contains(err.Error(), "[ERROR CRI]") {
		t.Fatalf("err = %v, want the CRI error\n%s", err, out)
	}
	if strings.Contains(err.Error(), "ImagePull") || strings.Contains(err.Error(), "failed to pull image") {
		t.Errorf("ImagePull ran without a runtime: %v", err)
	}
	if n := strings.Count(out, "[preflight] Skipping the ImagePull check: the CRI check failed\n"); n != 1 {
		t.Errorf("skip line printed %d times:\n%s", n, out)
	}
}
