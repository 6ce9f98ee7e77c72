package source

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// benchRows is the bulk benchmark's table size: TRIBUTARY_ROWS, default
// 20000 (the 1M-row figure in the README comes from TRIBUTARY_ROWS=1000000).
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("TRIBUTARY_ROWS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

// BenchmarkBulk measures bulk mode end to end through the task (query,
// streaming, conversion to Connect values, records) against a raw
// database/sql scan of the same table in the same process.
//
//	TRIBUTARY_ROWS=1000000 go test ./jdbc -run '^$' -bench Bulk -benchtime 1x
func BenchmarkBulk(b *testing.B) {
	n := benchRows()
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			conn := db.Open(b)
			var fill string
			if be.name == "mariadb" {
				conn.MustExec(`CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(40) NOT NULL, amount DECIMAL(12,2),
					created_at DATETIME(6) NOT NULL, note TEXT)`)
				fill = `INSERT INTO orders SELECT seq, CONCAT('customer-', seq % 1000), seq / 100, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND, 'some note text'
					FROM seq_1_to_` + strconv.Itoa(n)
			} else {
				conn.MustExec(`CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(40) NOT NULL, amount NUMERIC(12,2),
					created_at TIMESTAMP(6) NOT NULL, note TEXT)`)
				fill = `INSERT INTO orders SELECT g, 'customer-' || (g % 1000), g / 100.0, TIMESTAMP '2024-01-01 00:00:00' + g * INTERVAL '1 second', 'some note text'
					FROM generate_series(1, ` + strconv.Itoa(n) + `) g`
			}
			start := time.Now()
			conn.MustExec(fill)
			b.Logf("%s: filled %d rows in %v", be.name, n, time.Since(start))

			b.Run("task", func(b *testing.B) {
				cfg := map[string]string{"connection.url": db.JDBCURL(), "mode": "bulk", "table.whitelist": "orders",
					"topic.prefix": "bench-", "batch.max.rows": "1000", "poll.interval.ms": "60000"}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					task := NewSourceTask()
					tc := taskContextB(b)
					if err := task.Start(context.Background(), cfg, tc); err != nil {
						b.Fatal(err)
					}
					got := 0
					for got < n {
						recs, err := task.Poll(context.Background())
						if err != nil {
							b.Fatal(err)
						}
						got += len(recs)
					}
					task.Stop()
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
			})
			b.Run("raw", func(b *testing.B) {
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					rows, err := conn.Query("SELECT * FROM orders")
					if err != nil {
						b.Fatal(err)
					}
					cols, _ := rows.Columns()
					vals := make([]any, len(cols))
					ptrs := make([]any, len(cols))
					for j := range vals {
						ptrs[j] = &vals[j]
					}
					got := 0
					for rows.Next() {
						if err := rows.Scan(ptrs...); err != nil {
							b.Fatal(err)
						}
						got++
					}
					rows.Close()
					if got != n {
						b.Fatalf("raw scan: %d rows", got)
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		})
	}
}
