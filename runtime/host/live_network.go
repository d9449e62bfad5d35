package host

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kubelark/kubelark/runtime/cluster"
)

// probeHandshakeTimeout bounds a probe's TLS handshake; the caller's ctx
// bounds the whole request.
const probeHandshakeTimeout = 5 * time.Second

// Clients returns the live factory made by NewLive (its retries run on
// this host's clock).
func (l *Live) Clients() cluster.Factory { return l.clients }

// HTTPGet does one GET with a fresh transport: no proxy, no keep-alive (a
// probe loop must see a restarted server, not a stale connection).
func (l *Live) HTTPGet(ctx context.Context, url string, tlsCfg *tls.Config) (HTTPResponse, error) {
	tr := &http.Transport{TLSClientConfig: tlsCfg, Proxy: nil, DisableKeepAlives: true, TLSHandshakeTimeout: probeHandshakeTimeout}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return HTTPResponse{}, err
	}
	req.Header.Set("User-Agent", cluster.UserAgent)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return HTTPResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxProbeBody))
	if err != nil {
		return HTTPResponse{}, fmt.Errorf("reading the answer of %s: %w", url, err)
	}
	return HTTPResponse{Status: resp.StatusCode, Body: body}, nil
}

// CRI dials the runtime's socket over gRPC.
func (l *Live) CRI(path string) (CRI, error) { return dialCRI(path) }
