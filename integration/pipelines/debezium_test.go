package pipelines

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/runtime/verify"
)

// cdcTables are the tables both CDC workloads change: an integer key and a
// composite text key.
var cdcTables = []string{"customers", "tags"}

// mariadbSchema creates the MariaDB source tables and their first rows
// (taken by the snapshot).
func mariadbSchema(t *testing.T, conn *sqlx.DB) {
	execSQL(t, conn,
		`CREATE TABLE customers (
			id INT PRIMARY KEY,
			name VARCHAR(100) NOT NULL,
			email VARCHAR(200),
			balance DECIMAL(12,2) NOT NULL DEFAULT 0,
			score DOUBLE,
			active BOOLEAN NOT NULL DEFAULT TRUE,
			born DATE,
			created_at DATETIME(6) NOT NULL,
			seen_at TIMESTAMP(3) NULL,
			notes TEXT)`,
		`CREATE TABLE tags (
			code VARCHAR(40) NOT NULL,
			region CHAR(2) NOT NULL,
			label VARCHAR(100),
			weight INT,
			PRIMARY KEY (code, region))`)
	var vals []string
	for i := 1; i <= 20; i++ {
		vals = append(vals, fmt.Sprintf(`(%d, 'customer %d', %s, %d.%02d, %s, %t, '19%02d-0%d-1%d', '2024-01-%02d 10:11:12.%06d', %s, %s)`,
			i, i, nullOr(i%4 == 0, fmt.Sprintf("'c%d@example.com'", i)), i*100, i, nullOr(i%5 == 0, fmt.Sprintf("%d.25", i)),
			i%3 != 0, 50+i, 1+i%9, i%10, i, i*7919, nullOr(i%2 == 0, fmt.Sprintf("'2024-02-%02d 08:00:00.%03d'", i, i)),
			nullOr(i%3 == 0, fmt.Sprintf("'note ✓ %d'", i))))
	}
	execSQL(t, conn, `INSERT INTO customers VALUES `+strings.Join(vals, ","),
		`INSERT INTO tags VALUES ('alpha','EU','Alpha',1),('alpha','US','Alpha US',2),('beta','EU',NULL,3),('gamma','AP','Gamma',NULL)`)
}

// mariadbChanges streams inserts, updates, deletes and key changes.
func mariadbChanges(t *testing.T, conn *sqlx.DB) {
	execSQL(t, conn,
		`INSERT INTO customers (id, name, email, balance, score, active, born, created_at, seen_at, notes) VALUES
			(21, 'new 21', 'n21@example.com', 21.21, 0.5, FALSE, '2001-02-03', '2024-05-01 00:00:00.000001', '2024-05-01 12:00:00.500', 'streamed'),
			(22, 'new 22', NULL, 0, NULL, TRUE, NULL, '2024-05-02 00:00:00', NULL, NULL)`,
		`UPDATE customers SET balance = balance + 0.01, notes = 'updated' WHERE id IN (1, 2, 21)`,
		`UPDATE customers SET email = NULL, score = -1.5 WHERE id = 3`,
		`DELETE FROM customers WHERE id IN (5, 6)`,
		// Key changes: Debezium emits delete + tombstone + create.
		`UPDATE customers SET id = 1007 WHERE id = 7`,
		`UPDATE customers SET id = id + 100 WHERE id IN (8, 9)`,
		`UPDATE tags SET region = 'SA' WHERE code = 'alpha' AND region = 'US'`,
		`UPDATE tags SET code = 'beta2', label = 'renamed' WHERE code = 'beta'`,
		`DELETE FROM tags WHERE code = 'gamma'`)
	// One transaction: delete and re-insert a key, then update it.
	tx, err := conn.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`DELETE FROM customers WHERE id = 10`,
		`INSERT INTO customers (id, name, balance, active, created_at) VALUES (10, 'reborn 10', 10.10, TRUE, '2024-06-01 01:02:03.456789')`,
		`UPDATE customers SET notes = 'reborn and updated' WHERE id = 10`,
		`INSERT INTO tags VALUES ('delta', 'EU', 'Delta', 4)`,
	} {
		if _, err := tx.Exec(s); err != nil {
			tx.Rollback()
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// postgresSchema creates the PostgreSQL source tables and their first rows.
func postgresSchema(t *testing.T, conn *sqlx.DB) {
	execSQL(t, conn,
		`CREATE TABLE customers (
			id INT PRIMARY KEY,
			name VARCHAR(100) NOT NULL,
			email TEXT,
			balance NUMERIC(12,2) NOT NULL DEFAULT 0,
			score DOUBLE PRECISION,
			active BOOLEAN NOT NULL DEFAULT TRUE,
			born DATE,
			created_at TIMESTAMP(6) NOT NULL,
			seen_at TIMESTAMPTZ,
			notes TEXT,
			doc JSONB,
			ref UUID,
			blob BYTEA,
			big TEXT)`,
		`CREATE TABLE tags (
			code VARCHAR(40) NOT NULL,
			region CHAR(2) NOT NULL,
			label VARCHAR(100),
			weight INT,
			PRIMARY KEY (code, region))`)
	var vals []string
	for i := 1; i <= 20; i++ {
		vals = append(vals, fmt.Sprintf(`(%d, 'customer %d', %s, %d.%02d, %s, %t, '19%02d-0%d-1%d', '2024-01-%02d 10:11:12.%06d', %s, %s, %s, %s, %s, %s)`,
			i, i, nullOr(i%4 == 0, fmt.Sprintf("'c%d@example.com'", i)), i*100, i, nullOr(i%5 == 0, fmt.Sprintf("%d.25", i)),
			i%3 != 0, 50+i, 1+i%9, i%10, i, i*7919, nullOr(i%2 == 0, fmt.Sprintf("'2024-02-%02d 08:00:00.%03d+02'", i, i)),
			nullOr(i%3 == 0, fmt.Sprintf("'note ✓ %d'", i)),
			nullOr(i%4 == 1, fmt.Sprintf(`'{"n": %d, "tags": ["a", "b"], "nested": {"x": true}}'`, i)),
			nullOr(i%6 == 0, fmt.Sprintf("'%08d-1234-5678-9ABC-DEF012345678'", i)),
			nullOr(i%7 == 0, fmt.Sprintf(`'\x%02x00ff'`, i)),
			// ~10 kB that does not compress: stored out of line (TOASTed),
			// so updates of other columns carry Debezium's placeholder.
			nullOr(i%5 != 1, `(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 300))`)))
	}
	execSQL(t, conn, `INSERT INTO customers VALUES `+strings.Join(vals, ","),
		`INSERT INTO tags VALUES ('alpha','EU','Alpha',1),('alpha','US','Alpha US',2),('beta','EU',NULL,3),('gamma','AP','Gamma',NULL)`)
}

// postgresChanges streams inserts, updates, deletes and key changes. The
// updates of row 1 leave its TOASTed column big unchanged: the
// events carry __debezium_unavailable_value, which the sink must not write.
func postgresChanges(t *testing.T, conn *sqlx.DB) {
	execSQL(t, conn,
		`INSERT INTO customers (id, name, email, balance, score, active, born, created_at, seen_at, notes, doc, ref, blob) VALUES
			(21, 'new 21', 'n21@example.com', 21.21, 0.5, FALSE, '2001-02-03', '2024-05-01 00:00:00.000001', '2024-05-01 12:00:00.5Z', 'streamed', '{"b": 1, "a": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\xdeadbeef'),
			(22, 'new 22', NULL, 0, NULL, TRUE, NULL, '2024-05-02 00:00:00', NULL, NULL, NULL, NULL, NULL)`,
		`UPDATE customers SET balance = balance + 0.01, notes = 'updated', doc = '{"updated": true}' WHERE id IN (1, 2, 21)`,
		`UPDATE customers SET email = NULL, score = -1.5 WHERE id = 3`,
		`DELETE FROM customers WHERE id IN (5, 6)`,
		`UPDATE customers SET id = 1007 WHERE id = 7`,
		`UPDATE customers SET id = id + 100 WHERE id IN (8, 9)`,
		`UPDATE tags SET region = 'SA' WHERE code = 'alpha' AND region = 'US'`,
		`UPDATE tags SET code = 'beta2', label = 'renamed' WHERE code = 'beta'`,
		`DELETE FROM tags WHERE code = 'gamma'`)
	tx, err := conn.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`DELETE FROM customers WHERE id = 10`,
		`INSERT INTO customers (id, name, balance, active, created_at) VALUES (10, 'reborn 10', 10.10, TRUE, '2024-06-01 01:02:03.456789')`,
		`UPDATE customers SET notes = 'reborn and updated' WHERE id = 10`,
		`INSERT INTO tags VALUES ('delta', 'EU', 'Delta', 4)`,
	} {
		if _, err := tx.Exec(s); err != nil {
			tx.Rollback()
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// schemaChanges adds a nullable column and a NOT NULL column with a
// default to customers (same SQL on MariaDB and PostgreSQL), then writes
// rows that use them; untouched rows keep the default, which the sink's
// auto.evolve must give the target column too.
func schemaChanges(t *testing.T, conn *sqlx.DB) {
	execSQL(t, conn,
		`ALTER TABLE customers ADD COLUMN loyalty INT, ADD COLUMN tier VARCHAR(10) NOT NULL DEFAULT 'basic'`,
		`UPDATE customers SET loyalty = id * 10 WHERE id <= 3`,
		`INSERT INTO customers (id, name, balance, active, created_at, loyalty, tier) VALUES (23, 'after ddl', 1.00, TRUE, '2024-07-01 00:00:00', 5, 'gold')`,
		`UPDATE customers SET tier = 'silver' WHERE id = 2`,
		`DELETE FROM customers WHERE id = 11`,
		`UPDATE tags SET weight = 99 WHERE code = 'alpha'`)
}

func nullOr(null bool, v string) string {
	if null {
		return "NULL"
	}
	return v
}

// mariadbSource is a Debezium MySQL connector config for db, as in
// Debezium's tutorial (full class name, dedicated user, schema history keys
// that Tributary accepts and does not need).
func mariadbSource(db *harness.Database, prefix string) map[string]string {
	return map[string]string{
		"connector.class":       "io.debezium.connector.mysql.MySqlConnector",
		"tasks.max":             "1",
		"database.hostname":     db.Host,
		"database.port":         strconv.Itoa(db.Port),
		"database.user":         harness.MariaDBCDCUser,
		"database.password":     harness.MariaDBCDCPassword,
		"database.server.id":    nextServerID(),
		"topic.prefix":          prefix,
		"database.include.list": db.Name,
		"table.include.list":    db.Name + `\.customers,` + db.Name + `\.tags`,
		"schema.history.internal.kafka.bootstrap.servers": "localhost:9092",
		"schema.history.internal.kafka.topic":             "schema-changes." + prefix,
	}
}

// postgresSource is a Debezium PostgreSQL connector config for db.
func postgresSource(db *harness.Database, prefix, slot string) map[string]string {
	return map[string]string{
		"connector.class":             "io.debezium.connector.postgresql.PostgresConnector",
		"tasks.max":                   "1",
		"database.hostname":           db.Host,
		"database.port":               strconv.Itoa(db.Port),
		"database.user":               db.User,
		"database.password":           db.Password,
		"database.dbname":             db.Name,
		"topic.prefix":                prefix,
		"plugin.name":                 "pgoutput",
		"slot.name":                   slot,
		"publication.name":            slot + "_pub",
		"publication.autocreate.mode": "filtered",
		"table.include.list":          "public.customers,public.tags",
	}
}

// debeziumSink is a JdbcSinkConnector config applying Debezium change
// events (no unwrap transform: the sink flattens envelopes itself) with
// deletes, routing <prefix>.<schema>.<table> to <table>.
func debeziumSink(url string, topics ...string) map[string]string {
	return map[string]string{
		"connector.class":              "io.confluent.connect.jdbc.JdbcSinkConnector",
		"tasks.max":                    "1",
		"connection.url":               url,
		"topics":                       strings.Join(topics, ","),
		"insert.mode":                  "upsert",
		"pk.mode":                      "record_key",
		"delete.enabled":               "true",
		"auto.create":                  "true",
		"auto.evolve":                  "true",
		"transforms":                   "route",
		"transforms.route.type":        "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex":       `([^.]+)\.([^.]+)\.([^.]+)`,
		"transforms.route.replacement": "$3",
	}
}

// verifyTables waits until every table of cdcTables in dst equals src.
func verifyTables(t *testing.T, w *worker, src, dst *sqlx.DB, stage string) {
	t.Helper()
	for _, table := range cdcTables {
		var last verify.Report
		w.eventually(90*time.Second, stage+": "+table+" verified", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			rep, err := verify.Tables(ctx, src, dst, verify.Options{SourceTable: table})
			if err != nil {
				return err
			}
			last = rep
			if !rep.Verified() {
				return fmt.Errorf("%s %v", rep.Summary(), rep.Diffs)
			}
			return nil
		})
		t.Logf("%s: %s %s", stage, table, last.Summary())
	}
}

// TestDebeziumEnvelopesMariaDBToPostgres: Debezium change events from the
// MariaDB CDC source, applied by the JDBC sink to PostgreSQL; the target
// equals the source after the snapshot, after streamed inserts, updates,
// deletes and primary-key changes, and after added columns and a kill -9 of
// the worker in the middle of streaming them. It runs on real Kafka and on
// the embedded broker.
func TestDebeziumEnvelopesMariaDBToPostgres(t *testing.T) {
	harness.EachBroker(t, testDebeziumMariaDBToPostgres)
}

func testDebeziumMariaDBToPostgres(t *testing.T, b *harness.Broker) {
	src, dst := harness.MariaDB(t), harness.Postgres(t)
	sconn, dconn := src.Open(t), dst.Open(t)
	mariadbSchema(t, sconn)
	w := startWorker(t, workerOpts{broker: b},
		connector{"mariadb-source", mariadbSource(src, "dbz")},
		connector{"postgres-sink", debeziumSink(dst.JDBCURL(), "dbz."+src.Name+".customers", "dbz."+src.Name+".tags")})
	w.waitRunning("mariadb-source", "postgres-sink")
	verifyTables(t, w, sconn, dconn, "snapshot")
	mariadbChanges(t, sconn)
	verifyTables(t, w, sconn, dconn, "streaming")
	// A crash while changes stream: kill -9 right after they commit, then
	// restart from the committed offsets (replays are upserts).
	schemaChanges(t, sconn)
	w.kill()
	w.launch()
	w.waitRunning("mariadb-source", "postgres-sink")
	verifyTables(t, w, sconn, dconn, "after DDL, kill -9 and restart")
	w.stop()
}

// TestDebeziumEnvelopesPostgresToMariaDB: the same from the PostgreSQL CDC
// source into MariaDB, with an unchanged TOASTed column kept in the target,
// and columns added while the worker was stopped (it resumes from its
// replication slot).
func TestDebeziumEnvelopesPostgresToMariaDB(t *testing.T) {
	src, dst := harness.Postgres(t), harness.MariaDB(t)
	sconn, dconn := src.Open(t), dst.Open(t)
	postgresSchema(t, sconn)
	slot := fmt.Sprintf("pipelines_%d", time.Now().UnixNano()%1e9)
	dropSlotAtEnd(t, sconn, slot)
	w := startWorker(t, workerOpts{},
		connector{"postgres-source", postgresSource(src, "pgsrc", slot)},
		connector{"mariadb-sink", debeziumSink(dst.JDBCURL(), "pgsrc.public.customers", "pgsrc.public.tags")})
	w.waitRunning("postgres-source", "mariadb-sink")
	verifyTables(t, w, sconn, dconn, "snapshot")
	postgresChanges(t, sconn)
	verifyTables(t, w, sconn, dconn, "streaming")
	// The unchanged TOASTed value really travelled as the placeholder.
	placeholders := 0
	for _, r := range w.readTopic("pgsrc.public.customers") {
		if bytes.Contains(r.Value, []byte(`"big":"__debezium_unavailable_value"`)) {
			placeholders++
		}
	}
	if placeholders == 0 {
		t.Error("no event of pgsrc.public.customers carries big = __debezium_unavailable_value; the TOAST case was not exercised")
	}
	w.stop()
	schemaChanges(t, sconn)
	w.launch()
	w.waitRunning("postgres-source", "mariadb-sink")
	verifyTables(t, w, sconn, dconn, "after restart and DDL")
	w.stop()
}
