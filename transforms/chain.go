package transforms

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tributary-cdc/tributary/connector"
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
	t            connector.Transformer
	pred         connector.Matcher
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
		if s.pred != nil && s.pred.Test(rec) == s.negate {
			continue
		}
		out, keep, err := s.t.Apply(rec)
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

// applier exports a transformer as a connector.Transformer.
type applier struct{ transformer }

func (a applier) Apply(r schema.Record) (schema.Record, bool, error) { return a.apply(r) }

// tester exports a predicate as a connector.Matcher.
type tester struct{ predicate }

func (t tester) Test(r schema.Record) bool { return t.test(r) }

// Plugins returns the registry entries of every transform and predicate
// class this package implements: Kafka's SMTs ($Key and $Value variants
// apart) and predicates, and Debezium's ExtractNewRecordState and
// ByLogicalTableRouter. A new transform is one more line here.
func Plugins() []connector.Entry {
	const k = "org.apache.kafka.connect.transforms."
	var c []connector.Entry
	kv := func(name, doc string, def func() *config.Def, build func(v *config.Values, s side) (transformer, error)) {
		for _, s := range []side{keySide, valueSide} {
			suffix := "$Value"
			if s == keySide {
				suffix = "$Key"
			}
			c = append(c, connector.Entry{Class: k + name + suffix, Type: connector.Transformation, Doc: doc, Config: def,
				NewTransformer: func(v *config.Values) (connector.Transformer, error) {
					t, err := build(v, s)
					if err != nil {
						return nil, err
					}
					return applier{t}, nil
				}})
		}
	}
	one := func(class, doc string, def func() *config.Def, build func(v *config.Values) (transformer, error), aliases ...string) {
		c = append(c, connector.Entry{Class: class, Aliases: aliases, Type: connector.Transformation, Doc: doc, Config: def,
			NewTransformer: func(v *config.Values) (connector.Transformer, error) {
				t, err := build(v)
				if err != nil {
					return nil, err
				}
				return applier{t}, nil
			}})
	}
	pred := func(class, doc string, def func() *config.Def, build func(v *config.Values) (predicate, error)) {
		c = append(c, connector.Entry{Class: class, Type: connector.Predicate, Doc: doc, Config: def,
			NewMatcher: func(v *config.Values) (connector.Matcher, error) {
				p, err := build(v)
				if err != nil {
					return nil, err
				}
				return tester{p}, nil
			}})
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

// Finder looks plugin classes up by kind and by class name, alias or simple
// name ("InsertField$Value"); *connector.Registry is one.
type Finder interface {
	Find(t connector.Type, name string) (connector.Entry, bool)
}

// own is a registry of this package's plugins only (Parse, tests).
func own() Finder { return connector.NewRegistry().Register(Plugins()...) }

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
// prefixed keys of each configured class found in f (transforms.<alias>.type,
// .predicate, .negate and the class's own keys), as Connect's
// ConnectorConfig.enrich does for config validation.
func EnrichedDef(f Finder, raw map[string]string) *config.Def {
	d := ConfigDef()
	for _, alias := range aliasList(raw[KeyTransforms]) {
		pre := transformsPrefix + alias + "."
		d.Define(config.Key{Name: pre + keyType, Type: config.Class, Default: config.NoDefault, Importance: config.High,
			Group: "Transforms: " + alias, Doc: "Class for the '" + alias + "' transformation."})
		d.Define(config.Key{Name: pre + keyPredicate, Type: config.String, Default: "", Importance: config.Medium,
			Group: "Transforms: " + alias, Doc: "The alias of a predicate used to determine whether to apply this transformation."})
		d.Define(config.Key{Name: pre + keyNegate, Type: config.Boolean, Default: false, Importance: config.Medium,
			Group: "Transforms: " + alias, Doc: "Whether the configured predicate should be negated."})
		if e, ok := f.Find(connector.Transformation, raw[pre+keyType]); ok {
			prefixKeys(d, e.Def(), pre, "Transforms: "+alias)
		}
	}
	for _, alias := range aliasList(raw[KeyPredicates]) {
		pre := predicatesPrefix + alias + "."
		d.Define(config.Key{Name: pre + keyType, Type: config.Class, Default: config.NoDefault, Importance: config.High,
			Group: "Predicates: " + alias, Doc: "Class for the '" + alias + "' predicate."})
		if e, ok := f.Find(connector.Predicate, raw[pre+keyType]); ok {
			prefixKeys(d, e.Def(), pre, "Predicates: "+alias)
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

// Parse is ParseWith over this package's own classes (Plugins).
func Parse(cfg map[string]string) (*Chain, error) { return ParseWith(own(), cfg) }

// ParseWith builds the transform chain from a connector config
// (transforms=…, transforms.<alias>.type=…, predicates=…), finding each class
// in f (the worker's registry). Every problem is reported in one
// config.Errors, each naming its key (transforms.a.field: …).
func ParseWith(f Finder, cfg map[string]string) (*Chain, error) {
	var errs config.Errors
	preds := map[string]connector.Matcher{}
	seen := map[string]bool{}
	for _, alias := range aliasList(cfg[KeyPredicates]) {
		if seen[alias] {
			errs = append(errs, config.KeyError{Key: KeyPredicates, Message: "Duplicate alias provided: " + alias})
			continue
		}
		seen[alias] = true
		pre := predicatesPrefix + alias + "."
		p, v, err := parsePlugin(f, cfg, pre, connector.Predicate)
		if err != nil {
			errs = append(errs, err...)
			continue
		}
		pr, e := p.NewMatcher(v)
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
		p, v, perr := parsePlugin(f, cfg, pre, connector.Transformation)
		if perr != nil {
			errs = append(errs, perr...)
			continue
		}
		st.class = p.Class
		t, err := p.NewTransformer(v)
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

// parsePlugin resolves <pre>type in f and parses the class's own keys.
func parsePlugin(f Finder, cfg map[string]string, pre string, kind connector.Type) (connector.Entry, *config.Values, config.Errors) {
	class, ok := cfg[pre+keyType]
	class = strings.TrimSpace(class)
	if !ok || class == "" {
		return connector.Entry{}, nil, config.Errors{{Key: pre + keyType, Message: "Missing required configuration \"" + pre + keyType + "\" which has no default value."}}
	}
	p, found := f.Find(kind, class)
	if !found || (kind == connector.Transformation && p.NewTransformer == nil) || (kind == connector.Predicate && p.NewMatcher == nil) {
		return connector.Entry{}, nil, config.Errors{{Key: pre + keyType, Message: fmt.Sprintf("Invalid value %s for configuration %s: Class %s could not be found.", class, pre+keyType, class)}}
	}
	v, err := p.Def().Parse(subConfig(cfg, pre))
	if err != nil {
		return connector.Entry{}, nil, prefixErrors(err, pre)
	}
	return p, v, nil
}
