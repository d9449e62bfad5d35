package runtime

import (
	"fmt"
	"reflect"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// One Starlark step can allocate without bound: `[0] * 1000000000` is a
// single multiplication that asks Go for a 16 GB slice and fills it in one
// non-preemptible copy, and `"x" * (1 << 30 - 1)` a 1 GB string. The
// interpreter's own cap (2^30 elements) is far above what a machine holds,
// it has no allocation hook, and a memory watchdog cannot stop one
// operation halfway (the copy even blocks the garbage collector, and with
// it every other goroutine). So every `*` and `+` in a recipe is compiled
// as a call to a guard, which refuses a repetition or concatenation whose
// result would be larger than maxRepeatBytes before anything is
// allocated, and otherwise does exactly what the operator does (`s = s +
// s` in a loop doubles a string each step: 30 steps make 1 GB).
const (
	// repeatGuardName and concatGuardName are the predeclared names the
	// rewritten `*` and `+` call; recipes may not use them (a global of
	// that name would shadow it).
	repeatGuardName = "_kubelark_repeat"
	concatGuardName = "_kubelark_concat"
	// maxRepeatBytes caps the result of one `*` or `+`: a string of 256
	// MiB, or a list/tuple of 16M elements (16 bytes each). Kubernetes
	// objects and every file kubelark writes are far smaller; a recipe that
	// really needs more builds it in a loop, under the memory budget.
	maxRepeatBytes = 256 << 20
	valueBytes     = 16 // size of a starlark.Value (an interface) in a list
)

// execGuarded parses, rewrites (guardRepeats), compiles and runs one
// module, as starlark.ExecFileOptions does.
func execGuarded(opts *syntax.FileOptions, thread *starlark.Thread, filename string, src []byte, predeclared starlark.StringDict) (starlark.StringDict, error) {
	f, err := opts.Parse(filename, src, 0)
	if err != nil {
		return nil, err
	}
	if err := guardRepeats(f); err != nil {
		return nil, err
	}
	pre := make(starlark.StringDict, len(predeclared)+2)
	for k, v := range predeclared {
		pre[k] = v
	}
	pre[repeatGuardName] = repeatGuardBuiltin
	pre[concatGuardName] = concatGuardBuiltin
	prog, err := starlark.FileProgram(f, pre.Has)
	if err != nil {
		return nil, err
	}
	g, err := prog.Init(thread, pre)
	g.Freeze()
	return g, err
}

var (
	repeatGuardBuiltin = starlark.NewBuiltin("*", repeatGuard)
	concatGuardBuiltin = starlark.NewBuiltin("+", concatGuard)
)

// concatGuard is `x + y` with the size check.
func concatGuard(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 2 || len(kwargs) != 0 {
		return nil, fmt.Errorf("internal error: %s called with %d arguments", concatGuardName, len(args))
	}
	x, y := args[0], args[1]
	if nx, ux, ok := seqSize(x); ok {
		if ny, uy, ok := seqSize(y); ok && ux == uy && nx+ny > maxRepeatBytes/ux {
			return nil, &LimitError{fmt.Errorf("concatenating a %s of %d and one of %d would need more than the %d MiB one concatenation may allocate; build large data in a loop (the run's memory budget then applies)", x.Type(), nx, ny, maxRepeatBytes>>20)}
		}
	}
	return starlark.Binary(syntax.PLUS, x, y)
}

// seqSize is the length of a string, bytes, list or tuple and the bytes
// one element takes.
func seqSize(v starlark.Value) (n, unit int64, ok bool) {
	switch s := v.(type) {
	case starlark.String:
		return int64(len(s)), 1, true
	case starlark.Bytes:
		return int64(len(s)), 1, true
	case *starlark.List:
		return int64(s.Len()), valueBytes, true
	case starlark.Tuple:
		return int64(len(s)), valueBytes, true
	}
	return 0, 0, false
}

// repeatGuard is `x * y` with the size check.
func repeatGuard(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 2 || len(kwargs) != 0 {
		return nil, fmt.Errorf("internal error: %s called with %d arguments", repeatGuardName, len(args))
	}
	x, y := args[0], args[1]
	if err := checkRepeat(x, y); err != nil {
		return nil, err
	}
	if err := checkRepeat(y, x); err != nil {
		return nil, err
	}
	return starlark.Binary(syntax.STAR, x, y)
}

// checkRepeat fails if seq * count would exceed maxRepeatBytes.
func checkRepeat(seq, count starlark.Value) error {
	n, ok := count.(starlark.Int)
	if !ok {
		return nil
	}
	length, unit, ok := seqSize(seq)
	if !ok {
		return nil
	}
	times, ok := n.Int64()
	if length == 0 || (ok && times <= 1) {
		return nil
	}
	if !ok || times > maxRepeatBytes || length*unit > maxRepeatBytes/times {
		return &LimitError{fmt.Errorf("repeating a %s of length %d %s times would need more than the %d MiB one repetition may allocate; build large data in a loop (the run's memory budget then applies)", seq.Type(), length, n, maxRepeatBytes>>20)}
	}
	return nil
}

// guardRepeats replaces every `x * y` in f by _kubelark_repeat(x, y),
// `name *= y` by `name = _kubelark_repeat(name, y)`, and every `x + y` by
// _kubelark_concat(x, y). Other augmented targets (a[i] *= n) keep the
// interpreter's own limit, and `+=` stays as is (on a list it extends in
// place, which `x = x + y` would not; it grows by what exists already, so
// the memory budget bounds it). A recipe that names a guard is refused, so
// it cannot shadow it.
func guardRepeats(f *syntax.File) error {
	var bad *syntax.Ident
	syntax.Walk(f, func(n syntax.Node) bool {
		if id, ok := n.(*syntax.Ident); ok && (id.Name == repeatGuardName || id.Name == concatGuardName) && bad == nil {
			bad = id
		}
		return bad == nil
	})
	if bad != nil {
		return fmt.Errorf("%s: the name %s is reserved by kubelark; rename it", bad.NamePos, bad.Name)
	}
	rewriteNode(reflect.ValueOf(f))
	return nil
}

var (
	exprType = reflect.TypeOf((*syntax.Expr)(nil)).Elem()
	stmtType = reflect.TypeOf((*syntax.Stmt)(nil)).Elem()
)

// rewriteNode walks the syntax tree by reflection, so every expression
// position (call arguments, comprehensions, defaults, slices...) is
// covered without a hand-written case per node type that a new
// go.starlark.net version could outgrow.
func rewriteNode(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			rewriteNode(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanSet() {
				rewriteSlot(f)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			rewriteSlot(v.Index(i))
		}
	}
}

// rewriteSlot rewrites below a field or slice element, then the element
// itself.
func rewriteSlot(f reflect.Value) {
	if f.Kind() == reflect.Struct && f.Type().PkgPath() != reflect.TypeOf(syntax.File{}).PkgPath() {
		return
	}
	rewriteNode(f)
	switch f.Type() {
	case exprType:
		if b, ok := f.Interface().(*syntax.BinaryExpr); ok && (b.Op == syntax.STAR || b.Op == syntax.PLUS) {
			name := repeatGuardName
			if b.Op == syntax.PLUS {
				name = concatGuardName
			}
			f.Set(reflect.ValueOf(guardCall(name, b.OpPos, b.X, b.Y)))
		}
	case stmtType:
		if a, ok := f.Interface().(*syntax.AssignStmt); ok && a.Op == syntax.STAR_EQ {
			if id, ok := a.LHS.(*syntax.Ident); ok {
				use := &syntax.Ident{NamePos: id.NamePos, Name: id.Name}
				a.Op = syntax.EQ
				a.RHS = guardCall(repeatGuardName, a.OpPos, use, a.RHS)
			}
		}
	}
}

func guardCall(name string, pos syntax.Position, x, y syntax.Expr) *syntax.CallExpr {
	return &syntax.CallExpr{
		Fn:     &syntax.Ident{NamePos: pos, Name: name},
		Lparen: pos, Args: []syntax.Expr{x, y}, Rparen: pos,
	}
}
