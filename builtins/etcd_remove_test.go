package builtins

import (
	"testing"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime/host"
)

func TestEtcdRemove(t *testing.T) {
	h, cl, _ := newEtcdHost(t)
	id2 := cl.AddVoter("cp2", peer2, ep2)
	g, p := mustRunStar(t, h, etcdClientSrc+`
r = c.remove("`+memberHex(id2)+`")
again = c.remove("`+memberHex(id2)+`")
left = [m.name for m in c.members()]
`)
	if g["r"] != starlark.True || g["again"] != starlark.False || g["left"].String() != `["cp1"]` {
		t.Errorf("r=%s again=%s left=%s", g["r"], g["again"], g["left"])
	}
	if len(cl.Writes) != 1 || cl.Writes[0] != "remove "+memberHex(id2) {
		t.Errorf("writes = %q", cl.Writes)
	}
	acts := findAction(p, "etcd_member_remove")
	if len(acts) != 1 || acts[0].Op != "etcd.member-remove" || acts[0].Subject != memberHex(id2) || acts[0].Target != peer2 ||
		acts[0].Server != ep1 || acts[0].Result != "deleted" || acts[0].Summary["name"] != "cp2" {
		t.Errorf("actions = %+v", acts)
	}
	_, _, err := runStar(t, h, etcdClientSrc+`c.remove("not-hex")`)
	wantEtcdErr(t, err, "etcd member remove", `id="not-hex"`, "16 hex digits")
	_, _, err = runStar(t, h, etcdClientSrc+`c.remove()`)
	wantEtcdErr(t, err, "remove", "id")
	// Without a quorum etcd refuses; the error names the step and the fix.
	id3 := cl.AddVoter("cp3", peer3, ep3)
	cl.SetDown(cl.Members()[0].ID, true)
	cl.SetDown(id3, true)
	h.FEtcd = cl
	_, _, err = runStar(t, h, `c = etcd_client(["`+ep1+`"], "/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/apiserver-etcd-client.crt", "/etc/kubernetes/pki/apiserver-etcd-client.key", timeout = "2s")
c.remove("`+memberHex(id3)+`")`)
	wantEtcdErr(t, err, "etcd member remove", memberHex(id3), "check that etcd runs")
}

func TestEtcdRemoveDryRun(t *testing.T) {
	fake, cl, _ := newEtcdHost(t)
	id2 := cl.AddVoter("cp2", peer2, ep2)
	h := host.NewDryRun(fake)
	run := mustExecStar(t, h, etcdClientSrc+`
r = c.remove("`+memberHex(id2)+`")
left = [m.name for m in c.members()]
again = c.remove("`+memberHex(id2)+`")
`)
	if run.globals["r"] != starlark.True || run.globals["left"].String() != `["cp1"]` || run.globals["again"] != starlark.False {
		t.Errorf("r=%s left=%s again=%s", run.globals["r"], run.globals["left"], run.globals["again"])
	}
	if len(cl.Writes) != 0 || len(cl.Members()) != 2 {
		t.Errorf("the dry run wrote to etcd: %q", cl.Writes)
	}
	if a := findAction(run.env.Plan(), "etcd_member_remove"); len(a) != 1 || a[0].Result != "recorded" {
		t.Errorf("plan = %+v", a)
	}
}

// TestEtcdRemoveRetriesUnhealthy: real etcd refuses a removal with
// "unhealthy cluster" while the remaining members have not been connected
// for its health window; the call is retried as kubeadm's is.
func TestEtcdRemoveRetriesUnhealthy(t *testing.T) {
	if host.EtcdErrorKind(etcdErrText("etcdserver: unhealthy cluster")) != host.EtcdUnavailable {
		t.Error("unhealthy cluster is not retried")
	}
}

type etcdErrText string

func (e etcdErrText) Error() string { return string(e) }
