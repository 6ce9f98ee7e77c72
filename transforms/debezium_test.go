package transforms

import (
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
)

const enrs = "io.debezium.transforms.ExtractNewRecordState"

// cdcFixture builds Debezium MySQL-style change events with the shared cdc
// envelope builders.
type cdcFixture struct {
	row, src, env, key *schema.Schema
	now                time.Time
}

func newCDCFixture(prefix, table string) *cdcFixture {
	name := prefix + ".inventory." + table
	f := &cdcFixture{now: time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC)}
	f.row = structSchema(name+".Value", "id", schema.Int32Schema, "first_name", schema.StringSchema, "email", schema.OptionalString)
	f.key = structSchema(name+".Key", "id", schema.Int32Schema)
	srcFields := append(cdc.CommonSourceFields(),
		schema.Field{Name: "table", Schema: schema.OptionalString},
		schema.Field{Name: "server_id", Schema: schema.Int64Schema},
		schema.Field{Name: "file", Schema: schema.StringSchema},
		schema.Field{Name: "pos", Schema: schema.Int64Schema})
	f.src = schema.NewStructSchema("io.debezium.connector.mysql.Source", srcFields...)
	f.env = cdc.EnvelopeSchema(name+".Envelope", f.row, f.src)
	return f
}

func (f *cdcFixture) source(table string) *schema.Struct {
	return mkStruct(f.src, cdc.Version, "mysql", "dbserver1", f.now.UnixMilli(), "false", "inventory", nil,
		f.now.UnixMicro(), f.now.UnixNano(), table, int64(223344), "mysql-bin.000003", int64(154))
}

func (f *cdcFixture) rowOf(id int32, name string) *schema.Struct {
	return mkStruct(f.row, id, name, name+"@example.com")
}

// event returns the record Debezium emits for op on topic dbserver1.inventory.customers.
func (f *cdcFixture) event(op cdc.Op, before, after *schema.Struct) schema.Record {
	r := baseRecord()
	r.Topic = "dbserver1.inventory.customers"
	id := int32(0)
	if after != nil {
		id = after.Values[0].(int32)
	} else if before != nil {
		id = before.Values[0].(int32)
	}
	if op != cdc.OpTruncate {
		r.KeySchema, r.Key = f.key, mkStruct(f.key, id)
	}
	r.ValueSchema = f.env
	r.Value = cdc.NewEnvelope(f.env, op, before, after, f.source("customers"), nil, f.now)
	return r
}

func (f *cdcFixture) tombstone(id int32) schema.Record {
	r := baseRecord()
	r.Topic = "dbserver1.inventory.customers"
	r.KeySchema, r.Key = f.key, mkStruct(f.key, id)
	return r
}

func TestExtractNewRecordState(t *testing.T) {
	f := newCDCFixture("dbserver1", "customers")
	anne, anne2 := f.rowOf(1004, "Anne"), f.rowOf(1004, "Anne Marie")
	flat := structSchema(f.row.Name, "id", schema.Int32Schema, "first_name", schema.StringSchema, "email", schema.OptionalString)
	rewritten := structSchema(f.row.Name, "id", schema.Int32Schema, "first_name", schema.StringSchema, "email", schema.OptionalString,
		"__deleted", schema.OptionalString)
	withFields := structSchema(f.row.Name, "id", schema.Int32Schema, "first_name", schema.StringSchema, "email", schema.OptionalString,
		"__deleted", schema.OptionalString, "__op", schema.OptionalString, "__table", schema.OptionalString, "__source_ts_ms", schema.OptionalInt64) // Debezium 3.6.1's order (integration/smtdiff)
	renamedField := structSchema(f.row.Name, "id", schema.Int32Schema, "first_name", schema.StringSchema, "email", schema.OptionalString,
		"meta_tbl", schema.OptionalString, "meta_id", schema.OptionalString, "meta_ts_us", schema.OptionalInt64)

	create := f.event(cdc.OpCreate, nil, anne)
	read := f.event(cdc.OpRead, nil, anne)
	update := f.event(cdc.OpUpdate, anne, anne2)
	del := f.event(cdc.OpDelete, anne2, nil)
	tomb := f.tombstone(1004)
	trunc := f.event(cdc.OpTruncate, nil, nil)
	heartbeat := baseRecord()
	heartbeat.KeySchema, heartbeat.Key = cdc.HeartbeatKeySchema, mkStruct(cdc.HeartbeatKeySchema, "dbserver1")
	heartbeat.ValueSchema, heartbeat.Value = cdc.HeartbeatValueSchema, mkStruct(cdc.HeartbeatValueSchema, int64(1))

	type want struct {
		dropped bool
		s       *schema.Schema
		v       any
		headers string
		topic   string
	}
	afterSchema := f.env.Fields[cdc.EnvAfter].Schema
	keep := func(s *schema.Schema, v any) want { return want{s: s, v: v} }
	cases := []struct {
		name string
		conf []string
		in   schema.Record
		want want
	}{
		{"create", nil, create, keep(flat, mkStruct(flat, int32(1004), "Anne", "Anne@example.com"))},
		{"snapshot read", nil, read, keep(flat, mkStruct(flat, int32(1004), "Anne", "Anne@example.com"))},
		{"update", nil, update, keep(flat, mkStruct(flat, int32(1004), "Anne Marie", "Anne Marie@example.com"))},
		{"delete (default tombstone mode): null value keeps the row schema", nil, del, keep(afterSchema, nil)},
		{"debezium tombstone dropped by default", nil, tomb, want{dropped: true}},
		{"truncate dropped", nil, trunc, want{dropped: true}},
		{"non-envelope passes through", nil, heartbeat, keep(heartbeat.ValueSchema, heartbeat.Value)},

		{"drop: delete dropped", []string{"delete.tombstone.handling.mode", "drop"}, del, want{dropped: true}},
		{"drop: create kept", []string{"delete.tombstone.handling.mode", "drop"}, create, keep(flat, mkStruct(flat, int32(1004), "Anne", "Anne@example.com"))},
		{"rewrite: create", []string{"delete.tombstone.handling.mode", "rewrite"}, create,
			keep(rewritten, mkStruct(rewritten, int32(1004), "Anne", "Anne@example.com", "false"))},
		{"rewrite: delete gives before + __deleted=true", []string{"delete.tombstone.handling.mode", "rewrite"}, del,
			keep(rewritten, mkStruct(rewritten, int32(1004), "Anne Marie", "Anne Marie@example.com", "true"))},
		{"rewrite: tombstone dropped", []string{"delete.tombstone.handling.mode", "rewrite"}, tomb, want{dropped: true}},
		{"rewrite-with-tombstone: tombstone kept", []string{"delete.tombstone.handling.mode", "rewrite-with-tombstone"}, tomb, keep(nil, nil)},
		{"delete-to-tombstone: delete becomes a real tombstone", []string{"delete.tombstone.handling.mode", "delete-to-tombstone"}, del, keep(nil, nil)},
		{"delete-to-tombstone: tombstone dropped", []string{"delete.tombstone.handling.mode", "delete-to-tombstone"}, tomb, want{dropped: true}},

		{"legacy rewrite, keep tombstones", []string{"delete.handling.mode", "rewrite", "drop.tombstones", "false"}, del,
			keep(rewritten, mkStruct(rewritten, int32(1004), "Anne Marie", "Anne Marie@example.com", "true"))},
		{"legacy keeps tombstones", []string{"delete.handling.mode", "rewrite", "drop.tombstones", "false"}, tomb, keep(nil, nil)},
		{"legacy default drops deletes", []string{"drop.tombstones", "true"}, del, want{dropped: true}},
		{"legacy none keeps the null delete", []string{"delete.handling.mode", "none"}, del, keep(afterSchema, nil)},
		{"new mode wins over legacy keys", []string{"delete.tombstone.handling.mode", "drop", "delete.handling.mode", "rewrite"}, del, want{dropped: true}},

		{"docs example add.fields=op,table,source.ts_ms + rewrite",
			[]string{"delete.tombstone.handling.mode", "rewrite", "add.fields", "op,table,source.ts_ms"}, update,
			keep(withFields, mkStruct(withFields, int32(1004), "Anne Marie", "Anne Marie@example.com", "false", "u", "customers", f.now.UnixMilli()))},
		{"add.fields on a rewritten delete", []string{"delete.tombstone.handling.mode", "rewrite", "add.fields", "op,table,source.ts_ms"}, del,
			keep(withFields, mkStruct(withFields, int32(1004), "Anne Marie", "Anne Marie@example.com", "true", "d", "customers", f.now.UnixMilli()))},
		{"add.fields renames, prefix, transaction and top-level fields, unknown skipped",
			[]string{"add.fields.prefix", "meta_", "add.fields", "table:tbl,id,ts_us,nonexistent"}, create,
			keep(renamedField, mkStruct(renamedField, int32(1004), "Anne", "Anne@example.com", "customers", nil, f.now.UnixMicro()))},
		{"add.headers", []string{"add.headers", "op,db,source.pos"}, create,
			want{s: flat, v: mkStruct(flat, int32(1004), "Anne", "Anne@example.com"), headers: `[h0="v0",__op="c",__db="inventory",__source_pos="154"]`}},
		{"add.headers on a kept tombstone adds only op=d", []string{"delete.tombstone.handling.mode", "rewrite-with-tombstone", "add.headers", "op,db"}, tomb,
			want{headers: `[h0="v0",__op="d"]`}},
		{"route.by.field", []string{"route.by.field", "first_name"}, create,
			want{s: flat, v: mkStruct(flat, int32(1004), "Anne", "Anne@example.com"), topic: "Anne"}},
		{"route.by.field uses before for deletes", []string{"route.by.field", "first_name"}, del, want{s: afterSchema, topic: "Anne Marie"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustChain(t, one(enrs, tc.conf...))
			out, kept, err := applyChecked(t, c, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if kept == tc.want.dropped {
				t.Fatalf("kept=%v, want dropped=%v: %s", kept, tc.want.dropped, renderRecord(out))
			}
			if !kept {
				return
			}
			if g, w := renderSchema(out.ValueSchema), renderSchema(tc.want.s); g != w {
				t.Errorf("schema:\n got  %s\n want %s", g, w)
			}
			if g, w := renderValue(out.Value), renderValue(tc.want.v); g != w {
				t.Errorf("value:\n got  %s\n want %s", g, w)
			}
			wantTopic := tc.want.topic
			if wantTopic == "" {
				wantTopic = tc.in.Topic
			}
			if out.Topic != wantTopic {
				t.Errorf("topic %q, want %q", out.Topic, wantTopic)
			}
			wantHeaders := tc.want.headers
			if wantHeaders == "" {
				wantHeaders = renderHeaders(tc.in.Headers)
			}
			if g := renderHeaders(out.Headers); g != wantHeaders {
				t.Errorf("headers %s, want %s", g, wantHeaders)
			}
			if out.KeySchema != tc.in.KeySchema || out.Key != tc.in.Key {
				t.Errorf("key changed")
			}
		})
	}
}

// Envelopes read without schemas (JsonConverter schemas.enable=false).
func TestExtractNewRecordStateSchemaless(t *testing.T) {
	env := func(op string, before, after any) schema.Record {
		r := baseRecord()
		r.Key = map[string]any{"id": int64(1)}
		r.Value = map[string]any{"before": before, "after": after, "op": op, "ts_ms": int64(5),
			"source": map[string]any{"table": "customers", "db": "inventory"}}
		return r
	}
	row := map[string]any{"id": int64(1), "name": "x"}
	c := mustChain(t, one(enrs, "delete.tombstone.handling.mode", "rewrite", "add.fields", "op,table", "add.headers", "db"))
	out, keep, err := applyChecked(t, c, env("c", nil, row))
	if err != nil || !keep || renderValue(out.Value) != `map{__deleted:"false",__op:"c",__table:"customers",id:1i64,name:"x"}` ||
		renderHeaders(out.Headers) != `[h0="v0",__db="inventory"]` {
		t.Fatalf("got %s err=%v", renderRecord(out), err)
	}
	out, _, _ = applyChecked(t, c, env("d", row, nil))
	if renderValue(out.Value) != `map{__deleted:"true",__op:"d",__table:"customers",id:1i64,name:"x"}` {
		t.Fatalf("delete: %s", renderValue(out.Value))
	}
	c = mustChain(t, one(enrs))
	out, keep, _ = applyChecked(t, c, env("d", row, nil))
	if !keep || out.Value != nil || out.ValueSchema != nil {
		t.Fatalf("default delete: %s", renderRecord(out))
	}
	out, _, _ = applyChecked(t, c, env("u", row, row))
	if renderValue(out.Value) != renderValue(row) {
		t.Fatalf("update: %s", renderValue(out.Value))
	}
	plain := baseRecord()
	plain.Value = map[string]any{"id": int64(1)}
	if out, keep, _ := applyChecked(t, c, plain); !keep || renderValue(out.Value) != renderValue(plain.Value) {
		t.Fatalf("non-envelope map changed")
	}
}

const blr = "io.debezium.transforms.ByLogicalTableRouter"

func TestByLogicalTableRouter(t *testing.T) {
	f := newCDCFixture("myserver", "customers_shard1")
	anne := f.rowOf(1, "Anne")
	ev := f.event(cdc.OpCreate, nil, anne)
	ev.Topic = "myserver.inventory.customers_shard1"
	const newTopic = "myserver.inventory.customers_all_shards"
	keyS := structSchema(newTopic+".Key", "id", schema.Int32Schema, "__dbz__physicalTableIdentifier", schema.StringSchema)

	// Debezium docs example.
	c := mustChain(t, one(blr, "topic.regex", "(.*)customers_shard(.*)", "topic.replacement", "$1customers_all_shards"))
	out, keep, err := applyChecked(t, c, ev)
	if err != nil || !keep || out.Topic != newTopic {
		t.Fatalf("got %s err=%v", renderRecord(out), err)
	}
	if g, w := renderSchema(out.KeySchema), renderSchema(keyS); g != w {
		t.Errorf("key schema:\n got  %s\n want %s", g, w)
	}
	if g, w := renderValue(out.Key), renderValue(mkStruct(keyS, int32(1), "myserver.inventory.customers_shard1")); g != w {
		t.Errorf("key %s, want %s", g, w)
	}
	env := out.Value.(*schema.Struct)
	if out.ValueSchema.Name != newTopic+".Envelope" || out.ValueSchema.Version != 2 {
		t.Errorf("envelope schema %s", renderSchema(out.ValueSchema))
	}
	rowS := out.ValueSchema.Fields[cdc.EnvAfter].Schema
	if rowS.Name != newTopic+".Value" || !rowS.Optional || out.ValueSchema.Fields[cdc.EnvBefore].Schema != rowS {
		t.Errorf("row schema %s", renderSchema(rowS))
	}
	after := env.Values[cdc.EnvAfter].(*schema.Struct)
	if after.Schema != rowS || renderValue(after) != renderValue(anne) || env.Values[cdc.EnvBefore] != nil {
		t.Errorf("after %s", renderValue(after))
	}
	if env.Values[cdc.EnvSource] != ev.Value.(*schema.Struct).Values[cdc.EnvSource] || env.Values[cdc.EnvOp] != "c" {
		t.Errorf("other envelope fields changed")
	}
	if err := schema.Validate(out.ValueSchema, out.Value); err != nil {
		t.Errorf("routed envelope invalid: %v", err)
	}
	// Then ExtractNewRecordState still recognizes the renamed envelope.
	c2 := mustChain(t, map[string]string{
		"transforms": "route,unwrap", "transforms.route.type": blr, "transforms.route.topic.regex": "(.*)customers_shard(.*)",
		"transforms.route.topic.replacement": "$1customers_all_shards", "transforms.unwrap.type": enrs,
	})
	out2, _, err := applyChecked(t, c2, ev)
	if err != nil || out2.ValueSchema.Name != newTopic+".Value" || renderValue(out2.Value) != renderValue(anne) {
		t.Errorf("route+unwrap: %s err=%v", renderRecord(out2), err)
	}

	// Tombstones get the new topic and key.
	tomb := f.tombstone(1)
	tomb.Topic = ev.Topic
	out, _, err = applyChecked(t, c, tomb)
	if err != nil || out.Topic != newTopic || out.Value != nil || out.KeySchema.Name != newTopic+".Key" {
		t.Errorf("tombstone: %s err=%v", renderRecord(out), err)
	}

	// key.field.regex/replacement and key.field.name.
	c = mustChain(t, one(blr, "topic.regex", "(.*)customers_shard(.*)", "topic.replacement", "$1customers_all_shards",
		"key.field.name", "shard", "key.field.regex", "(.*)customers_shard(.*)", "key.field.replacement", "$2"))
	out, _, _ = applyChecked(t, c, ev)
	if renderValue(out.Key) != `struct{id=1i32,shard="1"}` {
		t.Errorf("key %s", renderValue(out.Key))
	}
	// No uniqueness field.
	c = mustChain(t, one(blr, "topic.regex", "(.*)customers_shard(.*)", "topic.replacement", "$1customers_all_shards", "key.enforce.uniqueness", "false"))
	out, _, _ = applyChecked(t, c, ev)
	if renderSchema(out.KeySchema) != "struct<"+newTopic+".Key>{id:int32}" {
		t.Errorf("key schema %s", renderSchema(out.KeySchema))
	}
	// Schemaless key, non-matching topic.
	sl := baseRecord()
	sl.Topic, sl.Key, sl.Value = ev.Topic, map[string]any{"id": int64(1)}, map[string]any{"op": "c"}
	out, _, _ = applyChecked(t, c, sl)
	if out.Topic != newTopic || renderValue(out.Key) != `map{id:1i64}` {
		t.Errorf("schemaless: %s", renderRecord(out))
	}
	other := baseRecord()
	other.Topic = "elsewhere"
	if out, _, _ := applyChecked(t, c, other); out.Topic != "elsewhere" {
		t.Errorf("non-matching topic changed")
	}
	// avro name adjustment.
	c = mustChain(t, one(blr, "topic.regex", "(.*)", "topic.replacement", "all-shards", "schema.name.adjustment.mode", "avro"))
	out, _, _ = applyChecked(t, c, ev)
	if out.Topic != "all-shards" || out.KeySchema.Name != "all_shards.Key" || out.ValueSchema.Name != "all_shards.Envelope" {
		t.Errorf("avro names: %s / %s", out.KeySchema.Name, out.ValueSchema.Name)
	}
}

// The acceptance chain of issue 9 without the sink: ExtractNewRecordState →
// ReplaceField → RegexRouter on Debezium envelopes gives flattened, renamed
// rows on the routed topic.
func TestUnwrapRenameRouteChain(t *testing.T) {
	f := newCDCFixture("dbserver1", "customers")
	c := mustChain(t, chainConfig())
	anne, anne2 := f.rowOf(1004, "Anne"), f.rowOf(1004, "Anne Marie")
	want := structSchema(f.row.Name, "id", schema.Int32Schema, "name", schema.StringSchema, "__op", schema.OptionalString)
	for _, tc := range []struct {
		in      schema.Record
		dropped bool
		value   string
	}{
		{f.event(cdc.OpRead, nil, anne), false, `struct{id=1004i32,name="Anne",__op="r"}`},
		{f.event(cdc.OpCreate, nil, anne), false, `struct{id=1004i32,name="Anne",__op="c"}`},
		{f.event(cdc.OpUpdate, anne, anne2), false, `struct{id=1004i32,name="Anne Marie",__op="u"}`},
		{f.event(cdc.OpDelete, anne2, nil), false, `null`},
		{f.tombstone(1004), true, ""},
	} {
		out, keep, err := applyChecked(t, c, tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if keep == tc.dropped {
			t.Fatalf("keep=%v for %s", keep, renderRecord(tc.in))
		}
		if !keep {
			continue
		}
		if out.Topic != "customers_replica" {
			t.Errorf("topic %q", out.Topic)
		}
		if renderValue(out.Value) != tc.value {
			t.Errorf("value %s, want %s", renderValue(out.Value), tc.value)
		}
		if out.Value != nil && renderSchema(out.ValueSchema) != renderSchema(want) {
			t.Errorf("schema %s, want %s", renderSchema(out.ValueSchema), renderSchema(want))
		}
		if out.Value == nil && (out.ValueSchema == nil || !strings.HasSuffix(out.ValueSchema.Name, ".Value")) {
			t.Errorf("delete should keep the row schema, got %s", renderSchema(out.ValueSchema))
		}
		if renderValue(out.Key) != `struct{id=1004i32}` {
			t.Errorf("key %s", renderValue(out.Key))
		}
	}
}

func chainConfig() map[string]string {
	return map[string]string{
		"transforms":                   "unwrap,rename,route",
		"transforms.unwrap.type":       "io.debezium.transforms.ExtractNewRecordState",
		"transforms.unwrap.add.fields": "op",
		"transforms.rename.type":       "org.apache.kafka.connect.transforms.ReplaceField$Value",
		"transforms.rename.exclude":    "email",
		"transforms.rename.renames":    "first_name:name",
		"transforms.route.type":        "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex":       `dbserver1\.inventory\.(.*)`,
		"transforms.route.replacement": "$1_replica",
	}
}
