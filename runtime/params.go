package runtime

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// paramTypes are the types a parameter may have; they are what --set can
// parse and what YAML values files and kubeadm configs can carry.
var paramTypes = []string{"string", "int", "bool", "list", "dict"}

// paramDecl is the value of param(...): a declaration consumed by params().
type paramDecl struct {
	def     starlark.Value
	goDef   any
	doc     string
	typ     string
	choices []any // nil = any value of the type
	// secret values (tokens, certificate keys) are redacted from the plan
	// and from every printed line. Declared by the recipe, not guessed from
	// the name: etcd_external_key is a path, token is a secret.
	secret bool
	// flag is the command-line flag the parameter answers to (kubeadm's
	// name, e.g. "pod-network-cidr"), "" for none. A recipe declares it so
	// a fork keeps control of its command line; the value enters at the
	// same layer as --set.
	flag string
	// merge (list parameters with a flag only): the flag's items are added
	// to the value from the lower layers instead of replacing it, as
	// kubeadm unions --ignore-preflight-errors with the config's list.
	merge bool
	// kind narrows a string to a syntax (paramkinds.go), "" for none.
	kind string
	// schema gives a dict, or each dict of a list, its allowed keys and
	// their type or kind (paramkinds.go); nil for none.
	schema map[string]string
	// root ("write" or "read", "" for none) marks a path parameter whose
	// value, when the user sets it, is added to the sandbox's roots before
	// the first phase (userroots.go); the default never widens anything.
	root string
	// rootKeys (dict parameters): the keys whose string values are user
	// path roots, key -> "write"/"read" (kubelet_extra_args' cert-dir).
	rootKeys map[string]string
	// positional is the index of the command-line argument after the
	// recipe name that sets the parameter (kubeadm join's API server
	// endpoint), -1 for none; see paramargs.go.
	positional int
}

var _ starlark.Value = (*paramDecl)(nil)

func (p *paramDecl) String() string        { return fmt.Sprintf("param(%s, type=%q)", p.def, p.typ) }
func (p *paramDecl) Type() string          { return "param" }
func (p *paramDecl) Freeze()               { p.def.Freeze() }
func (p *paramDecl) Truth() starlark.Bool  { return true }
func (p *paramDecl) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: param") }

// typeOfValue names the param type of a Starlark value ("" for None).
func typeOfValue(v starlark.Value) (string, error) {
	switch v.(type) {
	case starlark.NoneType:
		return "", nil
	case starlark.String:
		return "string", nil
	case starlark.Int:
		return "int", nil
	case starlark.Bool:
		return "bool", nil
	case *starlark.List, starlark.Tuple:
		return "list", nil
	case *starlark.Dict:
		return "dict", nil
	case starlark.Float:
		return "", fmt.Errorf("float parameters are not supported; use an int, or a string such as \"24h\" for durations")
	}
	return "", fmt.Errorf("a %s cannot be a parameter; use one of %s", v.Type(), strings.Join(paramTypes, ", "))
}

func paramBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var def, typ, choices starlark.Value = starlark.None, starlark.None, starlark.None
	var doc string
	var secret, merge bool
	var flag, kind string
	var schema *starlark.Dict
	var root starlark.Value = starlark.None
	positional := -1
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "default", &def, "doc", &doc, "type?", &typ, "choices?", &choices, "secret?", &secret, "flag?", &flag, "merge?", &merge,
		"kind?", &kind, "schema?", &schema, "root?", &root, "positional?", &positional); err != nil {
		return nil, err
	}
	if strings.TrimSpace(doc) == "" {
		return nil, fmt.Errorf("%s: doc is empty; say what the parameter means, operators read it in errors and docs", b.Name())
	}
	p := &paramDecl{def: def, doc: doc, secret: secret, flag: flag, merge: merge, kind: kind, positional: positional}
	if schema != nil {
		p.schema = map[string]string{}
		for _, kv := range schema.Items() {
			k, ok1 := kv[0].(starlark.String)
			t, ok2 := kv[1].(starlark.String)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("%s: schema: want a dict of key name -> type or kind name (strings), got %s: %s", b.Name(), kv[0].Type(), kv[1].Type())
			}
			p.schema[string(k)] = string(t)
		}
	}
	inferred, err := typeOfValue(def)
	if err != nil {
		return nil, fmt.Errorf("%s: default %s: %v", b.Name(), def, err)
	}
	switch t := typ.(type) {
	case starlark.NoneType:
		if inferred == "" {
			return nil, fmt.Errorf("%s: default is None, so type= is required (one of %s)", b.Name(), strings.Join(paramTypes, ", "))
		}
		p.typ = inferred
	case starlark.String:
		p.typ = string(t)
		if !contains(paramTypes, p.typ) {
			return nil, fmt.Errorf("%s: type %q is not one of %s", b.Name(), p.typ, strings.Join(paramTypes, ", "))
		}
		if inferred != "" && inferred != p.typ {
			return nil, fmt.Errorf("%s: default %s is %s %s but type=%q", b.Name(), def, article(inferred), inferred, p.typ)
		}
	default:
		return nil, fmt.Errorf("%s: type: got %s, want a string such as \"int\"", b.Name(), typ.Type())
	}
	if err := checkFlagDecl(b.Name(), p); err != nil {
		return nil, err
	}
	if err := checkPositionalDecl(b.Name(), p); err != nil {
		return nil, err
	}
	if p.root, p.rootKeys, err = rootDecl(b.Name(), p, root); err != nil {
		return nil, err
	}
	if p.goDef, err = ToGo(def); err != nil {
		return nil, fmt.Errorf("%s: default%s", b.Name(), errSuffix(err))
	}
	if err := checkKindDecl(b.Name(), p); err != nil {
		return nil, err
	}
	if choices != starlark.None {
		c, err := ToGo(choices)
		list, isList := c.([]any)
		if err != nil || !isList || len(list) == 0 {
			return nil, fmt.Errorf("%s: choices must be a non-empty list of %s values", b.Name(), p.typ)
		}
		for _, x := range list {
			if err := checkType(p, x); err != nil {
				return nil, fmt.Errorf("%s: choice %s: %v", b.Name(), show(x), err)
			}
		}
		p.choices = list
		if p.goDef != nil && !inChoices(p, p.goDef) {
			return nil, fmt.Errorf("%s: default %s is not among the choices %s", b.Name(), show(p.goDef), show(list))
		}
	}
	return p, nil
}

func paramsBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread, b)
	if err != nil {
		return nil, err
	}
	if len(args) > 0 {
		return nil, fmt.Errorf("%s: takes keyword arguments only: params(name = param(...), ...)", b.Name())
	}
	if s.paramsCalled {
		return nil, fmt.Errorf("%s: called twice; declare every parameter in one params() call in the main recipe", b.Name())
	}
	if caller := thread.CallFrame(1).Pos.Filename(); caller != s.mainFile {
		return nil, fmt.Errorf("%s: called from %s; only the main recipe (%s) declares parameters, modules receive values as arguments", b.Name(), caller, s.mainFile)
	}
	s.paramsCalled = true
	s.decls = map[string]*paramDecl{}
	var configFn starlark.Callable
	for _, kv := range kwargs {
		name := string(kv[0].(starlark.String))
		if name == configKwarg {
			fn, ok := kv[1].(starlark.Callable)
			if !ok {
				return nil, fmt.Errorf("%s: %s: got %s, want the function that maps kubeadm config documents onto parameters (e.g. kubeadmconfig.init_params of @stdlib//kubeadmconfig.star)", b.Name(), configKwarg, kv[1].Type())
			}
			configFn = fn
			continue
		}
		d, ok := kv[1].(*paramDecl)
		if !ok {
			return nil, fmt.Errorf("%s: %s: got %s, want param(default, doc, ...)", b.Name(), name, kv[1].Type())
		}
		s.decls[name] = d
	}
	mapping, err := s.mapConfigDocs(thread, configFn)
	if err != nil {
		return nil, err
	}
	values, err := s.resolveParams(mapping)
	if err != nil {
		return nil, inputErr(err)
	}
	s.values = values
	if s.phaseKnown != nil {
		if err := s.checkPhaseFlags(); err != nil {
			return nil, inputErr(err)
		}
		if s.describe {
			return nil, s.stopDescribing()
		}
	}
	if !s.describe { // describing reads no input: there are no user roots
		if err := s.applyUserRoots(values, mapping); err != nil {
			return nil, inputErr(err)
		}
	}

	fields := make(starlark.StringDict, len(values))
	recorded := make(map[string]any, len(values))
	for name, v := range values {
		sv, err := FromGo(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", b.Name(), name, err)
		}
		fields[name] = sv
		if s.decls[name].secret && !isZero(v) {
			registerSecretValues(s.env, v)
			sv = secretParamValue(sv)
			s.env.RegisterSecretValue(sv)
			fields[name] = sv
			recorded[name] = Redacted
		} else {
			recorded[name] = v
		}
	}
	s.env.Plan().Params = recorded
	s.paramValues = fields
	st := starlarkstruct.FromStringDict(starlark.String("params"), fields)
	st.Freeze()
	return st, nil
}

// flagName is what a recipe may declare as a parameter's flag: kubeadm's
// style, lower-case words joined by '-', written without the leading "--".
var flagName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// checkFlagDecl validates flag= and merge= of one param().
func checkFlagDecl(fn string, p *paramDecl) error {
	if p.flag != "" && !flagName.MatchString(p.flag) {
		return fmt.Errorf("%s: flag %q is not a flag name; write lower-case words joined by '-', without the leading --, e.g. flag = \"pod-network-cidr\"", fn, p.flag)
	}
	if p.merge && (p.flag == "" || p.typ != "list") {
		return fmt.Errorf("%s: merge = True needs a list parameter with a flag (it unions the flag's items with the configured list); got type %q, flag %q", fn, p.typ, p.flag)
	}
	return nil
}

// registerSecretValues registers every string inside a secret parameter's
// value (a token, or the tokens of a list of bootstrap token dicts).
func registerSecretValues(env *Env, v any) {
	switch v := v.(type) {
	case string:
		env.RegisterSecret(v)
	case []any:
		for _, x := range v {
			registerSecretValues(env, x)
		}
	case map[string]any:
		for _, x := range v {
			registerSecretValues(env, x)
		}
	}
}

func isZero(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// declaredNames lists the declared parameters, sorted.
func (s *runState) declaredNames() []string {
	names := make([]string, 0, len(s.decls))
	for n := range s.decls {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
