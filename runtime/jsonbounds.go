package runtime

import (
	"fmt"

	"go.starlark.net/starlark"
)

// boundedJSON guards a go.starlark.net/lib/json builtin, whose encoder and
// decoder recurse without a depth limit: encode/encode_indent first walk
// their value (checkNesting), decode/indent first scan their text
// (checkJSONNesting). Past the guard the library runs unchanged, so the
// JSON a recipe gets is exactly what lib/json documents.
func boundedJSON(member string, impl *starlark.Builtin) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(args) > 0 {
			ctx := runContext(thread)
			var err error
			switch member {
			case "encode", "encode_indent":
				err = checkNesting(ctx, args[0])
			case "decode", "indent":
				if s, ok := starlark.AsString(args[0]); ok {
					err = checkJSONNesting(ctx, s)
				}
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
		}
		return impl.CallInternal(thread, args, kwargs)
	}
}
