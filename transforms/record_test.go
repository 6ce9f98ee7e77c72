package transforms

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

// The InsertHeader config from issue 9, verbatim.
func TestInsertHeaderIssueConfig(t *testing.T) {
	c := mustChain(t, map[string]string{
		"transforms":                           "InsertHeader",
		"transforms.InsertHeader.type":         "org.apache.kafka.connect.transforms.InsertHeader",
		"transforms.InsertHeader.header.name":  "source",
		"transforms.InsertHeader.header.value": "mysql-connector",
	})
	s := structSchema("k", "id", schema.Int32Schema)
	recs := []schema.Record{baseRecord(), baseRecord(), baseRecord(), baseRecord()}
	recs[0].ValueSchema, recs[0].Value = s, mkStruct(s, int32(1))
	recs[1].Value = map[string]any{"id": int64(2)}
	recs[2].Value = nil // tombstone
	recs[3].Headers = nil
	for i, in := range recs {
		out, keep, err := applyChecked(t, c, in)
		if err != nil || !keep {
			t.Fatalf("record %d: keep=%v err=%v", i, keep, err)
		}
		v, ok := out.Header("source")
		if !ok || string(v) != "mysql-connector" {
			t.Errorf("record %d: headers %s", i, renderHeaders(out.Headers))
		}
		if len(out.Headers) != len(in.Headers)+1 {
			t.Errorf("record %d: headers %s, want the input's plus one", i, renderHeaders(out.Headers))
		}
	}
}

func TestInsertHeaderKafkaKeys(t *testing.T) {
	c := mustChain(t, one(kafkaPkg+"InsertHeader", "header", "app.id", "value.literal", "best-app"))
	out, _, err := applyChecked(t, c, baseRecord())
	if err != nil || renderHeaders(out.Headers) != `[h0="v0",app.id="best-app"]` {
		t.Fatalf("got %s err=%v", renderHeaders(out.Headers), err)
	}
}

func TestDropHeaders(t *testing.T) {
	c := mustChain(t, one(kafkaPkg+"DropHeaders", "headers", "source,h0"))
	in := baseRecord()
	in.Headers = append(in.Headers, schema.Header{Key: "source", Value: []byte("x")}, schema.Header{Key: "keep", Value: []byte("y")},
		schema.Header{Key: "h0", Value: []byte("again")})
	out, keep, err := applyChecked(t, c, in)
	if err != nil || !keep || renderHeaders(out.Headers) != `[keep="y"]` {
		t.Fatalf("got %s keep=%v err=%v", renderHeaders(out.Headers), keep, err)
	}
}

func TestHeaderFrom(t *testing.T) {
	inner := structSchema("", "a", schema.Int32Schema, "b", schema.StringSchema)
	s := structSchema("rec", "id", schema.Int32Schema, "ts", schema.TimestampSchema(false), "name", schema.StringSchema,
		"nested", inner, "f", schema.Float64Schema, "none", schema.OptionalString)
	moved := structSchema("rec") // every field moved
	val := mkStruct(s, int32(42), testTime, "x", mkStruct(inner, int32(1), "q\"q"), 2.5, nil)
	for _, sd := range []string{"Key", "Value"} {
		for _, tc := range []struct {
			name, op  string
			schemaful bool
		}{{"copy", "copy", true}, {"move", "move", true}, {"copy schemaless", "copy", false}, {"move schemaless", "move", false}} {
			t.Run(sd+"/"+tc.name, func(t *testing.T) {
				c := mustChain(t, one(kafkaPkg+"HeaderFrom$"+sd, "fields", "id,name,ts,nested,f,none",
					"headers", "record_id,record_name,record_ts,n,f,none", "operation", tc.op))
				in := baseRecord()
				var inS *schema.Schema
				var inV any = map[string]any{"id": int64(42), "name": "x", "ts": testTime, "nested": map[string]any{"b": "q\"q", "a": int64(1)},
					"f": 2.5, "none": nil}
				if tc.schemaful {
					inS, inV = s, val
				}
				if sd == "Key" {
					in.KeySchema, in.Key = inS, inV
				} else {
					in.ValueSchema, in.Value = inS, inV
				}
				out, keep, err := applyChecked(t, c, in)
				if err != nil || !keep {
					t.Fatalf("keep=%v err=%v", keep, err)
				}
				want := `[h0="v0",record_id="42",record_name="x",record_ts="2023-10-01T12:34:56.789Z",n="{\"a\":1,\"b\":\"q\\\"q\"}",f="2.5",none=<null>]`
				if got := renderHeaders(out.Headers); got != want {
					t.Errorf("headers:\n got  %s\n want %s", got, want)
				}
				gotS, gotV := out.ValueSchema, out.Value
				if sd == "Key" {
					gotS, gotV = out.KeySchema, out.Key
				}
				switch {
				case tc.op == "copy":
					if gotS != inS || renderValue(gotV) != renderValue(inV) {
						t.Errorf("copy changed the %s: %s", sd, renderValue(gotV))
					}
				case tc.schemaful:
					if renderSchema(gotS) != renderSchema(moved) || renderValue(gotV) != renderValue(mkStruct(moved)) {
						t.Errorf("move: %s %s", renderSchema(gotS), renderValue(gotV))
					}
				default:
					if renderValue(gotV) != `map{}` {
						t.Errorf("move schemaless: %s", renderValue(gotV))
					}
				}
			})
		}
	}
	t.Run("partial move", func(t *testing.T) {
		c := mustChain(t, one(kafkaPkg+"HeaderFrom$Value", "fields", "id,none", "headers", "id,none", "operation", "move"))
		in := baseRecord()
		in.ValueSchema, in.Value = s, val
		out, _, err := applyChecked(t, c, in)
		rest := structSchema("rec", "ts", schema.TimestampSchema(false), "name", schema.StringSchema, "nested", inner, "f", schema.Float64Schema)
		if err != nil || renderSchema(out.ValueSchema) != renderSchema(rest) ||
			renderValue(out.Value) != renderValue(mkStruct(rest, testTime, "x", val.Values[3], 2.5)) {
			t.Fatalf("got %s err=%v", renderRecord(out), err)
		}
	})
	t.Run("missing field", func(t *testing.T) {
		c := mustChain(t, one(kafkaPkg+"HeaderFrom$Value", "fields", "zip", "headers", "z", "operation", "copy"))
		in := baseRecord()
		in.ValueSchema, in.Value = s, val
		if _, _, err := applyChecked(t, c, in); err == nil || !strings.Contains(err.Error(), "field zip") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestValueToKey(t *testing.T) {
	s := structSchema("rec", "userId", schema.Int32Schema, "city", schema.StringSchema, "state", schema.OptionalString)
	key := structSchema("", "userId", schema.Int32Schema, "city", schema.StringSchema)
	c := mustChain(t, one(kafkaPkg+"ValueToKey", "fields", "userId,city"))
	in := baseRecord()
	in.ValueSchema, in.Value = s, mkStruct(s, int32(7), "Oslo", nil)
	out, _, err := applyChecked(t, c, in)
	if err != nil || renderSchema(out.KeySchema) != renderSchema(key) || renderValue(out.Key) != renderValue(mkStruct(key, int32(7), "Oslo")) {
		t.Fatalf("got %s err=%v", renderRecord(out), err)
	}
	if out.ValueSchema != s || out.Value != in.Value {
		t.Errorf("value changed")
	}

	in.ValueSchema, in.Value = nil, map[string]any{"userId": int64(7), "city": "Oslo", "state": "x"}
	out, _, err = applyChecked(t, c, in)
	if err != nil || out.KeySchema != nil || renderValue(out.Key) != `map{city:"Oslo",userId:7i64}` {
		t.Fatalf("schemaless: got %s err=%v", renderRecord(out), err)
	}

	c = mustChain(t, one(kafkaPkg+"ValueToKey", "fields", "userId,zip"))
	in.ValueSchema, in.Value = s, mkStruct(s, int32(7), "Oslo", nil)
	if _, _, err := applyChecked(t, c, in); err == nil || !strings.Contains(err.Error(), "Field does not exist: zip") {
		t.Fatalf("err = %v", err)
	}
}

// The JDBC source keying recipe from the spec: ValueToKey then ExtractField$Key.
func TestJDBCKeyingRecipe(t *testing.T) {
	c := mustChain(t, map[string]string{
		"transforms":                  "createKey,extractId",
		"transforms.createKey.type":   "org.apache.kafka.connect.transforms.ValueToKey",
		"transforms.createKey.fields": "id",
		"transforms.extractId.type":   "org.apache.kafka.connect.transforms.ExtractField$Key",
		"transforms.extractId.field":  "id",
	})
	s := structSchema("orders", "id", schema.Int64Schema, "total", schema.Float64Schema)
	in := baseRecord()
	in.ValueSchema, in.Value = s, mkStruct(s, int64(1001), 9.5)
	out, _, err := applyChecked(t, c, in)
	if err != nil || out.KeySchema != schema.Int64Schema || out.Key != int64(1001) {
		t.Fatalf("got %s err=%v", renderRecord(out), err)
	}
}

func TestRegexRouter(t *testing.T) {
	for _, tc := range []struct{ regex, repl, topic, want string }{
		{"soe-(.*)", "$1", "soe-Order", "Order"}, // Confluent docs example
		{"(.*)-(.*)", "$2_$1", "a-b", "b_a"},     // several groups
		{"soe", "x", "soe-Order", "soe-Order"},   // Java matches(): must match the whole topic
		{"dbserver1\\.inventory\\.(.*)", "$1", "dbserver1.inventory.customers", "customers"},
		{"(?<db>[^.]+)\\.(?<t>.*)", "${t}_in_${db}", "shop.orders", "orders_in_shop"},
		{"(.*)", "\\$$1", "x", "$x"},                                        // escaped dollar
		{"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)", "$10-$11", "abcdefghij", "j-a1"}, // Java: $11 is $1 then '1' with 10 groups
	} {
		c := mustChain(t, one(kafkaPkg+"RegexRouter", "regex", tc.regex, "replacement", tc.repl))
		in := baseRecord()
		in.Topic = tc.topic
		for range 2 { // second time from the memo
			out, keep, err := applyChecked(t, c, in)
			if err != nil || !keep || out.Topic != tc.want {
				t.Errorf("%s → %s on %s: got %q err=%v", tc.regex, tc.repl, tc.topic, out.Topic, err)
			}
		}
	}
}

func TestTimestampRouter(t *testing.T) {
	c := mustChain(t, one(kafkaPkg+"TimestampRouter", "topic.format", "foo-${topic}-${timestamp}", "timestamp.format", "YYYYMM"))
	out, _, err := applyChecked(t, c, baseRecord())
	if err != nil || out.Topic != "foo-test-202310" {
		t.Fatalf("got %q err=%v", out.Topic, err)
	}
	c = mustChain(t, one(kafkaPkg+"TimestampRouter"))
	out, _, err = applyChecked(t, c, baseRecord())
	if err != nil || out.Topic != "test-20231001" {
		t.Fatalf("defaults: got %q err=%v", out.Topic, err)
	}
	in := baseRecord()
	in.Timestamp = time.Time{}
	if _, _, err := applyChecked(t, c, in); err == nil || !strings.Contains(err.Error(), "Timestamp missing") {
		t.Fatalf("err = %v", err)
	}
}

func TestFilterWithPredicates(t *testing.T) {
	cfg := map[string]string{
		"transforms":                          "dropFoo,dropTombstones,dropMarked",
		"transforms.dropFoo.type":             kafkaPkg + "Filter",
		"transforms.dropFoo.predicate":        "isFoo",
		"transforms.dropTombstones.type":      kafkaPkg + "Filter",
		"transforms.dropTombstones.predicate": "tomb",
		"transforms.dropMarked.type":          kafkaPkg + "Filter",
		"transforms.dropMarked.predicate":     "unmarked",
		"transforms.dropMarked.negate":        "true",
		"predicates":                          "isFoo,tomb,unmarked",
		"predicates.isFoo.type":               kafkaPkg + "predicates.TopicNameMatches",
		"predicates.isFoo.pattern":            "foo.*",
		"predicates.tomb.type":                kafkaPkg + "predicates.RecordIsTombstone",
		"predicates.unmarked.type":            kafkaPkg + "predicates.HasHeaderKey",
		"predicates.unmarked.name":            "keep-me",
	}
	c := mustChain(t, cfg)
	mk := func(topic string, v any, hdr bool) schema.Record {
		r := baseRecord()
		r.Topic, r.Value = topic, v
		if hdr {
			r.Headers = appendHeaders(r.Headers, schema.Header{Key: "keep-me"})
		}
		return r
	}
	for _, tc := range []struct {
		name string
		rec  schema.Record
		keep bool
	}{
		{"topic matches foo.*", mk("foo-bar", "v", true), false},
		{"pattern must match the whole topic", mk("xfoo", "v", true), true},
		{"tombstone", mk("bar", nil, true), false},
		{"no keep-me header: negated predicate filters", mk("bar", "v", false), false},
		{"survivor", mk("bar", "v", true), true},
	} {
		_, keep, err := applyChecked(t, c, tc.rec)
		if err != nil || keep != tc.keep {
			t.Errorf("%s: keep=%v err=%v, want keep=%v", tc.name, keep, err, tc.keep)
		}
	}
}

func TestSimpleClassNamesAndAliases(t *testing.T) {
	for _, class := range []string{"RegexRouter", "org.apache.kafka.connect.transforms.RegexRouter"} {
		if _, err := Parse(one(class, "regex", "x", "replacement", "y")); err != nil {
			t.Errorf("%s: %v", class, err)
		}
	}
	if _, err := Parse(one("io.debezium.transforms.UnwrapFromEnvelope")); err != nil {
		t.Errorf("UnwrapFromEnvelope: %v", err)
	}
	if _, err := Parse(one("ExtractNewRecordState")); err != nil {
		t.Errorf("ExtractNewRecordState: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  map[string]string
		want []string // "key: message fragment"
	}{
		{"missing type", map[string]string{"transforms": "a"}, []string{`transforms.a.type: Missing required configuration "transforms.a.type"`}},
		{"unknown class", one("com.example.Nope"), []string{"transforms.t.type: Invalid value com.example.Nope for configuration transforms.t.type: Class com.example.Nope could not be found."}},
		{"missing required key", one(kafkaPkg + "Cast$Value"), []string{`transforms.t.spec: Missing required configuration "transforms.t.spec"`}},
		{"bad cast spec", one(kafkaPkg+"Cast$Value", "spec", "a:decimal"), []string{"transforms.t.spec: Invalid value [a:decimal] for configuration transforms.t.spec: Invalid type found in casting spec: decimal"}},
		{"cast to bytes", one(kafkaPkg+"Cast$Key", "spec", "bytes"), []string{"transforms.t.spec: ", "does not support casting to BYTES"}},
		{"bad regex", one(kafkaPkg+"RegexRouter", "regex", "(?<=x)y", "replacement", "z"), []string{"transforms.t.regex: ", "not a valid regular expression"}},
		{"bad group reference", one(kafkaPkg+"RegexRouter", "regex", "(x)", "replacement", "$2"), []string{"transforms.t.replacement: ", "No group 2"}},
		{"bad renames", one(kafkaPkg+"ReplaceField$Value", "renames", "a:b:c"), []string{"transforms.t.renames: ", "Invalid rename mapping: a:b:c"}},
		{"string target without format", one(kafkaPkg+"TimestampConverter$Value", "target.type", "string"), []string{"transforms.t.format: TimestampConverter requires format option"}},
		{"bad target type", one(kafkaPkg+"TimestampConverter$Value", "target.type", "epoch"), []string{"transforms.t.target.type: ", "String must be one of"}},
		{"bad date pattern", one(kafkaPkg+"TimestampRouter", "timestamp.format", "yyyy-bb"), []string{"transforms.t.timestamp.format: ", "Illegal pattern character 'b'"}},
		{"headers/fields mismatch", one(kafkaPkg+"HeaderFrom$Value", "fields", "a,b", "headers", "x", "operation", "copy"), []string{"transforms.t.fields: 'fields' config must have the same number of elements as 'headers' config."}},
		{"bad operation", one(kafkaPkg+"HeaderFrom$Value", "fields", "a", "headers", "x", "operation", "steal"), []string{"transforms.t.operation: "}},
		{"empty mask list", one(kafkaPkg+"MaskField$Value", "fields", ""), []string{"transforms.t.fields: ", "Empty list"}},
		{"set schema metadata with nothing to set", one(kafkaPkg + "SetSchemaMetadata$Value"), []string{"transforms.t.schema.name: Neither schema name nor version configured"}},
		{"bad negate", map[string]string{"transforms": "t", "transforms.t.type": kafkaPkg + "Filter", "transforms.t.negate": "maybe"}, []string{"transforms.t.negate: "}},
		{"undefined predicate", map[string]string{"transforms": "t", "transforms.t.type": kafkaPkg + "Filter", "transforms.t.predicate": "p"}, []string{`transforms.t.predicate: `, `predicate "p" is not listed in "predicates"`}},
		{"predicate missing key", map[string]string{"predicates": "p", "predicates.p.type": kafkaPkg + "predicates.TopicNameMatches"}, []string{`predicates.p.pattern: Missing required configuration "predicates.p.pattern"`}},
		{"predicate class is not a transform", one(kafkaPkg + "predicates.RecordIsTombstone"), []string{"transforms.t.type: ", "could not be found"}},
		{"duplicate alias", map[string]string{"transforms": "a,a", "transforms.a.type": kafkaPkg + "Filter"}, []string{"transforms: Duplicate alias provided: a"}},
		{"key field replacement needed", one("io.debezium.transforms.ByLogicalTableRouter", "topic.regex", "(.*)", "topic.replacement", "x", "key.field.regex", "(.*)"),
			[]string{"transforms.t.key.field.replacement: key.field.replacement must be non-empty if key.field.regex is set."}},
		{"bad delete mode", one("io.debezium.transforms.ExtractNewRecordState", "delete.tombstone.handling.mode", "explode"), []string{"transforms.t.delete.tombstone.handling.mode: "}},
		{"V2 paths only for ExtractField", one(kafkaPkg+"ValueToKey", "fields", "a.b", "field.syntax.version", "V2"), []string{"transforms.t.field.syntax.version: "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.cfg)
			var ces config.Errors
			if !errors.As(err, &ces) {
				t.Fatalf("err = %v (%T), want config.Errors", err, err)
			}
			msg := ces.Error()
			key, _, _ := strings.Cut(tc.want[0], ": ")
			found := false
			for _, e := range ces {
				found = found || e.Key == key
			}
			if !found {
				t.Errorf("no error for key %q in %s", key, msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	_, err := Parse(map[string]string{
		"transforms":        "a,b",
		"transforms.a.type": kafkaPkg + "Cast$Value",
		"transforms.b.type": kafkaPkg + "RegexRouter",
	})
	var ces config.Errors
	if !errors.As(err, &ces) || len(ces) != 3 {
		t.Fatalf("want 3 errors (spec, regex, replacement), got %v", err)
	}
}

func TestEmptyChain(t *testing.T) {
	c := mustChain(t, map[string]string{"name": "x"})
	in := baseRecord()
	out, keep, err := c.Apply(in)
	if err != nil || !keep || renderRecord(out) != renderRecord(in) || c.Len() != 0 {
		t.Fatal("empty chain changed the record")
	}
	var nilChain *Chain
	if _, keep, err := nilChain.Apply(in); err != nil || !keep {
		t.Fatal("nil chain")
	}
}

func TestRecordErrorNamesTransform(t *testing.T) {
	c := mustChain(t, one(kafkaPkg+"ExtractField$Value", "field", "nope"))
	in := baseRecord()
	s := structSchema("", "id", schema.Int32Schema)
	in.ValueSchema, in.Value = s, mkStruct(s, int32(1))
	_, _, err := c.Apply(in)
	var te *Error
	if !errors.As(err, &te) || te.Transform != "t" || te.Class != kafkaPkg+"ExtractField$Value" ||
		err.Error() != "transform t (org.apache.kafka.connect.transforms.ExtractField$Value): field nope: Unknown field: nope" {
		t.Fatalf("err = %v", err)
	}
}

func TestDefsAndPlugins(t *testing.T) {
	ps := Plugins()
	reg := connector.NewRegistry().Register(ps...)
	classes := map[string]connector.Type{}
	for _, p := range ps {
		classes[p.Class] = p.Type
		if e, ok := reg.Find(p.Type, p.Class); !ok || e.Def() == nil || e.Config == nil {
			t.Errorf("no def for %s", p.Class)
		}
	}
	for _, want := range []string{
		kafkaPkg + "Cast$Key", kafkaPkg + "Cast$Value", kafkaPkg + "Flatten$Value", kafkaPkg + "MaskField$Key", kafkaPkg + "InsertField$Value",
		kafkaPkg + "ReplaceField$Value", kafkaPkg + "Filter", kafkaPkg + "RegexRouter", kafkaPkg + "TimestampRouter",
		kafkaPkg + "TimestampConverter$Value", kafkaPkg + "HeaderFrom$Key", kafkaPkg + "InsertHeader", kafkaPkg + "DropHeaders",
		kafkaPkg + "ValueToKey", kafkaPkg + "ExtractField$Key", kafkaPkg + "HoistField$Value", kafkaPkg + "SetSchemaMetadata$Value",
		"io.debezium.transforms.ExtractNewRecordState", "io.debezium.transforms.ByLogicalTableRouter",
	} {
		if classes[want] != connector.Transformation {
			t.Errorf("missing transformation %s", want)
		}
	}
	for _, want := range []string{"TopicNameMatches", "HasHeaderKey", "RecordIsTombstone"} {
		if classes[kafkaPkg+"predicates."+want] != connector.Predicate {
			t.Errorf("missing predicate %s", want)
		}
	}
	raw := map[string]string{
		"transforms": "route", "transforms.route.type": kafkaPkg + "RegexRouter", "transforms.route.regex": "x",
		"predicates": "p", "predicates.p.type": kafkaPkg + "predicates.HasHeaderKey",
	}
	d := EnrichedDef(reg, raw)
	for _, k := range []string{"transforms", "predicates", "transforms.route.type", "transforms.route.negate", "transforms.route.predicate",
		"transforms.route.regex", "transforms.route.replacement", "predicates.p.type", "predicates.p.name"} {
		if _, ok := d.Lookup(k); !ok {
			t.Errorf("EnrichedDef lacks %s", k)
		}
	}
	if _, err := d.Parse(raw); err == nil || !strings.Contains(err.Error(), "transforms.route.replacement") {
		t.Errorf("EnrichedDef.Parse should report the missing replacement, got %v", err)
	}
	if u := ConfigDef().Unknown(raw); len(u) != 0 {
		t.Errorf("ConfigDef reports owned keys as unknown: %v", u)
	}
}

// Derived schemas are built once per input schema and shared.
func TestSchemaCache(t *testing.T) {
	c := mustChain(t, one(kafkaPkg+"ReplaceField$Value", "exclude", "b"))
	s := structSchema("", "a", schema.Int32Schema, "b", schema.Int32Schema)
	var first *schema.Schema
	for i := range 3 {
		in := baseRecord()
		in.ValueSchema, in.Value = s, mkStruct(s, int32(i), int32(i))
		out, _, err := c.Apply(in)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = out.ValueSchema
		} else if out.ValueSchema != first {
			t.Fatalf("record %d got a new schema", i)
		}
	}
	var cc cache[int, int]
	for i := range cacheSize*2 + 10 {
		cc.put(i, i)
	}
	if n := cc.len(); n > cacheSize+1 {
		t.Errorf("cache holds %d entries", n)
	}
	if v, ok := cc.get(cacheSize*2 + 9); !ok || v != cacheSize*2+9 {
		t.Errorf("recent entry lost")
	}
}

// Run with -race: one chain, many goroutines, a few schemas.
func TestConcurrentApply(t *testing.T) {
	c := mustChain(t, map[string]string{
		"transforms":                   "cast,mask,route",
		"transforms.cast.type":         kafkaPkg + "Cast$Value",
		"transforms.cast.spec":         "a:string",
		"transforms.mask.type":         kafkaPkg + "MaskField$Value",
		"transforms.mask.fields":       "b",
		"transforms.route.type":        kafkaPkg + "RegexRouter",
		"transforms.route.regex":       "t(.*)",
		"transforms.route.replacement": "r$1",
	})
	schemas := make([]*schema.Schema, 8)
	for i := range schemas {
		schemas[i] = structSchema("s", "a", schema.Int32Schema, "b", schema.StringSchema)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				s := schemas[(g+i)%len(schemas)]
				in := baseRecord()
				in.Topic = "t" + string(rune('a'+i%5))
				in.ValueSchema, in.Value = s, mkStruct(s, int32(i), "secret")
				out, _, err := c.Apply(in)
				if err != nil || out.Value.(*schema.Struct).Values[1] != "" || out.Topic[0] != 'r' {
					t.Errorf("bad output %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestMalformedRecordIsAnError(t *testing.T) {
	c := mustChain(t, one(kafkaPkg+"ReplaceField$Value", "exclude", "a"))
	in := baseRecord()
	in.ValueSchema, in.Value = structSchema("", "a", schema.Int32Schema), &schema.Struct{} // no schema
	out, keep, err := c.Apply(in)
	var te *Error
	if keep || !errors.As(err, &te) || te.Transform != "t" || !strings.Contains(err.Error(), "malformed record") || renderRecord(out) != renderRecord(in) {
		t.Fatalf("keep=%v err=%v", keep, err)
	}
}
