// Command etcd is etcd server v3.6.8, built from its release module so the
// e2e images need no download: the same entry point as etcd's own main.go.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
