package host

import (
	"context"
	"crypto/tls"
	"fmt"

	"github.com/kubelark/kubelark/runtime/cluster"
)

// Clients is cluster.NewDryRun over the base's factory, made once by
// NewDryRun: writes land in the overlay, reads see the overlay and then the
// real cluster when it answers, so an object that already exists and
// matches is reported unchanged.
func (d *DryRun) Clients() cluster.Factory { return d.clients }

// HTTPGet passes through: a GET changes nothing. (The builtins do not
// probe when the host is not Live; a recipe's reads may.)
func (d *DryRun) HTTPGet(ctx context.Context, url string, tlsCfg *tls.Config) (HTTPResponse, error) {
	return d.base.HTTPGet(ctx, url, tlsCfg)
}

// CRI is the base's runtime with every mutating call refused, so preflight
// in a dry run queries the real runtime but pulls nothing.
func (d *DryRun) CRI(path string) (CRI, error) {
	c, err := d.base.CRI(path)
	if err != nil {
		return nil, err
	}
	return readOnlyCRI{c}, nil
}

// readOnlyCRI answers queries and refuses PullImage.
type readOnlyCRI struct{ CRI }

func (readOnlyCRI) PullImage(ctx context.Context, image string) error {
	return fmt.Errorf("dry run: not pulling image %s (pulling changes the machine)", image)
}
