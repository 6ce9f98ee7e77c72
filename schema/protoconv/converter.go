package protoconv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/registry"
)

// ErrUnknownMagicByte is wrapped when bytes do not start with the Confluent
// wire-format header (magic byte 0 and a 4-byte schema id).
var ErrUnknownMagicByte = errors.New("unknown magic byte")

// registryTimeout bounds one registry round trip made for a record (the
// Converter interface carries no context).
const registryTimeout = 30 * time.Second

// Converter is Confluent's ProtobufConverter. It implements
// schema.Converter and is safe for concurrent use. After the first record of
// a schema version it serializes and parses without registry round trips.
type Converter struct {
	cfg Config
	reg *registry.Client
	sr  *sr.Client

	mu      sync.RWMutex
	derived map[*schema.Schema]*derived
	writers map[writerKey]*writer
	readers map[readerKey]*reader
	files   map[int]protoreflect.FileDescriptor // compiled writer schemas by id
}

var _ schema.Converter = (*Converter)(nil)

// derived is the .proto file generated from one Connect schema, compiled.
type derived struct {
	text    string
	message string // full name of the root message
	file    protoreflect.FileDescriptor
	enc     rootEncoder
}

type writerKey struct {
	s     *schema.Schema
	topic string
}

type writer struct {
	header []byte // magic byte, schema id, message indexes
	enc    rootEncoder
}

type readerKey struct {
	id      int
	indexes string
}

// New returns a converter. It needs cfg.Registry or cfg.URLs.
func New(cfg Config) (*Converter, error) {
	reg, err := registry.SerdeClient(cfg.Registry, registry.ClientOptions{URLs: cfg.URLs, User: cfg.User, Password: cfg.Password, LatestTTL: cfg.LatestTTL, TLS: cfg.TLS})
	if err != nil {
		return nil, fmt.Errorf("protoconv: %w", err)
	}
	if cfg.SubjectStrategy == "" {
		cfg.SubjectStrategy = TopicNameStrategy
	}
	if _, err := parseStrategy(cfg.SubjectStrategy); err != nil {
		return nil, fmt.Errorf("protoconv: %w", err)
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 1000
	}
	return &Converter{
		cfg:     cfg,
		reg:     reg,
		sr:      reg.SR(),
		derived: map[*schema.Schema]*derived{},
		writers: map[writerKey]*writer{},
		readers: map[readerKey]*reader{},
		files:   map[int]protoreflect.FileDescriptor{},
	}, nil
}

// Registry returns the registry client the converter uses.
func (c *Converter) Registry() *registry.Client { return c.reg }

// ProtoSchema returns the .proto text the converter derives from a Connect
// schema (what it registers).
func (c *Converter) ProtoSchema(s *schema.Schema) (string, error) {
	d, err := c.derive(s)
	if err != nil {
		return "", err
	}
	return d.text, nil
}

func evict[K comparable, V any](m map[K]V, max int) {
	if len(m) < max {
		return
	}
	for k := range m {
		delete(m, k)
		return
	}
}

func (c *Converter) derive(s *schema.Schema) (*derived, error) {
	c.mu.RLock()
	d, ok := c.derived[s]
	c.mu.RUnlock()
	if ok {
		return d, nil
	}
	text, message, err := ProtoSchemaOf(s, c.cfg.Data)
	if err != nil {
		return nil, fmt.Errorf("protoconv: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	f, err := Compile(ctx, text, nil)
	if err != nil {
		return nil, fmt.Errorf("protoconv: generated schema does not compile: %w\n%s", err, text)
	}
	md, ok := findMessage(f, protoreflect.FullName(message))
	if !ok {
		return nil, fmt.Errorf("protoconv: generated schema lacks message %s", message)
	}
	enc, err := compileRoot(s, md, c.cfg.Data)
	if err != nil {
		return nil, fmt.Errorf("protoconv: %w", err)
	}
	d = &derived{text: text, message: message, file: f, enc: enc}
	c.mu.Lock()
	evict(c.derived, c.cfg.CacheSize)
	c.derived[s] = d
	c.mu.Unlock()
	return d, nil
}

// subject names the registry subject for a record of topic whose root
// message is message (a full name).
func (c *Converter) subject(topic, message string) string {
	switch c.cfg.SubjectStrategy {
	case RecordNameStrategy:
		return message
	case TopicRecordNameStrategy:
		return topic + "-" + message
	}
	if c.cfg.IsKey {
		return topic + "-key"
	}
	return topic + "-value"
}

// references registers (or looks up) the imports of f as schema references
// named after their import paths, depth first, as Confluent's
// resolveDependencies with skip.known.types=false.
func (c *Converter) references(ctx context.Context, f protoreflect.FileDescriptor, done map[string]sr.SchemaReference) ([]sr.SchemaReference, error) {
	var refs []sr.SchemaReference
	imps := f.Imports()
	for i := 0; i < imps.Len(); i++ {
		dep := imps.Get(i).FileDescriptor
		path := dep.Path()
		if r, ok := done[path]; ok {
			refs = append(refs, r)
			continue
		}
		text, ok := KnownSource(path)
		if !ok {
			return nil, fmt.Errorf("no source for import %s", path)
		}
		sub, err := c.references(ctx, dep, done)
		if err != nil {
			return nil, err
		}
		sch := sr.Schema{Schema: text, Type: sr.TypeProtobuf, References: sub}
		var ss sr.SubjectSchema
		if c.cfg.AutoRegister && !c.cfg.ReferenceLookupOnly {
			ss, err = c.sr.CreateSchema(ctx, path, sch)
		} else {
			ss, err = c.sr.LookupSchema(ctx, path, sch)
		}
		if err != nil {
			return nil, fmt.Errorf("reference %s: %w", path, err)
		}
		r := sr.SchemaReference{Name: path, Subject: path, Version: ss.Version}
		done[path] = r
		refs = append(refs, r)
	}
	return refs, nil
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
	subject := c.subject(topic, d.message)
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	var refs []sr.SchemaReference
	if !c.cfg.SkipKnownTypes {
		if refs, err = c.references(ctx, d.file, map[string]sr.SchemaReference{}); err != nil {
			return nil, fmt.Errorf("protoconv: subject %s: %w", subject, err)
		}
	}
	sch := sr.Schema{Schema: d.text, Type: sr.TypeProtobuf, References: refs}
	indexes, ok := messageIndexes(d.file, protoreflect.FullName(d.message))
	if !ok {
		return nil, fmt.Errorf("protoconv: schema lacks message %s", d.message)
	}
	var id int
	// As Confluent's serializer: auto.register.schemas wins over
	// use.latest.version, which wins over a plain lookup.
	switch {
	case c.cfg.AutoRegister:
		ss, err := c.sr.CreateSchema(ctx, subject, sch)
		if err != nil {
			return nil, fmt.Errorf("protoconv: register schema under subject %q: %w", subject, err)
		}
		id = ss.ID
	case c.cfg.UseLatestVersion:
		ss, err := c.sr.SchemaByVersion(ctx, subject, -1)
		if err != nil {
			return nil, fmt.Errorf("protoconv: use.latest.version: latest schema of subject %q: %w", subject, err)
		}
		f, err := c.fileOf(ctx, ss.ID, ss.Schema)
		if err != nil {
			return nil, fmt.Errorf("protoconv: use.latest.version: %w", err)
		}
		if c.cfg.LatestCompatStrict {
			deps := map[string]string{}
			if err := c.resolveRefs(ctx, ss.Schema.References, deps); err != nil {
				return nil, fmt.Errorf("protoconv: use.latest.version: %w", err)
			}
			latest := registry.Resolved{Schema: ss.Schema.Schema, Deps: deps}
			if msgs := registry.CheckProtobufCompatibility(latest, registry.Resolved{Schema: d.text}); len(msgs) > 0 {
				return nil, fmt.Errorf("protoconv: use.latest.version: incompatible schema of type 'PROTOBUF' (latest of subject %q, id %d). "+
					"Set latest.compatibility.strict=false to disable this check: %s", subject, ss.ID, strings.Join(msgs, ", "))
			}
		}
		var ok bool
		if indexes, ok = messageIndexes(f, protoreflect.FullName(d.message)); !ok {
			return nil, fmt.Errorf("protoconv: use.latest.version: latest schema of subject %q (id %d) has no message %s", subject, ss.ID, d.message)
		}
		id = ss.ID
	default:
		ss, err := c.sr.LookupSchema(ctx, subject, sch)
		if err != nil {
			return nil, fmt.Errorf("protoconv: look up schema under subject %q (auto.register.schemas=false): %w", subject, err)
		}
		id = ss.ID
	}
	w = &writer{header: header(id, indexes), enc: d.enc}
	c.mu.Lock()
	evict(c.writers, c.cfg.CacheSize)
	c.writers[k] = w
	c.mu.Unlock()
	return w, nil
}

// header is Confluent's wire-format prefix: magic byte 0, the 4-byte
// big-endian schema id, then the message indexes (MessageIndexes): zig-zag
// varints, the count first; [0] is written as the single 0.
func header(id int, indexes []int) []byte {
	b := make([]byte, 5, 16)
	binary.BigEndian.PutUint32(b[1:], uint32(id))
	if len(indexes) == 1 && indexes[0] == 0 {
		return append(b, 0)
	}
	b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(len(indexes))))
	for _, i := range indexes {
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(i)))
	}
	return b
}

// FromConnect serializes a Connect struct in the Confluent wire format. A
// nil value gives nil bytes (a tombstone), whatever the schema.
func (c *Converter) FromConnect(topic string, _ []schema.Header, s *schema.Schema, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if s == nil {
		return nil, fmt.Errorf("protoconv: topic %s: ProtobufConverter needs a schema; schemaless values are not supported", topic)
	}
	w, err := c.writerFor(topic, s)
	if err != nil {
		return nil, fmt.Errorf("%w (topic %s)", err, topic)
	}
	msg, err := w.enc(v)
	if err != nil {
		return nil, fmt.Errorf("protoconv: topic %s: %w", topic, err)
	}
	out, err := proto.MarshalOptions{AllowPartial: true}.MarshalAppend(append(make([]byte, 0, 64+len(w.header)), w.header...), msg)
	if err != nil {
		return nil, fmt.Errorf("protoconv: topic %s: %w", topic, err)
	}
	return out, nil
}

// fileOf compiles a writer schema (text and references) fetched from the
// registry, cached by id.
func (c *Converter) fileOf(ctx context.Context, id int, sch sr.Schema) (protoreflect.FileDescriptor, error) {
	c.mu.RLock()
	f, ok := c.files[id]
	c.mu.RUnlock()
	if ok {
		return f, nil
	}
	if sch.Type != sr.TypeProtobuf {
		return nil, fmt.Errorf("schema id %d is %s, not PROTOBUF", id, sch.Type)
	}
	refs := map[string]string{}
	if err := c.resolveRefs(ctx, sch.References, refs); err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	f, err := Compile(ctx, sch.Schema, refs)
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	c.mu.Lock()
	evict(c.files, c.cfg.CacheSize)
	c.files[id] = f
	c.mu.Unlock()
	return f, nil
}

func (c *Converter) resolveRefs(ctx context.Context, refs []sr.SchemaReference, out map[string]string) error {
	for _, r := range refs {
		if _, ok := out[r.Name]; ok {
			continue
		}
		ss, err := c.sr.SchemaByVersion(ctx, r.Subject, r.Version)
		if err != nil {
			return fmt.Errorf("reference %s (subject %s version %d): %w", r.Name, r.Subject, r.Version, err)
		}
		out[r.Name] = ss.Schema.Schema
		if err := c.resolveRefs(ctx, ss.Schema.References, out); err != nil {
			return err
		}
	}
	return nil
}

func (c *Converter) readerFor(id int, indexes []int) (*reader, error) {
	k := readerKey{id, fmt.Sprint(indexes)}
	c.mu.RLock()
	r, ok := c.readers[k]
	c.mu.RUnlock()
	if ok {
		return r, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	c.mu.RLock()
	f, ok := c.files[id]
	c.mu.RUnlock()
	if !ok {
		sch, err := c.sr.SchemaByID(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("registry: schema id %d: %w", id, err)
		}
		if f, err = c.fileOf(ctx, id, sch); err != nil {
			return nil, err
		}
	}
	md, err := messageByIndexes(f, indexes)
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	if r, err = newReader(f, md, c.cfg.Data); err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	c.mu.Lock()
	evict(c.readers, c.cfg.CacheSize)
	c.readers[k] = r
	c.mu.Unlock()
	return r, nil
}

// parseHeader reads the wire-format prefix: schema id, message indexes and
// the offset of the message bytes.
func parseHeader(b []byte) (id int, indexes []int, body []byte, err error) {
	if len(b) < 6 || b[0] != 0 {
		return 0, nil, nil, fmt.Errorf("%w: not Confluent wire format", ErrUnknownMagicByte)
	}
	id = int(binary.BigEndian.Uint32(b[1:5]))
	rest := b[5:]
	n, l := protowire.ConsumeVarint(rest)
	if l < 0 {
		return 0, nil, nil, fmt.Errorf("schema id %d: bad message-index count", id)
	}
	rest = rest[l:]
	count := protowire.DecodeZigZag(n)
	if count == 0 {
		return id, []int{0}, rest, nil
	}
	if count < 0 || count > 100 {
		return 0, nil, nil, fmt.Errorf("schema id %d: bad message-index count %d", id, count)
	}
	indexes = make([]int, count)
	for i := range indexes {
		x, l := protowire.ConsumeVarint(rest)
		if l < 0 {
			return 0, nil, nil, fmt.Errorf("schema id %d: truncated message indexes", id)
		}
		indexes[i] = int(protowire.DecodeZigZag(x))
		rest = rest[l:]
	}
	return id, indexes, rest, nil
}

// ToConnect parses Confluent wire-format bytes with the writer's schema from
// the registry and returns the Connect schema Confluent's converter derives
// from the message. Nil bytes give (nil, nil).
func (c *Converter) ToConnect(topic string, _ []schema.Header, b []byte) (*schema.Schema, any, error) {
	if b == nil {
		return nil, nil, nil
	}
	id, indexes, body, err := parseHeader(b)
	if err != nil {
		return nil, nil, fmt.Errorf("protoconv: topic %s: %w", topic, err)
	}
	r, err := c.readerFor(id, indexes)
	if err != nil {
		return nil, nil, fmt.Errorf("protoconv: topic %s: %w", topic, err)
	}
	msg := dynamicpb.NewMessage(r.md)
	if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(body, msg); err != nil {
		return nil, nil, fmt.Errorf("protoconv: topic %s, schema id %d, message %s: %w", topic, id, r.md.FullName(), err)
	}
	v, err := r.dec(msg)
	if err != nil {
		return nil, nil, fmt.Errorf("protoconv: topic %s, schema id %d: %w", topic, id, err)
	}
	return r.schema, v, nil
}
