package node

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// DialContext dials from inside the node's network namespace, so a client in
// the test process reaches addresses that exist only on the test network
// (nothing is added to the host's network). Use it as http.Transport.DialContext
// or rest.Config.Dial. The address must be an IP literal: name resolution
// would run on other threads, outside the namespace.
func (n *Node) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if net.ParseIP(host) == nil {
		return nil, fmt.Errorf("node %s: dial %s: only IP addresses can be dialled inside the node's network namespace", n.Name, addr)
	}
	return dialInNetns("/run/netns/"+n.NetNS, ctx, network, addr)
}

// dialInNetns creates the socket on an OS thread switched into the target
// namespace; a socket keeps the namespace it was created in. The thread is
// switched back before it is released; if that fails it stays locked and the
// runtime discards it when the goroutine ends.
func dialInNetns(nsPath string, ctx context.Context, network, addr string) (net.Conn, error) {
	target, err := os.Open(nsPath)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer orig.Close()
		if err := setns(int(target.Fd())); err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, fmt.Errorf("setns %s: %w", nsPath, err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if setns(int(orig.Fd())) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

func setns(fd int) error { return unix.Setns(fd, unix.CLONE_NEWNET) }
