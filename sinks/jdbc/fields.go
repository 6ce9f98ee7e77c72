package jdbcsink

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tributary-cdc/tributary/schema"
)

// colSrc says where a column's value comes from.
type colSrc uint8

const (
	srcKafkaTopic colSrc = iota
	srcKafkaPartition
	srcKafkaOffset
	srcKeyPrimitive // the whole (primitive) record key
	srcKeyField     // a field of the key struct
	srcValueField   // a field of the value struct
)

// column is one destination column derived from the record schemas, as
// Confluent's FieldsMetadata/SinkRecordField.
type column struct {
	name   string
	schema *schema.Schema
	src    colSrc
	idx    int // field index for srcKeyField/srcValueField
	key    bool
	conv   convFunc
	// placeholder: a non-key string/bytes column (or array of them) that
	// may carry Debezium's unavailable-value placeholder.
	placeholder bool
	// inferredNull: a schemaless field that was null, so its type is
	// unknown; never created, written only when the column exists.
	inferredNull bool
}

// inferredNullName marks the schema of a schemaless field seen only as null.
const inferredNullName = "tributary.inferred.Null"

// fieldsMeta is the column layout of one (key schema, value schema) pair.
type fieldsMeta struct {
	keyCols []*column // in key order (Confluent: pk.fields order / key schema order)
	valCols []*column // non-key columns, value schema order
	all     []*column // DDL order: kafka columns, value fields, remaining key fields sorted
}

var kafkaColSchemas = [3]*schema.Schema{schema.StringSchema, schema.Int32Schema, schema.Int64Schema}

// extractFields derives the columns of a table from record schemas and the
// pk settings, with Confluent's rules and error texts.
func extractFields(st *settings, table string, keySchema, valueSchema *schema.Schema) (*fieldsMeta, error) {
	if valueSchema != nil && valueSchema.Type != schema.TypeStruct {
		return nil, fmt.Errorf("value schema must be of type Struct, but is %s", valueSchema)
	}
	fm := &fieldsMeta{}
	keyNames := map[string]bool{}
	switch st.pkMode {
	case PKModeKafka:
		names := st.pkFields
		if len(names) == 0 {
			names = defaultKafkaPKFields
		}
		if len(names) != 3 {
			return nil, fmt.Errorf("PK mode for table '%s' is kafka so there should either be no field names defined for defaults %v to be applicable, or exactly 3, defined fields are: %v", table, defaultKafkaPKFields, names)
		}
		for i, n := range names {
			fm.keyCols = append(fm.keyCols, &column{name: n, schema: kafkaColSchemas[i], src: srcKafkaTopic + colSrc(i), key: true})
			keyNames[n] = true
		}
	case PKModeRecordKey:
		if keySchema == nil {
			return nil, fmt.Errorf("PK mode for table '%s' is record_key, but record key schema is missing", table)
		}
		switch {
		case keySchema.Type.IsPrimitive():
			if len(st.pkFields) != 1 {
				return nil, fmt.Errorf("need exactly one PK column defined since the key schema for records is a primitive type (%s), defined columns are: %v (set pk.fields to the column name)", keySchema, st.pkFields)
			}
			fm.keyCols = append(fm.keyCols, &column{name: st.pkFields[0], schema: keySchema, src: srcKeyPrimitive, key: true})
			keyNames[st.pkFields[0]] = true
		case keySchema.Type == schema.TypeStruct:
			if err := fm.addStructKeyCols(keyNames, table, "key", keySchema, srcKeyField, st.pkFields); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("PK mode for table '%s' is record_key, but record key schema is not a primitive type or struct: %s", table, keySchema)
		}
	case PKModeRecordValue:
		if valueSchema == nil {
			return nil, fmt.Errorf("PK mode for table '%s' is record_value, but record value schema is missing", table)
		}
		if err := fm.addStructKeyCols(keyNames, table, "value", valueSchema, srcValueField, st.pkFields); err != nil {
			return nil, err
		}
	}
	if valueSchema != nil {
		for _, f := range valueSchema.Fields {
			if keyNames[f.Name] {
				continue
			}
			if st.whitelist != nil && !st.whitelist[f.Name] {
				continue
			}
			fm.valCols = append(fm.valCols, &column{name: f.Name, schema: f.Schema, src: srcValueField, idx: f.Index,
				inferredNull: f.Schema.Name == inferredNullName})
		}
	}
	if len(fm.keyCols)+len(fm.valCols) == 0 {
		return nil, fmt.Errorf("no fields found using key and value schemas for table: %s", table)
	}
	// DDL order.
	byName := map[string]*column{}
	for _, c := range fm.keyCols {
		byName[c.name] = c
	}
	for _, c := range fm.valCols {
		byName[c.name] = c
	}
	seen := map[string]bool{}
	for _, c := range fm.keyCols {
		if c.src <= srcKafkaOffset {
			fm.all = append(fm.all, c)
			seen[c.name] = true
		}
	}
	if valueSchema != nil {
		for _, f := range valueSchema.Fields {
			if c := byName[f.Name]; c != nil && !seen[f.Name] {
				fm.all = append(fm.all, c)
				seen[f.Name] = true
			}
		}
	}
	var rest []string
	for n := range byName {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	for _, n := range rest {
		fm.all = append(fm.all, byName[n])
	}
	return fm, nil
}

// fingerprint renders a schema structurally, so equal schemas built
// separately (a converter without a schema cache) share one shape.
// addStructKeyCols adds the primary-key columns taken from the record's
// key or value struct (side "key" or "value", pk.mode record_key or
// record_value): the pk.fields named, or every field of s when none are.
func (fm *fieldsMeta) addStructKeyCols(keyNames map[string]bool, table, side string, s *schema.Schema, src colSrc, pkFields []string) error {
	names := pkFields
	if len(names) == 0 {
		for _, f := range s.Fields {
			names = append(names, f.Name)
		}
	}
	for _, n := range names {
		f, ok := s.Field(n)
		if !ok {
			return fmt.Errorf("PK mode for table '%s' is record_%s with configured PK fields %v, but record %s schema does not contain field: %s", table, side, pkFields, side, n)
		}
		fm.keyCols = append(fm.keyCols, &column{name: n, schema: f.Schema, src: src, idx: f.Index, key: true})
		keyNames[n] = true
	}
	return nil
}

func fingerprint(b *strings.Builder, s *schema.Schema) {
	if s == nil {
		b.WriteString("~")
		return
	}
	b.WriteString(s.Type.String())
	if s.Optional {
		b.WriteByte('?')
	}
	if s.Name != "" {
		b.WriteByte('<')
		b.WriteString(s.Name)
		b.WriteByte('>')
	}
	for _, p := range s.Parameters {
		b.WriteByte('[')
		b.WriteString(p.Key)
		b.WriteByte('=')
		b.WriteString(p.Value)
		b.WriteByte(']')
	}
	if s.Default != nil {
		fmt.Fprintf(b, "=%T:%v", s.Default, s.Default)
	}
	switch s.Type {
	case schema.TypeStruct:
		b.WriteByte('{')
		for _, f := range s.Fields {
			b.WriteString(strconv.Quote(f.Name))
			b.WriteByte(':')
			fingerprint(b, f.Schema)
			b.WriteByte(',')
		}
		b.WriteByte('}')
	case schema.TypeArray:
		b.WriteByte('(')
		fingerprint(b, s.ValueSchema)
		b.WriteByte(')')
	case schema.TypeMap:
		b.WriteByte('(')
		fingerprint(b, s.KeySchema)
		b.WriteByte(',')
		fingerprint(b, s.ValueSchema)
		b.WriteByte(')')
	}
}

// keyFingerprint identifies the key columns (names and types) of a layout:
// deletes and writes with the same key columns share a phase.
func keyFingerprint(fm *fieldsMeta) string {
	var b strings.Builder
	for _, c := range fm.keyCols {
		b.WriteString(strconv.Quote(c.name))
		b.WriteByte(':')
		fingerprint(&b, c.schema.WithOptional(false))
		b.WriteByte(';')
	}
	return b.String()
}
