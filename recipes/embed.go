// Package recipes embeds kubelark's workflows (init, and later join and
// reset). `kubelark run init` runs recipes/init.star from here unless a file
// of that name exists on disk.
package recipes

import "embed"

// FS holds every *.star recipe of this directory.
//
//go:embed *.star
var FS embed.FS
