package builtins

import (
	"os"
	"strings"
	"testing"

	"github.com/kubelark/kubelark/runtime/host"
)

func netfilterHost(t *testing.T) *host.Fake {
	t.Helper()
	b, err := os.ReadFile("../testdata/netfilter/kube-proxy-cni.iptables-save")
	if err != nil {
		t.Fatal(err)
	}
	h := host.NewFake()
	h.FNetfilter = &host.FakeNetfilter{Save: map[string]string{"ipv4": string(b), "ipv6": "*filter\n:INPUT ACCEPT [0:0]\n:KUBE-FIREWALL - [0:0]\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n"},
		Tables: []string{"ip kube-proxy", "ip6 kube-proxy", "inet filter"}}
	return h
}

func TestNetfilterFlush(t *testing.T) {
	h := netfilterHost(t)
	run := mustExecStar(t, h, `
first = netfilter_flush(["KUBE-", "CNI-"])
again = netfilter_flush(["KUBE-", "CNI-"])
tables = nft_delete_tables(["kube-proxy"])
tables_again = nft_delete_tables(["kube-proxy"])
`)
	first := run.globals["first"].String()
	for _, want := range []string{`"ipv4 nat KUBE-SERVICES"`, `"ipv4 filter CNI-FORWARD"`, `"ipv4 mangle KUBE-IPTABLES-HINT"`, `"ipv6 filter KUBE-FIREWALL"`} {
		if !strings.Contains(first, want) {
			t.Errorf("removed %s: no %s", first, want)
		}
	}
	if strings.Count(first, ",")+1 != 31 {
		t.Errorf("removed %d chains: %s", strings.Count(first, ",")+1, first)
	}
	if run.globals["again"].String() != "[]" || run.globals["tables"].String() != `["ip kube-proxy", "ip6 kube-proxy"]` || run.globals["tables_again"].String() != "[]" {
		t.Errorf("again=%s tables=%s tables_again=%s", run.globals["again"], run.globals["tables"], run.globals["tables_again"])
	}
	nf := h.FNetfilter
	if !strings.Contains(nf.Save["ipv4"], "-A INPUT -i lo -j ACCEPT") || strings.Contains(nf.Save["ipv4"], "KUBE-") {
		t.Errorf("after the flush:\n%s", nf.Save["ipv4"])
	}
	if len(nf.Restored) != 2 {
		t.Errorf("restores: %d (an empty plan must not restore)", len(nf.Restored))
	}
	var chainActs, tableActs int
	for _, a := range run.env.Plan().Actions {
		switch a.Op {
		case "netfilter.delete-chain":
			chainActs++
			if a.Target == "ipv4 nat KUBE-SERVICES" && (a.Summary["jumps_deleted"] != 2 || a.Result != "deleted") {
				t.Errorf("KUBE-SERVICES action %+v", a)
			}
		case "netfilter.delete-table":
			tableActs++
		}
	}
	if chainActs != 31 || tableActs != 2 {
		t.Errorf("actions: %d chains, %d tables", chainActs, tableActs)
	}
}

func TestNetfilterRefusals(t *testing.T) {
	fake := netfilterHost(t)
	h, err := host.NewSandbox(fake, host.SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := fake.FNetfilter.Save["ipv4"]
	wantErr(t, h, `netfilter_flush(["INPUT"])`, "netfilter_flush: ", `refusing chain prefix "INPUT"`, "KUBE- or CNI-")
	wantErr(t, h, `netfilter_flush(["KUBE-", "f2b-"])`, `refusing chain prefix "f2b-"`)
	wantErr(t, h, `netfilter_flush(["K"])`, `refusing chain prefix "K"`)
	wantErr(t, h, `netfilter_flush([""])`, "prefixes[0]", "empty")
	wantErr(t, h, `netfilter_flush([])`, "prefixes is empty")
	wantErr(t, h, `netfilter_flush("KUBE-")`, "netfilter_flush", "prefixes")
	wantErr(t, h, `netfilter_flush(["KUBE-"], families = ["ipv5"])`, `unknown family "ipv5"`)
	wantErr(t, h, `netfilter_flush([1])`, "prefixes[0] is a int")
	wantErr(t, h, `nft_delete_tables(["filter"], families = ["inet"])`, "refusing to delete nftables table inet filter", "kube-proxy")
	wantErr(t, h, `nft_delete_tables(["kube-proxy"], families = ["ipx"])`, `unknown family "ipx"`)
	wantErr(t, h, `nft_delete_tables([])`, "tables is empty")
	if fake.FNetfilter.Save["ipv4"] != before || len(fake.FNetfilter.Restored) != 0 || len(fake.FNetfilter.Tables) != 3 {
		t.Error("a refused call changed the packet filter")
	}
	fake.FNetfilter.NoNft = true
	wantErr(t, h, `nft_delete_tables(["kube-proxy"])`, "nft", "not found")
	noIptables := host.NewFake()
	wantErr(t, noIptables, `netfilter_flush(["KUBE-"])`, "reading the ipv4 rules", "iptables-save not found", "Debian package iptables")
	wantErr(t, noIptables, `netfilter_flush(["INPUT"], if_installed = True)`, `refusing chain prefix "INPUT"`)
	wantErr(t, noIptables, `nft_delete_tables(["filter"], if_installed = True)`, "refusing to delete nftables table")
	run := mustExecStar(t, noIptables, `
a = netfilter_flush(["KUBE-"], if_installed = True)
b = nft_delete_tables(["kube-proxy"], if_installed = True)
`)
	if run.globals["a"].String() != "None" || run.globals["b"].String() != "None" || len(run.env.Plan().Actions) != 0 {
		t.Errorf("if_installed without the tools: a=%s b=%s plan=%v", run.globals["a"], run.globals["b"], ops(run.env))
	}
	// Only ipv6's tool missing: nothing is deleted in ipv4 either.
	v4only := netfilterHost(t)
	delete(v4only.FNetfilter.Save, "ipv6")
	wantErr(t, v4only, `netfilter_flush(["KUBE-"])`, "ip6tables-save not found")
	if len(v4only.FNetfilter.Restored) != 0 {
		t.Error("ipv4 was flushed although ipv6 could not be read")
	}
	r, err := host.NewSandbox(fake, host.SandboxOptions{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, r, `netfilter_flush(["KUBE-"])`, "--root", "not the running system")
}

func TestNetfilterDryRun(t *testing.T) {
	fake := netfilterHost(t)
	h, err := host.NewSandbox(host.NewDryRun(fake), host.SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := fake.FNetfilter.Save["ipv4"]
	run := mustExecStar(t, h, `
first = netfilter_flush(["KUBE-", "CNI-"], families = ["ipv4"])
again = netfilter_flush(["KUBE-", "CNI-"], families = ["ipv4"])
t1 = nft_delete_tables(["kube-proxy"], families = ["ip"])
t2 = nft_delete_tables(["kube-proxy"], families = ["ip"])
`)
	if n := strings.Count(run.globals["first"].String(), ",") + 1; n != 30 || run.globals["again"].String() != "[]" ||
		run.globals["t1"].String() != `["ip kube-proxy"]` || run.globals["t2"].String() != "[]" {
		t.Errorf("first=%d again=%s t1=%s t2=%s", n, run.globals["again"], run.globals["t1"], run.globals["t2"])
	}
	if fake.FNetfilter.Save["ipv4"] != before || len(fake.FNetfilter.Restored) != 0 || len(fake.FNetfilter.Tables) != 3 {
		t.Error("the dry run changed the packet filter")
	}
	for _, a := range run.env.Plan().Actions {
		if a.Result != "recorded" {
			t.Errorf("dry-run action %+v", a)
		}
	}
	wantErr(t, h, `netfilter_flush(["INPUT"])`, "refusing chain prefix")
}
