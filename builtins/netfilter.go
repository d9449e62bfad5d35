package builtins

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// The netfilter family: reset's flush_iptables=true goes further than
// kubeadm, which only prints "iptables -F && iptables -t nat -F ..." for
// the operator to run: that would flush the host's own rules too. These
// builtins delete only what kube-proxy and the CNI plugins own, found by
// chain-name prefix (their chains are named KUBE-*, CNI-*) and table name
// (kube-proxy's nftables mode), plus the rules of other chains (INPUT,
// PREROUTING...) that jump to those chains. The host turns the plan into
// an iptables-restore --noflush payload of -D/-F/-X lines; the sandbox
// allows only kube-proxy's and the CNI's prefixes and table.

func init() { families = append(families, registerNetfilter) }

func registerNetfilter(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "netfilter_flush",
		Signature: `netfilter_flush(prefixes, families=["ipv4", "ipv6"], if_installed=False)`,
		Doc: "Deletes every iptables chain (every table) whose name starts with one of prefixes, and every rule of another chain that jumps (-j) or goes (-g) to one of them; nothing else. " +
			"Built-in chains are never deleted. Reads with iptables-save, deletes with iptables-restore --noflush (ip6tables-* for ipv6).\n" +
			"Returns the deleted chains as \"<family> <table> <chain>\" strings ([] when there is nothing to delete). " +
			"A missing iptables-save/iptables-restore is an error naming the binary and the Debian package (iptables); with if_installed=True it returns None instead, " +
			"before anything is deleted, so the recipe can warn that it could not look.\n" +
			"The sandbox allows only prefixes starting with KUBE- or CNI-; under --root it refuses (the packet filter is the running kernel's).",
		Args: []runtime.Arg{
			{Name: "prefixes", Type: "list of strings", Doc: `chain-name prefixes, e.g. ["KUBE-", "CNI-"]`},
			{Name: "families", Type: "list of strings", Doc: "ipv4 (iptables) and/or ipv6 (ip6tables)"},
			{Name: "if_installed", Type: "bool", Doc: "return None instead of failing when the iptables tools are not installed"},
		},
		DryRun: "The plan is computed from the live rules (iptables-save is a read); each chain is recorded as netfilter.delete-chain and nothing is restored; later calls see the chains gone.",
		Fn:     netfilterFlushBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "nft_delete_tables",
		Signature: `nft_delete_tables(tables, families=["ip", "ip6", "inet"], if_installed=False)`,
		Doc: "Deletes the nftables tables named tables in families that exist (kube-proxy's nftables mode keeps everything in table kube-proxy). " +
			"Returns the deleted tables as \"<family> <table>\" strings. A missing nft is an error naming the Debian package (nftables); " +
			"with if_installed=True it returns None instead (kube-proxy's image brings its own nft, so the host may lack it while the table exists: warn).\n" +
			"The sandbox allows only the table kube-proxy; under --root it refuses.",
		Args: []runtime.Arg{
			{Name: "tables", Type: "list of strings", Doc: `table names, e.g. ["kube-proxy"]`},
			{Name: "families", Type: "list of strings", Doc: "nftables families: ip, ip6, inet, arp, bridge, netdev"},
			{Name: "if_installed", Type: "bool", Doc: "return None instead of failing when nft is not installed"},
		},
		DryRun: "The tables are listed live (nft list tables); each is recorded as netfilter.delete-table, nothing is deleted; later calls see them gone.",
		Fn:     nftDeleteTablesBuiltin,
	})
}

// stringListArg reads a non-empty list of non-empty strings.
func stringListArg(fn, arg string, v *starlark.List) ([]string, error) {
	if v == nil || v.Len() == 0 {
		return nil, fmt.Errorf("%s: %s is empty; name at least one", fn, arg)
	}
	var out []string
	for i := 0; i < v.Len(); i++ {
		s, ok := starlark.AsString(v.Index(i))
		if !ok {
			return nil, fmt.Errorf("%s: %s[%d] is a %s; pass strings", fn, arg, i, v.Index(i).Type())
		}
		if strings.TrimSpace(s) != s || s == "" || strings.ContainsAny(s, " \t\n\"") {
			return nil, fmt.Errorf("%s: %s[%d]=%q is empty or holds white space or quotes", fn, arg, i, shortArg(s))
		}
		out = append(out, s)
	}
	return out, nil
}

func netfilterFlushBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var prefixesV, familiesV *starlark.List
	var ifInstalled bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "prefixes", &prefixesV, "families?", &familiesV, "if_installed?", &ifInstalled); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	prefixes, err := stringListArg(b.Name(), "prefixes", prefixesV)
	if err != nil {
		return nil, err
	}
	fams := []string{"ipv4", "ipv6"}
	if familiesV != nil {
		if fams, err = stringListArg(b.Name(), "families", familiesV); err != nil {
			return nil, err
		}
	}
	for _, f := range fams {
		if _, ok := host.IptablesFamilies[f]; !ok {
			return nil, fmt.Errorf("%s: families: unknown family %q; use ipv4 and/or ipv6", b.Name(), shortArg(f))
		}
	}
	// Every host allows only kube-proxy's and the CNI's prefixes (the
	// Sandbox and each host check the plan again): refused before a read.
	if err := host.CheckChainPrefixes(prefixes); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	// Every family is read before anything is deleted: a missing tool or
	// unparsable rules stop the call with nothing changed.
	saves := map[string]string{}
	for _, fam := range fams {
		save, err := env.Host.IptablesSave(env.Ctx, fam)
		var missing *host.MissingBinaryError
		if errors.As(err, &missing) && ifInstalled {
			return starlark.None, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading the %s rules: %w", b.Name(), fam, err)
		}
		saves[fam] = save
	}
	var out []starlark.Value
	for _, fam := range fams {
		ctx, cancel := context.WithCancel(env.Ctx)
		rules, err := host.ParseIptablesSave(saves[fam])
		if err != nil {
			cancel()
			return nil, fmt.Errorf("%s: %s: %w", b.Name(), fam, err)
		}
		plan := host.PlanIptablesDelete(fam, rules, prefixes)
		// Called even for an empty plan: the sandbox judges the prefixes.
		err = env.Host.IptablesDelete(ctx, plan)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", b.Name(), fam, err)
		}
		jumps := map[[2]string]int{}
		for _, r := range plan.Rules {
			jumps[[2]string{r.Table, r.Target}]++
		}
		result := string(host.Deleted)
		if env.Host.DryRun() {
			result = "recorded"
		}
		for _, c := range plan.Chains {
			what := fam + " " + c.Table + " " + c.Name
			env.Record(thread, b.Name(), runtime.Action{Op: "netfilter.delete-chain", Target: what, Subject: c.Name, Result: result,
				Summary: map[string]any{"family": fam, "table": c.Table, "jumps_deleted": jumps[[2]string{c.Table, c.Name}]}})
			out = append(out, starlark.String(what))
		}
	}
	return starlark.NewList(out), nil
}

func nftDeleteTablesBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var tablesV, familiesV *starlark.List
	var ifInstalled bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "tables", &tablesV, "families?", &familiesV, "if_installed?", &ifInstalled); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	tables, err := stringListArg(b.Name(), "tables", tablesV)
	if err != nil {
		return nil, err
	}
	fams := []string{"ip", "ip6", "inet"}
	if familiesV != nil {
		if fams, err = stringListArg(b.Name(), "families", familiesV); err != nil {
			return nil, err
		}
	}
	for _, f := range fams {
		known := false
		for _, k := range host.NftFamilies {
			known = known || k == f
		}
		if !known {
			return nil, fmt.Errorf("%s: families: unknown family %q; use %s", b.Name(), shortArg(f), strings.Join(host.NftFamilies, ", "))
		}
	}
	if err := host.CheckNftTables(fams, tables); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	deleted, err := env.Host.NftDeleteTables(env.Ctx, fams, tables)
	var missing *host.MissingBinaryError
	if errors.As(err, &missing) && ifInstalled && len(deleted) == 0 {
		return starlark.None, nil
	}
	result := string(host.Deleted)
	if env.Host.DryRun() {
		result = "recorded"
	}
	var out []starlark.Value
	for _, t := range deleted {
		fam, name, _ := strings.Cut(t, " ")
		env.Record(thread, b.Name(), runtime.Action{Op: "netfilter.delete-table", Target: t, Subject: name, Result: result, Summary: map[string]any{"family": fam}})
		out = append(out, starlark.String(t))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return starlark.NewList(out), nil
}
