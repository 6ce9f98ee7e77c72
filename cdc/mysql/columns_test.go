package mysql

import (
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// TestColumnOptions covers message.key.columns, column.mask.with.N.chars,
// column.mask.hash.*, column.truncate.to.N.chars and the propagate options,
// on snapshot rows and on streamed rows. Expected hashes: Python hashlib,
// sha256(b"CzQMA0cB5K" + b"\xac\xed\x00\x05t\x00\x05hello").hexdigest()
// (Debezium V1 hashes the Java-serialized String) and, for v2,
// sha256(b"CzQMA0cB5K" + b"hello").
func TestColumnOptions(t *testing.T) {
	db := harness.MariaDB(t)
	conn := db.Open(t)
	mustExec(t, conn, `CREATE TABLE colopt (id INT PRIMARY KEY, code VARCHAR(16) NOT NULL, secret VARCHAR(20), h1 VARCHAR(100), h2 CHAR(10),
		body TEXT, price DECIMAL(10,2), n INT UNSIGNED)`)
	mustExec(t, conn, "INSERT INTO colopt VALUES (1, 'A-1', 'topsecret', 'hello', 'hello', 'abcdefghij', 12.50, 7)")
	p := db.Name + ".colopt"
	cfg := testConfig(db, "co",
		"message.key.columns", db.Name+".colopt:code,id",
		"column.mask.with.5.chars", p+".secret",
		"column.mask.hash.SHA-256.with.salt.CzQMA0cB5K", p+".h1",
		"column.mask.hash.v2.SHA-256.with.salt.CzQMA0cB5K", p+".h2",
		"column.truncate.to.4.chars", p+".body",
		"column.propagate.source.type", p+".price",
		"datatype.propagate.source.type", ".+\\.INT",
		"include.schema.changes", "false")
	off := &memOffsets{}
	task := startTask(t, cfg, off)
	c := &collector{t: t, task: task, off: off}
	topic := "co." + p
	c.pollUntil(20*time.Second, "snapshot", func() bool { return c.count(topic) >= 1 })
	mustExec(t, conn, "INSERT INTO colopt VALUES (2, 'B-2', NULL, 'hello', NULL, 'xyz', 1, 8)")
	c.pollUntil(20*time.Second, "insert", func() bool { return c.count(topic) >= 2 })

	const v1 = "b4d39ab0d198fb4cac8b2f023da74f670bcaf192dcc79b5d6361b7ae6b2fafdf"
	const v2trunc = "c4bf2f9ebc" // v2 digest cut to CHAR(10), as Debezium truncates hashes to the column length
	var got []schema.Record
	for _, r := range c.recs {
		if r.Topic == topic {
			got = append(got, r)
		}
	}
	for i, r := range got {
		if k := keyString(t, r); (i == 0 && k != `{"code":"A-1","id":1}`) || (i == 1 && k != `{"code":"B-2","id":2}`) {
			t.Fatalf("record %d key %s", i, k)
		}
		after := r.Value.(*schema.Struct).Get("after").(*schema.Struct)
		if after.Get("secret") != "*****" {
			t.Errorf("record %d secret %v (a masked null is masked too)", i, after.Get("secret"))
		}
		if after.Get("h1") != v1 {
			t.Errorf("record %d h1 %v", i, after.Get("h1"))
		}
		if i == 0 && after.Get("h2") != v2trunc || i == 1 && after.Get("h2") != nil {
			t.Errorf("record %d h2 %v", i, after.Get("h2"))
		}
		if want := []string{"abcd", "xyz"}[i]; after.Get("body") != want {
			t.Errorf("record %d body %v", i, after.Get("body"))
		}
	}
	vs := got[0].Value.(*schema.Struct).Get("after").(*schema.Struct).Schema
	param := func(col, k string) string {
		f, _ := vs.Field(col)
		v, ok := f.Schema.Param(k)
		if !ok {
			return "<unset>"
		}
		return v
	}
	for _, x := range []struct{ col, key, want string }{
		{"secret", "masked", "true"}, {"h1", "masked", "true"}, {"body", "truncateLength", "4"},
		{"price", "__debezium.source.column.type", "DECIMAL"}, {"price", "__debezium.source.column.length", "10"},
		{"price", "__debezium.source.column.scale", "2"}, {"price", "__debezium.source.column.name", "price"},
		{"id", "__debezium.source.column.type", "INT"}, {"id", "__debezium.source.column.length", "11"},
		{"id", "__debezium.source.column.scale", "<unset>"},
		// the MySQL connector's type name is INT UNSIGNED: .+\.INT does not match it
		{"n", "__debezium.source.column.type", "<unset>"},
		{"code", "__debezium.source.column.type", "<unset>"},
	} {
		if got := param(x.col, x.key); got != x.want {
			t.Errorf("%s %s = %s, want %s", x.col, x.key, got, x.want)
		}
	}
	if f, _ := got[0].KeySchema.Field("code"); len(got[0].KeySchema.Fields) != 2 || f.Index != 0 {
		t.Errorf("key schema %v", got[0].KeySchema.Fields)
	}
}

func TestColumnOptionsRefused(t *testing.T) {
	for k, v := range map[string]string{
		"column.mask.with.many.chars":      "a.b.c",
		"column.mask.hash.MD2.with.salt.x": "a.b.c",
		"message.key.columns":              "nocolon",
	} {
		_, err := parseSettings(map[string]string{"database.hostname": "h", "database.user": "u", "topic.prefix": "p", k: v})
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s: %v", k, err)
		}
	}
}
