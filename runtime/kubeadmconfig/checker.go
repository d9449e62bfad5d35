package kubeadmconfig

import (
	"fmt"
	"strings"

	"github.com/kubelark/kubelark/internal/truncate"
)

// checker collects validation errors, warnings and secrets for the whole
// file, so one run of Load reports every problem at once. It never decides
// what a field means for a recipe: that is the recipe's mapping
// (stdlib/kubeadmconfig.star).
type checker struct {
	kind     string // kind of the document being checked
	errs     []string
	warnings []string
	secrets  []string
}

// path turns a field path relative to the current document into a full one.
func (c *checker) path(p string) string { return c.kind + "." + p }

// errorf records a validation error for a field; msg should say what is
// wrong and how to fix it. Huge echoed values are cut (truncate.Words).
func (c *checker) errorf(field, format string, args ...any) {
	c.errs = append(c.errs, c.path(field)+": "+truncate.Words(fmt.Sprintf(format, args...)))
}

func (c *checker) warnf(field, format string, args ...any) {
	c.warnings = append(c.warnings, c.path(field)+": "+truncate.Words(fmt.Sprintf(format, args...)))
}

// check records an error for a non-empty string field that check rejects;
// check returns "" for a valid value, else what is wrong. It reports
// whether the value is usable (empty counts as usable: it is not given).
func (c *checker) check(value, field string, check func(string) string) bool {
	if value == "" {
		return true
	}
	if msg := check(value); msg != "" {
		c.errorf(field, "%s", msg)
		return false
	}
	return true
}

func (c *checker) secret(s string) {
	if s != "" && !contains(c.secrets, s) {
		c.secrets = append(c.secrets, s)
	}
}

// secretToken registers a valid bootstrap token and its secret half (the
// id alone is public).
func (c *checker) secretToken(tok string) {
	c.secret(tok)
	if _, secret, ok := strings.Cut(tok, "."); ok {
		c.secret(secret)
	}
}

// err joins the problems into one error: one problem on one line, several
// as a list. runtime's configProblems words a recipe mapping's problems the
// same way, so the user cannot tell which side found them.
func (c *checker) err() error {
	if len(c.errs) == 1 {
		return fmt.Errorf("kubeadm config: %s", c.errs[0])
	}
	return fmt.Errorf("kubeadm config has %d problems:\n  - %s", len(c.errs), strings.Join(c.errs, "\n  - "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
