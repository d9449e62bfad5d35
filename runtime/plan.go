package runtime

import (
	"encoding/json"
	"io"
)

// Action is one intended or performed change to the world. The ordered list
// of Actions is the plan: printed as kubeadm-like lines, written as JSON with
// --plan, golden-tested in testdata/ and diffed in review. Secrets never
// appear in an Action: private keys, token secrets, certificate keys and
// Secret data are replaced by Redacted before an Action is recorded.
type Action struct {
	Seq     int    `json:"seq"`
	Phase   string `json:"phase,omitempty"`
	Builtin string `json:"builtin"`
	// At is the recipe position (file:line) of the builtin call.
	At string `json:"at,omitempty"`
	// Op is one of file.write, file.delete, dir.create, api.apply,
	// api.delete, api.patch, service.<action>, wait, check.
	Op string `json:"op"`
	// Target is a path, a unit name, or apiVersion/kind/namespace/name.
	Target string `json:"target"`
	// Result is created, updated, unchanged, deleted, absent, recorded
	// (dry-run service/wait), performed, or skipped.
	Result string `json:"result"`
	// Mode is the octal file mode for file and dir ops, e.g. "0600".
	Mode string `json:"mode,omitempty"`
	// Summary describes the content: for a certificate its subject,
	// issuer, SANs, usages and validity; for a kubeconfig server and user.
	Summary map[string]any `json:"summary,omitempty"`
	// SHA256 of the written content; omitted for secret content.
	SHA256 string `json:"sha256,omitempty"`
	// Object is the API object written (Secret data redacted).
	Object map[string]any `json:"object,omitempty"`
	// Secret marks content that was redacted from the plan.
	Secret bool `json:"secret,omitempty"`
}

// Redacted replaces secret values in plans and output.
const Redacted = "<redacted>"

// Plan is the ordered record of a run.
type Plan struct {
	Version int            `json:"version"`
	Recipe  string         `json:"recipe"`
	DryRun  bool           `json:"dry_run"`
	Root    string         `json:"root,omitempty"`
	Params  map[string]any `json:"params,omitempty"`
	Phases  []PhaseResult  `json:"phases,omitempty"`
	Actions []Action       `json:"actions"`
	// Output is what the recipe printed for the operator (join commands…).
	Output []string `json:"output,omitempty"`
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
