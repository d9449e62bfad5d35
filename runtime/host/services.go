package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ServiceManager detects the init system the way kubeadm's initsystem
// package does, except that systemd also needs /run/systemd/system (a
// systemctl binary without a running systemd cannot restart anything).
func (l *Live) ServiceManager() string {
	if _, err := l.LookPath("systemctl"); err == nil {
		if fi, err := os.Stat(l.opts.SystemdMarker); err == nil && fi.IsDir() {
			return "systemd"
		}
	}
	if _, err := l.LookPath("rc-service"); err == nil {
		return "openrc"
	}
	if strings.TrimSpace(l.opts.ServiceCommand) != "" {
		return "command"
	}
	return "none"
}

// ErrNoServiceManager is returned by Service when neither systemd, OpenRC
// nor a service command is available.
var ErrNoServiceManager = errors.New("no service manager found: pass --service-command")

func validServiceAction(action string) error {
	switch action {
	case "daemon-reload", "restart", "stop", "start", "is-active", "is-enabled":
		return nil
	}
	return fmt.Errorf("unknown service action %q (want daemon-reload, restart, stop, start, is-active or is-enabled)", action)
}

// Service performs action on unit. For is-active and is-enabled a nil error
// means yes.
func (l *Live) Service(ctx context.Context, action, unit string) error {
	// The last check before unit becomes an argument of a command.
	if err := CheckServicePolicy(action, unit); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, serviceTimeout)
	defer cancel()
	switch mgr := l.ServiceManager(); mgr {
	case "systemd":
		if action == "daemon-reload" {
			return l.run(ctx, "systemctl", "daemon-reload")
		}
		return l.run(ctx, "systemctl", action, unit)
	case "openrc":
		switch action {
		case "daemon-reload":
			return nil // OpenRC reads its scripts on every call
		case "is-active":
			return l.run(ctx, "rc-service", unit, "status")
		case "is-enabled":
			out, err := l.output(ctx, "rc-update", "show", "default")
			if err != nil {
				return err
			}
			for _, line := range strings.Split(string(out), "\n") {
				if f := strings.Fields(line); len(f) > 0 && f[0] == unit {
					return nil
				}
			}
			return fmt.Errorf("%s is not in the default runlevel (rc-update add %s default)", unit, unit)
		}
		return l.run(ctx, "rc-service", unit, action)
	case "command":
		argv := ServiceCommandArgs(l.opts.ServiceCommand, action, unit)
		return l.run(ctx, argv[0], argv[1:]...)
	}
	return ErrNoServiceManager
}

// ServiceCommandArgs expands a --service-command template. A field that is
// exactly "{unit}" is dropped when unit is empty.
func ServiceCommandArgs(template, action, unit string) []string {
	fields := strings.Fields(template)
	placeholder := strings.Contains(template, "{action}") || strings.Contains(template, "{unit}")
	var out []string
	for _, f := range fields {
		if f == "{unit}" && unit == "" {
			continue
		}
		out = append(out, strings.NewReplacer("{action}", action, "{unit}", unit).Replace(f))
	}
	if !placeholder {
		out = append(out, action)
		if unit != "" {
			out = append(out, unit)
		}
	}
	return out
}

// run executes a command and folds its output into the error.
func (l *Live) run(ctx context.Context, name string, args ...string) error {
	_, err := l.output(ctx, name, args...)
	return err
}

func (l *Live) output(ctx context.Context, name string, args ...string) ([]byte, error) {
	out, err := l.command(ctx, name, args...)
	if err != nil {
		cmdline := strings.Join(append([]string{name}, args...), " ")
		if msg := strings.TrimSpace(string(out)); msg != "" {
			return out, fmt.Errorf("%s: %w: %s", cmdline, err, msg)
		}
		return out, fmt.Errorf("%s: %w", cmdline, err)
	}
	return out, nil
}
