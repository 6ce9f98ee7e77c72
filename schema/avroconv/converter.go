package avroconv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/registry"
)

// ErrUnknownMagicByte is wrapped when bytes do not start with the Confluent
// wire-format header (magic byte 0 and a 4-byte schema id).
var ErrUnknownMagicByte = errors.New("unknown magic byte")

// registryTimeout bounds one registry round trip made on behalf of a record
// (the Converter interface carries no context).
const registryTimeout = 30 * time.Second

// maxCached bounds each per-schema cache; eviction is arbitrary.
const maxCached = 10000

// Converter is Confluent's AvroConverter. It implements schema.Converter and
// is safe for concurrent use. After the first record of a schema version it
// serializes and parses without registry round trips.
type Converter struct {
	cfg Config
	reg *registry.Client
	api avro.API

	mu      sync.RWMutex
	derived map[*schema.Schema]*derived
	writers map[writerKey]*writer
	readers map[int]*reader

	wpool sync.Pool
	rpool sync.Pool
}

var _ schema.Converter = (*Converter)(nil)

// derived is the Avro schema generated from one Connect schema.
type derived struct {
	avro *avroType
	text string
}

type writerKey struct {
	s     *schema.Schema
	topic string
}

type writer struct {
	id  int
	enc encFn
}

// New returns a converter. It needs cfg.Registry or cfg.URLs.
func New(cfg Config) (*Converter, error) {
	reg, err := registry.SerdeClient(cfg.Registry, registry.ClientOptions{URLs: cfg.URLs, User: cfg.User, Password: cfg.Password, LatestTTL: cfg.LatestTTL, TLS: cfg.TLS})
	if err != nil {
		return nil, fmt.Errorf("avroconv: %w", err)
	}
	if cfg.SubjectStrategy == "" {
		cfg.SubjectStrategy = TopicNameStrategy
	}
	if _, err := parseStrategy(cfg.SubjectStrategy); err != nil {
		return nil, fmt.Errorf("avroconv: %w", err)
	}
	c := &Converter{
		cfg:     cfg,
		reg:     reg,
		api:     avro.Config{MaxByteSliceSize: 64 << 20}.Freeze(),
		derived: map[*schema.Schema]*derived{},
		writers: map[writerKey]*writer{},
		readers: map[int]*reader{},
	}
	c.wpool.New = func() any { return avro.NewWriter(nil, 1024, avro.WithWriterConfig(c.api)) }
	c.rpool.New = func() any { return avro.NewReader(nil, 0, avro.WithReaderConfig(c.api)) }
	return c, nil
}

// Registry returns the registry client the converter uses.
func (c *Converter) Registry() *registry.Client { return c.reg }

// AvroSchema returns the Avro schema JSON the converter derives from a
// Connect schema (what it registers), as Confluent's AvroData writes it.
func (c *Converter) AvroSchema(s *schema.Schema) (string, error) {
	d, err := c.derive(s)
	if err != nil {
		return "", err
	}
	return d.text, nil
}

// AvroSchemaOf derives the Avro schema JSON for a Connect schema without a
// converter (scrub selects scrub.invalid.names).
func AvroSchemaOf(s *schema.Schema, scrub bool) (string, error) {
	t, err := avroSchemaOf(s, scrub)
	if err != nil {
		return "", err
	}
	return string(marshalSchema(t)), nil
}

// ConnectSchemaOf returns the Connect schema Confluent's converter derives
// from an Avro schema JSON (AvroData.toConnectSchema).
func ConnectSchemaOf(avroJSON string) (*schema.Schema, error) {
	t, err := parseSchema(avroJSON)
	if err != nil {
		return nil, err
	}
	r, err := compileReader(t)
	if err != nil {
		return nil, err
	}
	return r.schema, nil
}

func (c *Converter) derive(s *schema.Schema) (*derived, error) {
	c.mu.RLock()
	d, ok := c.derived[s]
	c.mu.RUnlock()
	if ok {
		return d, nil
	}
	t, err := avroSchemaOf(s, c.cfg.ScrubInvalidNames)
	if err != nil {
		return nil, fmt.Errorf("avroconv: %w", err)
	}
	text := string(marshalSchema(t))
	if _, err := avro.ParseWithCache(text, "", &avro.SchemaCache{}); err != nil {
		return nil, fmt.Errorf("avroconv: generated Avro schema is invalid: %w", err)
	}
	d = &derived{avro: t, text: text}
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

// subject names the registry subject for a record of topic whose Avro schema is t.
func (c *Converter) subject(topic string, t *avroType) string {
	suffix := "-value"
	if c.cfg.IsKey {
		suffix = "-key"
	}
	recordName := t.kind
	if t.kind == "union" {
		for _, b := range t.branches {
			if !isNull(b) {
				t = b
				break
			}
		}
		recordName = t.kind
	}
	if t.isNamed() {
		recordName = t.fullName()
	}
	switch c.cfg.SubjectStrategy {
	case RecordNameStrategy:
		return recordName
	case TopicRecordNameStrategy:
		return topic + "-" + recordName
	}
	return topic + suffix
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
	subject := c.subject(topic, d.avro)
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	w = &writer{}
	writerType := d.avro
	// As Confluent's serializer: auto.register.schemas wins over
	// use.latest.version, which wins over a plain lookup.
	switch {
	case c.cfg.AutoRegister:
		if w.id, err = c.reg.Register(ctx, subject, d.text); err != nil {
			return nil, fmt.Errorf("avroconv: %w", err)
		}
	case c.cfg.UseLatestVersion:
		id, text, err := c.reg.Latest(ctx, subject)
		if err != nil {
			return nil, fmt.Errorf("avroconv: use.latest.version: %w", err)
		}
		if writerType, err = parseSchema(text); err != nil {
			return nil, fmt.Errorf("avroconv: latest schema of %s (id %d): %w", subject, id, err)
		}
		w.id = id
	default:
		if w.id, err = c.reg.Lookup(ctx, subject, d.text); err != nil {
			return nil, fmt.Errorf("avroconv: %w", err)
		}
	}
	if w.enc, err = compileWriter(s, writerType); err != nil {
		return nil, fmt.Errorf("avroconv: schema id %d for subject %s: %w", w.id, subject, err)
	}
	c.mu.Lock()
	evict(c.writers)
	c.writers[k] = w
	c.mu.Unlock()
	return w, nil
}

// FromConnect serializes v in the Confluent wire format: magic byte 0, the
// 4-byte big-endian schema id, then the Avro binary body. A nil value gives
// nil bytes (a tombstone), whatever the schema.
func (c *Converter) FromConnect(topic string, _ []schema.Header, s *schema.Schema, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if s == nil {
		return nil, fmt.Errorf("avroconv: topic %s: AvroConverter needs a schema; schemaless values are not supported", topic)
	}
	wr, err := c.writerFor(topic, s)
	if err != nil {
		return nil, fmt.Errorf("%w (topic %s)", err, topic)
	}
	w := c.wpool.Get().(*avro.Writer)
	w.Reset(nil)
	w.Error = nil
	var hdr [5]byte
	binary.BigEndian.PutUint32(hdr[1:], uint32(wr.id))
	_, _ = w.Write(hdr[:])
	err = wr.enc(w, v)
	var out []byte
	if err == nil && w.Error == nil {
		out = append([]byte(nil), w.Buffer()...)
	} else if err == nil {
		err = w.Error
	}
	if cap(w.Buffer()) <= 1<<20 {
		c.wpool.Put(w)
	}
	if err != nil {
		return nil, fmt.Errorf("avroconv: topic %s: %w", topic, err)
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
	text, err := c.reg.SchemaByID(ctx, id)
	if err != nil {
		return nil, err
	}
	t, err := parseSchema(text)
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	if r, err = compileReader(t); err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	c.mu.Lock()
	evict(c.readers)
	c.readers[id] = r
	c.mu.Unlock()
	return r, nil
}

// ToConnect parses Confluent wire-format bytes with the writer's schema from
// the registry and returns the Connect schema Confluent's converter derives
// from it. Nil bytes give (nil, nil).
func (c *Converter) ToConnect(topic string, _ []schema.Header, b []byte) (*schema.Schema, any, error) {
	if b == nil {
		return nil, nil, nil
	}
	if len(b) < 5 || b[0] != 0 {
		return nil, nil, fmt.Errorf("avroconv: topic %s: %w: not Confluent wire format", topic, ErrUnknownMagicByte)
	}
	id := int(binary.BigEndian.Uint32(b[1:5]))
	rd, err := c.readerFor(id)
	if err != nil {
		return nil, nil, fmt.Errorf("avroconv: topic %s: %w", topic, err)
	}
	r := c.rpool.Get().(*avro.Reader)
	r.Reset(b[5:])
	r.Error = nil
	v, err := rd.dec(r)
	if err == nil && r.Error != nil {
		err = r.Error
	}
	if err == nil && r.Error == nil {
		// all bytes must have been read
		if r.Peek(); r.Error == nil {
			err = fmt.Errorf("trailing bytes after the Avro value")
		}
	}
	r.Reset(nil)
	r.Error = nil
	c.rpool.Put(r)
	if err != nil {
		return nil, nil, fmt.Errorf("avroconv: topic %s, schema id %d: %w", topic, id, err)
	}
	return rd.schema, v, nil
}
