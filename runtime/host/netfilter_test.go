package host

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func realSave(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/netfilter/kube-proxy-cni.iptables-save")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPlanIptablesDelete: on a node's real iptables-save (kube-proxy's
// iptables mode, the bridge and portmap CNI plugins, and the host's own
// fail2ban and docker chains), only KUBE-*/CNI-* chains and the jumps to
// them are planned; the payload only deletes.
func TestPlanIptablesDelete(t *testing.T) {
	rules, err := ParseIptablesSave(realSave(t))
	if err != nil {
		t.Fatal(err)
	}
	p := PlanIptablesDelete("ipv4", rules, []string{"KUBE-", "CNI-"})
	var chains []string
	for _, c := range p.Chains {
		chains = append(chains, c.Table+" "+c.Name)
		if c.Builtin || !(strings.HasPrefix(c.Name, "KUBE-") || strings.HasPrefix(c.Name, "CNI-")) {
			t.Errorf("planned chain %s", c.Name)
		}
	}
	if len(chains) != 30 {
		t.Errorf("%d chains planned: %v", len(chains), chains)
	}
	var jumps []string
	for _, r := range p.Rules {
		jumps = append(jumps, r.Table+" "+r.Chain+" -> "+r.Target)
	}
	want := []string{
		"filter INPUT -> KUBE-PROXY-FIREWALL", "filter INPUT -> KUBE-NODEPORTS", "filter INPUT -> KUBE-EXTERNAL-SERVICES", "filter INPUT -> KUBE-FIREWALL",
		"filter FORWARD -> CNI-FORWARD", "filter FORWARD -> KUBE-PROXY-FIREWALL", "filter FORWARD -> KUBE-FORWARD", "filter FORWARD -> KUBE-SERVICES", "filter FORWARD -> KUBE-EXTERNAL-SERVICES",
		"filter OUTPUT -> KUBE-PROXY-FIREWALL", "filter OUTPUT -> KUBE-SERVICES", "filter OUTPUT -> KUBE-FIREWALL",
		"nat PREROUTING -> KUBE-SERVICES", "nat PREROUTING -> CNI-HOSTPORT-DNAT", "nat OUTPUT -> KUBE-SERVICES", "nat OUTPUT -> CNI-HOSTPORT-DNAT",
		"nat POSTROUTING -> KUBE-POSTROUTING", "nat POSTROUTING -> CNI-HOSTPORT-MASQ", "nat POSTROUTING -> CNI-7a1c1a1d4f1d8b3e4c0a2a11",
	}
	if diff := cmp.Diff(want, jumps); diff != "" {
		t.Errorf("jumps (-want +got):\n%s", diff)
	}
	payload := p.RestorePayload()
	for _, line := range strings.Split(strings.TrimSpace(payload), "\n") {
		switch {
		case strings.HasPrefix(line, "*"), line == "COMMIT":
		case strings.HasPrefix(line, "-D "), strings.HasPrefix(line, "-F KUBE-"), strings.HasPrefix(line, "-F CNI-"), strings.HasPrefix(line, "-X KUBE-"), strings.HasPrefix(line, "-X CNI-"):
		default:
			t.Errorf("payload line %q does not only delete", line)
		}
		for _, keep := range []string{"f2b-sshd", "DOCKER", "MASQUERADE\n", "-F INPUT", "-X INPUT"} {
			if strings.Contains(line, keep) && !strings.Contains(line, "KUBE-") && !strings.Contains(line, "CNI-") {
				t.Errorf("payload touches %s: %q", keep, line)
			}
		}
	}
	if !strings.Contains(payload, `-D POSTROUTING -s 10.244.1.2/32 -m comment --comment "name: \"cbr0\" id: \"5f0e1d2c\"" -j CNI-7a1c1a1d4f1d8b3e4c0a2a11`) {
		t.Errorf("quoted comment rule not deleted verbatim:\n%s", payload)
	}
	// After the plan: the host's chains and rules are all there, nothing of ours.
	after := applyIptablesPlan(realSave(t), p)
	for _, keep := range []string{":f2b-sshd - [0:0]", "-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd", "-A INPUT -i lo -j ACCEPT", ":DOCKER - [0:0]",
		"-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE", "-A FORWARD -s 192.168.1.0/24 -j ACCEPT", ":INPUT ACCEPT"} {
		if !strings.Contains(after, keep) {
			t.Errorf("after the plan %q is gone", keep)
		}
	}
	if strings.Contains(after, "KUBE-") || strings.Contains(after, "CNI-") {
		t.Errorf("after the plan:\n%s", after)
	}
	r2, err := ParseIptablesSave(after)
	if err != nil {
		t.Fatal(err)
	}
	if p2 := PlanIptablesDelete("ipv4", r2, []string{"KUBE-", "CNI-"}); !p2.Empty() {
		t.Errorf("a second plan is not empty: %+v", p2)
	}
	// A narrower prefix leaves the others and the jumps to them.
	p3 := PlanIptablesDelete("ipv4", rules, []string{"CNI-HOSTPORT-"})
	if len(p3.Chains) != 3 || len(p3.Rules) != 4 {
		t.Errorf("CNI-HOSTPORT- plan: %+v", p3)
	}
}

func TestParseIptablesSaveErrors(t *testing.T) {
	for _, bad := range []string{"-A INPUT -j ACCEPT\n", "*filter\n:INPUT\nCOMMIT\n", "*filter\n-A INPUT -m comment --comment \"x -j ACCEPT\n COMMIT\n", "*filter\n:INPUT ACCEPT [0:0]\n"} {
		if _, err := ParseIptablesSave(bad); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}

func TestCheckIptablesPlan(t *testing.T) {
	rules, err := ParseIptablesSave(realSave(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, pfx := range [][]string{{"INPUT"}, {""}, {"KUBE"}, {"K"}, {"KUBE-", "f2b-"}, nil} {
		if err := CheckIptablesPlan(PlanIptablesDelete("ipv4", rules, pfx)); err == nil {
			t.Errorf("prefixes %q allowed", pfx)
		}
	}
	forged := PlanIptablesDelete("ipv4", rules, []string{"KUBE-"})
	forged.Chains = append(forged.Chains, IptablesChain{Table: "filter", Name: "f2b-sshd"})
	if err := CheckIptablesPlan(forged); err == nil {
		t.Error("a forged chain passed")
	}
	forged = PlanIptablesDelete("ipv4", rules, []string{"KUBE-"})
	forged.Rules = append(forged.Rules, IptablesRule{Table: "filter", Chain: "INPUT", Spec: "-i lo -j ACCEPT", Target: "ACCEPT"})
	if err := CheckIptablesPlan(forged); err == nil {
		t.Error("a forged rule passed")
	}
	if err := CheckIptablesPlan(PlanIptablesDelete("ipv4", rules, []string{"KUBE-SVC-", "CNI-"})); err != nil {
		t.Errorf("a longer allowed prefix refused: %v", err)
	}
}

func TestSandboxNetfilter(t *testing.T) {
	f := NewFake()
	f.FNetfilter = &FakeNetfilter{Save: map[string]string{"ipv4": realSave(t)}, Tables: []string{"ip kube-proxy", "inet filter", "ip6 kube-proxy"}}
	s, err := NewSandbox(f, SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.NftDeleteTables(ctx, []string{"inet"}, []string{"filter"}); err == nil {
		t.Error("deleting inet filter allowed")
	}
	got, err := s.NftDeleteTables(ctx, []string{"ip", "ip6", "inet"}, []string{"kube-proxy"})
	if err != nil || !cmp.Equal(got, []string{"ip kube-proxy", "ip6 kube-proxy"}) {
		t.Errorf("NftDeleteTables = %v, %v", got, err)
	}
	if !cmp.Equal(f.FNetfilter.Tables, []string{"inet filter"}) {
		t.Errorf("tables left %v", f.FNetfilter.Tables)
	}
	r, err := NewSandbox(f, SandboxOptions{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.IptablesSave(ctx, "ipv4"); err == nil || !strings.Contains(err.Error(), "--root") {
		t.Errorf("under --root: %v", err)
	}
}

func TestParseNftTables(t *testing.T) {
	got := ParseNftTables("table ip kube-proxy\ntable ip6 kube-proxy\ntable inet filter\n\n")
	if !cmp.Equal(got, []string{"ip kube-proxy", "ip6 kube-proxy", "inet filter"}) {
		t.Errorf("got %v", got)
	}
}
