// Package runtime is kubelark's recipe engine: it loads a recipe and the
// stdlib, resolves its parameters (defaults <- --config <- --values <- --set
// and the recipe's flags), runs its phases on one Starlark thread with an
// Env that carries the Host, and turns what the builtins did into a Plan.
//
// The name collides with Go's runtime package and apimachinery's
// k8s.io/apimachinery/pkg/runtime. We keep it anyway (issue 7 asked us to
// decide): ../shared/design.md, docs/contracts.md and every fork's mental
// map of the code name runtime/, and the collision costs one import alias
// in four files (goruntime where Go's package is needed beside this one or
// for clarity, kruntime in builtins/componentconfig.go, which also imports
// apimachinery). A rename to "engine" would touch 33 files and every open
// branch for no change in behaviour; revisit it if the aliases spread.
package runtime
