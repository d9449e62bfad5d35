package runtime

import (
	"encoding/json"
	"io"

	"github.com/kubelark/kubelark/runtime/host"
)

// Action is one intended or performed change to the world. The ordered list
// of Actions is the plan: printed as kubeadm-like lines, written as JSON with
// --plan, golden-tested in testdata/ and diffed in review. Secrets never
// appear in an Action: private keys, token secrets, certificate keys and
// Secret data are replaced by Redacted before an Action is recorded.
type Action struct {
	Seq   int    `json:"seq"`
	Phase string `json:"phase,omitempty"`
	// Builtin is the name of the builtin that did it, as a recipe calls
	// it ("gen_cert"), so a plan can be queried by builtin.
	Builtin string `json:"builtin"`
	// Subject is what the call was about when Target does not say it:
	// gen_cert's certificate name ("ca" for ca.key and ca.crt alike).
	Subject string `json:"subject,omitempty"`
	// At is the position (file:line) of the Starlark line that called the
	// builtin: the innermost frame, often in the stdlib
	// ("@stdlib//pki.star:114").
	At string `json:"at,omitempty"`
	// RecipeAt is the innermost frame outside the stdlib: the line of the
	// operator's own recipe (main file or a module it loads by relative
	// path) that led to the action ("init.star:130"). With At it tells a
	// fork's reviewer which of their lines caused a write and which stdlib
	// line carried it out. Equal to At when the recipe called the builtin
	// itself; empty when only stdlib frames are on the stack.
	RecipeAt string `json:"recipe_at,omitempty"`
	// Op is one of file.write, file.delete, dir.create, api.apply,
	// api.delete, api.patch, service.<action>, wait, check.
	Op string `json:"op"`
	// Target is a path, a unit name, or apiVersion/kind/namespace/name.
	Target string `json:"target"`
	// Result is created, updated, unchanged, deleted, absent, recorded
	// (dry-run service/wait), performed, or skipped.
	Result string `json:"result"`
	// Server and Credential say where an api.* action goes: the API
	// server URL and the identity of the credentials sent (the kubeconfig
	// path and its user, "bootstrap token abcdef", "anonymous"), never a
	// secret.
	Server     string `json:"server,omitempty"`
	Credential string `json:"credential,omitempty"`
	// Mode is the octal file mode for file and dir ops, e.g. "0600".
	Mode string `json:"mode,omitempty"`
	// Summary describes the content: for a certificate its subject,
	// issuer, SANs, usages and validity; for a kubeconfig server and user.
	Summary map[string]any `json:"summary,omitempty"`
	// SHA256 of the written content; omitted for secret content.
	SHA256 string `json:"sha256,omitempty"`
	// Content is the file's content as written (kubelet config.yaml,
	// static Pod manifests, certificates...), so a reviewer and a plan
	// diff see what changed, not only that something did. Only for
	// non-secret files that are valid UTF-8; other non-secret files get
	// ContentBase64; secret files get neither.
	Content       string `json:"content,omitempty"`
	ContentBase64 string `json:"content_base64,omitempty"`
	// Object is the API object written (Secret data redacted).
	Object map[string]any `json:"object,omitempty"`
	// Secret marks content that was redacted from the plan.
	Secret bool `json:"secret,omitempty"`
}

// Redacted replaces secret values in plans and output.
const Redacted = "<redacted>"

// PlanVersion is the version of the plan format described in
// docs/plan.md. It changes when a field is removed or changes meaning;
// adding a field does not change it.
const PlanVersion = 1

// Plan is the ordered record of a run. docs/plan.md describes the JSON.
type Plan struct {
	Version int            `json:"version"`
	Recipe  string         `json:"recipe"`
	DryRun  bool           `json:"dry_run"`
	Root    string         `json:"root,omitempty"`
	Params  map[string]any `json:"params,omitempty"`
	// Roots are the sandbox roots the user's configuration added (a
	// custom etcd data dir, an external etcd CA file), beyond the
	// built-in ones and --allow-root.
	Roots   []host.RootInfo `json:"roots,omitempty"`
	Phases  []PhaseResult   `json:"phases,omitempty"`
	Actions []Action        `json:"actions"`
	// Output is what the recipe printed for the operator (join commands…).
	Output []string `json:"output,omitempty"`
	// WouldStop lists what would have stopped a real run; a dry run goes
	// on to plan the rest, then fails (see DryRunStopError).
	WouldStop []Stop `json:"would_stop,omitempty"`
}

// Stop is a point where a real run would have failed but a dry run went
// on: the phase and what failed, in kubeadm's words.
type Stop struct {
	Phase  string `json:"phase"`
	Reason string `json:"reason"`
}

// PhaseResult records whether a phase ran and how long it took.
type PhaseResult struct {
	Name    string `json:"name"`
	Ran     bool   `json:"ran"`
	Skipped string `json:"skipped,omitempty"` // reason when not run
	Millis  int64  `json:"-"`
}

// WriteJSON writes the plan as indented JSON.
func (p *Plan) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}
