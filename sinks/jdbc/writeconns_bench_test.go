package jdbcsink

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// BenchmarkWriteConns upserts TRIBUTARY_BENCH_ROWS rows of bench/load's sink
// table in 3000-row batches, each batch split over 1, 2, 3 or 4 connections
// writing at once, each part in its own transaction: into MariaDB with the
// sink's multi-row statement (client-side interpolation, as the sink's
// DSN), into PostgreSQL with its UNNEST statement (synchronous_commit=on,
// as bench/load). The measurement behind the dialects' writeConns.
func BenchmarkWriteConns(b *testing.B) {
	for _, kind := range []harness.Kind{harness.KindMariaDB, harness.KindPostgres} {
		b.Run(string(kind), func(b *testing.B) { benchWriteConns(b, kind) })
	}
}

func benchWriteConns(b *testing.B, kind harness.Kind) {
	ctx := context.Background()
	var db *sqlx.DB
	var err error
	ddl := "CREATE TABLE %s (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(64), d DECIMAL(12,2), ts DATETIME(6))"
	if kind == harness.KindMariaDB {
		db, err = sqlx.Open("mysql", harness.MariaDB(b).DSN()+"&interpolateParams=true")
	} else {
		db, err = sqlx.Open("pgx", harness.Postgres(b).DSN()+"&options=-c%20synchronous_commit%3Don")
		ddl = "CREATE TABLE %s (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(64), d NUMERIC(12,2), ts TIMESTAMP(6))"
	}
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(8)
	row := func(i int) []any {
		return []any{int64(i), int64(i) * 3, fmt.Sprintf("row-%d-%s", i, strings.Repeat("x", i%20)),
			fmt.Sprintf("%d.%02d", i%100000, i%100), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Microsecond)}
	}
	write := func(table string, lo, hi int) error {
		var query string
		var args []any
		if kind == harness.KindMariaDB {
			var sb strings.Builder
			sb.WriteString("INSERT INTO " + table + " (id,v,s,d,ts) VALUES ")
			for i := lo; i < hi; i++ {
				if i > lo {
					sb.WriteByte(',')
				}
				sb.WriteString("(?,?,?,?,?)")
				args = append(args, row(i)...)
			}
			sb.WriteString(" ON DUPLICATE KEY UPDATE v=VALUES(v),s=VALUES(s),d=VALUES(d),ts=VALUES(ts)")
			query = sb.String()
		} else {
			arrays := make([][]any, 5)
			for i := lo; i < hi; i++ {
				for c, v := range row(i) {
					arrays[c] = append(arrays[c], v)
				}
			}
			query = "INSERT INTO " + table + " (id,v,s,d,ts) SELECT u.c1,u.c2,u.c3::character varying,u.c4::numeric,u.c5 FROM UNNEST($1::bigint[],$2::bigint[],$3::text[],$4::text[],$5::timestamp without time zone[]) AS u(c1,c2,c3,c4,c5) ON CONFLICT (id) DO UPDATE SET v=EXCLUDED.v,s=EXCLUDED.s,d=EXCLUDED.d,ts=EXCLUDED.ts"
			args = []any{arrays[0], arrays[1], arrays[2], arrays[3], arrays[4]}
		}
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	}
	n := benchRowsN
	for _, par := range []int{1, 2, 3, 4} {
		b.Run(fmt.Sprintf("conns=%d", par), func(b *testing.B) {
			for it := 0; it < b.N; it++ {
				b.StopTimer()
				table := fmt.Sprintf("par_%d_%d_%d", par, it, time.Now().UnixNano())
				if _, err := db.Exec(fmt.Sprintf(ddl, table)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				for lo := 0; lo < n; lo += 3000 {
					hi := min(lo+3000, n)
					var wg sync.WaitGroup
					per := (hi - lo + par - 1) / par
					for p := 0; p < par; p++ {
						a, z := lo+p*per, min(lo+(p+1)*per, hi)
						wg.Add(1)
						go func() {
							defer wg.Done()
							if err := write(table, a, z); err != nil {
								b.Error(err)
							}
						}()
					}
					wg.Wait()
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
