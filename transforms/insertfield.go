package transforms

import (
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

const insertFieldDoc = "Insert field(s) using attributes from the record metadata or a configured static value. " +
	"Suffix with ! to make this a required field, or ? to keep it optional (the default)."

func insertFieldDef() *config.Def {
	d := config.NewDef()
	for _, k := range []struct{ name, doc string }{
		{"topic.field", "Field name for Kafka topic."},
		{"partition.field", "Field name for Kafka partition."},
		{"offset.field", "Field name for Kafka offset - only applicable to sink connectors."},
		{"timestamp.field", "Field name for record timestamp."},
		{"static.field", "Field name for static data field."},
		{"static.value", "Static field value, if field name configured."},
	} {
		d.Define(config.Key{Name: k.name, Type: config.String, Default: nil, Importance: config.Medium,
			Doc: k.doc + " Suffix with ! to make this a required field, or ? to keep it optional (the default)."})
	}
	return d.Define(replaceNullKey())
}

type insertSpec struct {
	name     string
	optional bool
}

func parseInsertSpec(v any) *insertSpec {
	s, _ := v.(string)
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	switch s[len(s)-1] {
	case '!':
		return &insertSpec{name: s[:len(s)-1]}
	case '?':
		return &insertSpec{name: s[:len(s)-1], optional: true}
	}
	return &insertSpec{name: s, optional: true}
}

type insertField struct {
	side                                      side
	topic, partition, offset, timestamp, stat *insertSpec
	staticValue                               any // string or nil
	replaceNull                               bool
	schemas                                   cache[*schema.Schema, *schema.Schema]
}

func newInsertField(v *config.Values, s side) (transformer, error) {
	t := &insertField{
		side:        s,
		topic:       parseInsertSpec(v.Get("topic.field")),
		partition:   parseInsertSpec(v.Get("partition.field")),
		offset:      parseInsertSpec(v.Get("offset.field")),
		timestamp:   parseInsertSpec(v.Get("timestamp.field")),
		stat:        parseInsertSpec(v.Get("static.field")),
		staticValue: v.Get("static.value"),
		replaceNull: v.Bool(keyReplaceNullWithDefault),
	}
	if sv, ok := t.staticValue.(string); ok {
		t.staticValue = sv
	} else {
		t.staticValue = nil
	}
	return t, nil
}

const insertPurpose = "field insertion"

// isSinkRecord: records read from Kafka carry no source partition/offset.
func isSinkRecord(r *schema.Record) bool { return r.SourcePartition == nil && r.SourceOffset == nil }

func (t *insertField) apply(r schema.Record) (schema.Record, bool, error) {
	sc, val := t.side.get(&r)
	if val == nil {
		return r, true, nil
	}
	if t.offset != nil && !isSinkRecord(&r) {
		return r, false, fmt.Errorf("Only SinkRecord supported for [%s], found: SourceRecord (offset.field %s)", insertPurpose, t.offset.name)
	}
	if sc == nil {
		in, err := requireMap(val, insertPurpose)
		if err != nil {
			return r, false, err
		}
		out := make(map[string]any, len(in)+5)
		for k, e := range in {
			out[k] = e
		}
		if t.topic != nil {
			out[t.topic.name] = r.Topic
		}
		if t.partition != nil {
			if r.Partition >= 0 {
				out[t.partition.name] = int64(r.Partition)
			} else {
				out[t.partition.name] = nil
			}
		}
		if t.offset != nil {
			out[t.offset.name] = r.Offset
		}
		if t.timestamp != nil {
			if r.Timestamp.IsZero() {
				out[t.timestamp.name] = nil
			} else {
				out[t.timestamp.name] = r.Timestamp.UnixMilli()
			}
		}
		if t.stat != nil {
			out[t.stat.name] = t.staticValue
		}
		t.side.set(&r, nil, out)
		return r, true, nil
	}
	st, err := requireStruct(val, insertPurpose)
	if err != nil {
		return r, false, err
	}
	ns, err := t.schemas.getOrBuild(st.Schema, func() (*schema.Schema, error) { return t.buildSchema(st.Schema) })
	if err != nil {
		return r, false, err
	}
	out, vals := newStruct(ns)
	n := len(st.Schema.Fields)
	for i := 0; i < n; i++ {
		vals[i] = fieldValue(st, i, t.replaceNull)
	}
	add := func(spec *insertSpec, v any) error {
		if spec == nil {
			return nil
		}
		if v == nil && !spec.optional {
			return fmt.Errorf("required field %s has no value", spec.name)
		}
		vals[n] = v
		n++
		return nil
	}
	var part, ts any
	if r.Partition >= 0 {
		part = r.Partition
	}
	if !r.Timestamp.IsZero() {
		ts = r.Timestamp.UTC().Truncate(1e6)
	}
	for _, e := range []error{
		add(t.topic, r.Topic), add(t.partition, part), add(t.offset, r.Offset), add(t.timestamp, ts), add(t.stat, t.staticValue),
	} {
		if e != nil {
			return r, false, e
		}
	}
	t.side.set(&r, ns, out)
	return r, true, nil
}

func (t *insertField) buildSchema(sc *schema.Schema) (*schema.Schema, error) {
	fields := fieldsOf(sc)
	add := func(spec *insertSpec, typ *schema.Schema) {
		if spec != nil {
			fields = append(fields, schema.Field{Name: spec.name, Schema: typ.WithOptional(spec.optional)})
		}
	}
	add(t.topic, schema.StringSchema)
	add(t.partition, schema.Int32Schema)
	add(t.offset, schema.Int64Schema)
	add(t.timestamp, schema.TimestampSchema(false))
	add(t.stat, schema.StringSchema)
	return deriveStruct(sc, false, fields)
}
