package s3

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"

	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/avroconv"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

// view picks what of a record a file holds (Confluent's RecordView): the
// value, the key or the headers. enveloped wraps keys and headers in a
// struct (RecordKey{key}, RecordHeaders{headers}) for formats that need a
// record at the top (Parquet).
type view int

const (
	viewValue view = iota
	viewKey
	viewHeaders
)

// suffix is inserted before the extension of key and header files.
func (v view) suffix() string {
	switch v {
	case viewKey:
		return ".keys"
	case viewHeaders:
		return ".headers"
	}
	return ""
}

func (v view) String() string {
	switch v {
	case viewKey:
		return "key"
	case viewHeaders:
		return "headers"
	}
	return "value"
}

// headerSchema is one header as Confluent's HeaderRecordView writes it.
var (
	headerSchema = schema.StructBuilder().
			Field("key", schema.NewBuilder(schema.TypeString).Build()).
			Field("value", schema.NewBuilder(schema.TypeString).Build()).
			Build()
	headersSchema          = schema.ArrayOf(headerSchema)
	headersEnvelopedSchema = schema.StructBuilder().Name("RecordHeaders").Field("headers", headersSchema).Build()
)

// viewer extracts a view's schema and value from records, caching
// enveloped key schemas per key schema.
type viewer struct {
	v         view
	enveloped bool
	keyEnv    map[*schema.Schema]*schema.Schema
}

func newViewer(v view, enveloped bool) *viewer {
	return &viewer{v: v, enveloped: enveloped, keyEnv: map[*schema.Schema]*schema.Schema{}}
}

func (vw *viewer) get(rec *schema.Record) (*schema.Schema, any) {
	switch vw.v {
	case viewKey:
		if !vw.enveloped {
			return rec.KeySchema, rec.Key
		}
		es, ok := vw.keyEnv[rec.KeySchema]
		if !ok {
			ks := rec.KeySchema
			if ks == nil {
				ks = schema.NewBuilder(schema.TypeString).Optional().Build()
			}
			es = schema.StructBuilder().Name("RecordKey").Field("key", ks).Build()
			if len(vw.keyEnv) > 1000 {
				clear(vw.keyEnv)
			}
			vw.keyEnv[rec.KeySchema] = es
		}
		return es, &schema.Struct{Schema: es, Values: []any{rec.Key}}
	case viewHeaders:
		hs := make([]any, len(rec.Headers))
		for i, h := range rec.Headers {
			var val any
			if h.Value != nil {
				val = string(h.Value)
			}
			hs[i] = &schema.Struct{Schema: headerSchema, Values: []any{h.Key, val}}
		}
		if vw.enveloped {
			return headersEnvelopedSchema, &schema.Struct{Schema: headersEnvelopedSchema, Values: []any{hs}}
		}
		return headersSchema, hs
	}
	return rec.ValueSchema, rec.Value
}

// fileWriter builds one object in memory. write either takes the whole
// record or returns an error and leaves the file as it was.
type fileWriter interface {
	write(rec *schema.Record) error
	// finish completes the file and returns its bytes; the writer is done.
	finish() ([]byte, error)
	// size is roughly how many bytes the file holds so far.
	size() int
}

// format is one format class configured for one view.
type format interface {
	// extension is the file extension with its leading dot (".json", ".snappy.parquet").
	extension() string
	// newWriter starts a file that will be stored under key.
	newWriter(key string) fileWriter
}

func newFormat(class string, v view, s *settings) (format, error) {
	switch class {
	case FormatJSON:
		return &jsonFormat{s: s, vw: newViewer(v, false), conv: jsonconv.New(jsonconv.Config{
			DecimalFormat: s.jsonDecimal, ReplaceNullWithDefault: true, IsKey: v == viewKey})}, nil
	case FormatByteArray:
		return &byteArrayFormat{s: s, vw: newViewer(v, false)}, nil
	case FormatAvro:
		codec, err := avroCodec(s.avroCodec)
		if err != nil {
			return nil, err
		}
		return &avroFormat{s: s, vw: newViewer(v, false), codec: codec, encoders: map[*schema.Schema]*avroconv.BinaryEncoder{}}, nil
	case FormatParquet:
		codec, ext, err := parquetCodec(s.parquetCodec)
		if err != nil {
			return nil, err
		}
		return &parquetFormat{s: s, vw: newViewer(v, true), codec: codec, ext: ext, schemas: map[*schema.Schema]*pqSchema{}}, nil
	}
	return nil, fmt.Errorf("unsupported format class %s", class)
}

// compressed wraps a buffer with gzip when s3.compression.type=gzip.
type compressed struct {
	buf  bytes.Buffer
	gz   *gzip.Writer
	hint *int
}

func newCompressed(s *settings, hint *int) *compressed {
	c := &compressed{hint: hint}
	c.buf.Grow(min(*hint+*hint/8, 64<<20))
	if s.gzip {
		c.gz, _ = gzip.NewWriterLevel(&c.buf, s.gzipLevel) // level validated
	}
	return c
}

func (c *compressed) Write(p []byte) {
	if c.gz != nil {
		_, _ = c.gz.Write(p) // writes to a bytes.Buffer cannot fail
		return
	}
	c.buf.Write(p)
}

func (c *compressed) finish() ([]byte, error) {
	if c.gz != nil {
		if err := c.gz.Close(); err != nil {
			return nil, err
		}
	}
	*c.hint = c.buf.Len()
	return c.buf.Bytes(), nil
}

// JsonFormat: one JSON document per line, as Connect's JsonConverter with
// schemas.enable=false writes the view.
type jsonFormat struct {
	hint    int // size of the last file, to size the next one's buffer
	s       *settings
	vw      *viewer
	conv    *jsonconv.Converter
	scratch []byte
}

func (f *jsonFormat) extension() string {
	if f.s.gzip {
		return ".json.gz"
	}
	return ".json"
}

func (f *jsonFormat) newWriter(string) fileWriter {
	return &jsonWriter{f: f, out: newCompressed(f.s, &f.hint)}
}

type jsonWriter struct {
	f   *jsonFormat
	out *compressed
	n   int
}

func (w *jsonWriter) write(rec *schema.Record) error {
	s, v := w.f.vw.get(rec)
	b, err := w.f.conv.Append(w.f.scratch[:0], s, v)
	if err != nil {
		return fmt.Errorf("JsonFormat: %w", err)
	}
	b = append(b, '\n')
	w.out.Write(b)
	w.n += len(b)
	if cap(b) <= 1<<20 {
		w.f.scratch = b
	}
	return nil
}

func (w *jsonWriter) finish() ([]byte, error) { return w.out.finish() }
func (w *jsonWriter) size() int               { return w.n }

// ByteArrayFormat: the raw bytes of each value followed by the separator.
type byteArrayFormat struct {
	hint int
	s    *settings
	vw   *viewer
}

func (f *byteArrayFormat) extension() string {
	if f.s.gzip {
		return f.s.byteArrayExt + ".gz"
	}
	return f.s.byteArrayExt
}

func (f *byteArrayFormat) newWriter(string) fileWriter {
	return &byteArrayWriter{f: f, out: newCompressed(f.s, &f.hint)}
}

type byteArrayWriter struct {
	f   *byteArrayFormat
	out *compressed
	n   int
}

func (w *byteArrayWriter) write(rec *schema.Record) error {
	_, v := w.f.vw.get(rec)
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	case nil:
	default:
		return fmt.Errorf("ByteArrayFormat: the %s must be bytes (use the ByteArrayConverter), not %T", w.f.vw.v, v)
	}
	w.out.Write(b)
	w.out.Write(w.f.s.byteArraySep)
	w.n += len(b) + len(w.f.s.byteArraySep)
	return nil
}

func (w *byteArrayWriter) finish() ([]byte, error) { return w.out.finish() }
func (w *byteArrayWriter) size() int               { return w.n }

// AvroFormat: an Avro object container file with the Avro schema of the
// view's Connect schema (as AvroData derives it). The sync marker is derived
// from the object key so a replay writes the same bytes.
type avroFormat struct {
	s        *settings
	vw       *viewer
	codec    ocf.CodecName
	encoders map[*schema.Schema]*avroconv.BinaryEncoder
	scratch  []byte
}

func avroCodec(name string) (ocf.CodecName, error) {
	switch name {
	case "", "null":
		return ocf.Null, nil
	case "deflate":
		return ocf.Deflate, nil
	case "snappy":
		return ocf.Snappy, nil
	case "zstandard":
		return ocf.ZStandard, nil
	}
	return "", fmt.Errorf("avro.codec %s is not supported", name)
}

func (f *avroFormat) extension() string { return ".avro" }

func (f *avroFormat) newWriter(key string) fileWriter { return &avroWriter{f: f, key: key} }

func (f *avroFormat) encoder(s *schema.Schema) (*avroconv.BinaryEncoder, error) {
	if e, ok := f.encoders[s]; ok {
		return e, nil
	}
	e, err := avroconv.NewBinaryEncoder(s, f.s.scrubNames)
	if err != nil {
		return nil, err
	}
	if len(f.encoders) > 1000 {
		clear(f.encoders)
	}
	f.encoders[s] = e
	return e, nil
}

type avroWriter struct {
	f      *avroFormat
	key    string
	schema *schema.Schema
	buf    bytes.Buffer
	enc    *ocf.Encoder
	be     *avroconv.BinaryEncoder
	sync   [16]byte
}

func (w *avroWriter) write(rec *schema.Record) error {
	s, v := w.f.vw.get(rec)
	if s == nil {
		return fmt.Errorf("AvroFormat: the %s has no schema; schemaless data cannot be written as Avro", w.f.vw.v)
	}
	if w.enc == nil {
		be, err := w.f.encoder(s)
		if err != nil {
			return fmt.Errorf("AvroFormat: %w", err)
		}
		sum := sha256.Sum256([]byte(w.key))
		var sync [16]byte
		copy(sync[:], sum[:16])
		enc, err := ocf.NewEncoder(be.Schema(), &w.buf,
			ocf.WithCodec(w.f.codec), ocf.WithSyncBlock(sync),
			ocf.WithEncoderSchemaCache(&avro.SchemaCache{}),
			ocf.WithBlockLength(1<<30), ocf.WithBlockSize(64000))
		if err != nil {
			return fmt.Errorf("AvroFormat: %w", err)
		}
		w.enc, w.be, w.schema, w.sync = enc, be, s, sync
	} else if s != w.schema && !schema.Equal(s, w.schema) {
		return fmt.Errorf("AvroFormat: the %s schema changed within one file", w.f.vw.v)
	}
	b, err := w.be.Append(w.f.scratch[:0], v)
	if err != nil {
		return fmt.Errorf("AvroFormat: %w", err)
	}
	if cap(b) <= 1<<20 {
		w.f.scratch = b
	}
	if _, err := w.enc.Write(b); err != nil {
		return fmt.Errorf("AvroFormat: %w", err)
	}
	return nil
}

func (w *avroWriter) finish() ([]byte, error) {
	if w.enc == nil {
		return nil, nil
	}
	if err := w.enc.Close(); err != nil {
		return nil, fmt.Errorf("AvroFormat: %w", err)
	}
	b := w.buf.Bytes()
	// hamba writes the header's metadata map in Go map order; rewrite it
	// in key order so a replay writes the same bytes.
	hdr := ocfHeader(map[string][]byte{"avro.schema": []byte(w.be.Schema()), "avro.codec": []byte(w.f.codec)}, w.sync)
	end := bytes.Index(b, w.sync[:])
	if end < 0 || !bytes.HasPrefix(b, []byte("Obj\x01")) {
		return nil, fmt.Errorf("AvroFormat: unexpected container header layout")
	}
	return append(hdr, b[end+16:]...), nil
}

// ocfHeader encodes an Avro object container file header: magic, the
// metadata map (keys sorted, one block) and the sync marker.
func ocfHeader(meta map[string][]byte, sync [16]byte) []byte {
	b := []byte("Obj\x01")
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendVarint(b, int64(len(keys)))
	for _, k := range keys {
		b = binary.AppendVarint(b, int64(len(k)))
		b = append(b, k...)
		b = binary.AppendVarint(b, int64(len(meta[k])))
		b = append(b, meta[k]...)
	}
	b = append(b, 0)
	return append(b, sync[:]...)
}

func (w *avroWriter) size() int { return w.buf.Len() }
