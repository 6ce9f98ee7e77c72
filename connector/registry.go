package connector

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

// Plugin types besides Source and Sink, as Connect's PluginType names them
// in GET /connector-plugins?connectorsOnly=false.
const (
	Converter       Type = "converter"
	HeaderConverter Type = "header_converter"
	Transformation  Type = "transformation"
	Predicate       Type = "predicate"
)

// Transformer is one configured single message transform (Connect's
// Transformation): Apply returns the new record, or keep=false to drop it. It
// must not modify anything reachable from its input and must be safe for
// concurrent use.
type Transformer interface {
	Apply(rec schema.Record) (out schema.Record, keep bool, err error)
}

// Matcher is one configured predicate (Connect's Predicate): Test reports
// whether a transform guarded by it applies to rec.
type Matcher interface {
	Test(rec schema.Record) bool
}

// Entry is one plugin class of any kind, as the registry holds it: its
// names, version, config definition and constructor. Exactly one
// constructor is set, the one of its Type (a header converter has none:
// headers travel as raw bytes).
type Entry struct {
	// Class is the canonical class name, e.g.
	// org.apache.kafka.connect.json.JsonConverter.
	Class string
	// Aliases are other accepted names. For every kind but connectors the
	// simple name (after the last dot) of Class is accepted too.
	Aliases []string
	Type    Type
	// Version is reported by GET /connector-plugins; empty means the
	// Connect version the worker reports (as Kafka's own plugins do).
	Version string
	// Doc describes the plugin in one paragraph.
	Doc string
	// Config returns the plugin's own keys (GET
	// /connector-plugins/{plugin}/config); nil means none.
	Config func() *config.Def

	// Connector is the connector class (Source and Sink).
	Connector Plugin
	// NewConverter builds a converter from its properties (the
	// key.converter./value.converter. prefix stripped, converter.type set).
	NewConverter func(props map[string]string, isKey bool) (schema.Converter, error)
	// NewTransformer builds a transform from its parsed keys.
	NewTransformer func(cfg *config.Values) (Transformer, error)
	// NewMatcher builds a predicate from its parsed keys.
	NewMatcher func(cfg *config.Values) (Matcher, error)
	// Validate, when set, replaces the constructor in Check: for plugins
	// whose constructor needs what only a running worker has (AvroConverter
	// with schema.registry.url=embedded).
	Validate func(props map[string]string) error
}

// Def returns the entry's config definition (an empty one when it has no
// keys). Each call returns a new Def.
func (e Entry) Def() *config.Def {
	if e.Config == nil {
		return config.NewDef()
	}
	return e.Config()
}

// SimpleName is Class after its last dot (Connect's simple-name alias).
func (e Entry) SimpleName() string { return e.Class[strings.LastIndexByte(e.Class, '.')+1:] }

// Check validates props against the entry's keys and, when they parse, runs
// its constructor (or Validate), so that checks across keys (a Cast spec, a
// regex) are reported too. Every problem names its key; one the constructor reports
// without a key is given the key "" (the plugin as a whole). Connectors are
// checked by the runtime, which adds its own keys; Check returns nil for them.
func (e Entry) Check(props map[string]string) config.Errors {
	def := e.Def()
	v, err := def.Parse(props)
	if err != nil {
		return asErrors(err)
	}
	switch {
	case e.Validate != nil:
		err = e.Validate(props)
	case e.Type == Converter:
		if e.NewConverter != nil {
			_, err = e.NewConverter(props, strings.EqualFold(strings.TrimSpace(props["converter.type"]), "key"))
		}
	case e.Type == Transformation:
		if e.NewTransformer != nil {
			_, err = e.NewTransformer(v)
		}
	case e.Type == Predicate:
		if e.NewMatcher != nil {
			_, err = e.NewMatcher(v)
		}
	}
	if err != nil {
		return asErrors(err)
	}
	return nil
}

func asErrors(err error) config.Errors {
	if ce, ok := err.(config.Errors); ok {
		return ce
	}
	return config.Errors{{Key: "", Message: err.Error()}}
}

// PluginEntry is the registry entry of a connector class.
func PluginEntry(p Plugin) Entry {
	return Entry{Class: p.Class(), Aliases: p.Aliases(), Type: p.Type(), Version: p.Version(), Config: p.Config, Connector: p}
}

// Registry holds every plugin class the worker knows, of every kind:
// source and sink connectors, converters, header converters, transforms and
// predicates, each looked up by class name or alias within its kind. It is
// built in cmd/replicate and passed down; tests build their own. There is no
// global registry. A Registry is read-only once the worker uses it.
type Registry struct {
	byName map[Type]map[string]int // name → index in all
	all    []Entry
}

// NewRegistry returns a registry holding the connector classes plugins;
// Register adds plugins of the other kinds.
func NewRegistry(plugins ...Plugin) *Registry {
	r := &Registry{byName: map[Type]map[string]int{}}
	for _, p := range plugins {
		r.Add(p)
	}
	return r
}

// Add registers a connector class under its class name and aliases.
func (r *Registry) Add(p Plugin) { r.Register(PluginEntry(p)) }

// Register adds entries of any kind and returns r. An entry whose class or
// alias another entry of its kind already uses takes that name over.
func (r *Registry) Register(entries ...Entry) *Registry {
	for _, e := range entries {
		m := r.byName[e.Type]
		if m == nil {
			m = map[string]int{}
			r.byName[e.Type] = m
		}
		r.all = append(r.all, e)
		m[e.Class] = len(r.all) - 1
		for _, a := range e.Aliases {
			m[a] = len(r.all) - 1
		}
	}
	return r
}

// Clone returns a copy of r that Register can extend without changing r.
func (r *Registry) Clone() *Registry {
	c := NewRegistry()
	c.Register(r.all...)
	return c
}

// Lookup finds a connector class by class name or alias.
func (r *Registry) Lookup(class string) (Plugin, error) {
	for _, t := range []Type{Source, Sink} {
		if i, ok := r.byName[t][class]; ok {
			return r.all[i].Connector, nil
		}
	}
	return nil, fmt.Errorf("failed to find any class that implements Connector and which name matches %s", class)
}

// Plugins returns every connector class, sorted by class name.
func (r *Registry) Plugins() []Plugin {
	var out []Plugin
	for i, e := range r.all {
		if e.Connector != nil && r.current(i) {
			out = append(out, e.Connector)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Class() < out[j].Class() })
	return out
}

// current reports whether entry i is still the one its class names (no
// later entry of its kind took the name over).
func (r *Registry) current(i int) bool {
	j, ok := r.byName[r.all[i].Type][r.all[i].Class]
	return ok && j == i
}

// Find looks a plugin of kind t up by class name or alias (surrounding
// spaces ignored) and, for every kind but connectors, by the simple name of
// its class (Connect's alias: "InsertField$Value", "JsonConverter").
func (r *Registry) Find(t Type, name string) (Entry, bool) {
	name = strings.TrimSpace(name)
	if i, ok := r.byName[t][name]; ok {
		return r.all[i], true
	}
	if t == Source || t == Sink || strings.Contains(name, ".") {
		return Entry{}, false
	}
	for i, e := range r.all {
		if e.Type == t && e.SimpleName() == name && r.current(i) {
			return e, true
		}
	}
	return Entry{}, false
}

// FindAny looks a plugin of any kind up by name: connectors first, then
// transforms, predicates, converters and header converters.
func (r *Registry) FindAny(name string) (Entry, bool) {
	if i, ok := r.byName[Source][name]; ok {
		return r.all[i], true
	}
	if i, ok := r.byName[Sink][name]; ok {
		return r.all[i], true
	}
	for _, t := range []Type{Transformation, Predicate, Converter, HeaderConverter} {
		if e, ok := r.Find(t, name); ok {
			return e, true
		}
	}
	return Entry{}, false
}

// Entries returns the plugins of kind t, sorted by class name.
func (r *Registry) Entries(t Type) []Entry {
	var out []Entry
	for i, e := range r.all {
		if e.Type == t && r.current(i) {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Class < out[j].Class })
	return out
}

// NewConverter builds the converter class names (class name, alias or
// simple name) from its properties. It is the worker's default converter
// factory.
func (r *Registry) NewConverter(class string, props map[string]string, isKey bool) (schema.Converter, error) {
	e, ok := r.Find(Converter, class)
	if !ok || e.NewConverter == nil {
		var names []string
		for i, c := range r.all {
			if c.Type == Converter && r.current(i) {
				names = append(names, c.SimpleName())
			}
		}
		return nil, fmt.Errorf("converter class %q not found (%s)", strings.TrimSpace(class), strings.Join(names, ", "))
	}
	return e.NewConverter(props, isKey)
}
