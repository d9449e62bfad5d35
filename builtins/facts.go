package builtins

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"

	"github.com/kubelark/kubelark/runtime"
)

// Facts about the host that kubeadm uses for dynamic defaults: the node
// name, the advertise address and the proxy variables copied into the
// control-plane Pods. They are read through the host, so tests and dry runs
// see the host they run against.

func init() { families = append(families, registerFacts) }

func registerFacts(r *runtime.Registry) {
	r.Add(&runtime.Builtin{
		Name:      "hostname",
		Signature: "hostname()",
		Doc:       "Returns the host name trimmed and lower-cased, as kubeadm derives the default node name. Errors if it is empty.",
		DryRun:    "Reads the real host name.",
		Fn:        hostnameBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "default_ip",
		Signature: "default_ip()",
		Doc:       "Returns the first global unicast address of the interface holding the default route (IPv4 preferred): kubeadm's default advertise address.",
		DryRun:    "Reads the real interfaces.",
		Fn:        defaultIPBuiltin,
	})
	r.Add(&runtime.Builtin{
		Name:      "proxy_env",
		Signature: "proxy_env()",
		Doc: "Returns a dict, sorted by name, of the environment variables whose name ends in _proxy (any case) and whose value is not empty. " +
			"kubeadm copies these into the kube-apiserver, kube-controller-manager and kube-scheduler Pods (app/util/env.go GetProxyEnvVars).",
		DryRun: "Reads kubelark's own environment.",
		Fn:     proxyEnvBuiltin,
	})
}

func hostnameBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	name, err := env.Host.Hostname()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the host name: %w; set node_name explicitly", b.Name(), err)
	}
	// component-helpers/node/util.GetHostname: trim, refuse empty, lower-case.
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return nil, fmt.Errorf("%s: the host name is empty; set node_name explicitly or give the machine a host name", b.Name())
	}
	return starlark.String(name), nil
}

func defaultIPBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	ip, err := env.Host.DefaultRouteIP()
	if err != nil {
		return nil, fmt.Errorf("%s: %w; set advertise_address explicitly", b.Name(), err)
	}
	if ip == "" {
		return nil, fmt.Errorf("%s: no address found on the default-route interface; set advertise_address explicitly", b.Name())
	}
	return starlark.String(ip), nil
}

func proxyEnvBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	env, err := runtime.FromThread(thread)
	if err != nil {
		return nil, err
	}
	vars := proxyVars(env.Host.Environ())
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	d := starlark.NewDict(len(names))
	for _, k := range names {
		if err := d.SetKey(starlark.String(k), starlark.String(vars[k])); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// proxyVars filters an environment (KEY=VALUE strings) like kubeadm's
// GetProxyEnvVars; a later duplicate of a name wins, as in the process.
func proxyVars(environ []string) map[string]string {
	out := map[string]string{}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if strings.HasSuffix(strings.ToLower(name), "_proxy") && value != "" {
			out[name] = value
		}
	}
	return out
}
