package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubelark/kubelark/runtime"
)

// `kubelark token create|list|delete|generate` and `kubelark certs
// certificate-key`: kubeadm's token and certificate-key commands, each a
// thin verb over an embedded recipe (recipes/token/*.star,
// recipes/certs/certificate-key.star) so the policy stays in Starlark
// (stdlib/tokens.star). The recipe declares its flags (--ttl,
// --print-join-command, --kubeconfig, ...) as for `kubelark init`; this
// file only maps the command's arguments onto the recipe's positional
// parameter and -o onto its output parameter.
//
// These commands print a result (a token, a join command, a table): it
// alone goes to stdout, progress and the summary to stderr, so
// `TOKEN=$(kubelark token create)` works.

// tokenVerb is one subcommand: its recipe and how its arguments map.
type tokenVerb struct {
	name, recipe, use, short, long, example string
	args                                    cobra.PositionalArgs
	// splitTokens (token delete ID|TOKEN...): the ids go, as one comma
	// list, to the recipe's positional list parameter (ids); whole tokens
	// (with a dot) to its secret parameter tokens, so they stay secret.
	splitTokens bool
	// output adds -o/--output, mapped onto the recipe's output parameter.
	output bool
}

var tokenVerbs = []tokenVerb{
	{name: "create", recipe: "token/create", use: "create [TOKEN]", args: cobra.MaximumNArgs(1),
		short: "Create a bootstrap token on the server",
		long: `Create a bootstrap token (Secret kube-system/bootstrap-token-<id>) in the
cluster the kubeconfig names, as 'kubeadm token create' does: TOKEN is
<id>.<secret>, generated when not given; a token whose id exists is refused.
Prints the token, or with --print-join-command the join command (kubelark's
form, then kubeadm's, one line each; with --certificate-key the
control-plane form). A dry run prints them redacted.`,
		example: `  kubelark token create --print-join-command
  kubelark token create --ttl 2h --description "for w7"
  kubelark token create --print-join-command --certificate-key $(kubelark certs certificate-key)`},
	{name: "list", recipe: "token/list", use: "list", args: cobra.NoArgs, output: true,
		short: "List the bootstrap tokens on the server (secrets masked)",
		long: `List the bootstrap tokens of the cluster the kubeconfig names, as 'kubeadm
token list' does (TOKEN TTL EXPIRES USAGES DESCRIPTION EXTRA GROUPS), or as
output.kubeadm.k8s.io/v1alpha3 BootstrapToken objects with -o json|yaml.
Unlike kubeadm, the token's secret half is never printed: <id>.****************.`,
		example: "  kubelark token list\n  kubelark token list -o yaml"},
	{name: "delete", recipe: "token/delete", use: "delete TOKEN-ID|TOKEN...", args: cobra.MinimumNArgs(1), splitTokens: true,
		short: "Delete bootstrap tokens on the server",
		long: `Delete bootstrap tokens by id (or whole token <id>.<secret>): the Secrets
kube-system/bootstrap-token-<id>. Every token is looked up before any is
deleted; an unknown or malformed one is an error.`,
		example: "  kubelark token delete abcdef"},
	{name: "generate", recipe: "token/generate", use: "generate", args: cobra.NoArgs,
		short: "Generate and print a bootstrap token, but do not create it on the server",
		long: `Print a random bootstrap token <id>.<secret> (6 and 16 characters of
[a-z0-9]) for 'kubelark init --token' or 'kubelark token create TOKEN'. No
cluster is involved.`,
		example: "  kubelark token generate"},
}

// newTokenCmds returns `token` and `certs` and the run commands under
// them (their recipe flags are added per command line, as for `run`).
func newTokenCmds(a *app) (token, certs *cobra.Command, runs []*runCommand) {
	token = &cobra.Command{
		Use:   "token",
		Short: "Manage bootstrap tokens (kubeadm token ...)",
		Long: `Manage bootstrap tokens, as 'kubeadm token' does: create (with the join
command), list (secrets masked), delete, generate. Each runs an embedded
recipe (kubelark recipes show token/create) against the cluster of
--kubeconfig (default /etc/kubernetes/admin.conf).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	for _, v := range tokenVerbs {
		rc := newVerbCmd(a, v)
		token.AddCommand(rc.cmd)
		runs = append(runs, rc)
	}
	certs = &cobra.Command{
		Use:   "certs",
		Short: "Certificate commands (kubeadm certs ...)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	key := newVerbCmd(a, tokenVerb{name: "certificate-key", recipe: "certs/certificate-key", use: "certificate-key", args: cobra.NoArgs,
		short: "Generate a certificate key",
		long: `Print a new random certificate key (32 bytes as 64 hex characters), as
'kubeadm certs certificate-key' does, for
'kubelark run init --phases upload-certs --set upload_certs=true --set certificate_key=KEY'
and a control-plane join's --certificate-key. Keep it secret.`,
		example: "  kubelark certs certificate-key"})
	certs.AddCommand(key.cmd)
	runs = append(runs, key)
	return token, certs, runs
}

// newVerbCmd is a run command for a token/certs verb: a subset of run's
// built-in flags (no --set/--values/--config: the verbs take kubeadm's
// flags), its recipe's flags, and the result on stdout.
func newVerbCmd(a *app, v tokenVerb) *runCommand {
	rc := &runCommand{recipe: v.recipe, resultOnStdout: true, cmd: &cobra.Command{
		Use: v.use, Short: v.short, Long: v.long, Example: v.example, Args: v.args,
	}}
	f := &rc.flags
	f.output = "text"
	fl := rc.cmd.Flags()
	fl.BoolVar(&f.dryRun, "dry-run", false, "change nothing; print what would be done (secrets redacted)")
	fl.StringVar(&f.planFile, "plan", "", "write the plan as JSON to this file (also when the command fails)")
	fl.CountVarP(&f.verbose, "verbose", "v", "more output: -v prints phases, -vv timings")
	fl.StringVar(&f.stdlibDir, "stdlib", "", "load @stdlib// modules from this directory instead of the embedded stdlib")
	fl.StringVar(&f.root, "root", "", "relocate every path under this directory (tests)")
	fl.Uint64Var(&f.maxSteps, "max-steps", runtime.DefaultMaxSteps, "limit of Starlark execution steps")
	fl.DurationVar(&f.timeout, "timeout", defaultTimeout, "wall-clock budget of the command (0: none)")
	fl.StringVar(&f.maxMemory, "max-memory", defaultMaxMemory, "budget of the Go heap, e.g. 1Gi (0: none)")
	var format string
	if v.output {
		fl.StringVarP(&format, "output", "o", "text", "output format: text, json or yaml")
	}
	rc.builtinFlags = []string{"help"}
	fl.VisitAll(func(f *pflag.Flag) { rc.builtinFlags = append(rc.builtinFlags, f.Name) })
	rc.cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if v.output {
			if format != "text" && format != "json" && format != "yaml" {
				return fmt.Errorf("-o %s: unknown output format; use text, json or yaml", format)
			}
			rc.flags.set = []string{"output=" + format}
		}
		if v.splitTokens {
			var ids, toks []string
			for _, x := range args {
				if strings.Contains(x, ".") {
					toks = append(toks, x)
				} else {
					ids = append(ids, x)
				}
			}
			args = nil
			if len(ids) > 0 {
				args = []string{strings.Join(ids, ",")}
			}
			if len(toks) > 0 {
				rc.flags.set = append(rc.flags.set, "tokens="+strings.Join(toks, ","))
			}
		}
		return a.run(cmd, v.recipe, args, rc)
	}
	return rc
}
