package transforms

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// renderSchema renders a schema completely and deterministically, so tests
// compare schemas structurally.
func renderSchema(s *schema.Schema) string {
	if s == nil {
		return "<none>"
	}
	var b strings.Builder
	b.WriteString(s.Type.String())
	if s.Name != "" {
		b.WriteString("<" + s.Name + ">")
	}
	if s.Version != 0 {
		fmt.Fprintf(&b, "@v%d", s.Version)
	}
	if s.Optional {
		b.WriteByte('?')
	}
	if s.Doc != "" {
		fmt.Fprintf(&b, "/*%s*/", s.Doc)
	}
	for _, p := range s.Parameters {
		fmt.Fprintf(&b, "[%s=%s]", p.Key, p.Value)
	}
	switch s.Type {
	case schema.TypeStruct:
		b.WriteByte('{')
		for i, f := range s.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			if f.Index != i {
				fmt.Fprintf(&b, "!index%d!", f.Index)
			}
			b.WriteString(f.Name + ":" + renderSchema(f.Schema))
		}
		b.WriteByte('}')
	case schema.TypeArray:
		b.WriteString("[" + renderSchema(s.ValueSchema) + "]")
	case schema.TypeMap:
		b.WriteString("[" + renderSchema(s.KeySchema) + "," + renderSchema(s.ValueSchema) + "]")
	}
	if s.Default != nil {
		b.WriteString("=" + renderValue(s.Default))
	}
	return b.String()
}

// renderValue renders a value with its Go type, so int32(1) and int64(1)
// differ.
func renderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case int8:
		return fmt.Sprintf("%di8", x)
	case int16:
		return fmt.Sprintf("%di16", x)
	case int32:
		return fmt.Sprintf("%di32", x)
	case int64:
		return fmt.Sprintf("%di64", x)
	case int:
		return fmt.Sprintf("%dint", x)
	case float32:
		return fmt.Sprintf("%vf32", x)
	case float64:
		return fmt.Sprintf("%vf64", x)
	case bool:
		return strconv.FormatBool(x)
	case []byte:
		return "b64:" + base64.StdEncoding.EncodeToString(x)
	case time.Time:
		return "t:" + x.UTC().Format(time.RFC3339Nano)
	case decimal.Decimal:
		return "dec:" + x.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = renderValue(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + renderValue(x[k])
		}
		return "map{" + strings.Join(parts, ",") + "}"
	case map[any]any:
		parts := make([]string, 0, len(x))
		for k, e := range x {
			parts = append(parts, renderValue(k)+":"+renderValue(e))
		}
		sort.Strings(parts)
		return "mapany{" + strings.Join(parts, ",") + "}"
	case *schema.Struct:
		if x == nil {
			return "null-struct"
		}
		parts := make([]string, len(x.Values))
		for i, e := range x.Values {
			name := "?"
			if i < len(x.Schema.Fields) {
				name = x.Schema.Fields[i].Name
			}
			parts[i] = name + "=" + renderValue(e)
		}
		return "struct{" + strings.Join(parts, ",") + "}"
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

func renderHeaders(hs []schema.Header) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		if h.Value == nil {
			parts[i] = h.Key + "=<null>"
		} else {
			parts[i] = h.Key + "=" + strconv.Quote(string(h.Value))
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func renderRecord(r schema.Record) string {
	return fmt.Sprintf("topic=%s partition=%d offset=%d ts=%s\n key=%s %s\n value=%s %s\n headers=%s",
		r.Topic, r.Partition, r.Offset, r.Timestamp.UTC().Format(time.RFC3339Nano),
		renderSchema(r.KeySchema), renderValue(r.Key), renderSchema(r.ValueSchema), renderValue(r.Value), renderHeaders(r.Headers))
}

// structSchema builds a struct schema from name/schema pairs.
func structSchema(name string, pairs ...any) *schema.Schema {
	b := schema.StructBuilder().Name(name)
	for i := 0; i < len(pairs); i += 2 {
		b.Field(pairs[i].(string), pairs[i+1].(*schema.Schema))
	}
	return b.Build()
}

func mkStruct(s *schema.Schema, vals ...any) *schema.Struct {
	return &schema.Struct{Schema: s, Values: vals}
}

func optional(s *schema.Schema) *schema.Schema { return s.WithOptional(true) }

var testTime = time.Date(2023, 10, 1, 12, 34, 56, 789_000_000, time.UTC)

// baseRecord is a sink-side record with headers that have spare capacity,
// so a transform appending in place would be caught.
func baseRecord() schema.Record {
	hs := make([]schema.Header, 1, 8)
	hs[0] = schema.Header{Key: "h0", Value: []byte("v0")}
	return schema.Record{Topic: "test", Partition: 3, Offset: 42, Timestamp: testTime, Headers: hs}
}

func mustChain(t testing.TB, cfg map[string]string) *Chain {
	t.Helper()
	c, err := Parse(cfg)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// one builds a one-transform config.
func one(class string, kv ...string) map[string]string {
	cfg := map[string]string{"transforms": "t", "transforms.t.type": class}
	for i := 0; i < len(kv); i += 2 {
		cfg["transforms.t."+kv[i]] = kv[i+1]
	}
	return cfg
}

// applyChecked applies c to in and checks the input was not modified and
// that every output Struct points at the record's schema.
func applyChecked(t *testing.T, c *Chain, in schema.Record) (schema.Record, bool, error) {
	t.Helper()
	before := renderRecord(in)
	hdrs := in.Headers[:cap(in.Headers)]
	spare := renderHeaders(hdrs)
	out, keep, err := c.Apply(in)
	if after := renderRecord(in); after != before {
		t.Errorf("input record modified:\nbefore %s\nafter  %s", before, after)
	}
	if s := renderHeaders(hdrs); s != spare {
		t.Errorf("input headers backing array modified: %s -> %s", spare, s)
	}
	if err == nil && keep {
		if st, ok := out.Value.(*schema.Struct); ok && st != nil && st.Schema != out.ValueSchema {
			t.Errorf("value struct schema %s is not the record's value schema %s", renderSchema(st.Schema), renderSchema(out.ValueSchema))
		}
		if st, ok := out.Key.(*schema.Struct); ok && st != nil && st.Schema != out.KeySchema {
			t.Errorf("key struct schema %s is not the record's key schema %s", renderSchema(st.Schema), renderSchema(out.KeySchema))
		}
	}
	return out, keep, err
}

// sideCase is one $Key/$Value transform case, written for the operating side
// and run on both.
type sideCase struct {
	name    string
	smt     string // simple class name without $Key/$Value, e.g. "Cast"
	conf    []string
	inS     *schema.Schema
	in      any
	wantS   *schema.Schema
	want    any
	wantErr string
	source  bool // make it a source record (no Kafka offset)
}

const kafkaPkg = "org.apache.kafka.connect.transforms."

func runSideCases(t *testing.T, cases []sideCase) {
	t.Helper()
	otherS := schema.StringSchema
	const other = "untouched"
	for _, tc := range cases {
		for _, sd := range []side{keySide, valueSide} {
			suffix := "$Value"
			if sd == keySide {
				suffix = "$Key"
			}
			t.Run(tc.name+"/"+sd.String(), func(t *testing.T) {
				c := mustChain(t, one(kafkaPkg+tc.smt+suffix, tc.conf...))
				in := baseRecord()
				if tc.source {
					in.SourcePartition = map[string]any{"server": "s"}
					in.SourceOffset = map[string]any{"pos": int64(1)}
				}
				if sd == keySide {
					in.KeySchema, in.Key, in.ValueSchema, in.Value = tc.inS, tc.in, otherS, other
				} else {
					in.KeySchema, in.Key, in.ValueSchema, in.Value = otherS, other, tc.inS, tc.in
				}
				out, keep, err := applyChecked(t, c, in)
				if tc.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("error = %v, want containing %q", err, tc.wantErr)
					}
					return
				}
				if err != nil || !keep {
					t.Fatalf("Apply: keep=%v err=%v", keep, err)
				}
				gotS, got := out.ValueSchema, out.Value
				os, ov := out.KeySchema, out.Key
				if sd == keySide {
					gotS, got, os, ov = out.KeySchema, out.Key, out.ValueSchema, out.Value
				}
				if g, w := renderSchema(gotS), renderSchema(tc.wantS); g != w {
					t.Errorf("schema:\n got  %s\n want %s", g, w)
				}
				if g, w := renderValue(got), renderValue(tc.want); g != w {
					t.Errorf("value:\n got  %s\n want %s", g, w)
				}
				if os != otherS || ov != other {
					t.Errorf("other side changed: %s %s", renderSchema(os), renderValue(ov))
				}
				if out.Topic != in.Topic || renderHeaders(out.Headers) != renderHeaders(in.Headers) {
					t.Errorf("topic/headers changed: %s %s", out.Topic, renderHeaders(out.Headers))
				}
			})
		}
	}
}
