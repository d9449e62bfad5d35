package kubeadmconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestNoInternalErrors mangles every sample file line by line (deleted,
// re-indented, value replaced by a list or a number) and checks that Load
// and the init recipe's mapping always answer with a proper error or
// result, never with the recovered panic of an internal error or a
// failure inside the mapping.
func TestNoInternalErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) < 5 {
		t.Fatalf("found only %d sample files", len(files))
	}
	runs := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for i, l := range lines {
			key, _, hasValue := strings.Cut(l, ":")
			variants := []string{"", "  " + l, l + " extra"}
			if hasValue {
				variants = append(variants, key+": [1, 2]", key+": 7", key+": {a: b}", key+": null")
			}
			for _, v := range variants {
				mangled := append(append(append([]string{}, lines[:i]...), v), lines[i+1:]...)
				_, err := loadInit([]byte(strings.Join(mangled, "\n")))
				runs++
				if err != nil && (strings.Contains(err.Error(), "internal error") || !strings.HasPrefix(err.Error(), "kubeadm config")) {
					t.Errorf("%s line %d as %q: %v", f, i+1, v, err)
				}
			}
		}
	}
	t.Logf("%d mangled files loaded", runs)
}

func TestFieldNamesThroughMaps(t *testing.T) {
	type inner struct {
		Alpha string `json:"alpha"`
	}
	type outer struct {
		M map[string]inner `json:"m"`
		L []inner          `json:"l"`
		S string           `json:"s"`
	}
	ty := reflect.TypeOf(outer{})
	if got := fieldNames(ty, "m.somekey"); !reflect.DeepEqual(got, []string{"alpha"}) {
		t.Errorf("through map: %v", got)
	}
	if got := fieldNames(ty, "l[3]"); !reflect.DeepEqual(got, []string{"alpha"}) {
		t.Errorf("through list: %v", got)
	}
	if got := fieldNames(ty, "s.x"); got != nil {
		t.Errorf("through string: %v", got)
	}
}
