package builtins

// The duration family: Go durations as values. kubeadm's configuration
// spells every timeout and validity as a Go duration ("4m0s", "8760h");
// policy needs to validate them where they enter (naming the parameter) and
// to do arithmetic with them (a startup probe's failureThreshold is the
// health-check timeout divided by the probe period), which Starlark cannot
// parse by itself.

import (
	"fmt"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/kubelark/kubelark/internal/valid"
	"github.com/kubelark/kubelark/runtime"
)

func init() { families = append(families, registerDuration) }

func registerDuration(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "duration",
		Signature: `duration(d, what="")`,
		Doc: "Parses a Go duration (\"4m0s\", \"90s\", \"1h30m\", \"500ms\"; negative allowed) into a value of type duration: " +
			"d.seconds is a float (Go's Duration.Seconds()), str(d) is Go's spelling (\"4m0s\", as duration_string), " +
			"durations compare with == and <, and a zero duration is falsy. " +
			"duration(\"4m\").seconds == 240.0. Pass a duration to get it back unchanged.",
		Args: []runtime.Arg{
			{Name: "d", Type: "string or duration", Doc: "Go duration syntax: a sequence of numbers with units ns, us, ms, s, m, h"},
			{Name: "what", Type: "string", Doc: "names the value in errors, e.g. the parameter it came from (\"timeout_kubelet_health_check\")"},
		},
		DryRun: "Pure: nothing is recorded.",
		Fn:     durationFn,
	})
}

func durationFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	var what string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "d", &v, "what?", &what); err != nil {
		return nil, err
	}
	prefix := b.Name()
	if what != "" {
		prefix = what
	}
	switch d := v.(type) {
	case Duration:
		return d, nil
	case starlark.String:
		parsed, err := valid.Duration(string(d))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", prefix, err)
		}
		return Duration(parsed), nil
	default:
		return nil, fmt.Errorf("%s: got %s, want a duration string like \"4m0s\"", prefix, v.Type())
	}
}

// Duration is a time.Duration as a Starlark value (see the duration builtin).
type Duration time.Duration

var (
	_ starlark.Comparable = Duration(0)
	_ starlark.HasAttrs   = Duration(0)
)

func (d Duration) String() string        { return time.Duration(d).String() }
func (d Duration) Type() string          { return "duration" }
func (d Duration) Freeze()               {}
func (d Duration) Truth() starlark.Bool  { return d != 0 }
func (d Duration) Hash() (uint32, error) { return starlark.MakeInt64(int64(d)).Hash() }

// Attr implements starlark.HasAttrs.
func (d Duration) Attr(name string) (starlark.Value, error) {
	switch name {
	case "seconds":
		return starlark.Float(time.Duration(d).Seconds()), nil
	}
	return nil, nil
}

// AttrNames implements starlark.HasAttrs.
func (d Duration) AttrNames() []string { return []string{"seconds"} }

// CompareSameType implements starlark.Comparable.
func (d Duration) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	return starlark.CompareDepth(op, starlark.MakeInt64(int64(d)), starlark.MakeInt64(int64(y.(Duration))), depth)
}
