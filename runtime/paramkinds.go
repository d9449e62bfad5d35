package runtime

// Typed parameter kinds. param(kind=...) narrows a string parameter to a
// syntax (a bootstrap token, a duration, CIDRs, host[:port], an IP, a
// certificate key) and param(schema={...}) gives a dict parameter, or each
// dict of a list parameter, its allowed keys and their types or kinds.
// Every value is checked once all layers are applied, before params()
// returns — so before the first phase writes anything — and the error
// names the parameter, the layer it came from (--set, --config field,
// flag, --values), what is wrong and how to fix it. A secret parameter's
// value is never quoted.

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/kubelark/kubelark/internal/valid"
)

// paramKinds are the kinds param(kind=) accepts; each checks a non-empty
// string (empty means "derive or generate it" for every kubeadm input).
var paramKinds = map[string]func(string) error{
	"token":           valid.Token,
	"certificate_key": valid.CertificateKey,
	"duration":        func(s string) error { _, err := valid.Duration(s); return err },
	"ip":              valid.IP,
	"cidrs":           func(s string) error { _, err := valid.CIDRList(s); return err },
	"host_port":       func(s string) error { _, _, err := valid.HostPort(s); return err },
}

func kindNames() string {
	names := make([]string, 0, len(paramKinds))
	for k := range paramKinds {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// checkKindDecl validates kind= and schema= of one param() and its default.
func checkKindDecl(fn string, p *paramDecl) error {
	if p.kind != "" {
		if _, ok := paramKinds[p.kind]; !ok {
			return fmt.Errorf("%s: kind %q is not one of %s", fn, p.kind, kindNames())
		}
		if p.typ != "string" {
			return fmt.Errorf("%s: kind %q needs a string parameter, this one is %s %s", fn, p.kind, article(p.typ), p.typ)
		}
	}
	if p.schema != nil {
		if p.typ != "list" && p.typ != "dict" {
			return fmt.Errorf("%s: schema needs a dict parameter or a list of dicts, this one is %s %s", fn, article(p.typ), p.typ)
		}
		for _, k := range sortedKeys(p.schema) {
			t := p.schema[k]
			if _, ok := paramKinds[t]; !ok && !contains(paramTypes, t) {
				return fmt.Errorf("%s: schema key %q: %q is neither a type (%s) nor a kind (%s)", fn, k, t, strings.Join(paramTypes, ", "), kindNames())
			}
		}
	}
	if err := checkKind(p, p.goDef); err != nil {
		return fmt.Errorf("%s: default: %v", fn, err)
	}
	return nil
}

// checkKind checks v (of the declared type) against the kind or schema.
func checkKind(d *paramDecl, v any) error {
	if d.kind != "" {
		s, _ := v.(string)
		if s == "" {
			return nil
		}
		return kindErr(d, s, paramKinds[d.kind](s))
	}
	if d.schema == nil || v == nil {
		return nil
	}
	if m, ok := v.(map[string]any); ok {
		return checkSchema(d, m)
	}
	for i, item := range v.([]any) {
		m, ok := item.(map[string]any)
		if !ok {
			return fmt.Errorf("entry %d is %s %s, want a dict with the keys %s", i, article(KindOf(item)), KindOf(item), strings.Join(sortedKeys(d.schema), ", "))
		}
		if err := checkSchema(d, m); err != nil {
			return fmt.Errorf("entry %d: %v", i, err)
		}
	}
	return nil
}

// checkSchema checks one dict against d.schema: no unknown key, each value
// of its type or kind.
func checkSchema(d *paramDecl, m map[string]any) error {
	for _, k := range sortedKeys(m) {
		t, ok := d.schema[k]
		if !ok {
			return fmt.Errorf("unknown key %q%s; the allowed keys are %s", k, didYouMean(k, sortedKeys(d.schema)), strings.Join(sortedKeys(d.schema), ", "))
		}
		check, isKind := paramKinds[t]
		want := t
		if isKind {
			want = "string"
		}
		if err := checkType(&paramDecl{typ: want}, m[k]); err != nil {
			if d.secret {
				return fmt.Errorf("key %q is %s %s, want %s %s", k, article(KindOf(m[k])), KindOf(m[k]), article(want), want)
			}
			return fmt.Errorf("key %q: want %s %s, got %v", k, article(want), want, err)
		}
		if s, _ := m[k].(string); isKind && s != "" {
			if err := kindErr(d, s, check(s)); err != nil {
				return fmt.Errorf("key %q: %v", k, err)
			}
		}
	}
	return nil
}

// kindErr keeps a secret parameter's value s out of the message: the
// secret kinds never quote it, the others may (a CIDR, a duration), so
// for a secret parameter every occurrence is replaced.
func kindErr(d *paramDecl, s string, err error) error {
	if err == nil || !d.secret {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), strconv.Quote(s), Redacted)
	if len(s) >= 8 { // shorter strings would match inside the advice text
		msg = strings.ReplaceAll(msg, s, Redacted)
	}
	return errors.New(msg + " (the value is not shown: the parameter is secret)")
}

// checkKinds checks every parameter's final value; src names the layer
// each value came from.
func (s *runState) checkKinds(vals map[string]any, src map[string]string) error {
	for _, name := range sortedKeys(vals) {
		d := s.decls[name]
		if err := checkKind(d, vals[name]); err != nil {
			from := src[name]
			if f, ok := s.flagSet[name]; ok {
				from = "--" + f
			}
			if from == "" {
				from = "the recipe's default"
			}
			fix := ""
			if d.kind == "token" || d.kind == "certificate_key" {
				fix = "; or leave it empty to generate one"
			}
			return fmt.Errorf("parameter %s: %v%s (from %s)", name, err, fix, from)
		}
	}
	return nil
}
