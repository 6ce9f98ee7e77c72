package jdbcsink

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

var (
	modeKeySchema   = schema.NewStructSchema("k", schema.Field{Name: "id", Schema: schema.Int32Schema})
	modeValueSchema = schema.NewStructSchema("v",
		schema.Field{Name: "id", Schema: schema.Int32Schema},
		schema.Field{Name: "name", Schema: schema.StringSchema},
		schema.Field{Name: "qty", Schema: schema.OptionalInt32})
)

func modeRec(topic string, off int64, id int32, name string, qty int32) schema.Record {
	return record(topic, 0, off, modeKeySchema, structOf(modeKeySchema, id), modeValueSchema, structOf(modeValueSchema, id, name, qty))
}

// TestInsertModeByPKMode applies the same two batches with every
// insert.mode × pk.mode combination Confluent allows and checks the table
// against the spec: insert appends (duplicate keys are constraint errors,
// reported per record), upsert makes the last change per key win, update
// only changes rows that exist; repeated keys inside a batch collapse.
func TestInsertModeByPKMode(t *testing.T) {
	type mode struct {
		insert, pk, fields string
		seed               bool     // rows 1 and 2 exist before (update mode)
		order              string   // ORDER BY
		cols               string   // selected columns
		want               []string // rows
		reported           []int64  // offsets given to the errant-record reporter
	}
	kafkaCols := "__connect_topic, __connect_partition, __connect_offset, id, name, qty"
	modes := []mode{
		{insert: "insert", pk: "none", order: "id, name", cols: "id, name, qty",
			want: []string{"1|a|10", "1|a2|11", "2|b|20", "2|b2|21", "3|c|30"}},
		{insert: "insert", pk: "kafka", order: "__connect_offset", cols: kafkaCols,
			want: []string{"%s|0|0|1|a|10", "%s|0|1|2|b|20", "%s|0|2|1|a2|11", "%s|0|3|3|c|30", "%s|0|4|2|b2|21"}},
		{insert: "insert", pk: "record_key", order: "id", cols: "id, name, qty",
			want: []string{"1|a2|11", "2|b|20", "3|c|30"}, reported: []int64{4}},
		{insert: "insert", pk: "record_value", order: "id, name", cols: "id, name, qty",
			want: []string{"1|a|10", "1|a2|11", "2|b|20", "2|b2|21", "3|c|30"}},
		{insert: "upsert", pk: "kafka", order: "__connect_offset", cols: kafkaCols,
			want: []string{"%s|0|0|1|a|10", "%s|0|1|2|b|20", "%s|0|2|1|a2|11", "%s|0|3|3|c|30", "%s|0|4|2|b2|21"}},
		{insert: "upsert", pk: "record_key", order: "id", cols: "id, name, qty",
			want: []string{"1|a2|11", "2|b2|21", "3|c|30"}},
		{insert: "upsert", pk: "record_value", fields: "id", order: "id", cols: "id, name, qty",
			want: []string{"1|a2|11", "2|b2|21", "3|c|30"}},
		{insert: "upsert", pk: "record_value", order: "id, name", cols: "id, name, qty",
			want: []string{"1|a|10", "1|a2|11", "2|b|20", "2|b2|21", "3|c|30"}},
		{insert: "update", pk: "kafka", seed: true, order: "__connect_offset", cols: kafkaCols,
			want: []string{"%s|0|0|1|a|10", "%s|0|1|2|b|20"}},
		{insert: "update", pk: "record_key", seed: true, order: "id", cols: "id, name, qty",
			want: []string{"1|a2|11", "2|b2|21"}},
		{insert: "update", pk: "record_value", fields: "id", seed: true, order: "id", cols: "id, name, qty",
			want: []string{"1|a2|11", "2|b2|21"}},
	}
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		for _, m := range modes {
			name := m.insert + "_" + m.pk
			if m.fields != "" {
				name += "_" + m.fields
			}
			t.Run(name, func(t *testing.T) {
				topic := "m_" + name
				cfg := sinkConfig(hdb, "topics", topic, "auto.create", "true", "insert.mode", m.insert, "pk.mode", m.pk, "pk.fields", m.fields)
				if m.seed {
					seedCfg := sinkConfig(hdb, "topics", topic, "auto.create", "true", "insert.mode", "upsert", "pk.mode", m.pk, "pk.fields", m.fields)
					seed := startTask(t, seedCfg, nil)
					mustPut(t, seed, modeRec(topic, 0, 1, "seed", 0), modeRec(topic, 1, 2, "seed", 0))
					mustFlush(t, seed)
					seed.Stop()
				}
				rep := &reporter{}
				task := startTask(t, cfg, rep)
				mustPut(t, task, modeRec(topic, 0, 1, "a", 10), modeRec(topic, 1, 2, "b", 20), modeRec(topic, 2, 1, "a2", 11))
				mustFlush(t, task)
				mustPut(t, task, modeRec(topic, 3, 3, "c", 30), modeRec(topic, 4, 2, "b2", 21))
				mustFlush(t, task)

				want := make([]string, len(m.want))
				for i, w := range m.want {
					if strings.Contains(w, "%s") {
						w = fmt.Sprintf(w, topic)
					}
					want[i] = w
				}
				expectRows(t, db, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", m.cols, topic, m.order), want...)
				if got := rep.offsets(); !slices.Equal(got, m.reported) {
					t.Fatalf("reported offsets %v, want %v (errors %v)", got, m.reported, rep.errs)
				}
				wantPK := map[string]string{"none": "", "kafka": "__connect_offset,__connect_partition,__connect_topic",
					"record_key": "id", "record_value": "id,name,qty"}[m.pk]
				if m.fields != "" {
					wantPK = m.fields
				}
				if got := primaryKeyOf(t, hdb, db, topic); got != wantPK {
					t.Fatalf("primary key %q, want %q", got, wantPK)
				}
			})
		}
	})
}

// TestConstraintViolationWithoutReporter: with no errant-record reporter
// (errors.tolerance=none) a duplicate key fails the Put that writes it with
// the record's coordinates, and nothing of that batch is committed.
func TestConstraintViolationWithoutReporter(t *testing.T) {
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		cfg := sinkConfig(hdb, "auto.create", "true", "insert.mode", "insert", "pk.mode", "record_key")
		task := startTask(t, cfg, nil)
		mustPut(t, task, modeRec("orders", 0, 1, "a", 1))
		mustFlush(t, task)
		err := task.Put(t.Context(), []schema.Record{modeRec("orders", 1, 2, "b", 2), modeRec("orders", 2, 1, "dup", 3)})
		if err == nil || !strings.Contains(err.Error(), "topic='orders',partition=0,offset=2") {
			t.Fatalf("put = %v, want an error naming offset 2", err)
		}
		expectRows(t, db, "SELECT id, name FROM orders ORDER BY id", "1|a")

		// errors.tolerance=none through a reporter that refuses: same outcome.
		rep := &reporter{refuse: true}
		task2 := startTask(t, cfg, rep)
		err = task2.Put(t.Context(), []schema.Record{modeRec("orders", 1, 2, "b", 2), modeRec("orders", 2, 1, "dup", 3)})
		if err == nil || !strings.Contains(err.Error(), "errors.tolerance=none") {
			t.Fatalf("put = %v", err)
		}
		expectRows(t, db, "SELECT id, name FROM orders ORDER BY id", "1|a")
	})
}
