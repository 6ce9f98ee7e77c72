package pipelines

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/runtime/verify"
)

// protobufConverters are the connector-level converter keys for
// Confluent's ProtobufConverter through the worker's embedded registry.
// optional.for.nullables keeps SQL NULLs (proto3 scalars have no presence
// otherwise: Confluent reads a missing string as "").
var protobufConverters = map[string]string{
	"key.converter":                          "io.confluent.connect.protobuf.ProtobufConverter",
	"key.converter.schema.registry.url":      "embedded",
	"key.converter.optional.for.nullables":   "true",
	"value.converter":                        "io.confluent.connect.protobuf.ProtobufConverter",
	"value.converter.schema.registry.url":    "embedded",
	"value.converter.optional.for.nullables": "true",
}

// verifyMillis is verifyTables with customers.created_at (DATETIME(6) /
// TIMESTAMP(6)) compared at millisecond precision: time.precision.mode=connect
// makes it a Connect Timestamp, which has milliseconds (Debezium's
// documented loss, not the converter's); every other column is compared
// exactly by verify.Tables.
func verifyMillis(t *testing.T, w *worker, src, dst *sqlx.DB, stage string) {
	t.Helper()
	for _, table := range cdcTables {
		var last verify.Report
		w.eventually(90*time.Second, stage+": "+table+" verified", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			opts := verify.Options{SourceTable: table}
			if table == "customers" {
				cols, err := columnsOf(ctx, src, table)
				if err != nil {
					return err
				}
				opts.Columns = slices.DeleteFunc(cols, func(c string) bool { return c == "id" || c == "created_at" })
				if err := sameMillis(ctx, src, dst); err != nil {
					return err
				}
			}
			rep, err := verify.Tables(ctx, src, dst, opts)
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

func columnsOf(ctx context.Context, db *sqlx.DB, table string) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+table+" WHERE 1=0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rows.Columns()
}

// sameMillis compares customers.created_at truncated to milliseconds, by id.
func sameMillis(ctx context.Context, src, dst *sqlx.DB) error {
	read := func(db *sqlx.DB) (map[int64]string, error) {
		q := "SELECT id, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.MS') FROM customers"
		if db.DriverName() == "mysql" {
			q = "SELECT id, LEFT(DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f'), 23) FROM customers"
		}
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[int64]string{}
		for rows.Next() {
			var id int64
			var ts sql.NullString
			if err := rows.Scan(&id, &ts); err != nil {
				return nil, err
			}
			out[id] = ts.String
		}
		return out, rows.Err()
	}
	a, err := read(src)
	if err != nil {
		return err
	}
	b, err := read(dst)
	if err != nil {
		return err
	}
	for id, v := range a {
		if b[id] != v {
			return fmt.Errorf("customers id=%d created_at %q in the target, %q (to the millisecond) in the source", id, b[id], v)
		}
	}
	if len(a) != len(b) {
		return fmt.Errorf("customers: %d rows in the source, %d in the target", len(a), len(b))
	}
	return nil
}

// protoSchemaChanges is schemaChanges with the added columns nullable: proto3
// has no field defaults, so a NOT NULL DEFAULT column arrives as a required
// Connect field without a default, which the JDBC sink (as Confluent's)
// cannot add to an existing table (see the README). The new PROTOBUF schema
// versions pass the registry's BACKWARD check (added fields).
func protoSchemaChanges(t *testing.T, conn *sqlx.DB) {
	execSQL(t, conn,
		`ALTER TABLE customers ADD COLUMN loyalty INT, ADD COLUMN tier VARCHAR(10)`,
		`UPDATE customers SET loyalty = id * 10, tier = 'basic' WHERE id <= 3`,
		`INSERT INTO customers (id, name, balance, active, created_at, loyalty, tier) VALUES (23, 'after ddl', 1.00, TRUE, '2024-07-01 00:00:00', 5, 'gold')`,
		`UPDATE customers SET tier = 'silver' WHERE id = 2`,
		`DELETE FROM customers WHERE id = 11`,
		`UPDATE tags SET weight = 99 WHERE code = 'alpha'`)
}

func withProtobuf(cfg map[string]string) map[string]string {
	for k, v := range protobufConverters {
		cfg[k] = v
	}
	return cfg
}

// connectTime sets time.precision.mode=connect on a Debezium source: Connect's
// Date/Time/Timestamp map to google.type.Date/TimeOfDay and
// google.protobuf.Timestamp, while Debezium's own io.debezium.time.* names
// do not survive Protobuf (ProtobufData keeps no Connect names for
// primitives), as with Confluent's converter.
func connectTime(cfg map[string]string) map[string]string {
	cfg["time.precision.mode"] = "connect"
	return cfg
}

// TestProtobufCDCToJDBCSink is TestAvroCDCToJDBCSink with
// ProtobufConverter: both CDC sources write Protobuf keys and values, JDBC
// sinks read them into the other database, and the targets equal the
// sources after the snapshot, streamed changes and added (nullable)
// columns. SQL NULLs survive through optional.for.nullables. The
// topics hold Confluent wire-format records (message index 0) whose schema
// ids are PROTOBUF schemas in the registry under TopicNameStrategy subjects.
func TestProtobufCDCToJDBCSink(t *testing.T) {
	msrc, pdst := harness.MariaDB(t), harness.Postgres(t)
	psrc, mdst := harness.Postgres(t), harness.MariaDB(t)
	msconn, pdconn := msrc.Open(t), pdst.Open(t)
	psconn, mdconn := psrc.Open(t), mdst.Open(t)
	mariadbSchema(t, msconn)
	postgresSchema(t, psconn)
	slot := fmt.Sprintf("pipelines_proto_%d", time.Now().UnixNano()%1e9)
	dropSlotAtEnd(t, psconn, slot)

	mTopics := []string{"proto_m." + msrc.Name + ".customers", "proto_m." + msrc.Name + ".tags"}
	pTopics := []string{"proto_p.public.customers", "proto_p.public.tags"}
	w := startWorker(t, workerOpts{registry: true},
		connector{"mariadb-proto-source", withProtobuf(connectTime(mariadbSource(msrc, "proto_m")))},
		connector{"postgres-proto-sink", withProtobuf(debeziumSink(pdst.JDBCURL(), mTopics...))},
		connector{"postgres-proto-source", withProtobuf(connectTime(postgresSource(psrc, "proto_p", slot)))},
		connector{"mariadb-proto-sink", withProtobuf(debeziumSink(mdst.JDBCURL(), pTopics...))})
	w.waitRunning("mariadb-proto-source", "postgres-proto-sink", "postgres-proto-source", "mariadb-proto-sink")

	verifyMillis(t, w, msconn, pdconn, "mariadb→postgres snapshot")
	verifyMillis(t, w, psconn, mdconn, "postgres→mariadb snapshot")
	mariadbChanges(t, msconn)
	postgresChanges(t, psconn)
	verifyMillis(t, w, msconn, pdconn, "mariadb→postgres streaming")
	verifyMillis(t, w, psconn, mdconn, "postgres→mariadb streaming")
	protoSchemaChanges(t, msconn)
	protoSchemaChanges(t, psconn)
	verifyMillis(t, w, msconn, pdconn, "mariadb→postgres after DDL")
	verifyMillis(t, w, psconn, mdconn, "postgres→mariadb after DDL")

	reg := fmt.Sprintf("http://127.0.0.1:%d", w.registryPort)
	checkSubjects(t, reg, append(append([]string{}, mTopics...), pTopics...)...)
	for _, topic := range []string{mTopics[0], pTopics[0]} {
		ids := wireSchemaIDs(t, w, topic, func(p []byte) bool { return len(p) >= 6 && p[0] == 0 && p[5] == 0 }, "Confluent Protobuf wire format")
		var envelope bool
		for id := range ids {
			var s struct {
				SchemaType string `json:"schemaType"`
				Schema     string `json:"schema"`
			}
			getJSON(t, fmt.Sprintf("%s/schemas/ids/%d", reg, id), &s)
			if s.SchemaType != "PROTOBUF" {
				t.Errorf("schema %d is %q", id, s.SchemaType)
			}
			pkg := strings.Join(strings.Split(topic, ".")[:3], ".")
			if strings.Contains(s.Schema, "package "+pkg+";") && strings.Contains(s.Schema, "message Envelope {") {
				envelope = true
			}
		}
		if !envelope {
			t.Errorf("no schema id used in %s is a message %s.Envelope (ids %v)", topic, topic, ids)
		}
	}
	w.stop()
}
