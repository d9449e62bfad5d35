package kubeadmconfig

import (
	"fmt"
	"strings"
)

// mapper collects parameters, sources, warnings and validation errors for
// the whole file, so one run of Load reports every problem at once.
type mapper struct {
	res  *Result
	kind string // kind of the document being mapped
	errs []string
}

func newMapper() *mapper {
	return &mapper{res: &Result{Params: map[string]any{}, Sources: map[string]string{}}}
}

// path turns a field path relative to the current document into a full one.
func (m *mapper) path(p string) string { return m.kind + "." + p }

// set records a parameter and where it came from. Two fields mapping to one
// parameter would be a bug in this package's tables, so it is reported as
// an error rather than overwritten.
// setChecked maps a non-empty string field to param after check accepts it;
// check returns "" for a valid value, else what is wrong, which becomes an
// error naming the field. An empty value is left to the recipe's default.
func (m *mapper) setChecked(param, value, field string, check func(string) string) {
	if value == "" {
		return
	}
	if msg := check(value); msg != "" {
		m.errorf(field, "%s", msg)
		return
	}
	m.set(param, value, field)
}

func (m *mapper) set(param string, value any, field string) {
	if prev, dup := m.res.Sources[param]; dup {
		m.errs = append(m.errs, fmt.Sprintf("%s and %s both set parameter %s; keep one", prev, m.path(field), param))
		return
	}
	m.res.Params[param] = value
	m.res.Sources[param] = m.path(field)
}

// errorf records a validation error for a field; msg should say what is
// wrong and how to fix it.
func (m *mapper) errorf(field, format string, args ...any) {
	m.errs = append(m.errs, m.path(field)+": "+fmt.Sprintf(format, args...))
}

func (m *mapper) warnf(field, format string, args ...any) {
	m.res.Warnings = append(m.res.Warnings, m.path(field)+": "+fmt.Sprintf(format, args...))
}

// unsupported rejects a field kubelark cannot honour.
func (m *mapper) unsupported(field, instead string) {
	m.errs = append(m.errs, m.path(field)+" is not supported: "+instead)
}

func (m *mapper) secret(s string) {
	if s != "" && !contains(m.res.Secrets, s) {
		m.res.Secrets = append(m.res.Secrets, s)
	}
}

// secretToken registers a valid bootstrap token and its secret half (the
// id alone is public).
func (m *mapper) secretToken(tok string) {
	m.secret(tok)
	if _, secret, ok := strings.Cut(tok, "."); ok {
		m.secret(secret)
	}
}

func (m *mapper) err() error {
	if len(m.errs) == 1 {
		return fmt.Errorf("kubeadm config: %s", m.errs[0])
	}
	return fmt.Errorf("kubeadm config has %d problems:\n  - %s", len(m.errs), strings.Join(m.errs, "\n  - "))
}

// Helpers that set a parameter only when the field was given.

func (m *mapper) setString(param, value, field string) {
	if value != "" {
		m.set(param, value, field)
	}
}

func (m *mapper) setStrings(param string, values []string, field string) {
	if values != nil {
		m.set(param, stringList(values), field)
	}
}

func stringList(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}
