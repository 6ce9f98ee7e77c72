package jdbcsink

import (
	"context"
	"database/sql"
	"slices"
	"testing"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// nonStrictServer sets the MariaDB server's GLOBAL sql_mode to the empty string (no
// STRICT_*), which new sessions start from, and restores it after the test.
func nonStrictServer(t *testing.T, hdb *harness.Database) {
	t.Helper()
	db := hdb.Open(t)
	var old string
	if err := db.Get(&old, "SELECT @@GLOBAL.sql_mode"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("SET GLOBAL sql_mode = ''"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("SET GLOBAL sql_mode = ?", old); err != nil {
			t.Errorf("restore GLOBAL sql_mode %q: %v", old, err)
		}
	})
}

// TestMySQLStrictSession: on a server whose default sql_mode is not strict,
// a 10-character value into VARCHAR(5) and a NULL into a NOT NULL column
// are errors for the sink (reported to the errant-record reporter, or
// failing the Put with errors.tolerance=none), as with Confluent's sink
// (the MySQL JDBC driver's jdbcCompliantTruncation), never a silently
// truncated or defaulted row. Every pooled session is strict, the server's
// other modes are kept.
func TestMySQLStrictSession(t *testing.T) {
	hdb := harness.MariaDB(t)
	nonStrictServer(t, hdb)
	db := hdb.Open(t)
	if _, err := db.Exec("CREATE TABLE orders (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL, qty INT NULL)"); err != nil {
		t.Fatal(err)
	}
	vs := schema.NewStructSchema("v",
		schema.Field{Name: "id", Schema: schema.Int32Schema},
		schema.Field{Name: "name", Schema: schema.OptionalString},
		schema.Field{Name: "qty", Schema: schema.OptionalInt32})
	rec := func(off int64, id int32, name any) schema.Record {
		return record("orders", 0, off, modeKeySchema, structOf(modeKeySchema, id), vs, structOf(vs, id, name, int32(1)))
	}
	cfg := sinkConfig(hdb, "insert.mode", "insert", "pk.mode", "record_key")

	// errors.tolerance=none: the oversized value fails the Put, nothing is written.
	task := startTask(t, cfg, nil)
	if err := task.Put(t.Context(), []schema.Record{rec(0, 1, "abcdefghij")}); err == nil {
		t.Fatal("put of a 10-character value into VARCHAR(5) succeeded, want an error")
	}
	expectRows(t, db, "SELECT id, name FROM orders ORDER BY id")
	task.Stop()

	// errors.tolerance=all: both bad records are reported, the good one is written.
	rep := &reporter{}
	task = startTask(t, cfg, rep)
	mustPut(t, task, rec(0, 1, "abcdefghij"), rec(1, 2, nil), rec(2, 3, "ok"))
	mustFlush(t, task)
	expectRows(t, db, "SELECT id, name FROM orders ORDER BY id", "3|ok")
	if got := rep.offsets(); !slices.Equal(got, []int64{0, 1}) {
		t.Fatalf("reported offsets %v, want [0 1] (errors %v)", got, rep.errs)
	}
}

// TestMySQLStrictSessionKeepsModes: every connection of the task's pool is
// strict and keeps the server's own modes.
func TestMySQLStrictSessionKeepsModes(t *testing.T) {
	hdb := harness.MariaDB(t)
	nonStrictServer(t, hdb)
	admin := hdb.Open(t)
	if _, err := admin.Exec("SET GLOBAL sql_mode = 'NO_ENGINE_SUBSTITUTION'"); err != nil {
		t.Fatal(err)
	}
	task := startTask(t, sinkConfig(hdb, "auto.create", "true"), nil)
	// Hold three connections at once so that the pool opens distinct sessions.
	ctx := context.Background()
	var conns []*sql.Conn
	for range 3 {
		c, err := task.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var mode string
		if err := c.QueryRowContext(ctx, "SELECT @@SESSION.sql_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != "STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION" {
			t.Errorf("connection %d: sql_mode %q, want STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION", i, mode)
		}
		c.Close()
	}
}
