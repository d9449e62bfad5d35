package host

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// netfilterTimeout bounds one iptables/nft command.
const netfilterTimeout = 60 * time.Second

// netfilterBin finds a packet-filter binary in PATH, then in /usr/sbin and
// /sbin (root's usual PATH lacks them under some service managers).
func (l *Live) netfilterBin(name, pkg string) (string, error) {
	if p, err := l.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", &MissingBinaryError{Name: name, Package: pkg}
}

func (l *Live) netfilterRun(ctx context.Context, bin string, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, netfilterTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = l.Environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func (l *Live) IptablesSave(ctx context.Context, family string) (string, error) {
	bins, ok := IptablesFamilies[family]
	if !ok {
		return "", fmt.Errorf("unknown iptables family %q: use ipv4 or ipv6", family)
	}
	bin, err := l.netfilterBin(bins[0], "iptables")
	if err != nil {
		return "", err
	}
	return l.netfilterRun(ctx, bin, "")
}

// IptablesDelete restores the plan's payload with --noflush (only the
// named rules and chains change) and -w (wait for the xtables lock that
// kube-proxy may hold).
func (l *Live) IptablesDelete(ctx context.Context, plan IptablesPlan) error {
	if err := CheckIptablesPlan(plan); err != nil {
		return err
	}
	if plan.Empty() {
		return nil
	}
	bin, err := l.netfilterBin(IptablesFamilies[plan.Family][1], "iptables")
	if err != nil {
		return err
	}
	_, err = l.netfilterRun(ctx, bin, plan.RestorePayload(), "-w", "5", "--noflush")
	return err
}

// NftTables parses `nft list tables` ("table ip kube-proxy" lines).
func (l *Live) NftTables(ctx context.Context) ([]string, error) {
	bin, err := l.netfilterBin("nft", "nftables")
	if err != nil {
		return nil, err
	}
	out, err := l.netfilterRun(ctx, bin, "", "list", "tables")
	if err != nil {
		return nil, err
	}
	return ParseNftTables(out), nil
}

// ParseNftTables reads `nft list tables` output.
func ParseNftTables(out string) []string {
	var ts []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "table" {
			ts = append(ts, f[1]+" "+f[2])
		}
	}
	return ts
}

func (l *Live) NftDeleteTables(ctx context.Context, families, names []string) ([]string, error) {
	if err := CheckNftTables(families, names); err != nil {
		return nil, err
	}
	ts, err := l.NftTables(ctx)
	if err != nil {
		return nil, err
	}
	bin, err := l.netfilterBin("nft", "nftables")
	if err != nil {
		return nil, err
	}
	var done []string
	for _, t := range selectNftTables(ts, families, names) {
		fam, name, _ := strings.Cut(t, " ")
		if _, err := l.netfilterRun(ctx, bin, "", "delete", "table", fam, name); err != nil {
			return done, err
		}
		done = append(done, t)
	}
	return done, nil
}
