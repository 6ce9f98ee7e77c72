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

// BenchmarkMySQLWriteConns upserts TRIBUTARY_BENCH_ROWS rows of bench/load's
// sink table into MariaDB in 3000-row batches, each batch split over 1, 2, 3
// or 4 connections writing at once, each part in its own transaction (the
// measurement behind mysqlDialect.writeConns).
func BenchmarkMySQLWriteConns(b *testing.B) {
	hdb := harness.MariaDB(b)
	ctx := context.Background()
	db, err := sqlx.Open("mysql", hdb.DSN()+"&interpolateParams=true")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(8)
	row := func(i int) []any {
		return []any{int64(i), int64(i) * 3, fmt.Sprintf("row-%d-%s", i, strings.Repeat("x", i%20)),
			fmt.Sprintf("%d.%02d", i%100000, i%100), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Microsecond)}
	}
	write := func(table string, lo, hi int) error {
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + table + " (id,v,s,d,ts) VALUES ")
		var args []any
		for i := lo; i < hi; i++ {
			if i > lo {
				sb.WriteByte(',')
			}
			sb.WriteString("(?,?,?,?,?)")
			args = append(args, row(i)...)
		}
		sb.WriteString(" ON DUPLICATE KEY UPDATE v=VALUES(v),s=VALUES(s),d=VALUES(d),ts=VALUES(ts)")
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	}
	n := benchRowsN
	for _, par := range []int{1, 2, 3, 4} {
		b.Run(fmt.Sprintf("conns=%d", par), func(b *testing.B) {
			for it := 0; it < b.N; it++ {
				table := fmt.Sprintf("par_%d_%d_%d", par, it, time.Now().UnixNano())
				if _, err := db.Exec("CREATE TABLE " + table + " (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(64), d DECIMAL(12,2), ts DATETIME(6))"); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
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
