package builtins

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// pfCheck is one parsed check, ready to run.
type pfCheck struct {
	name, kind, severity string
	// requires names earlier checks this one depends on: when one of them
	// found an error, this check is skipped with one line (ImagePull needs
	// the CRI that the CRI check found missing).
	requires []string
	run      func(*pfCtx) []pfFinding
}

// pfCtx is what a check may use.
type pfCtx struct {
	env *runtime.Env
	h   host.Host
	ctx context.Context
}

func pfError(format string, args ...any) pfFinding {
	return pfFinding{err: true, msg: fmt.Sprintf(format, args...)}
}

func pfWarning(format string, args ...any) pfFinding {
	return pfFinding{msg: fmt.Sprintf(format, args...)}
}

// pfKind describes one check kind: its fields (for docs and validation)
// and a parser that returns kubeadm's default name and the check itself.
type pfKind struct {
	doc   string
	parse func(a *pfArgs) (name string, run func(*pfCtx) []pfFinding)
}

// pfKindAliases accept other spellings of a kind.
var pfKindAliases = map[string]string{
	"privileged_user": "is_privileged_user",
	"memory":          "mem",
	"in_path":         "file_existing",
	"service":         "service_enabled",
	"firewalld":       "service_active", // unit defaults to firewalld
}

func preflightKindsDoc() string {
	var lines []string
	for _, k := range sortedKinds() {
		lines = append(lines, fmt.Sprintf("- %s: %s", k, pfKinds[k].doc))
	}
	var al []string
	for a, k := range pfKindAliases {
		al = append(al, a+"="+k)
	}
	sort.Strings(al)
	lines = append(lines, "Also accepted: "+strings.Join(al, ", ")+".")
	return strings.Join(lines, "\n")
}

func sortedKinds() []string {
	ks := make([]string, 0, len(pfKinds))
	for k := range pfKinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// parseChecks validates every check dict before any runs, so a typo in the
// last check is reported without half a report first.
func parseChecks(builtin string, v starlark.Value) ([]*pfCheck, error) {
	it, ok := v.(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("%s: checks: got %s, want a list of dicts", builtin, v.Type())
	}
	var out []*pfCheck
	earlier := map[string]bool{}
	iter := it.Iterate()
	defer iter.Done()
	var x starlark.Value
	for i := 0; iter.Next(&x); i++ {
		c, err := parseCheck(x)
		if err != nil {
			return nil, fmt.Errorf("%s: checks[%d]: %w", builtin, i, err)
		}
		for _, r := range c.requires {
			if !earlier[r] {
				return nil, fmt.Errorf("%s: checks[%d] (%s): requires %q, but no earlier check has that name; list the required check first, or fix the name", builtin, i, c.name, r)
			}
		}
		earlier[c.name] = true
		out = append(out, c)
	}
	return out, nil
}

func parseCheck(x starlark.Value) (*pfCheck, error) {
	if _, ok := x.(*starlark.Dict); !ok {
		return nil, fmt.Errorf("got %s, want a dict like {\"kind\": \"port\", \"port\": 6443}", x.Type())
	}
	g, err := runtime.ToGo(x)
	if err != nil {
		return nil, err
	}
	m := g.(map[string]any)
	a := &pfArgs{m: m}
	kind := a.str("kind", true, "")
	name := a.str("name", false, "")
	sev := a.str("severity", false, "")
	requires := a.strs("requires", false)
	if a.err != nil {
		return nil, a.err
	}
	canon := kind
	if k, ok := pfKindAliases[kind]; ok {
		canon = k
		if kind == "firewalld" && m["unit"] == nil {
			m["unit"] = "firewalld"
		}
	}
	spec, ok := pfKinds[canon]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q; known kinds: %s", kind, strings.Join(sortedKinds(), ", "))
	}
	a.where = fmt.Sprintf("kind %q", kind)
	if name != "" {
		a.where = fmt.Sprintf("%q (kind %q)", name, kind)
	}
	defName, run := spec.parse(a)
	if a.err != nil {
		return nil, a.err
	}
	if err := a.unknown(); err != nil {
		return nil, err
	}
	switch sev {
	case "", "error", "warning":
	default:
		return nil, fmt.Errorf("%s: severity %q: want \"error\" or \"warning\"", a.where, sev)
	}
	if name == "" {
		name = defName
	}
	return &pfCheck{name: name, kind: canon, severity: sev, requires: requires, run: run}, nil
}

// pfArgs reads the fields of one check dict, remembering which were asked
// for so that unknown (misspelled) fields are reported.
type pfArgs struct {
	where string
	m     map[string]any
	asked []string
	err   error
}

func (a *pfArgs) get(key string, required bool) (any, bool) {
	a.asked = append(a.asked, key)
	v, ok := a.m[key]
	if !ok || v == nil {
		if required && a.err == nil {
			a.err = fmt.Errorf("%s: missing field %q", a.whereOr(), key)
		}
		return nil, false
	}
	return v, true
}

func (a *pfArgs) whereOr() string {
	if a.where == "" {
		return "check"
	}
	return a.where
}

func (a *pfArgs) typeErr(key string, v any, want string) {
	if a.err == nil {
		a.err = fmt.Errorf("%s: field %q: got %s, want %s", a.whereOr(), key, runtime.KindOf(v), want)
	}
}

func (a *pfArgs) str(key string, required bool, def string) string {
	v, ok := a.get(key, required)
	if !ok {
		return def
	}
	s, isStr := v.(string)
	if !isStr {
		a.typeErr(key, v, "string")
		return def
	}
	if s == "" && required && a.err == nil {
		a.err = fmt.Errorf("%s: field %q is empty", a.whereOr(), key)
	}
	return s
}

func (a *pfArgs) num(key string, required bool, def int64) int64 {
	v, ok := a.get(key, required)
	if !ok {
		return def
	}
	n, isInt := v.(int64)
	if !isInt {
		a.typeErr(key, v, "int")
		return def
	}
	return n
}

func (a *pfArgs) list(key string, required bool) []any {
	v, ok := a.get(key, required)
	if !ok {
		return nil
	}
	l, isList := v.([]any)
	if !isList {
		a.typeErr(key, v, "list")
		return nil
	}
	return l
}

func (a *pfArgs) strs(key string, required bool) []string {
	var out []string
	for i, e := range a.list(key, required) {
		s, ok := e.(string)
		if !ok {
			a.typeErr(fmt.Sprintf("%s[%d]", key, i), e, "string")
			return nil
		}
		out = append(out, s)
	}
	return out
}

func (a *pfArgs) ints(key string) []int64 {
	var out []int64
	for i, e := range a.list(key, false) {
		n, ok := e.(int64)
		if !ok {
			a.typeErr(fmt.Sprintf("%s[%d]", key, i), e, "int")
			return nil
		}
		out = append(out, n)
	}
	return out
}

func (a *pfArgs) unknown() error {
	known := map[string]bool{}
	for _, k := range a.asked {
		known[k] = true
	}
	var bad []string
	for k := range a.m {
		if !known[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	var fields []string
	for _, k := range a.asked {
		if k != "kind" && k != "name" && k != "severity" && k != "requires" {
			fields = append(fields, k)
		}
	}
	takes := "name, severity, requires"
	if len(fields) > 0 {
		takes += ", " + strings.Join(fields, ", ")
	}
	return fmt.Errorf("%s: unknown field(s) %s; this kind takes %s", a.whereOr(), strings.Join(bad, ", "), takes)
}

func (a *pfArgs) boolean(key string, def bool) bool {
	v, ok := a.get(key, false)
	if !ok {
		return def
	}
	b, isBool := v.(bool)
	if !isBool {
		a.typeErr(key, v, "bool")
		return def
	}
	return b
}
