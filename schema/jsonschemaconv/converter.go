package jsonschemaconv

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/registry"
)

// ErrUnknownMagicByte is wrapped when bytes do not start with the Confluent
// wire-format header (magic byte 0 and a 4-byte schema id).
var ErrUnknownMagicByte = errors.New("unknown magic byte")

// ErrInvalidPayload is wrapped when json.fail.invalid.schema is set and a
// payload does not validate against its JSON schema.
var ErrInvalidPayload = errors.New("payload does not validate against its JSON schema")

// registryTimeout bounds one registry round trip made on behalf of a record
// (the Converter interface carries no context).
const registryTimeout = 30 * time.Second

// maxCached bounds each per-schema cache; eviction is arbitrary.
const maxCached = 10000

// Converter is Confluent's JsonSchemaConverter. It implements
// schema.Converter and is safe for concurrent use. After the first record
// of a schema it writes and reads without registry round trips.
type Converter struct {
	cfg Config
	dc  dataConfig
	reg *registry.Client

	mu      sync.RWMutex
	derived map[*schema.Schema]*derived
	writers map[writerKey]*writer
	readers map[int]*reader
}

var _ schema.Converter = (*Converter)(nil)

// derived is the JSON schema generated from one Connect schema.
type derived struct {
	text  string
	title string
}

type writerKey struct {
	s     *schema.Schema
	topic string
}

type writer struct {
	id        int
	validator *jsonschema.Schema // json.fail.invalid.schema
}

type reader struct {
	schema    *schema.Schema
	validator *jsonschema.Schema
}

// New returns a converter. It needs cfg.Registry or cfg.URLs.
func New(cfg Config) (*Converter, error) {
	reg, err := registry.SerdeClient(cfg.Registry, registry.ClientOptions{URLs: cfg.URLs, User: cfg.User, Password: cfg.Password, LatestTTL: cfg.LatestTTL, TLS: cfg.TLS})
	if err != nil {
		return nil, fmt.Errorf("jsonschemaconv: %w", err)
	}
	if cfg.SubjectStrategy == "" {
		cfg.SubjectStrategy = TopicNameStrategy
	}
	if _, err := parseStrategy(cfg.SubjectStrategy); err != nil {
		return nil, fmt.Errorf("jsonschemaconv: %w", err)
	}
	return &Converter{
		cfg:     cfg,
		dc:      cfg.data(),
		reg:     reg,
		derived: map[*schema.Schema]*derived{},
		writers: map[writerKey]*writer{},
		readers: map[int]*reader{},
	}, nil
}

// Registry returns the registry client the converter uses.
func (c *Converter) Registry() *registry.Client { return c.reg }

// JSONSchema returns the JSON Schema the converter derives from a Connect
// schema (what it registers), as Confluent's JsonSchemaData writes it.
func (c *Converter) JSONSchema(s *schema.Schema) (string, error) {
	d, err := c.derive(s)
	if err != nil {
		return "", err
	}
	return d.text, nil
}

// ConnectSchema returns the Connect schema the converter reads a JSON
// Schema as (JsonSchemaData.toConnectSchema); deps are its references,
// transitively, by reference name.
func (c *Converter) ConnectSchema(jsonSchema string, deps map[string]string) (*schema.Schema, error) {
	return c.dc.connectSchemaOf(jsonSchema, deps)
}

func (c *Converter) derive(s *schema.Schema) (*derived, error) {
	c.mu.RLock()
	d, ok := c.derived[s]
	c.mu.RUnlock()
	if ok {
		return d, nil
	}
	doc, err := c.dc.jsonSchemaOf(s)
	if err != nil {
		return nil, fmt.Errorf("jsonschemaconv: %w", err)
	}
	title, _ := doc.str("title")
	d = &derived{text: string(appendJSON(nil, doc)), title: title}
	c.mu.Lock()
	evict(c.derived)
	c.derived[s] = d
	c.mu.Unlock()
	return d, nil
}

func evict[K comparable, V any](m map[K]V) {
	if len(m) < maxCached {
		return
	}
	for k := range m {
		delete(m, k)
		return
	}
}

// subject names the registry subject of a record of topic; the record name
// of the record strategies is the schema's title (JsonSchema.name()).
func (c *Converter) subject(topic, title string) (string, error) {
	suffix := "-value"
	if c.cfg.IsKey {
		suffix = "-key"
	}
	switch c.cfg.SubjectStrategy {
	case RecordNameStrategy, TopicRecordNameStrategy:
		if title == "" {
			return "", fmt.Errorf("%s needs a named schema (the JSON schema's title)", c.cfg.SubjectStrategy)
		}
		if c.cfg.SubjectStrategy == RecordNameStrategy {
			return title, nil
		}
		return topic + "-" + title, nil
	}
	return topic + suffix, nil
}

// resolveRefs fetches every schema s refers to, transitively, by reference
// name, as the registry resolves them.
func (c *Converter) resolveRefs(ctx context.Context, refs []registry.Reference, deps map[string]string, depth int) error {
	if depth > 32 {
		return errors.New("schema references nested too deep")
	}
	for _, r := range refs {
		if _, ok := deps[r.Name]; ok {
			continue
		}
		_, s, err := c.reg.SchemaAt(ctx, r.Subject, r.Version)
		if err != nil {
			return fmt.Errorf("reference %s: %w", r.Name, err)
		}
		deps[r.Name] = s.Schema
		if err := c.resolveRefs(ctx, s.References, deps, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (c *Converter) writerFor(topic string, s *schema.Schema) (*writer, error) {
	k := writerKey{s, topic}
	c.mu.RLock()
	w, ok := c.writers[k]
	c.mu.RUnlock()
	if ok {
		return w, nil
	}
	d, err := c.derive(s)
	if err != nil {
		return nil, err
	}
	subject, err := c.subject(topic, d.title)
	if err != nil {
		return nil, fmt.Errorf("jsonschemaconv: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	w = &writer{}
	written := registry.Schema{Type: registry.TypeJSON, Schema: d.text}
	// As Confluent's serializer: auto.register.schemas wins over
	// use.latest.version, which wins over a plain lookup.
	switch {
	case c.cfg.AutoRegister:
		if w.id, err = c.reg.RegisterSchema(ctx, subject, written); err != nil {
			return nil, fmt.Errorf("jsonschemaconv: %w", err)
		}
	case c.cfg.UseLatestVersion:
		if w.id, written, err = c.reg.LatestSchema(ctx, subject); err != nil {
			return nil, fmt.Errorf("jsonschemaconv: use.latest.version: %w", err)
		}
		if written.Type != registry.TypeJSON {
			return nil, fmt.Errorf("jsonschemaconv: latest schema of %s (id %d) is %s, not JSON", subject, w.id, written.Type)
		}
	default:
		if w.id, err = c.reg.LookupSchema(ctx, subject, written); err != nil {
			return nil, fmt.Errorf("jsonschemaconv: %w", err)
		}
	}
	if c.cfg.FailInvalidSchema {
		deps := map[string]string{}
		if err := c.resolveRefs(ctx, written.References, deps, 0); err != nil {
			return nil, fmt.Errorf("jsonschemaconv: schema id %d: %w", w.id, err)
		}
		if w.validator, err = registry.CompileJSONSchema(registry.Resolved{Schema: written.Schema, Deps: deps}); err != nil {
			return nil, fmt.Errorf("jsonschemaconv: schema id %d: %w", w.id, err)
		}
	}
	c.mu.Lock()
	evict(c.writers)
	c.writers[k] = w
	c.mu.Unlock()
	return w, nil
}

func validate(sch *jsonschema.Schema, payload []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return err
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	return nil
}

// FromConnect serializes v in the Confluent wire format: magic byte 0, the
// 4-byte big-endian schema id, then the JSON payload. A nil value gives nil
// bytes (a tombstone), whatever the schema.
func (c *Converter) FromConnect(topic string, _ []schema.Header, s *schema.Schema, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if s == nil {
		return nil, fmt.Errorf("jsonschemaconv: topic %s: JsonSchemaConverter needs a schema; schemaless values are not supported", topic)
	}
	w, err := c.writerFor(topic, s)
	if err != nil {
		return nil, fmt.Errorf("%w (topic %s)", err, topic)
	}
	out := make([]byte, 5, 256)
	binary.BigEndian.PutUint32(out[1:], uint32(w.id))
	if out, err = c.dc.appendValue(out, s, v); err != nil {
		return nil, fmt.Errorf("jsonschemaconv: topic %s: %w", topic, err)
	}
	if w.validator != nil {
		if err := validate(w.validator, out[5:]); err != nil {
			return nil, fmt.Errorf("jsonschemaconv: topic %s, schema id %d: %w", topic, w.id, err)
		}
	}
	return out, nil
}

func (c *Converter) readerFor(id int) (*reader, error) {
	c.mu.RLock()
	r, ok := c.readers[id]
	c.mu.RUnlock()
	if ok {
		return r, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	s, err := c.reg.SchemaOf(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.Type != registry.TypeJSON {
		return nil, fmt.Errorf("schema id %d is %s, not JSON", id, s.Type)
	}
	deps := map[string]string{}
	if err := c.resolveRefs(ctx, s.References, deps, 0); err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	r = &reader{}
	if r.schema, err = c.dc.connectSchemaOf(s.Schema, deps); err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	if c.cfg.FailInvalidSchema {
		if r.validator, err = registry.CompileJSONSchema(registry.Resolved{Schema: s.Schema, Deps: deps}); err != nil {
			return nil, fmt.Errorf("schema id %d: %w", id, err)
		}
	}
	c.mu.Lock()
	evict(c.readers)
	c.readers[id] = r
	c.mu.Unlock()
	return r, nil
}

// ToConnect parses Confluent wire-format bytes, reading the writer's JSON
// schema from the registry, and returns the Connect schema Confluent's
// converter derives from it with the value. Nil bytes give (nil, nil).
func (c *Converter) ToConnect(topic string, _ []schema.Header, b []byte) (*schema.Schema, any, error) {
	if b == nil {
		return nil, nil, nil
	}
	if len(b) < 5 || b[0] != 0 {
		return nil, nil, fmt.Errorf("jsonschemaconv: topic %s: %w: not Confluent wire format", topic, ErrUnknownMagicByte)
	}
	id := int(binary.BigEndian.Uint32(b[1:5]))
	rd, err := c.readerFor(id)
	if err != nil {
		return nil, nil, fmt.Errorf("jsonschemaconv: topic %s: %w", topic, err)
	}
	payload := b[5:]
	if rd.validator != nil {
		if err := validate(rd.validator, payload); err != nil {
			return nil, nil, fmt.Errorf("jsonschemaconv: topic %s, schema id %d: %w", topic, id, err)
		}
	}
	parsed, err := parseOrdered(payload)
	if err != nil {
		return nil, nil, fmt.Errorf("jsonschemaconv: topic %s, schema id %d: payload is not JSON: %w", topic, id, err)
	}
	if parsed == nil {
		return nil, nil, nil // JSON null: SchemaAndValue.NULL, as Confluent's converter
	}
	v, err := c.dc.toValue(rd.schema, parsed, true)
	if err != nil {
		return nil, nil, fmt.Errorf("jsonschemaconv: topic %s, schema id %d: %w", topic, id, err)
	}
	return rd.schema, v, nil
}
