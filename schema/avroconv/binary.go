package avroconv

import (
	"fmt"

	"github.com/hamba/avro/v2"

	"github.com/tributary-cdc/tributary/schema"
)

// BinaryEncoder writes values of one Connect schema as plain Avro binary (no
// Confluent wire-format header), with the Avro schema Confluent's AvroData
// derives (AvroSchemaOf). It is what Avro object container files hold
// (sinks/s3's AvroFormat). It is not safe for concurrent use.
type BinaryEncoder struct {
	text string
	enc  encFn
	w    *avro.Writer
}

// NewBinaryEncoder compiles an encoder for Connect schema s (scrub selects
// scrub.invalid.names).
func NewBinaryEncoder(s *schema.Schema, scrub bool) (*BinaryEncoder, error) {
	if s == nil {
		return nil, fmt.Errorf("avroconv: a schema is required; schemaless values are not supported")
	}
	t, err := avroSchemaOf(s, scrub)
	if err != nil {
		return nil, fmt.Errorf("avroconv: %w", err)
	}
	text := string(marshalSchema(t))
	if _, err := avro.ParseWithCache(text, "", &avro.SchemaCache{}); err != nil {
		return nil, fmt.Errorf("avroconv: generated Avro schema is invalid: %w", err)
	}
	enc, err := compileWriter(s, t)
	if err != nil {
		return nil, fmt.Errorf("avroconv: %w", err)
	}
	return &BinaryEncoder{text: text, enc: enc, w: avro.NewWriter(nil, 1024)}, nil
}

// Schema returns the Avro schema JSON the encoder writes.
func (e *BinaryEncoder) Schema() string { return e.text }

// Append appends the Avro binary encoding of v to dst.
func (e *BinaryEncoder) Append(dst []byte, v any) ([]byte, error) {
	e.w.Reset(nil)
	e.w.Error = nil
	if err := e.enc(e.w, v); err != nil {
		return dst, fmt.Errorf("avroconv: %w", err)
	}
	if e.w.Error != nil {
		return dst, fmt.Errorf("avroconv: %w", e.w.Error)
	}
	return append(dst, e.w.Buffer()...), nil
}
