package builtins

import (
	"strings"
	"testing"

	"github.com/kubelark/kubelark/runtime/host"
)

func TestDurationBuiltin(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`duration("4m").seconds`, `240.0`},
		{`duration("4m0s").seconds`, `240.0`},
		{`duration("1h30m").seconds`, `5400.0`},
		{`duration("500ms").seconds`, `0.5`},
		{`duration("-5m").seconds`, `-300.0`},
		{`str(duration("90s"))`, `"1m30s"`},
		{`str(duration("8760h"))`, `"8760h0m0s"`},
		{`str(duration("0"))`, `"0s"`},
		{`type(duration("1s"))`, `"duration"`},
		{`duration("4m") == duration("240s")`, `True`},
		{`duration("1m") < duration("2m")`, `True`},
		{`duration("2m") <= duration("1m")`, `False`},
		{`bool(duration("0s"))`, `False`},
		{`bool(duration("1ns"))`, `True`},
		{`str(duration(duration("2m")))`, `"2m0s"`},
		{`dir(duration("1s"))`, `["seconds"]`},
		{`{duration("1m"): 1}[duration("60s")]`, `1`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			run := mustExecStar(t, host.NewFake(), "x = "+tc.expr)
			if got := run.globals["x"].String(); got != tc.want {
				t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
			}
		})
	}
}

func TestDurationErrors(t *testing.T) {
	for src, want := range map[string]string{
		`duration("4 minutes")`: `duration: "4 minutes" is not a duration; use Go syntax like "500ms"`,
		`duration("")`:          `duration: "" is not a duration`,
		`duration("1y", what = "timeout_kubelet_health_check")`: `timeout_kubelet_health_check: "1y" is not a duration`,
		`duration(240)`:                   `duration: got int, want a duration string`,
		`duration("1m").minutes`:          `duration has no .minutes field or method`,
		`duration("1m") < 2`:              `duration < int not implemented`,
		`duration("1m") + duration("1m")`: `unknown binary op`,
	} {
		_, _, err := runStar(t, host.NewFake(), src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", src, err, want)
		}
	}
}
