package jdbcsink

import (
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/schema"
)

func names(cols []*column) string {
	var out []string
	for _, c := range cols {
		out = append(out, c.name)
	}
	return strings.Join(out, ",")
}

func TestExtractFields(t *testing.T) {
	value := schema.NewStructSchema("v",
		schema.Field{Name: "name", Schema: schema.StringSchema},
		schema.Field{Name: "id", Schema: schema.Int64Schema},
		schema.Field{Name: "note", Schema: schema.OptionalString})
	keyStruct := schema.NewStructSchema("k",
		schema.Field{Name: "zz", Schema: schema.Int32Schema},
		schema.Field{Name: "id", Schema: schema.Int64Schema})
	cases := []struct {
		name           string
		pkMode         string
		pkFields       []string
		whitelist      []string
		key            *schema.Schema
		keys, vals, dd string // key columns, non-key columns, DDL order
		err            string
	}{
		{name: "none", pkMode: "none", key: nil, keys: "", vals: "name,id,note", dd: "name,id,note"},
		{name: "kafka", pkMode: "kafka", keys: "__connect_topic,__connect_partition,__connect_offset", vals: "name,id,note",
			dd: "__connect_topic,__connect_partition,__connect_offset,name,id,note"},
		{name: "kafka custom", pkMode: "kafka", pkFields: []string{"t", "p", "o"}, keys: "t,p,o", vals: "name,id,note", dd: "t,p,o,name,id,note"},
		{name: "record_key primitive", pkMode: "record_key", pkFields: []string{"id"}, key: schema.Int64Schema, keys: "id", vals: "name,note", dd: "name,id,note"},
		{name: "record_key primitive needs one field", pkMode: "record_key", key: schema.Int64Schema, err: "exactly one PK column"},
		{name: "record_key struct all", pkMode: "record_key", key: keyStruct, keys: "zz,id", vals: "name,note", dd: "name,id,note,zz"},
		{name: "record_key struct subset", pkMode: "record_key", pkFields: []string{"id"}, key: keyStruct, keys: "id", vals: "name,note", dd: "name,id,note"},
		{name: "record_key missing field", pkMode: "record_key", pkFields: []string{"nope"}, key: keyStruct, err: "does not contain field: nope"},
		{name: "record_key no key schema", pkMode: "record_key", err: "record key schema is missing"},
		{name: "record_value all", pkMode: "record_value", keys: "name,id,note", vals: "", dd: "name,id,note"},
		{name: "record_value subset", pkMode: "record_value", pkFields: []string{"id"}, keys: "id", vals: "name,note", dd: "name,id,note"},
		{name: "whitelist", pkMode: "record_value", pkFields: []string{"id"}, whitelist: []string{"note"}, keys: "id", vals: "note", dd: "id,note"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := &settings{pkMode: c.pkMode, pkFields: c.pkFields}
			if c.whitelist != nil {
				st.whitelist = map[string]bool{}
				for _, w := range c.whitelist {
					st.whitelist[w] = true
				}
			}
			fm, err := extractFields(st, "orders", c.key, value)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(fm.keyCols); got != c.keys {
				t.Errorf("key columns %q, want %q", got, c.keys)
			}
			if got := names(fm.valCols); got != c.vals {
				t.Errorf("non-key columns %q, want %q", got, c.vals)
			}
			if got := names(fm.all); got != c.dd {
				t.Errorf("DDL order %q, want %q", got, c.dd)
			}
		})
	}
}

func TestDetectEnvelope(t *testing.T) {
	row := schema.NewStructSchema("srv.db.t.Value", schema.Field{Name: "id", Schema: schema.Int32Schema})
	src := schema.NewStructSchema("io.debezium.connector.mysql.Source", schema.Field{Name: "db", Schema: schema.StringSchema})
	env := schema.NewBuilder(schema.TypeStruct).Name("srv.db.t.Envelope").
		Field("before", row.WithOptional(true)).Field("after", row.WithOptional(true)).
		Field("source", src).Field("op", schema.StringSchema).Build()
	if e := detectEnvelope(env); !e.ok || e.after != 1 || e.op != 3 {
		t.Fatalf("envelope not detected: %+v", e)
	}
	// A plain row with a field called op is not an envelope.
	plain := schema.NewStructSchema("x", schema.Field{Name: "op", Schema: schema.StringSchema}, schema.Field{Name: "id", Schema: schema.Int32Schema})
	if detectEnvelope(plain).ok {
		t.Fatal("plain struct detected as envelope")
	}
}
