package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// TestColumnOptions covers message.key.columns and the column options on
// snapshot and streamed rows. Expected hashes: Python hashlib,
// sha256(b"CzQMA0cB5K" + b"\xac\xed\x00\x05t\x00\x05hello") for V1 (the
// Java-serialized String Debezium hashes) and sha256(b"CzQMA0cB5K" +
// b"hello     ") for v2 (char(10) is blank-padded, as JDBC returns it too),
// cut to the column's length 10.
func TestColumnOptions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := harness.Postgres(t)
	c := pgConn(t, db)
	mustExec(t, c, `CREATE TABLE colopt (id int PRIMARY KEY, code varchar(16) NOT NULL, secret varchar(20), h1 text, h2 char(10),
		body text, price numeric(10,2), n int8)`,
		"INSERT INTO colopt VALUES (1, 'A-1', 'topsecret', 'hello', 'hello', 'abcdefghij', 12.50, 7)")
	cfg := baseConfig(db,
		"message.key.columns", "public.colopt:code,id",
		"column.mask.with.5.chars", "public.colopt.secret",
		"column.mask.hash.SHA-256.with.salt.CzQMA0cB5K", "public.colopt.h1",
		"column.mask.hash.v2.SHA-256.with.salt.CzQMA0cB5K", "public.colopt.h2",
		"column.truncate.to.4.chars", "public.colopt.body",
		"column.propagate.source.type", "public.colopt.price",
		"datatype.propagate.source.type", ".+\\.int8")
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	defer h.stop()
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.topicCount("srv.public.colopt") >= 1 })
	mustExec(t, c, "INSERT INTO colopt VALUES (2, 'B-2', NULL, 'hello', NULL, 'xyz', 1, 8)")
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.topicCount("srv.public.colopt") >= 2 })
	recs := h.topic("srv.public.colopt")
	const v1 = "b4d39ab0d198fb4cac8b2f023da74f670bcaf192dcc79b5d6361b7ae6b2fafdf"
	for i, r := range recs[:2] {
		k := r.Key.(*schema.Struct)
		if len(k.Values) != 2 || k.Schema.Fields[0].Name != "code" || k.Values[0] != []string{"A-1", "B-2"}[i] || k.Values[1] != int32(i+1) {
			t.Fatalf("record %d key %v", i, k.Values)
		}
		after := r.Value.(*schema.Struct).Get("after").(*schema.Struct)
		if after.Get("secret") != "*****" || after.Get("h1") != v1 || after.Get("body") != []string{"abcd", "xyz"}[i] {
			t.Errorf("record %d: secret %v h1 %v body %v", i, after.Get("secret"), after.Get("h1"), after.Get("body"))
		}
		if want := []any{"4f61ec15b5", nil}[i]; after.Get("h2") != want {
			t.Errorf("record %d h2 %v", i, after.Get("h2"))
		}
	}
	vs := afterSchema(recs[0])
	param := func(col, k string) string {
		f, _ := vs.Field(col)
		if v, ok := f.Schema.Param(k); ok {
			return v
		}
		return "<unset>"
	}
	for _, x := range []struct{ col, key, want string }{
		{"secret", "masked", "true"}, {"h2", "masked", "true"}, {"body", "truncateLength", "4"},
		{"price", "__debezium.source.column.type", "NUMERIC"}, {"price", "__debezium.source.column.length", "10"},
		{"price", "__debezium.source.column.scale", "2"}, {"price", "__debezium.source.column.name", "price"},
		{"n", "__debezium.source.column.type", "INT8"}, {"n", "__debezium.source.column.length", "19"},
		{"n", "__debezium.source.column.scale", "0"}, {"id", "__debezium.source.column.type", "<unset>"},
	} {
		if got := param(x.col, x.key); got != x.want {
			t.Errorf("%s %s = %s, want %s", x.col, x.key, got, x.want)
		}
	}
	if _, err := parseSettings(map[string]string{"database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "p",
		"column.truncate.to.x.chars": "a.b.c"}); err == nil || !strings.Contains(err.Error(), "column.truncate.to.x.chars") {
		t.Errorf("malformed key: %v", err)
	}
}
