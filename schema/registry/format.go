package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/hamba/avro/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema types, as Confluent's schemaType names them. AVRO is the default:
// an empty type means AVRO, and responses leave it out for AVRO schemas.
const (
	TypeAvro     = "AVRO"
	TypeProtobuf = "PROTOBUF"
	TypeJSON     = "JSON"
)

// schemaTypes is GET /schemas/types, in Confluent's order.
var schemaTypes = []string{TypeJSON, TypeProtobuf, TypeAvro}

// Reference is one entry of a schema's "references": the schema registered
// as Subject/Version, known to the referring schema as Name (an import path
// for Protobuf, a $ref URL for JSON Schema, a full type name for Avro).
type Reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// Schema is a schema as clients register it and the registry serves it.
type Schema struct {
	// Type is TypeAvro (also ""), TypeProtobuf or TypeJSON.
	Type string
	// Schema is the schema text.
	Schema string
	// References are the schemas this one refers to.
	References []Reference
}

// normType returns the schemaType with AVRO for "".
func normType(t string) string {
	if t == "" {
		return TypeAvro
	}
	return strings.ToUpper(t)
}

// Resolved is a schema with every schema it refers to, as a SchemaFormat
// sees it.
type Resolved struct {
	// Schema is the schema text.
	Schema string
	// References are its direct references.
	References []Reference
	// Deps holds every referenced schema, transitively, by reference name
	// (Confluent's resolvedReferences): an import resolves to Deps[name].
	Deps map[string]string
}

// SchemaFormat is what the registry knows of one schemaType: how to check a
// schema and give its canonical text, and Confluent's compatibility rules.
// The registry stores and serves any of the three types; it needs a format
// to validate a schema and to check compatibility. Formats are chosen by
// Type; Avro (hamba/avro) and JSON Schema (santhosh-tekuri/jsonschema) are
// built in, and Options.Formats adds or replaces formats (a Protobuf format
// lives in its own file of this package).
//
// Implementations must be safe for concurrent use; the registry calls them
// without holding its locks.
type SchemaFormat interface {
	// Type is the schemaType this format handles (TypeAvro, TypeJSON,
	// TypeProtobuf).
	Type() string
	// Canonical parses s (its references resolved in s.Deps) and returns
	// the text to store and to recognize the same schema by (Confluent's
	// canonicalString). An error is answered as 42201 Invalid schema.
	Canonical(s Resolved) (string, error)
	// CheckCompatibility returns why a reader of newer cannot read data
	// written with older (Confluent's BACKWARD direction); empty means
	// compatible. The registry derives FORWARD (arguments swapped), FULL
	// (both) and the transitive levels from it. Both schemas are ones
	// Canonical accepted.
	CheckCompatibility(newer, older Resolved) []string
}

// builtinFormats are the formats every Server has.
func builtinFormats() []SchemaFormat {
	return []SchemaFormat{avroFormat{}, jsonFormat{}, protobufFormat{}}
}

// ---------- AVRO ----------

type avroFormat struct{}

func (avroFormat) Type() string { return TypeAvro }

func (avroFormat) parse(s Resolved) (avro.Schema, error) {
	cache := &avro.SchemaCache{}
	// Named types of referenced schemas first, dependencies before their
	// users: each reference is parsed into the same cache.
	names := make([]string, 0, len(s.Deps))
	for n := range s.Deps {
		names = append(names, n)
	}
	sort.Strings(names)
	pending := names
	for len(pending) > 0 {
		var next []string
		var lastErr error
		for _, n := range pending {
			if _, err := avro.ParseWithCache(s.Deps[n], "", cache); err != nil {
				next = append(next, n)
				lastErr = err
			}
		}
		if len(next) == len(pending) {
			return nil, fmt.Errorf("reference %s: %w", next[0], lastErr)
		}
		pending = next
	}
	return avro.ParseWithCache(s.Schema, "", cache)
}

func (f avroFormat) Canonical(s Resolved) (string, error) {
	if _, err := f.parse(s); err != nil {
		return "", err
	}
	return compactJSON(s.Schema), nil
}

func (f avroFormat) CheckCompatibility(newer, older Resolved) []string {
	r, err := f.parse(newer)
	if err != nil {
		return []string{fmt.Sprintf("new schema cannot be parsed: %v", err)}
	}
	w, err := f.parse(older)
	if err != nil {
		return []string{fmt.Sprintf("stored schema cannot be parsed: %v", err)}
	}
	if err := avro.NewSchemaCompatibility().Compatible(r, w); err != nil {
		return []string{err.Error()}
	}
	return nil
}

// compactJSON is JSON text without insignificant whitespace (property order
// kept, as Jackson writes a parsed tree back); text that is not JSON is
// returned as is.
func compactJSON(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return s
	}
	return b.String()
}

// ---------- JSON ----------

type jsonFormat struct{}

func (jsonFormat) Type() string { return TypeJSON }

// jsonBaseURI is where a JSON schema without $id is placed, as Confluent's
// JsonSchema.DEFAULT_BASE_URI; relative reference names resolve against the
// root's $id, or this.
const jsonBaseURI = "mem://input"

// errNoLoad refuses every URL the compiler was not given: $refs resolve only
// to the schema itself and its registered references, never to the network
// or the file system.
type noLoader struct{}

func (noLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("%s is not a registered reference", u)
}

// CompileJSONSchema compiles a JSON schema (draft 7 unless its $schema says
// otherwise) with its references, resolving $refs only within them, as
// Confluent's JsonSchema does.
func CompileJSONSchema(s Resolved) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(s.Schema))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	switch doc.(type) {
	case map[string]any, bool:
	default:
		return nil, errors.New("a JSON schema is an object or a boolean")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseLoader(noLoader{})
	root := jsonBaseURI
	if m, ok := doc.(map[string]any); ok {
		if id, ok := m["$id"].(string); ok && id != "" {
			root = id
		}
	}
	base, err := url.Parse(root)
	if err != nil {
		return nil, fmt.Errorf("$id %q: %w", root, err)
	}
	added := map[string]bool{}
	for name, text := range s.Deps {
		d, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
		if err != nil {
			return nil, fmt.Errorf("reference %s: not JSON: %w", name, err)
		}
		ref, err := url.Parse(name)
		if err != nil {
			return nil, fmt.Errorf("reference name %q: %w", name, err)
		}
		for _, u := range []string{base.ResolveReference(ref).String(), name} {
			if pu, err := url.Parse(u); err == nil && pu.IsAbs() && !added[u] {
				if err := c.AddResource(u, d); err != nil {
					return nil, fmt.Errorf("reference %s: %w", name, err)
				}
				added[u] = true
			}
		}
	}
	rootURL := jsonBaseURI
	if !added[rootURL] {
		if err := c.AddResource(rootURL, doc); err != nil {
			return nil, err
		}
	} else {
		rootURL = jsonBaseURI + "/__root__"
		if err := c.AddResource(rootURL, doc); err != nil {
			return nil, err
		}
	}
	sch, err := c.Compile(rootURL)
	if err != nil {
		return nil, err
	}
	return sch, nil
}

func (jsonFormat) Canonical(s Resolved) (string, error) {
	if _, err := CompileJSONSchema(s); err != nil {
		return "", err
	}
	return compactJSON(s.Schema), nil
}

func (jsonFormat) CheckCompatibility(newer, older Resolved) []string {
	return checkJSONCompat(newer, older)
}
