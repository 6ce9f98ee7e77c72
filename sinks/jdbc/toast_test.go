package jdbcsink

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/integration/harness"
)

// TestToastedArrayLeftUnchanged: a PostgreSQL source table with a large
// text[] column stored out of line (TOASTed) under REPLICA IDENTITY DEFAULT;
// an UPDATE of another column leaves the array out of the WAL (checked with
// test_decoding), so Debezium's connector, like cdc/postgres, sends a
// one-element array holding __debezium_unavailable_value. The sink must
// leave the target's array as it was, in MariaDB and PostgreSQL, whether the
// update arrives in the same batch as the row or later.
func TestToastedArrayLeftUnchanged(t *testing.T) {
	src := harness.Postgres(t)
	sdb := src.Open(t)
	var lit []string
	for i := range 400 {
		sum := md5.Sum([]byte(fmt.Sprint(i)))
		lit = append(lit, hex.EncodeToString(sum[:]))
	}
	slot := "toast_" + strings.ReplaceAll(strings.ToLower(src.Name), "-", "_")
	for _, q := range []string{
		"CREATE TABLE customers (id int PRIMARY KEY, name text, tags text[])",
		"ALTER TABLE customers REPLICA IDENTITY DEFAULT",
		"INSERT INTO customers VALUES (1, 'n1_v0', '{" + strings.Join(lit, ",") + "}')",
		"SELECT 1 FROM pg_create_logical_replication_slot('" + slot + "', 'test_decoding')",
		"UPDATE customers SET name = 'n1_v1' WHERE id = 1",
	} {
		if _, err := sdb.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() { sdb.Exec("SELECT pg_drop_replication_slot('" + slot + "')") })
	// Logical decoding reads flushed WAL only; the test server commits
	// asynchronously, so wait for the update to be flushed.
	var all string
	for deadline := time.Now().Add(10 * time.Second); ; {
		var changes []string
		if err := sdb.Select(&changes, "SELECT data FROM pg_logical_slot_peek_changes('"+slot+"', NULL, NULL)"); err != nil {
			t.Fatal(err)
		}
		if all = strings.Join(changes, "\n"); strings.Contains(all, "UPDATE") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(all, "tags[text[]]:unchanged-toast-datum") {
		t.Fatalf("the update's WAL does not show the array as an unchanged TOAST datum; changes:\n%.400s", all)
	}
	var tagsJSON string
	if err := sdb.Get(&tagsJSON, "SELECT array_to_json(tags)::text FROM customers WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	var tags []any
	if err := json.Unmarshal([]byte(tagsJSON), &tags); err != nil {
		t.Fatal(err)
	}

	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		for _, batching := range []string{"one_batch", "record_by_record"} {
			t.Run(batching, func(t *testing.T) {
				d := newDbzShape("postgres")
				tagsIdx := -1
				for i, f := range d.row.Fields {
					if f.Name == "tags" {
						tagsIdx = i
					}
				}
				before := d.row_(1, 0, "big-1")
				before.Values[tagsIdx] = tags
				d.event(t, cdc.OpRead, 1, nil, before)
				after := d.row_(1, 1, "big-1")
				after.Values[tagsIdx] = []any{DefaultPlaceholder} // Debezium's unchanged TOASTed text[]
				d.event(t, cdc.OpUpdate, 1, nil, after)

				table := "toast_arr_" + batching
				task := startTask(t, sinkConfig(hdb, "topics", d.topic, "table.name.format", table, "auto.create", "true",
					"insert.mode", "upsert", "pk.mode", "record_key", "delete.enabled", "true"), nil)
				if batching == "one_batch" {
					mustPut(t, task, d.records...)
				} else {
					for _, r := range d.records {
						mustPut(t, task, r)
					}
				}
				mustFlush(t, task)
				want := "{" + strings.Join(lit, ",") + "}" // PostgreSQL's text form of the array
				if hdb.Kind == harness.KindMariaDB {
					b, _ := json.Marshal(lit) // stored as JSON text
					want = string(b)
				}
				expectRows(t, db, "SELECT name, tags FROM "+table+" WHERE id = 1", "n1_v1|"+want)
			})
		}
	})
}
