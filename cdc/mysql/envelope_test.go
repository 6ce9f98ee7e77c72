package mysql

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
)

var volatileRe = regexp.MustCompile(`"(ts_ms|ts_us|ts_ns|pos|file|gtid|server_id|ts_sec|thread)":("[^"]*"|-?[0-9]+)|"(id)":("[0-9]+-[0-9]+-[0-9]+")`)

// TestEnvelopeGolden pins the complete Connect JSON (schema and payload) of
// a create, an update, a delete with its tombstone, a schema change and the
// transaction events, with times and binlog coordinates masked.
func TestEnvelopeGolden(t *testing.T) {
	db := harness.MariaDB(t)
	conn := db.Open(t)
	mustExec(t, conn, "CREATE TABLE customers (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, first_name VARCHAR(255) NOT NULL, email VARCHAR(255) NOT NULL UNIQUE, balance DECIMAL(10,2) DEFAULT 0.00)")
	off := &memOffsets{}
	task := startTask(t, testConfig(db, "dbserver1", "provide.transaction.metadata", "true"), off)
	c := &collector{t: t, task: task, off: off}
	c.pollUntil(10*time.Second, "snapshot", func() bool { return c.count("dbserver1") >= 1 })
	mustExec(t, conn, "INSERT INTO customers (first_name, email, balance) VALUES ('Anne', 'annek@noanswer.org', 12.50)")
	mustExec(t, conn, "UPDATE customers SET first_name = 'Anne Marie' WHERE id = 1")
	mustExec(t, conn, "DELETE FROM customers WHERE id = 1")
	mustExec(t, conn, "ALTER TABLE customers ADD COLUMN phone VARCHAR(20)")
	c.pollUntil(10*time.Second, "events", func() bool { return c.count("dbserver1") >= 2 })
	var b strings.Builder
	for _, r := range c.recs {
		k := "null"
		if r.KeySchema != nil {
			kb, err := jsonValueConv.FromConnect(r.Topic, nil, r.KeySchema, r.Key)
			if err != nil {
				t.Fatal(err)
			}
			k = string(kb)
		}
		v := "null"
		if r.Value != nil {
			v = envelopeJSON(t, r)
		}
		line, _ := json.Marshal(map[string]any{"topic": r.Topic, "key": json.RawMessage(k), "value": json.RawMessage(v), "headers": len(r.Headers)})
		b.Write(volatileRe.ReplaceAll(line, []byte(`"$1$3":"<masked>"`)))
		b.WriteString("\n")
	}
	got := []byte(strings.ReplaceAll(b.String(), db.Name, "<db>"))
	path := filepath.Join("testdata", "envelopes.jsonl")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		diffLines(t, string(want), string(got))
	}
}
