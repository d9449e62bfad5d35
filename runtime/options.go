package runtime

import (
	"io"
	"io/fs"

	"github.com/kubelark/kubelark/runtime/host"
)

// Options is everything one run needs. cmd/kubelark fills it from flags and
// does nothing else; every decision about recipes, params and phases is
// made here so it is unit-tested without a binary.
type Options struct {
	// Recipe is an embedded recipe name ("init") or a path to a .star file.
	// A file on disk wins over an embedded recipe of the same name; the
	// file's directory is the recipe tree that relative load()s may reach.
	Recipe string
	// RecipeFS holds the embedded recipes ("init.star", ...).
	RecipeFS fs.FS
	// StdlibFS holds the embedded stdlib ("pki.star", ...).
	StdlibFS fs.FS
	// StdlibDir, when set, replaces StdlibFS (--stdlib), so a site can fork
	// the policy modules without rebuilding.
	StdlibDir string

	// Set holds --set key=value items, applied last.
	Set []string
	// ValuesFile is a YAML map of parameter values (--values).
	ValuesFile string
	// ConfigDocs are the documents of a kubeadm config (--config), by
	// kind, as plain data shaped like their YAML, already decoded and
	// validated by runtime/kubeadmconfig. The recipe's params(config =
	// fn) maps them onto its parameters; ConfigFile names the file in
	// errors.
	ConfigDocs map[string]any
	ConfigFile string
	// ConfigWarnings are printed (and counted) as the run starts;
	// ConfigSecrets (bootstrap tokens, certificate keys read from the
	// file) are redacted from every line and the plan.
	ConfigWarnings []string
	ConfigSecrets  []string
	// Flags are the values of the recipe's own flags (param(...,
	// flag = "pod-network-cidr")), as given on the command line. They
	// enter with --set (kubeadm: flags override the config); see
	// paramflags.go.
	Flags []FlagValue
	// BuiltinFlags are the flags of the command that runs the recipe
	// (`kubelark run`'s --dry-run, --set, ...; Command names it): a recipe
	// may not declare one of them as a parameter's flag.
	BuiltinFlags []string
	Command      string
	// Args are the command-line arguments after the recipe name, for the
	// parameters declared with param(..., positional = N); see
	// paramargs.go.
	Args []string

	// DryRun and Root describe the host for the plan and the `run` struct;
	// the Host itself is already built accordingly by the caller.
	DryRun bool
	Root   string

	// Phases selects phases (--phases). Skipping is the recipe's own
	// business: phases(tree, skip = P.skip_phases).
	Phases []string

	// Verbose is the -v level: 1 prints phase lines, 2 adds timings.
	Verbose int
	// Out receives progress lines and the summary; nil discards them.
	Out io.Writer
	// Output, when set, receives the recipe's output() lines instead of
	// Out: a command whose result is its output (`kubelark token create`
	// prints the token) keeps stdout to that and its progress on stderr.
	Output io.Writer
	// JSON, when set, receives the redacted plan as JSON at the end of
	// the run (-o json passes stdout and moves Out to stderr).
	JSON io.Writer
	// PlanFile, when set, receives the redacted plan as JSON at the end of
	// the run, also when the run fails (the partial plan shows how far it
	// got).
	PlanFile string

	// Host is the door to the world (live, dry-run, sandboxed, fake).
	Host host.Host
	// Registry holds the builtins; nil means none.
	Registry *Registry
	// MaxSteps bounds the Starlark steps of the run; 0 means
	// DefaultMaxSteps. Builtins' own work is not counted.
	MaxSteps uint64
	// Progress, when set, is kept up to date with the recipe position so a
	// watchdog that must end the process (a builtin that does not return
	// after a signal or a budget) can name the line.
	Progress *Progress
}

// DefaultMaxSteps is far above what the shipped recipes use (well under a
// million steps) yet stops a runaway loop in about a second.
const DefaultMaxSteps = 100_000_000
