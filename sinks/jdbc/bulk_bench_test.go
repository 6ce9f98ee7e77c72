package jdbcsink

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tributary-cdc/tributary/integration/harness"
)

// BenchmarkPostgresBulkPaths writes TRIBUTARY_BENCH_ROWS rows of bench/load's
// sink table (BIGINT key, BIGINT, VARCHAR(64), NUMERIC(12,2), TIMESTAMP(6),
// values bound as the sink binds them) into PostgreSQL, one transaction per
// batch, with synchronous_commit=on as bench/load runs it, three ways: the
// multi-row INSERT … VALUES … ON CONFLICT, INSERT … SELECT FROM UNNEST(arrays)
// ON CONFLICT (the sink's bulk statement), and COPY into a temporary table
// then INSERT … SELECT … ON CONFLICT; at several batch sizes, to choose the
// path and pgBulkMinRows by measurement. Half the rows of the second half
// update rows of the first.
func BenchmarkPostgresBulkPaths(b *testing.B) {
	hdb := harness.Postgres(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, hdb.DSN())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET synchronous_commit = on"); err != nil {
		b.Fatal(err)
	}
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		b.Fatal(err)
	}
	const cols = "id,v,s,d,ts"
	const set = " ON CONFLICT (id) DO UPDATE SET v=EXCLUDED.v,s=EXCLUDED.s,d=EXCLUDED.d,ts=EXCLUDED.ts"
	row := func(i int) []any {
		id := int64(i)
		if i >= benchRowsN/2 && i%2 == 0 {
			id = int64(i - benchRowsN/2)
		}
		return []any{id, int64(i) * 3, fmt.Sprintf("row-%d-%s", i, strings.Repeat("x", i%20)),
			fmt.Sprintf("%d.%02d", i%100000, i%100), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Microsecond)}
	}
	multi := func(tx pgx.Tx, table string, rows [][]any) error {
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + table + " (" + cols + ") VALUES ")
		args := make([]any, 0, len(rows)*5)
		for r, vals := range rows {
			if r > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "($%d,$%d,$%d,$%d,$%d)", r*5+1, r*5+2, r*5+3, r*5+4, r*5+5)
			args = append(args, vals...)
		}
		sb.WriteString(set)
		_, err := tx.Exec(ctx, sb.String(), args...)
		return err
	}
	unnest := func(tx pgx.Tx, table string, rows [][]any) error {
		arrays := make([][]any, 5)
		for c := range arrays {
			arrays[c] = make([]any, len(rows))
			for r := range rows {
				arrays[c][r] = rows[r][c]
			}
		}
		_, err := tx.Exec(ctx, "INSERT INTO "+table+" ("+cols+") SELECT u.c1,u.c2,u.c3::character varying,u.c4::numeric,u.c5 FROM UNNEST($1::bigint[],$2::bigint[],$3::text[],$4::text[],$5::timestamp without time zone[]) AS u(c1,c2,c3,c4,c5)"+set,
			arrays[0], arrays[1], arrays[2], arrays[3], arrays[4])
		return err
	}
	copyStage := func(tx pgx.Tx, table string, rows [][]any) error {
		if _, err := tx.Exec(ctx, "CREATE TEMPORARY TABLE IF NOT EXISTS tributary_stage (c1 bigint, c2 bigint, c3 text, c4 text, c5 timestamp) ON COMMIT DELETE ROWS"); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"tributary_stage"}, []string{"c1", "c2", "c3", "c4", "c5"}, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO "+table+" ("+cols+") SELECT c1,c2,c3::character varying,c4::numeric,c5 FROM tributary_stage"+set)
		return err
	}
	paths := []struct {
		name  string
		write func(pgx.Tx, string, [][]any) error
	}{{"multirow", multi}, {"unnest", unnest}, {"copy", copyStage}}
	for _, batch := range []int{1, 4, 16, 32, 64, 3000} {
		for _, p := range paths {
			b.Run(fmt.Sprintf("batch=%d/%s", batch, p.name), func(b *testing.B) {
				n := benchRowsN
				if batch < 64 {
					n = min(n, 200*batch) // a few hundred transactions suffice
				}
				cpu0 := procCPU(b, backend)
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					table := fmt.Sprintf("bulk_%s_%d_%d", p.name, batch, i)
					if _, err := conn.Exec(ctx, "CREATE TABLE "+table+" (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(64), d NUMERIC(12,2), ts TIMESTAMP(6))"); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					rows := make([][]any, 0, batch)
					seen := map[int64]int{}
					for lo := 0; lo < n; lo += batch {
						rows, seen = rows[:0], clear2(seen)
						for j := lo; j < min(lo+batch, n); j++ {
							r := row(j)
							if k, ok := seen[r[0].(int64)]; ok {
								rows[k] = r // a key once per statement, the last value
								continue
							}
							seen[r[0].(int64)] = len(rows)
							rows = append(rows, r)
						}
						tx, err := conn.Begin(ctx)
						if err != nil {
							b.Fatal(err)
						}
						if err := p.write(tx, table, rows); err != nil {
							b.Fatal(err)
						}
						if err := tx.Commit(ctx); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					if _, err := conn.Exec(ctx, "DROP TABLE "+table); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric((procCPU(b, backend)-cpu0).Seconds()*1e6/float64(n*b.N), "server-µs/row")
			})
		}
	}
}

// procCPU is the user+system CPU time of process pid (Linux /proc, clock
// ticks of 10 ms).
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func clear2[K comparable, V any](m map[K]V) map[K]V {
	clear(m)
	return m
}
