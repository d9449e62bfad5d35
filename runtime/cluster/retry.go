package cluster

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Retry is the policy for transient failures: connection refused or reset
// (the API server is still starting, as kubeadm's first client use right
// after the static Pods are written), 429 and 5xx answers. kubeadm retries
// its API calls every 500ms for up to a minute; the default here is the
// same budget with capped exponential backoff.
type Retry struct {
	// Timeout is the total time budget for one operation; 0 = one attempt.
	Timeout time.Duration
	// Initial is the first backoff; it doubles up to Max.
	Initial time.Duration
	Max     time.Duration
}

// DefaultRetry is 1m total, 500ms doubling up to 5s.
func DefaultRetry() Retry {
	return Retry{Timeout: time.Minute, Initial: 500 * time.Millisecond, Max: 5 * time.Second}
}

type retryKey struct{}

// WithRetry overrides the client's retry policy for calls made with ctx
// (the dry-run factory reads its base cluster with a single attempt).
func WithRetry(ctx context.Context, r Retry) context.Context {
	return context.WithValue(ctx, retryKey{}, r)
}

func retryFrom(ctx context.Context, def Retry) Retry {
	if r, ok := ctx.Value(retryKey{}).(Retry); ok {
		return r
	}
	return def
}

// Clock is the time source of retries: the Host's clock (host.Host
// satisfies it), so a test's fake clock makes a retry budget pass at once
// and a run's waits are measured by the same clock as its other waits.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, whichever comes first.
	Sleep(ctx context.Context, d time.Duration) error
}

// retry runs fn until it succeeds, fails permanently, the budget on clk is
// spent or ctx is done; it returns the number of attempts and the last
// error.
func retry(ctx context.Context, clk Clock, r Retry, fn func() error) (int, error) {
	deadline := clk.Now().Add(r.Timeout)
	backoff := r.Initial
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !Retryable(err) {
			return attempt, err
		}
		wait := backoff
		if s, ok := apierrors.SuggestsClientDelay(err); ok && time.Duration(s)*time.Second > wait {
			wait = time.Duration(s) * time.Second
		}
		if remaining := deadline.Sub(clk.Now()); wait > remaining {
			return attempt, err
		}
		if clk.Sleep(ctx, wait) != nil {
			return attempt, err
		}
		backoff *= 2
		if r.Max > 0 && backoff > r.Max {
			backoff = r.Max
		}
	}
}

// Retryable reports whether err is transient: the connection failed, the
// server is overloaded (429) or failing (5xx).
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if isConnection(err) {
		return true
	}
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		code := st.Status().Code
		return code == 429 || code >= 500
	}
	return false
}

// isConnection reports failures to reach the server at all, excluding TLS
// verification errors (a wrong CA does not heal by waiting).
func isConnection(err error) bool {
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalid) {
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "TLS handshake timeout", "http2: client connection lost", "server closed idle connection"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
