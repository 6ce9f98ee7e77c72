package jdbcsink

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// Benchmark rows: TRIBUTARY_BENCH_ROWS (default 100000; the reported figures
// use 1000000).

var (
	benchKey   = schema.NewStructSchema("bench.Key", schema.Field{Name: "id", Schema: schema.Int64Schema})
	benchValue = schema.NewStructSchema("bench.Value",
		schema.Field{Name: "id", Schema: schema.Int64Schema},
		schema.Field{Name: "customer", Schema: schema.StringSchema},
		schema.Field{Name: "amount", Schema: schema.DecimalSchema(2, 12, true)},
		schema.Field{Name: "qty", Schema: schema.OptionalInt32},
		schema.Field{Name: "created_at", Schema: schema.TimestampSchema(true)},
		schema.Field{Name: "note", Schema: schema.OptionalString})
)

// benchRow is one generated row: an upsert load over keys 0..rows/2, so
// half of the records update existing rows.
func benchRow(i int) (id int64, customer string, amountCents int64, qty int32, created time.Time, note string) {
	id = int64(i*7919) % int64(max(1, benchRowsN/2))
	return id, fmt.Sprintf("customer-%d", i%1000), int64(i%100000) + 1, int32(i % 50), t0.Add(time.Duration(i) * time.Millisecond), "note " + strings.Repeat("x", i%40)
}

var benchRowsN = envInt("TRIBUTARY_BENCH_ROWS", 100000)

const benchPoll = 500 // records per Put, like a consumer poll

// BenchmarkUpsertLoad loads TRIBUTARY_BENCH_ROWS keyed records in upsert mode
// through the sink (Put in polls of 500, Flush every 20 polls) into MariaDB
// and PostgreSQL, next to a hand-written multi-row INSERT … ON DUPLICATE KEY
// UPDATE / ON CONFLICT loop over the same rows in the same run.
func BenchmarkUpsertLoad(b *testing.B) {
	for _, kind := range []harness.Kind{harness.KindMariaDB, harness.KindPostgres} {
		b.Run(string(kind), func(b *testing.B) {
			var hdb *harness.Database
			if kind == harness.KindMariaDB {
				hdb = harness.MariaDB(b)
			} else {
				hdb = harness.Postgres(b)
			}
			db := hdb.Open(b)
			b.Run("sink", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					table := fmt.Sprintf("bench_sink_%d", i)
					cfg := sinkConfig(hdb, "topics", table, "auto.create", "true", "insert.mode", "upsert", "pk.mode", "record_key",
						"batch.size", "3000")
					task := startTask(b, cfg, nil)
					// Create the table outside the timing.
					mustPut(b, task, benchRecord(table, 0))
					mustFlush(b, task)
					b.StartTimer()
					recs := make([]schema.Record, 0, benchPoll)
					for n := 1; n < benchRowsN; n++ {
						recs = append(recs, benchRecord(table, n))
						if len(recs) == benchPoll || n == benchRowsN-1 {
							if err := task.Put(context.Background(), recs); err != nil {
								b.Fatal(err)
							}
							recs = recs[:0]
							if (n/benchPoll)%20 == 0 {
								mustFlush(b, task)
							}
						}
					}
					mustFlush(b, task)
					b.StopTimer()
					task.Stop()
					dropTable(b, db, table) // leave the server as the other run finds it
					b.StartTimer()
				}
				b.ReportMetric(float64(benchRowsN)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
			b.Run("raw-multirow", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					table := fmt.Sprintf("bench_raw_%d", i)
					createRawTable(b, db, kind, table)
					b.StartTimer()
					rawUpsertLoad(b, db, kind, table, benchRowsN, 3000)
					b.StopTimer()
					dropTable(b, db, table)
					b.StartTimer()
				}
				b.ReportMetric(float64(benchRowsN)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		})
	}
}

func benchRecord(topic string, i int) schema.Record {
	id, customer, cents, qty, created, note := benchRow(i)
	amount := decimal.New(cents, -2)
	return record(topic, 0, int64(i), benchKey, structOf(benchKey, id), benchValue,
		structOf(benchValue, id, customer, amount, qty, created, note))
}

func createRawTable(b testing.TB, db *sqlx.DB, kind harness.Kind, table string) {
	ddl := fmt.Sprintf(`CREATE TABLE %s (id BIGINT NOT NULL, customer LONGTEXT NOT NULL, amount DECIMAL(12,2) NULL, qty INT NULL,
		created_at DATETIME(3) NULL, note LONGTEXT NULL, PRIMARY KEY(id))`, table)
	if kind == harness.KindPostgres {
		ddl = fmt.Sprintf(`CREATE TABLE %s (id BIGINT NOT NULL, customer TEXT NOT NULL, amount NUMERIC(12,2) NULL, qty INTEGER NULL,
			created_at TIMESTAMP NULL, note TEXT NULL, PRIMARY KEY(id))`, table)
	}
	if _, err := db.Exec(ddl); err != nil {
		b.Fatal(err)
	}
}

// rawUpsertLoad is the baseline: the same rows, generated the same way,
// written with a hand-built multi-row upsert of batch rows per statement,
// one transaction per batch, last row per key within a batch (as the sink
// collapses them; PostgreSQL refuses a key twice in one statement).
func rawUpsertLoad(b testing.TB, db *sqlx.DB, kind harness.Kind, table string, rows, batch int) {
	ctx := context.Background()
	stmts := map[int]string{}
	stmt := func(n int) string {
		if s, ok := stmts[n]; ok {
			return s
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "INSERT INTO %s (id,customer,amount,qty,created_at,note) VALUES ", table)
		p := 0
		for r := 0; r < n; r++ {
			if r > 0 {
				sb.WriteByte(',')
			}
			sb.WriteByte('(')
			for c := 0; c < 6; c++ {
				if c > 0 {
					sb.WriteByte(',')
				}
				p++
				if kind == harness.KindPostgres {
					fmt.Fprintf(&sb, "$%d", p)
				} else {
					sb.WriteByte('?')
				}
			}
			sb.WriteByte(')')
		}
		if kind == harness.KindPostgres {
			sb.WriteString(" ON CONFLICT (id) DO UPDATE SET customer=EXCLUDED.customer,amount=EXCLUDED.amount,qty=EXCLUDED.qty,created_at=EXCLUDED.created_at,note=EXCLUDED.note")
		} else {
			sb.WriteString(" ON DUPLICATE KEY UPDATE customer=VALUES(customer),amount=VALUES(amount),qty=VALUES(qty),created_at=VALUES(created_at),note=VALUES(note)")
		}
		stmts[n] = sb.String()
		return stmts[n]
	}
	args := make([]any, 0, batch*6)
	idx := map[int64]int{}
	for start := 0; start < rows; start += batch {
		end := min(start+batch, rows)
		args = args[:0]
		clear(idx)
		for i := start; i < end; i++ {
			id, customer, cents, qty, created, note := benchRow(i)
			amount := fmt.Sprintf("%d.%02d", cents/100, cents%100)
			if j, ok := idx[id]; ok {
				copy(args[j*6:], []any{id, customer, amount, qty, created, note})
				continue
			}
			idx[id] = len(args) / 6
			args = append(args, id, customer, amount, qty, created, note)
		}
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, stmt(len(args)/6), args...); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

func dropTable(b testing.TB, db *sqlx.DB, table string) {
	if _, err := db.Exec("DROP TABLE " + table); err != nil {
		b.Fatal(err)
	}
}
