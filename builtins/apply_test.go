package builtins

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/cluster"
	"github.com/kubelark/kubelark/runtime/host"
)

// apiTest is a thread with an Env over h, and the builtins predeclared.
type apiTest struct {
	env    *runtime.Env
	thread *starlark.Thread
	out    *bytes.Buffer
	// vars are extra predeclared values, e.g. a result carried between execs.
	vars starlark.StringDict
}

// newAPITest runs on h with API clients from f (nil: the fake's default, a
// dry-run overlay with nothing behind it).
func newAPITest(t *testing.T, h *host.Fake, f cluster.Factory) *apiTest {
	t.Helper()
	if f != nil {
		h.FClients = f
	}
	env, th, out := newTestEnv(t, h)
	return &apiTest{env: env, thread: th, out: out}
}

// exec runs src and returns its globals.
func (a *apiTest) exec(src string) (starlark.StringDict, error) {
	if len(a.vars) == 0 {
		return execTest(a.thread, src)
	}
	pre := testPredeclared()
	for k, v := range a.vars {
		pre[k] = v
	}
	return starlark.ExecFileOptions(testFileOptions, a.thread, "test.star", src, pre)
}

func (a *apiTest) mustExec(t *testing.T, src string) starlark.StringDict {
	t.Helper()
	g, err := a.exec(src)
	if err != nil {
		if ee, ok := err.(*starlark.EvalError); ok {
			t.Fatal(ee.Backtrace())
		}
		t.Fatal(err)
	}
	return g
}

const adminConf = `apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    server: https://cp.example:6443
    insecure-skip-tls-verify: true
users:
- name: kubernetes-admin
  user:
    token: abcdef.0123456789abcdef
contexts:
- name: kubernetes-admin@kubernetes
  context: {cluster: kubernetes, user: kubernetes-admin}
current-context: kubernetes-admin@kubernetes
`

func TestK8sApplyDryRun(t *testing.T) {
	h := host.NewFake()
	if _, err := h.WriteFile("/etc/kubernetes/admin.conf", []byte(adminConf), 0o600, 0o755); err != nil {
		t.Fatal(err)
	}
	a := newAPITest(t, h, cluster.NewDryRun(nil))
	g := a.mustExec(t, `
c = k8s_client(kubeconfig="/etc/kubernetes/admin.conf", server="https://10.0.0.10:6443")
server = c.server
crb = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
       "metadata": {"name": "kubeadm:cluster-admins"},
       "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
       "subjects": [{"kind": "Group", "name": "kubeadm:cluster-admins"}]}
first = k8s_apply(c, crb)
again = k8s_apply(c, [crb])
docs = k8s_apply(c, """
apiVersion: v1
kind: Secret
metadata: {name: bootstrap-token-abcdef, namespace: kube-system}
type: bootstrap.kubernetes.io/token
stringData: {token-id: abcdef, token-secret: 0123456789abcdef, usage-bootstrap-signing: "true"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cluster-info, namespace: kube-public}
data: {kubeconfig: "x", replicas: "2"}
""")
got = k8s_get(c, "v1", "ConfigMap", "cluster-info", namespace="kube-public")
missing = k8s_get(c, "v1", "ConfigMap", "nope", namespace="kube-public")
listed = k8s_list(c, "v1", "ConfigMap", namespace="kube-public")
deleted = k8s_delete(c, "v1", "ConfigMap", "cluster-info", namespace="kube-public")
absent = k8s_delete(c, "v1", "ConfigMap", "cluster-info", namespace="kube-public")
gone = k8s_get(c, "v1", "ConfigMap", "cluster-info", namespace="kube-public")
node_patch = k8s_patch(c, "v1", "Node", "node1", {"metadata": {"labels": {"node-role.kubernetes.io/control-plane": ""}}}, wait_for_existence="4m")
`)
	if s := g["server"].(starlark.String); s != "https://10.0.0.10:6443" {
		t.Errorf("server override: %s", s)
	}
	if g["missing"] != starlark.None || g["gone"] != starlark.None || g["node_patch"] != starlark.None {
		t.Errorf("missing=%v gone=%v node_patch=%v, want None", g["missing"], g["gone"], g["node_patch"])
	}
	if g["deleted"].(starlark.String) != "deleted" || g["absent"].(starlark.String) != "absent" {
		t.Errorf("delete results %v %v", g["deleted"], g["absent"])
	}
	if l := g["listed"].(*starlark.List); l.Len() != 1 {
		t.Errorf("list: %v", l)
	}
	if d, _, _ := g["got"].(*starlark.Dict).Get(starlark.String("kind")); d != starlark.String("ConfigMap") {
		t.Errorf("get returned %v", g["got"])
	}
	if l := g["docs"].(*starlark.List); l.Len() != 2 {
		t.Errorf("YAML with two documents applied %d objects", l.Len())
	}

	want := []struct{ op, target, result string }{
		{"api.apply", "rbac.authorization.k8s.io/v1/ClusterRoleBinding/kubeadm:cluster-admins", "created"},
		{"api.apply", "rbac.authorization.k8s.io/v1/ClusterRoleBinding/kubeadm:cluster-admins", "unchanged"},
		{"api.apply", "v1/Secret/kube-system/bootstrap-token-abcdef", "created"},
		{"api.apply", "v1/ConfigMap/kube-public/cluster-info", "created"},
		{"api.delete", "v1/ConfigMap/kube-public/cluster-info", "deleted"},
		{"api.delete", "v1/ConfigMap/kube-public/cluster-info", "absent"},
		{"api.patch", "v1/Node/node1", "recorded"},
	}
	acts := a.env.Plan().Actions
	if len(acts) != len(want) {
		t.Fatalf("%d actions, want %d: %+v", len(acts), len(want), acts)
	}
	for i, w := range want {
		if acts[i].Op != w.op || acts[i].Target != w.target || acts[i].Result != w.result {
			t.Errorf("action %d = %s %s %s, want %s %s %s", i, acts[i].Op, acts[i].Target, acts[i].Result, w.op, w.target, w.result)
		}
		if acts[i].At == "" {
			t.Errorf("action %d has no recipe position", i)
		}
	}
	// Secret data never reaches the plan or the output.
	plan, _ := json.Marshal(a.env.Plan())
	for _, secret := range []string{"0123456789abcdef"} {
		if bytes.Contains(plan, []byte(secret)) || strings.Contains(a.out.String(), secret) {
			t.Errorf("secret %q leaked:\nplan %s\nout %s", secret, plan, a.out.String())
		}
	}
	if sd := acts[2].Object["stringData"].(map[string]any); sd["token-id"] != runtime.Redacted || !acts[2].Secret {
		t.Errorf("secret object not redacted: %v", acts[2].Object)
	}
	if got := a.env.Redact("join --token abcdef.0123456789abcdef"); strings.Contains(got, "0123456789abcdef") {
		t.Errorf("token secret of an applied bootstrap token not registered: %s", got)
	}
}

func TestK8sPatchWithFunction(t *testing.T) {
	h := host.NewFake()
	a := newAPITest(t, h, cluster.NewDryRun(nil))
	g := a.mustExec(t, `
c = k8s_client(anonymous=True, server="https://10.0.0.10:6443", insecure=True)
k8s_apply(c, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node1"},
              "spec": {"taints": [{"key": "existing", "effect": "NoExecute"}]}})
def taints(node):
    have = node["spec"].get("taints", [])
    want = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    return {"metadata": {"labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"taints": have + [t for t in want if t not in have]}}
n = k8s_patch(c, "v1", "Node", "node1", taints, wait_for_existence="1m")
n2 = k8s_patch(c, "v1", "Node", "node1", taints)
count = len(n2["spec"]["taints"])
merged = k8s_patch(c, "v1", "Node", "node1", '{"metadata": {"annotations": {"a": "b"}}}', type="merge")
`)
	if c := g["count"].(starlark.Int); c.String() != "2" {
		t.Errorf("taints after two patches: %s, want 2", c)
	}
	acts := a.env.Plan().Actions
	if len(acts) != 4 || acts[1].Result != "updated" || acts[2].Result != "unchanged" || acts[3].Result != "updated" {
		t.Errorf("patch results: %+v", acts)
	}
	if acts[1].Summary["type"] != "strategic" || acts[1].Summary["patch"] == nil {
		t.Errorf("patch summary: %v", acts[1].Summary)
	}
}

func TestK8sArgumentErrors(t *testing.T) {
	h := host.NewFake()
	a := newAPITest(t, h, cluster.NewDryRun(nil))
	for src, want := range map[string]string{
		`k8s_client()`: "exactly one kind of credentials",
		`k8s_client(kubeconfig="/etc/kubernetes/admin.conf")`:                                    "/etc/kubernetes/admin.conf",
		`k8s_client(token="abcdef.0123456789abcdef", server="https://x")`:                        "needs server= and ca=",
		`k8s_client(kubeconfig="/a", anonymous=True)`:                                            "exactly one",
		`k8s_client(token="abcdef.0123456789abcdef", server="https://x", ca="x", insecure=True)`: "only for anonymous",
		`k8s_apply(k8s_client(anonymous=True, server="https://x", insecure=True), [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}])`: "objects[1] (ConfigMap \"\"): missing metadata.name",
		`k8s_apply(k8s_client(anonymous=True, server="https://x", insecure=True), "kind: [")`:                                                                                                                         "YAML document 1",
		`k8s_apply(k8s_client(anonymous=True, server="https://x", insecure=True), 3)`:                                                                                                                                 "want dict, list of dicts or YAML text",
		`k8s_get("not a client", "v1", "ConfigMap", "x")`:                                                                                                                                                             "want k8s_client",
		`k8s_patch(k8s_client(anonymous=True, server="https://x", insecure=True), "v1", "Node", "n", {}, type="bogus")`:                                                                                               `type="bogus"`,
		`k8s_get(k8s_client(anonymous=True, server="https://x", insecure=True), "v1", "Node", "n", wait_for_existence="4 minutes")`:                                                                                   "is not a duration",
	} {
		_, err := a.exec(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", src, err, want)
		}
	}
	if n := len(a.env.Plan().Actions); n != 0 {
		t.Errorf("failed calls recorded %d actions", n)
	}
}

// TestK8sApplyForbiddenLive drives the live factory against a server that
// refuses everything, as a fresh cluster refuses admin.conf before the
// kubeadm:cluster-admins binding exists.
func TestK8sApplyForbiddenLive(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(403)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,` +
			`"message":"clusterrolebindings.rbac.authorization.k8s.io \"kubeadm:cluster-admins\" is forbidden: User \"kubernetes-admin\" cannot get resource"}`))
	}))
	defer ts.Close()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	h := host.NewFake()
	if _, err := h.WriteFile("/pki/ca.crt", caPEM, 0o644, 0o755); err != nil {
		t.Fatal(err)
	}
	live := cluster.NewLive(cluster.LiveOptions{Retry: cluster.Retry{Timeout: time.Second, Initial: 10 * time.Millisecond}, Clock: h})
	a := newAPITest(t, h, live)
	obj := `{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "kubeadm:cluster-admins"}}`
	g := a.mustExec(t, `
c = k8s_client(token="abcdef.0123456789abcdef", server="`+ts.URL+`", ca="/pki/ca.crt")
r = k8s_apply(c, `+obj+`, forbidden_ok=True)
`)
	if g["r"] != starlark.None {
		t.Errorf("forbidden_ok: got %v, want None", g["r"])
	}
	_, err := a.exec(`k8s_apply(k8s_client(token="abcdef.0123456789abcdef", server="` + ts.URL + `", ca="/pki/ca.crt"), ` + obj + `)`)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"apply rbac.authorization.k8s.io/v1/ClusterRoleBinding kubeadm:cluster-admins on " + ts.URL, "server said Forbidden", "super-admin.conf"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if live.RequestCount() != 2 {
		t.Errorf("Forbidden must not be retried: %d requests", live.RequestCount())
	}
	if n := len(a.env.Plan().Actions); n != 0 {
		t.Errorf("refused applies recorded %d actions", n)
	}
}

// TestK8sGetWaitForAccess: a credential just granted access through a new
// binding is refused until the authorizer sees it; wait_for_access retries
// Forbidden until then, and gives the server's refusal when time runs out.
func TestK8sGetWaitForAccess(t *testing.T) {
	var gets, allowAfter int
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		gets++
		if gets <= allowAfter {
			w.WriteHeader(403)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,` +
				`"message":"clusterrolebindings.rbac.authorization.k8s.io \"kubeadm:cluster-admins\" is forbidden: User \"kubernetes-admin\" cannot get resource"}`))
			return
		}
		_, _ = w.Write([]byte(`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"kubeadm:cluster-admins"}}`))
	}))
	defer ts.Close()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	h := host.NewFake()
	if _, err := h.WriteFile("/pki/ca.crt", caPEM, 0o644, 0o755); err != nil {
		t.Fatal(err)
	}
	live := cluster.NewLive(cluster.LiveOptions{Retry: cluster.Retry{Timeout: time.Second, Initial: 10 * time.Millisecond}, Clock: h})
	a := newAPITest(t, h, live)
	get := func(wait string) (starlark.StringDict, error) {
		return a.exec(`r = k8s_get(k8s_client(token="abcdef.0123456789abcdef", server="` + ts.URL + `", ca="/pki/ca.crt"),
    "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "kubeadm:cluster-admins", wait_for_access="` + wait + `")`)
	}

	allowAfter = 3
	g, err := get("10s")
	if err != nil {
		t.Fatalf("wait_for_access did not wait out the Forbidden answers: %v", err)
	}
	if d, ok := g["r"].(*starlark.Dict); !ok || d.Len() == 0 || gets != 4 {
		t.Errorf("got %v after %d GETs, want the object after 4", g["r"], gets)
	}

	gets, allowAfter = 0, 1000
	if _, err = get("2s"); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Fatalf("a refusal that outlasts wait_for_access must fail with the server's reason, got %v", err)
	}
	if gets < 2 || gets > 10 {
		t.Errorf("%d GETs in a 2s wait at 500ms intervals", gets)
	}

	gets, allowAfter = 0, 1000
	if _, err = get("0s"); err == nil || gets != 1 {
		t.Errorf("without wait_for_access a Forbidden answer is final: err %v after %d GETs", err, gets)
	}
}
