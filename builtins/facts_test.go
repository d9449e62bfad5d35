package builtins

import (
	"testing"

	"github.com/kubelark/kubelark/runtime/host"
)

func TestFacts(t *testing.T) {
	h := host.NewFake()
	h.FHostname = "  Node-1.Example.COM\n"
	h.FIP = "10.1.2.3"
	h.FEnviron = []string{
		"PATH=/usr/bin",
		"https_proxy=http://proxy:3128",
		"HTTP_PROXY=http://proxy:3128",
		"NO_PROXY=10.0.0.0/8,.svc",
		"no_proxy=",                 // empty: skipped
		"PROXY=x",                   // no _proxy suffix
		"MY_Proxy=y",                // any case
		"FTP_PROXY_HOST=z",          // suffix only
		"malformed",                 // no '=': skipped
		"HTTP_PROXY=http://later:1", // a later duplicate wins
	}
	run := mustExecStar(t, h, `
name = hostname()
ip = default_ip()
env = proxy_env()
keys = list(env.keys())
`)
	if got := run.str(t, "name"); got != "node-1.example.com" {
		t.Errorf("hostname() = %q", got)
	}
	if got := run.str(t, "ip"); got != "10.1.2.3" {
		t.Errorf("default_ip() = %q", got)
	}
	want := `{"HTTP_PROXY": "http://later:1", "MY_Proxy": "y", "NO_PROXY": "10.0.0.0/8,.svc", "https_proxy": "http://proxy:3128"}`
	if got := run.globals["env"].String(); got != want {
		t.Errorf("proxy_env() = %s\nwant           %s", got, want)
	}
	if len(run.env.Plan().Actions) != 0 {
		t.Errorf("facts recorded actions: %v", ops(run.env))
	}

	h.FHostname = " \n"
	wantErr(t, h, `hostname()`, "hostname: the host name is empty", "node_name")
	h.FIP = ""
	wantErr(t, h, `default_ip()`, "default_ip: no address", "advertise_address")
	wantErr(t, h, `hostname(1)`, "hostname", "got 1 arguments")
}
