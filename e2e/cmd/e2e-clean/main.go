// Command e2e-clean removes what a crashed e2e run left behind: node
// processes (by their recorded PIDs), containerd tasks and shims, mount and
// network namespaces, cgroups and node directories.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/kubelark/kubelark/e2e/node"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := node.Clean(ctx, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "e2e-clean:", err)
		os.Exit(1)
	}
}
