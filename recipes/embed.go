// Package recipes embeds kubelark's workflows (init, and later join and
// reset). `kubelark run init` runs recipes/init.star from here unless a file
// of that name exists on disk.
package recipes

import "embed"

// FS holds every *.star recipe of this directory, and the token and
// certs command families' recipes (token/create.star = `kubelark token
// create`).
//
//go:embed *.star token/*.star certs/*.star
var FS embed.FS
