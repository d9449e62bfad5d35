package host

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Netfilter is the host's door to the kernel's packet filter, for reset's
// flush_iptables=true: kube-proxy and the CNI plugins leave their chains
// (KUBE-*, CNI-*) and kube-proxy's nftables table behind, kubeadm only
// prints how to remove them. Only deletions go through this door, and
// only as a structured plan (IptablesPlan) that the host itself turns into
// an iptables-restore --noflush payload of -D/-F/-X lines, so nothing else
// in a table is replaced.
//
//   - Live: iptables-save / iptables-restore (ip6tables-* for ipv6) and nft.
//   - DryRun: reads pass through; deletions are remembered and later reads
//     no longer show them.
//   - Sandbox: a plan may delete only chains whose names start with an
//     allowed prefix (NetfilterChainPrefixes) and rules that jump to them,
//     tables only of NetfilterTables; under --root (not the running system)
//     every call is refused.
//   - Fake: FNetfilter.
type Netfilter interface {
	// IptablesSave returns the iptables-save output of family ("ipv4",
	// "ipv6").
	IptablesSave(ctx context.Context, family string) (string, error)
	// IptablesDelete carries out plan (iptables-restore --noflush).
	IptablesDelete(ctx context.Context, plan IptablesPlan) error
	// NftTables lists the nftables tables as "<family> <name>".
	NftTables(ctx context.Context) ([]string, error)
	// NftDeleteTables deletes the tables named names in families that
	// exist and returns them as "<family> <name>", in NftTables order.
	NftDeleteTables(ctx context.Context, families, names []string) ([]string, error)
}

// MissingBinaryError: the packet-filter tool a call needs is not installed.
type MissingBinaryError struct {
	Name, Package string
}

func (e *MissingBinaryError) Error() string {
	return fmt.Sprintf("%s not found in PATH, /usr/sbin or /sbin: install the Debian package %s", e.Name, e.Package)
}

// NetfilterChainPrefixes are the chain-name prefixes the sandbox lets a
// recipe delete: kube-proxy's (KUBE-) and the CNI plugins' (CNI-: portmap,
// bridge's masquerade chains). Never a built-in chain, never the host's.
var NetfilterChainPrefixes = []string{"KUBE-", "CNI-"}

// NetfilterTables are the nftables tables the sandbox lets a recipe delete:
// kube-proxy's nftables mode keeps everything in table "kube-proxy".
var NetfilterTables = []string{"kube-proxy"}

// IptablesFamilies maps a family to its save/restore binaries.
var IptablesFamilies = map[string][2]string{
	"ipv4": {"iptables-save", "iptables-restore"},
	"ipv6": {"ip6tables-save", "ip6tables-restore"},
}

// NftFamilies are the nftables families a table may be in.
var NftFamilies = []string{"ip", "ip6", "inet", "arp", "bridge", "netdev"}

// IptablesRule is one rule as iptables-save prints it (without "-A CHAIN").
type IptablesRule struct {
	Table, Chain, Spec string
	// Target is the chain the rule jumps (-j) or goes (-g) to, or "".
	Target string
}

// IptablesChain is a chain of a table; Builtin chains have a policy.
type IptablesChain struct {
	Table, Name string
	Builtin     bool
}

// IptablesRules is a parsed iptables-save output.
type IptablesRules struct {
	Chains []IptablesChain
	Rules  []IptablesRule
}

// IptablesPlan deletes Chains (flushed, then removed) and the Rules of
// other chains that jump to them.
type IptablesPlan struct {
	Family   string
	Prefixes []string
	Chains   []IptablesChain
	Rules    []IptablesRule
}

// Empty reports whether the plan deletes nothing.
func (p IptablesPlan) Empty() bool { return len(p.Chains) == 0 && len(p.Rules) == 0 }

// ParseIptablesSave reads iptables-save output.
func ParseIptablesSave(text string) (IptablesRules, error) {
	var out IptablesRules
	table := ""
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "*"):
			table = line[1:]
		case line == "COMMIT":
			table = ""
		case table == "":
			return out, fmt.Errorf("iptables-save line %d: %q outside a table", i+1, line)
		case strings.HasPrefix(line, ":"):
			f := strings.Fields(line[1:])
			if len(f) < 2 {
				return out, fmt.Errorf("iptables-save line %d: chain line %q has no policy", i+1, line)
			}
			out.Chains = append(out.Chains, IptablesChain{Table: table, Name: f[0], Builtin: f[1] != "-"})
		case strings.HasPrefix(line, "-A "):
			rest := strings.TrimPrefix(line, "-A ")
			chain, spec, _ := strings.Cut(rest, " ")
			toks, err := splitRuleSpec(spec)
			if err != nil {
				return out, fmt.Errorf("iptables-save line %d: %w", i+1, err)
			}
			r := IptablesRule{Table: table, Chain: chain, Spec: spec}
			for j := 0; j+1 < len(toks); j++ {
				switch toks[j] {
				case "-j", "--jump", "-g", "--goto":
					r.Target = toks[j+1]
				}
			}
			out.Rules = append(out.Rules, r)
		default:
			return out, fmt.Errorf("iptables-save line %d: unexpected %q", i+1, line)
		}
	}
	if table != "" {
		return out, fmt.Errorf("iptables-save: table %s has no COMMIT (truncated output?)", table)
	}
	return out, nil
}

// splitRuleSpec splits a rule as iptables-save quotes it ("..." with
// backslash escapes, as in --comment "kubernetes service portals").
func splitRuleSpec(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			inQuote = !inQuote
			have = true
		case !inQuote && (c == ' ' || c == '\t'):
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote in rule %q", s)
	}
	if have {
		out = append(out, cur.String())
	}
	return out, nil
}

func hasAnyPrefix(name string, prefixes []string) bool {
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// PlanIptablesDelete plans the deletion of every non-built-in chain whose
// name starts with one of prefixes (in every table) and of every rule of
// another chain that jumps or goes to one of them.
func PlanIptablesDelete(family string, rules IptablesRules, prefixes []string) IptablesPlan {
	p := IptablesPlan{Family: family, Prefixes: append([]string(nil), prefixes...)}
	gone := map[[2]string]bool{}
	for _, c := range rules.Chains {
		if !c.Builtin && hasAnyPrefix(c.Name, prefixes) {
			p.Chains = append(p.Chains, c)
			gone[[2]string{c.Table, c.Name}] = true
		}
	}
	for _, r := range rules.Rules {
		if !gone[[2]string{r.Table, r.Chain}] && r.Target != "" && gone[[2]string{r.Table, r.Target}] {
			p.Rules = append(p.Rules, r)
		}
	}
	return p
}

// RestorePayload is the iptables-restore --noflush input of plan: per
// table, the jumping rules deleted (-D), then every chain flushed (-F) and
// then removed (-X), so chains that jump to each other go too. Nothing
// else is named, so nothing else changes.
func (p IptablesPlan) RestorePayload() string {
	var tables []string
	seen := map[string]bool{}
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			tables = append(tables, t)
		}
	}
	for _, c := range p.Chains {
		add(c.Table)
	}
	for _, r := range p.Rules {
		add(r.Table)
	}
	sort.Strings(tables)
	var b strings.Builder
	for _, t := range tables {
		fmt.Fprintf(&b, "*%s\n", t)
		for _, r := range p.Rules {
			if r.Table == t {
				fmt.Fprintf(&b, "-D %s %s\n", r.Chain, r.Spec)
			}
		}
		for _, c := range p.Chains {
			if c.Table == t {
				fmt.Fprintf(&b, "-F %s\n", c.Name)
			}
		}
		for _, c := range p.Chains {
			if c.Table == t {
				fmt.Fprintf(&b, "-X %s\n", c.Name)
			}
		}
		b.WriteString("COMMIT\n")
	}
	return b.String()
}

// applyIptablesPlan returns save with plan carried out: what a save after
// the restore prints (the dry run's and the fake's view).
func applyIptablesPlan(save string, plan IptablesPlan) string {
	gone := map[[2]string]bool{}
	for _, c := range plan.Chains {
		gone[[2]string{c.Table, c.Name}] = true
	}
	dropRule := map[[3]string]int{}
	for _, r := range plan.Rules {
		dropRule[[3]string{r.Table, r.Chain, r.Spec}]++
	}
	var out []string
	table := ""
	for _, line := range strings.Split(save, "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
		case strings.HasPrefix(line, ":"):
			if f := strings.Fields(line[1:]); len(f) > 0 && gone[[2]string{table, f[0]}] {
				continue
			}
		case strings.HasPrefix(line, "-A "):
			chain, spec, _ := strings.Cut(strings.TrimPrefix(line, "-A "), " ")
			if gone[[2]string{table, chain}] {
				continue
			}
			if k := [3]string{table, chain, spec}; dropRule[k] > 0 {
				dropRule[k]--
				continue
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// CheckIptablesPlan is the sandbox's rule: only chains with an allowed
// prefix, never a built-in one, and only rules that jump to those chains.
func CheckIptablesPlan(plan IptablesPlan) error {
	if _, ok := IptablesFamilies[plan.Family]; !ok {
		return fmt.Errorf("unknown iptables family %q: use ipv4 or ipv6", plan.Family)
	}
	if err := CheckChainPrefixes(plan.Prefixes); err != nil {
		return err
	}
	gone := map[[2]string]bool{}
	for _, c := range plan.Chains {
		if c.Builtin || !hasAnyPrefix(c.Name, plan.Prefixes) {
			return fmt.Errorf("refusing to delete chain %s of table %s: only chains starting with %s may be deleted", c.Name, c.Table, strings.Join(plan.Prefixes, ", "))
		}
		gone[[2]string{c.Table, c.Name}] = true
	}
	for _, r := range plan.Rules {
		if !gone[[2]string{r.Table, r.Target}] {
			return fmt.Errorf("refusing to delete rule %q of chain %s (table %s): it does not jump to a chain being deleted", r.Spec, r.Chain, r.Table)
		}
	}
	return nil
}

// CheckChainPrefixes refuses prefixes outside NetfilterChainPrefixes (a
// prefix may be longer, KUBE-SVC-, never shorter: "" or "K" would match
// the host's chains).
func CheckChainPrefixes(prefixes []string) error {
	if len(prefixes) == 0 {
		return errors.New("no chain prefixes given: name the prefixes to delete, e.g. [\"KUBE-\", \"CNI-\"]")
	}
	for _, p := range prefixes {
		if !hasAnyPrefix(p, NetfilterChainPrefixes) {
			return fmt.Errorf("refusing chain prefix %q: the sandbox deletes only chains starting with %s (kube-proxy's and the CNI plugins'), never the host's own",
				p, strings.Join(NetfilterChainPrefixes, " or "))
		}
	}
	return nil
}

// CheckNftTable is the sandbox's rule for tables.
func CheckNftTable(family, name string) error {
	ok := false
	for _, f := range NftFamilies {
		ok = ok || f == family
	}
	if !ok {
		return fmt.Errorf("unknown nftables family %q: use one of %s", family, strings.Join(NftFamilies, ", "))
	}
	for _, t := range NetfilterTables {
		if t == name {
			return nil
		}
	}
	return fmt.Errorf("refusing to delete nftables table %s %s: the sandbox deletes only %s (kube-proxy's), never the host's own", family, name, strings.Join(NetfilterTables, ", "))
}

// selectNftTables keeps the tables of ts ("<family> <name>") that are in
// families and names.
func selectNftTables(ts, families, names []string) []string {
	var out []string
	for _, t := range ts {
		fam, name, _ := strings.Cut(t, " ")
		if contains(families, fam) && contains(names, name) {
			out = append(out, t)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// CheckNftTables checks every (family, name) pair with CheckNftTable.
func CheckNftTables(families, names []string) error {
	if len(names) == 0 || len(families) == 0 {
		return errors.New("no nftables tables or families given: name them, e.g. tables=[\"kube-proxy\"], families=[\"ip\", \"ip6\"]")
	}
	for _, f := range families {
		for _, n := range names {
			if err := CheckNftTable(f, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// ---- DryRun ----

// dryNetfilter remembers a dry run's deletions.
type dryNetfilter struct {
	mu     sync.Mutex
	plans  []IptablesPlan
	tables map[string]bool // "<family> <name>"
}

func (d *DryRun) nf() *dryNetfilter {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.netfilter == nil {
		d.netfilter = &dryNetfilter{tables: map[string]bool{}}
	}
	return d.netfilter
}

// IptablesSave is the base's, less this run's deletions.
func (d *DryRun) IptablesSave(ctx context.Context, family string) (string, error) {
	s, err := d.base.IptablesSave(ctx, family)
	if err != nil {
		return "", err
	}
	nf := d.nf()
	nf.mu.Lock()
	defer nf.mu.Unlock()
	for _, p := range nf.plans {
		if p.Family == family {
			s = applyIptablesPlan(s, p)
		}
	}
	return s, nil
}

// IptablesDelete restores nothing; later saves no longer show the plan.
func (d *DryRun) IptablesDelete(ctx context.Context, plan IptablesPlan) error {
	if err := CheckIptablesPlan(plan); err != nil {
		return err
	}
	nf := d.nf()
	nf.mu.Lock()
	nf.plans = append(nf.plans, plan)
	nf.mu.Unlock()
	return nil
}

func (d *DryRun) NftTables(ctx context.Context) ([]string, error) {
	ts, err := d.base.NftTables(ctx)
	if err != nil {
		return nil, err
	}
	nf := d.nf()
	nf.mu.Lock()
	defer nf.mu.Unlock()
	var out []string
	for _, t := range ts {
		if !nf.tables[t] {
			out = append(out, t)
		}
	}
	return out, nil
}

func (d *DryRun) NftDeleteTables(ctx context.Context, families, names []string) ([]string, error) {
	if err := CheckNftTables(families, names); err != nil {
		return nil, err
	}
	ts, err := d.NftTables(ctx)
	if err != nil {
		return nil, err
	}
	del := selectNftTables(ts, families, names)
	nf := d.nf()
	nf.mu.Lock()
	for _, t := range del {
		nf.tables[t] = true
	}
	nf.mu.Unlock()
	return del, nil
}

// ---- Sandbox ----

// errNetfilterRelocated refuses the packet filter under --root.
var errNetfilterRelocated = errors.New("--root: the relocated tree is not the running system, and the packet filter is the running kernel's; run without --root to flush it")

func (s *Sandbox) IptablesSave(ctx context.Context, family string) (string, error) {
	if s.root != "" {
		return "", errNetfilterRelocated
	}
	if _, ok := IptablesFamilies[family]; !ok {
		return "", fmt.Errorf("unknown iptables family %q: use ipv4 or ipv6", family)
	}
	return s.base.IptablesSave(ctx, family)
}

func (s *Sandbox) IptablesDelete(ctx context.Context, plan IptablesPlan) error {
	if s.root != "" {
		return errNetfilterRelocated
	}
	if err := CheckIptablesPlan(plan); err != nil {
		return err
	}
	return s.base.IptablesDelete(ctx, plan)
}

func (s *Sandbox) NftTables(ctx context.Context) ([]string, error) {
	if s.root != "" {
		return nil, errNetfilterRelocated
	}
	return s.base.NftTables(ctx)
}

func (s *Sandbox) NftDeleteTables(ctx context.Context, families, names []string) ([]string, error) {
	if s.root != "" {
		return nil, errNetfilterRelocated
	}
	if err := CheckNftTables(families, names); err != nil {
		return nil, err
	}
	return s.base.NftDeleteTables(ctx, families, names)
}

// ---- Fake ----

// FakeNetfilter is a packet filter for tests: Save holds the
// iptables-save text per family (a missing family fails like a missing
// binary), Tables the nftables tables ("<family> <name>"). Deletions are
// applied to both; Restored records every restore payload.
type FakeNetfilter struct {
	mu       sync.Mutex
	Save     map[string]string
	Tables   []string
	Restored []string
	// NoNft makes the nft calls fail as if nft were not installed.
	NoNft bool
}

func (f *Fake) IptablesSave(ctx context.Context, family string) (string, error) {
	n := f.FNetfilter
	if n == nil {
		return "", &MissingBinaryError{Name: IptablesFamilies[family][0], Package: "iptables"}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	s, ok := n.Save[family]
	if !ok {
		return "", &MissingBinaryError{Name: IptablesFamilies[family][0], Package: "iptables"}
	}
	return s, nil
}

func (f *Fake) IptablesDelete(ctx context.Context, plan IptablesPlan) error {
	n := f.FNetfilter
	if n == nil {
		return errors.New("the fake host has no packet filter (set FNetfilter)")
	}
	if err := CheckIptablesPlan(plan); err != nil {
		return err
	}
	if plan.Empty() {
		return nil // as Live: nothing to restore
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.Restored = append(n.Restored, plan.Family+"\n"+plan.RestorePayload())
	n.Save[plan.Family] = applyIptablesPlan(n.Save[plan.Family], plan)
	return nil
}

func (f *Fake) NftTables(ctx context.Context) ([]string, error) {
	n := f.FNetfilter
	if n == nil || n.NoNft {
		return nil, &MissingBinaryError{Name: "nft", Package: "nftables"}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.Tables...), nil
}

func (f *Fake) NftDeleteTables(ctx context.Context, families, names []string) ([]string, error) {
	if err := CheckNftTables(families, names); err != nil {
		return nil, err
	}
	ts, err := f.NftTables(ctx)
	if err != nil {
		return nil, err
	}
	del := selectNftTables(ts, families, names)
	n := f.FNetfilter
	n.mu.Lock()
	defer n.mu.Unlock()
	var keep []string
	for _, t := range n.Tables {
		if !contains(del, t) {
			keep = append(keep, t)
		}
	}
	n.Tables = keep
	return del, nil
}
