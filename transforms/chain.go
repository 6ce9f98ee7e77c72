package transforms

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

// Connector-level config keys.
const (
	KeyTransforms = "transforms"
	KeyPredicates = "predicates"

	transformsPrefix = "transforms."
	predicatesPrefix = "predicates."

	keyType      = "type"
	keyPredicate = "predicate"
	keyNegate    = "negate"
)

// Version is what Plugins reports as every transform's version.
const Version = "tributary-0.1.0"

// Plugin types as Connect's REST API names them.
const (
	TypeTransformation = "transformation"
	TypePredicate      = "predicate"
)

// transformer is one configured transform. apply gets its own copy of the
// record header (the Record struct); it must not modify anything reachable
// from it (structs, maps, the Headers backing array) and returns the new
// record, or keep=false to drop it.
type transformer interface {
	apply(r schema.Record) (schema.Record, bool, error)
}

// predicate is one configured predicate.
type predicate interface {
	test(r schema.Record) bool
}

// Error is a record a transform could not handle. The runtime treats it as a
// record failure (errors.tolerance / DLQ), not a task failure by itself.
type Error struct {
	Transform string // alias in the transforms list
	Class     string
	Err       error
}

func (e *Error) Error() string {
	return fmt.Sprintf("transform %s (%s): %v", e.Transform, e.Class, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Chain is a connector's configured transforms, in order. The zero value and
// a nil *Chain pass every record through. Safe for concurrent use.
type Chain struct {
	steps []step
}

type step struct {
	alias, class string
	t            transformer
	pred         predicate
	negate       bool
}

// Len returns the number of transforms.
func (c *Chain) Len() int {
	if c == nil {
		return 0
	}
	return len(c.steps)
}

// Apply runs rec through the chain. keep=false means a transform filtered the
// record out (its source offset still counts as processed). rec itself is
// never modified; the result may share unchanged parts with it.
//
// On error the input record is returned unchanged with an *Error; a panic in
// a transform (malformed values, e.g. a Struct without a schema) is turned
// into such an error too, so one bad record cannot take the task down.
func (c *Chain) Apply(rec schema.Record) (out schema.Record, keep bool, err error) {
	if c == nil {
		return rec, true, nil
	}
	orig := rec
	cur := -1
	defer func() {
		if p := recover(); p != nil {
			s := &c.steps[cur]
			out, keep, err = orig, false, &Error{Transform: s.alias, Class: s.class, Err: fmt.Errorf("malformed record: %v", p)}
		}
	}()
	for i := range c.steps {
		cur = i
		s := &c.steps[i]
		if s.pred != nil && s.pred.test(rec) == s.negate {
			continue
		}
		out, keep, err := s.t.apply(rec)
		if err != nil {
			return orig, false, &Error{Transform: s.alias, Class: s.class, Err: err}
		}
		if !keep {
			return out, false, nil
		}
		rec = out
	}
	return rec, true, nil
}

// plugin is one transform or predicate class.
type plugin struct {
	class   string
	aliases []string
	kind    string
	doc     string
	def     func() *config.Def
	newT    func(v *config.Values) (transformer, error)
	newP    func(v *config.Values) (predicate, error)
}

// catalog is the read-only table of supported classes.
var catalog = buildCatalog()

func buildCatalog() []plugin {
	const k = "org.apache.kafka.connect.transforms."
	var c []plugin
	kv := func(name, doc string, def func() *config.Def, build func(v *config.Values, s side) (transformer, error)) {
		for _, s := range []side{keySide, valueSide} {
			suffix := "$Value"
			if s == keySide {
				suffix = "$Key"
			}
			c = append(c, plugin{class: k + name + suffix, kind: TypeTransformation, doc: doc, def: def,
				newT: func(v *config.Values) (transformer, error) { return build(v, s) }})
		}
	}
	one := func(class, doc string, def func() *config.Def, build func(v *config.Values) (transformer, error), aliases ...string) {
		c = append(c, plugin{class: class, aliases: aliases, kind: TypeTransformation, doc: doc, def: def, newT: build})
	}
	pred := func(class, doc string, def func() *config.Def, build func(v *config.Values) (predicate, error)) {
		c = append(c, plugin{class: class, kind: TypePredicate, doc: doc, def: def, newP: build})
	}
	kv("Cast", castDoc, castDef, newCast)
	kv("ExtractField", extractFieldDoc, extractFieldDef, newExtractField)
	kv("Flatten", flattenDoc, flattenDef, newFlatten)
	kv("HeaderFrom", headerFromDoc, headerFromDef, newHeaderFrom)
	kv("HoistField", hoistFieldDoc, hoistFieldDef, newHoistField)
	kv("InsertField", insertFieldDoc, insertFieldDef, newInsertField)
	kv("MaskField", maskFieldDoc, maskFieldDef, newMaskField)
	kv("ReplaceField", replaceFieldDoc, replaceFieldDef, newReplaceField)
	kv("SetSchemaMetadata", setSchemaMetadataDoc, setSchemaMetadataDef, newSetSchemaMetadata)
	kv("TimestampConverter", timestampConverterDoc, timestampConverterDef, newTimestampConverter)
	one(k+"DropHeaders", dropHeadersDoc, dropHeadersDef, newDropHeaders)
	one(k+"Filter", filterDoc, config.NewDef, newFilter)
	one(k+"InsertHeader", insertHeaderDoc, insertHeaderDef, newInsertHeader)
	one(k+"RegexRouter", regexRouterDoc, regexRouterDef, newRegexRouter)
	one(k+"TimestampRouter", timestampRouterDoc, timestampRouterDef, newTimestampRouter)
	one(k+"ValueToKey", valueToKeyDoc, valueToKeyDef, newValueToKey)
	one("io.debezium.transforms.ExtractNewRecordState", extractNewRecordStateDoc, extractNewRecordStateDef, newExtractNewRecordState,
		"io.debezium.transforms.UnwrapFromEnvelope")
	one("io.debezium.transforms.ByLogicalTableRouter", byLogicalTableRouterDoc, byLogicalTableRouterDef, newByLogicalTableRouter)
	pred(k+"predicates.HasHeaderKey", hasHeaderKeyDoc, hasHeaderKeyDef, newHasHeaderKey)
	pred(k+"predicates.RecordIsTombstone", recordIsTombstoneDoc, config.NewDef, newRecordIsTombstone)
	pred(k+"predicates.TopicNameMatches", topicNameMatchesDoc, topicNameMatchesDef, newTopicNameMatches)
	return c
}

// lookup finds a class by its full name, an alias, or (as Connect's plugin
// aliases) its simple name after the last dot, e.g. "InsertField$Value".
func lookup(class, kind string) *plugin {
	class = strings.TrimSpace(class)
	for i := range catalog {
		p := &catalog[i]
		if p.kind != kind {
			continue
		}
		if p.class == class || slices.Contains(p.aliases, class) {
			return p
		}
	}
	if !strings.Contains(class, ".") {
		for i := range catalog {
			p := &catalog[i]
			if p.kind == kind && p.class[strings.LastIndexByte(p.class, '.')+1:] == class {
				return p
			}
		}
	}
	return nil
}

// PluginInfo describes one supported class, as GET /connector-plugins lists it.
type PluginInfo struct {
	Class   string
	Type    string // TypeTransformation or TypePredicate
	Version string
	Doc     string
}

// Plugins lists every supported transform and predicate class.
func Plugins() []PluginInfo {
	out := make([]PluginInfo, 0, len(catalog))
	for _, p := range catalog {
		out = append(out, PluginInfo{Class: p.class, Type: p.kind, Version: Version, Doc: p.doc})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Class < out[j].Class })
	return out
}

// Def returns the config definition of a transform or predicate class (full
// or simple name), with its keys unprefixed, as GET
// /connector-plugins/{class}/config reports them.
func Def(class string) (*config.Def, bool) {
	p := lookup(class, TypeTransformation)
	if p == nil {
		p = lookup(class, TypePredicate)
	}
	if p == nil {
		return nil, false
	}
	return p.def(), true
}

// ConfigDef declares the connector-level keys this package owns: the
// transforms and predicates lists. Everything under transforms.<alias>. and
// predicates.<alias>. is passed through; Parse validates it, and EnrichedDef
// declares it for one concrete config.
func ConfigDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: KeyTransforms, Type: config.List, Default: []string{}, Importance: config.Low, Group: "Transforms",
			DisplayName: "Transforms", Doc: "Aliases for the transformations to be applied to records, in order.", Validator: uniqueAliases}).
		Define(config.Key{Name: KeyPredicates, Type: config.List, Default: []string{}, Importance: config.Low, Group: "Predicates",
			DisplayName: "Predicates", Doc: "Aliases for the predicates used by transformations.", Validator: uniqueAliases}).
		PassThrough(transformsPrefix, predicatesPrefix)
}

func uniqueAliases(v any) error {
	l, _ := v.([]string)
	seen := make(map[string]bool, len(l))
	for _, a := range l {
		if seen[a] {
			return fmt.Errorf("Duplicate alias provided.")
		}
		seen[a] = true
	}
	return nil
}

// EnrichedDef returns ConfigDef plus, for the aliases listed in raw, the
// prefixed keys of each configured class (transforms.<alias>.type, .predicate,
// .negate and the class's own keys), as Connect's ConnectorConfig.enrich does
// for config validation.
func EnrichedDef(raw map[string]string) *config.Def {
	d := ConfigDef()
	for _, alias := range aliasList(raw[KeyTransforms]) {
		pre := transformsPrefix + alias + "."
		d.Define(config.Key{Name: pre + keyType, Type: config.Class, Default: config.NoDefault, Importance: config.High,
			Group: "Transforms: " + alias, Doc: "Class for the '" + alias + "' transformation."})
		d.Define(config.Key{Name: pre + keyPredicate, Type: config.String, Default: "", Importance: config.Medium,
			Group: "Transforms: " + alias, Doc: "The alias of a predicate used to determine whether to apply this transformation."})
		d.Define(config.Key{Name: pre + keyNegate, Type: config.Boolean, Default: false, Importance: config.Medium,
			Group: "Transforms: " + alias, Doc: "Whether the configured predicate should be negated."})
		if p := lookup(raw[pre+keyType], TypeTransformation); p != nil {
			prefixKeys(d, p.def(), pre, "Transforms: "+alias)
		}
	}
	for _, alias := range aliasList(raw[KeyPredicates]) {
		pre := predicatesPrefix + alias + "."
		d.Define(config.Key{Name: pre + keyType, Type: config.Class, Default: config.NoDefault, Importance: config.High,
			Group: "Predicates: " + alias, Doc: "Class for the '" + alias + "' predicate."})
		if p := lookup(raw[pre+keyType], TypePredicate); p != nil {
			prefixKeys(d, p.def(), pre, "Predicates: "+alias)
		}
	}
	return d
}

func prefixKeys(d, from *config.Def, pre, group string) {
	for _, k := range from.Keys() {
		kk := *k
		kk.Name = pre + k.Name
		kk.Group = group
		kk.Aliases = nil
		for _, a := range k.Aliases {
			kk.Aliases = append(kk.Aliases, pre+a)
		}
		d.Define(kk)
	}
}

func aliasList(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// subConfig returns the keys under prefix with the prefix removed, minus the
// chain's own keys (type, predicate, negate).
func subConfig(raw map[string]string, prefix string) map[string]string {
	out := make(map[string]string)
	for k, v := range raw {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			switch rest {
			case keyType, keyPredicate, keyNegate:
				continue
			}
			out[rest] = v
		}
	}
	return out
}

// keyError is a one-key config error; transform constructors return it with
// their own (unprefixed) key name and Parse prefixes it.
func keyError(key, format string, args ...any) error {
	return config.Errors{{Key: key, Message: fmt.Sprintf(format, args...)}}
}

func prefixErrors(err error, pre string) config.Errors {
	if ces, ok := err.(config.Errors); ok {
		out := make(config.Errors, len(ces))
		for i, e := range ces {
			msg := strings.ReplaceAll(e.Message, "configuration "+e.Key, "configuration "+pre+e.Key)
			msg = strings.ReplaceAll(msg, "\""+e.Key+"\"", "\""+pre+e.Key+"\"")
			out[i] = config.KeyError{Key: pre + e.Key, Message: msg}
		}
		return out
	}
	return config.Errors{{Key: strings.TrimSuffix(pre, "."), Message: err.Error()}}
}

// Parse builds the transform chain from a connector config (transforms=…,
// transforms.<alias>.type=…, predicates=…). Every problem is reported in one
// config.Errors, each naming its key (transforms.a.field: …).
func Parse(cfg map[string]string) (*Chain, error) {
	var errs config.Errors
	preds := map[string]predicate{}
	seen := map[string]bool{}
	for _, alias := range aliasList(cfg[KeyPredicates]) {
		if seen[alias] {
			errs = append(errs, config.KeyError{Key: KeyPredicates, Message: "Duplicate alias provided: " + alias})
			continue
		}
		seen[alias] = true
		pre := predicatesPrefix + alias + "."
		p, err := parsePlugin(cfg, pre, TypePredicate)
		if err != nil {
			errs = append(errs, err...)
			continue
		}
		pr, e := p.newP(mustParse(p, cfg, pre))
		if e != nil {
			errs = append(errs, prefixErrors(e, pre)...)
			continue
		}
		preds[alias] = pr
	}

	c := &Chain{}
	seen = map[string]bool{}
	for _, alias := range aliasList(cfg[KeyTransforms]) {
		if seen[alias] {
			errs = append(errs, config.KeyError{Key: KeyTransforms, Message: "Duplicate alias provided: " + alias})
			continue
		}
		seen[alias] = true
		pre := transformsPrefix + alias + "."
		st := step{alias: alias}
		if pn := strings.TrimSpace(cfg[pre+keyPredicate]); pn != "" {
			if !slices.Contains(aliasList(cfg[KeyPredicates]), pn) {
				errs = append(errs, config.KeyError{Key: pre + keyPredicate,
					Message: fmt.Sprintf("Invalid value %s for configuration %s: predicate %q is not listed in %q", pn, pre+keyPredicate, pn, KeyPredicates)})
			} else {
				st.pred = preds[pn]
			}
		}
		if nv, ok := cfg[pre+keyNegate]; ok {
			b, err := config.ParseValue(config.Boolean, nv)
			if err != nil {
				errs = append(errs, config.KeyError{Key: pre + keyNegate,
					Message: fmt.Sprintf("Invalid value %s for configuration %s: %v", nv, pre+keyNegate, err)})
			} else {
				st.negate = b.(bool)
			}
		}
		p, perr := parsePlugin(cfg, pre, TypeTransformation)
		if perr != nil {
			errs = append(errs, perr...)
			continue
		}
		st.class = p.class
		t, err := p.newT(mustParse(p, cfg, pre))
		if err != nil {
			errs = append(errs, prefixErrors(err, pre)...)
			continue
		}
		st.t = t
		c.steps = append(c.steps, st)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// parsePlugin resolves <pre>type and checks the class's own keys.
func parsePlugin(cfg map[string]string, pre, kind string) (*plugin, config.Errors) {
	class, ok := cfg[pre+keyType]
	class = strings.TrimSpace(class)
	if !ok || class == "" {
		return nil, config.Errors{{Key: pre + keyType, Message: "Missing required configuration \"" + pre + keyType + "\" which has no default value."}}
	}
	p := lookup(class, kind)
	if p == nil {
		return nil, config.Errors{{Key: pre + keyType, Message: fmt.Sprintf("Invalid value %s for configuration %s: Class %s could not be found.", class, pre+keyType, class)}}
	}
	if _, err := p.def().Parse(subConfig(cfg, pre)); err != nil {
		return nil, prefixErrors(err, pre)
	}
	return p, nil
}

// mustParse parses the class's keys after parsePlugin validated them.
func mustParse(p *plugin, cfg map[string]string, pre string) *config.Values {
	v, _ := p.def().Parse(subConfig(cfg, pre))
	return v
}
