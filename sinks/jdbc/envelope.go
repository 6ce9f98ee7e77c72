package jdbcsink

import (
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/schema"
)

// normKind is what a record asks of the table.
type normKind uint8

const (
	normWrite normKind = iota
	normDelete
	normTruncate
	normSkip
)

// normalized is a record reduced to a row operation: the row (value) and key
// with their schemas, Debezium envelopes already flattened.
type normalized struct {
	kind        normKind
	keySchema   *schema.Schema
	key         any
	valueSchema *schema.Schema
	value       *schema.Struct
	why         string // for skips
}

// envInfo locates the fields of a Debezium envelope schema.
type envInfo struct {
	ok                  bool
	before, after, op   int
	hasBefore, hasAfter bool
}

// Debezium record kinds that carry no row (heartbeats, transaction and
// schema-change events) and are skipped if they reach a sink topic.
func isDebeziumNonData(name string) bool {
	switch name {
	case "io.debezium.connector.common.Heartbeat",
		"io.debezium.connector.common.TransactionMetadataValue":
		return true
	}
	return strings.HasSuffix(name, ".SchemaChangeValue")
}

// detectEnvelope reports whether s is a Debezium change-event envelope: a
// struct named *.Envelope, or one with op, before/after and source fields.
func detectEnvelope(s *schema.Schema) envInfo {
	if s == nil || s.Type != schema.TypeStruct {
		return envInfo{}
	}
	op, ok := s.Field("op")
	if !ok || op.Schema.Type != schema.TypeString {
		return envInfo{}
	}
	e := envInfo{op: op.Index}
	if f, ok := s.Field("before"); ok && f.Schema.Type == schema.TypeStruct {
		e.before, e.hasBefore = f.Index, true
	}
	if f, ok := s.Field("after"); ok && f.Schema.Type == schema.TypeStruct {
		e.after, e.hasAfter = f.Index, true
	}
	_, hasSource := s.Field("source")
	e.ok = (e.hasBefore || e.hasAfter) && (strings.HasSuffix(s.Name, ".Envelope") || hasSource)
	return e
}

// recordCoords names a record in messages as Confluent does.
func recordCoords(r *schema.Record) string {
	return fmt.Sprintf("(topic='%s',partition=%d,offset=%d,timestamp=%d)", r.Topic, r.Partition, r.Offset, r.Timestamp.UnixMilli())
}

func describeValue(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// normalize reduces a record to a row operation. Errors are record errors
// (reported through the errant-record reporter).
func (t *Task) normalize(r *schema.Record) (normalized, error) {
	st := t.st
	if r.Value == nil {
		if !st.deleteEnabled {
			return normalized{kind: normSkip, why: "tombstone with delete.enabled=false"}, nil
		}
		ks, k, err := t.recordKey(r)
		if err != nil {
			return normalized{}, err
		}
		return normalized{kind: normDelete, keySchema: ks, key: k}, nil
	}
	vs, v := r.ValueSchema, r.Value
	if vs == nil {
		if !st.schemalessInfer {
			return normalized{}, fmt.Errorf("Sink connector '%s' is configured with 'delete.enabled=%t' and 'pk.mode=%s' and therefore requires records with a non-null Struct value and non-null Struct schema, but found record at %s with a %s value and null value schema. Use a converter that writes schemas (JsonConverter with schemas.enable=true, Avro) or set %s=true to infer a schema from schemaless JSON",
				t.connName, st.deleteEnabled, st.pkMode, recordCoords(r), describeValue(v), KeySchemalessInfer)
		}
		var err error
		vs, v, err = t.infer.value(v)
		if err != nil {
			return normalized{}, fmt.Errorf("record at %s: infer schema: %w", recordCoords(r), err)
		}
	}
	sv, ok := v.(*schema.Struct)
	if !ok || vs.Type != schema.TypeStruct {
		return normalized{}, fmt.Errorf("Sink connector '%s' is configured with 'delete.enabled=%t' and 'pk.mode=%s' and therefore requires records with a non-null Struct value and non-null Struct schema, but found record at %s with a %s value and %s value schema",
			t.connName, st.deleteEnabled, st.pkMode, recordCoords(r), describeValue(v), vs)
	}
	if isDebeziumNonData(vs.Name) {
		return normalized{kind: normSkip, why: "Debezium " + vs.Name}, nil
	}
	if st.unwrap {
		if e := t.envelope(vs); e.ok {
			return t.flatten(r, e, sv)
		}
	}
	ks, k, err := t.recordKey(r)
	if err != nil {
		return normalized{}, err
	}
	return normalized{kind: normWrite, keySchema: ks, key: k, valueSchema: vs, value: sv}, nil
}

// flatten applies a Debezium envelope natively, as ExtractNewRecordState
// would, plus deletes and truncates.
func (t *Task) flatten(r *schema.Record, e envInfo, env *schema.Struct) (normalized, error) {
	op, _ := env.Values[e.op].(string)
	switch op {
	case "c", "r", "u":
		var after *schema.Struct
		if e.hasAfter {
			after, _ = env.Values[e.after].(*schema.Struct)
		}
		if after == nil {
			return normalized{}, fmt.Errorf("Debezium event op=%q at %s has no \"after\" row", op, recordCoords(r))
		}
		ks, k, err := t.recordKey(r)
		if err != nil {
			return normalized{}, err
		}
		return normalized{kind: normWrite, keySchema: ks, key: k, valueSchema: after.Schema, value: after}, nil
	case "d":
		if !t.st.deleteEnabled {
			return normalized{kind: normSkip, why: "Debezium delete with delete.enabled=false"}, nil
		}
		if r.Key == nil && e.hasBefore {
			// No key (e.g. a table without primary key and message.key.columns):
			// delete by the pk.fields of the "before" row.
			if before, _ := env.Values[e.before].(*schema.Struct); before != nil {
				return normalized{kind: normDelete, keySchema: before.Schema, key: before}, nil
			}
		}
		ks, k, err := t.recordKey(r)
		if err != nil {
			return normalized{}, err
		}
		return normalized{kind: normDelete, keySchema: ks, key: k}, nil
	case "t":
		if !t.st.truncateEnabled {
			return normalized{kind: normSkip, why: "Debezium truncate with truncate.enabled=false"}, nil
		}
		return normalized{kind: normTruncate}, nil
	}
	return normalized{kind: normSkip, why: fmt.Sprintf("Debezium op %q", op)}, nil
}

// recordKey checks and returns the key when pk.mode=record_key needs it.
func (t *Task) recordKey(r *schema.Record) (*schema.Schema, any, error) {
	if t.st.pkMode != PKModeRecordKey {
		return r.KeySchema, r.Key, nil
	}
	ks, k := r.KeySchema, r.Key
	if ks == nil && k != nil && t.st.schemalessInfer {
		var err error
		if ks, k, err = t.infer.key(k); err != nil {
			return nil, nil, fmt.Errorf("record at %s: infer key schema: %w", recordCoords(r), err)
		}
	}
	if k == nil || ks == nil || !(ks.Type.IsPrimitive() || ks.Type == schema.TypeStruct) {
		return nil, nil, fmt.Errorf("Sink connector '%s' is configured with 'delete.enabled=%t' and 'pk.mode=%s' and therefore requires records with a non-null key and non-null Struct or primitive key schema, but found record at %s with a %s key and %s key schema",
			t.connName, t.st.deleteEnabled, t.st.pkMode, recordCoords(r), describeValue(k), ks)
	}
	return ks, k, nil
}

// envelope caches envelope detection per schema pointer.
func (t *Task) envelope(s *schema.Schema) envInfo {
	if e, ok := t.envCache[s]; ok {
		return e
	}
	if len(t.envCache) > 4096 {
		clear(t.envCache)
	}
	e := detectEnvelope(s)
	t.envCache[s] = e
	return e
}
