package parity

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
)

// DifferencesSection is the heading of differences.md under which every
// bullet is an allowed difference.
const DifferencesSection = "## Differences"

// Allowed is one deliberate difference from differences.md:
//
//   - <config> | <artifact id> | <field> — <reason>
//
// config, artifact and field are patterns where "*" matches any run of
// characters (including "/" and "."); everything else is literal.
type Allowed struct {
	Line                    int
	Config, Artifact, Field string
	Reason                  string
	config, artifact, field *regexp.Regexp
}

func (a *Allowed) String() string {
	return fmt.Sprintf("line %d: %s | %s | %s", a.Line, a.Config, a.Artifact, a.Field)
}

// Matches reports whether d is covered by a.
func (a *Allowed) Matches(d Difference) bool {
	return a.config.MatchString(d.Config) && a.artifact.MatchString(d.Artifact) && a.field.MatchString(d.Field)
}

// AllowList is the parsed differences.md with a record of which entries
// were used by the configs that ran (safe for parallel subtests).
type AllowList struct {
	File    string
	Entries []*Allowed

	mu   sync.Mutex
	used map[*Allowed]bool
	ran  []string
}

var bulletRE = regexp.MustCompile(`^- (.+?) \| (.+?) \| (.+?) — (.+)$`)

// LoadAllowList parses file. A malformed bullet, a bullet without a reason
// or a section that is missing is an error: a typo must not silently allow
// nothing (or everything).
func LoadAllowList(file string) (*AllowList, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	l := &AllowList{File: file, used: map[*Allowed]bool{}}
	in, found := false, false
	var errs []string
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, " \t\r")
		if strings.HasPrefix(line, "## ") {
			in = line == DifferencesSection
			found = found || in
			continue
		}
		if !in || !strings.HasPrefix(line, "- ") {
			continue
		}
		m := bulletRE.FindStringSubmatch(line)
		if m == nil || strings.TrimSpace(m[4]) == "" {
			errs = append(errs, fmt.Sprintf("%s:%d: %q is not `- <config> | <artifact id> | <field> — <reason>`", file, i+1, line))
			continue
		}
		a := &Allowed{Line: i + 1, Config: strings.TrimSpace(m[1]), Artifact: strings.TrimSpace(m[2]), Field: strings.TrimSpace(m[3]), Reason: strings.TrimSpace(m[4])}
		a.config, a.artifact, a.field = glob(a.Config), glob(a.Artifact), glob(a.Field)
		l.Entries = append(l.Entries, a)
	}
	if !found {
		errs = append(errs, fmt.Sprintf("%s: no %q section", file, DifferencesSection))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return l, nil
}

// glob compiles a pattern where "*" matches anything.
func glob(p string) *regexp.Regexp {
	parts := strings.Split(p, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// Check splits the differences of one config into allowed and unexpected
// ones and records which entries were used and that config ran.
func (l *AllowList) Check(config string, diffs []Difference) (unexpected []Difference) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ran = append(l.ran, config)
next:
	for _, d := range diffs {
		for _, a := range l.Entries {
			if a.Matches(d) {
				l.used[a] = true
				continue next
			}
		}
		unexpected = append(unexpected, d)
	}
	return unexpected
}

// Stale lists the entries that match a config that ran but matched none of
// its differences: a difference that no longer occurs must leave the list.
// Entries whose configs were all filtered out (go test -run) are not judged.
func (l *AllowList) Stale() []*Allowed {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*Allowed
	for _, a := range l.Entries {
		judged := false
		for _, c := range l.ran {
			if a.config.MatchString(c) {
				judged = true
				break
			}
		}
		if judged && !l.used[a] {
			out = append(out, a)
		}
	}
	return out
}
