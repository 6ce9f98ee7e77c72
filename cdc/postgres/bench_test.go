package postgres

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// Benchmarks against the harness server. Sizes: TRIBUTARY_BENCH_ROWS
// (default 100k; 1M when measuring). Run with -benchtime=1x.
//
//	go test ./cdc/postgres/ -run '^$' -bench . -benchtime 1x

const benchTable = `CREATE TABLE bench (id bigint PRIMARY KEY, name text NOT NULL, amount numeric(12,2),
  created timestamptz NOT NULL DEFAULT now(), flag boolean, note text)`

func benchInsert(b *testing.B, c *pgx.Conn, from, rows int) {
	b.Helper()
	for lo := from; lo < from+rows; lo += 1000 {
		hi := min(lo+999, from+rows-1)
		mustExec(b, c, fmt.Sprintf(`INSERT INTO bench SELECT i, 'name-' || i, i * 1.25, now(), i %% 2 = 0, 'note ' || md5(i::text)
FROM generate_series(%d, %d) i`, lo, hi))
	}
}

// drain polls until n records of the bench topic arrived, keeping nothing.
func drain(ctx context.Context, b *testing.B, h *sim, n int) {
	h.discard = func(schema.Record) {}
	h.pollUntil(ctx, 10*time.Minute, func() bool { return h.topicCount("srv.public.bench") >= n })
}

// BenchmarkSnapshot measures the initial snapshot: rows/s from start until
// the last row is polled (one table, snapshot.max.threads=1).
func BenchmarkSnapshot(b *testing.B) {
	rows := envInt("TRIBUTARY_BENCH_ROWS", 100_000)
	db := harness.Postgres(b)
	c := pgConn(b, db)
	mustExec(b, c, benchTable)
	benchInsert(b, c, 1, rows)
	mustExec(b, c, "VACUUM ANALYZE bench")
	ctx := context.Background()
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		cfg := baseConfig(db, "slot.drop.on.stop", "true")
		cfg["slot.name"] = fmt.Sprintf("%s_%d", cfg["slot.name"], i)
		h := newSim(b, cfg)
		start := time.Now()
		h.start(ctx)
		drain(ctx, b, h, rows)
		total += time.Since(start)
		b.StopTimer()
		h.stop()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows*b.N)/total.Seconds(), "rows/s")
}

// BenchmarkStreaming measures catching up on rows inserted (in
// transactions of 1000) while the connector was down, and in the same run
// a decode-only baseline: raw pglogrepl receiving and parsing the same
// messages from the same slot without building any record.
func BenchmarkStreaming(b *testing.B) {
	rows := envInt("TRIBUTARY_BENCH_ROWS", 100_000)
	db := harness.Postgres(b)
	c := pgConn(b, db)
	mustExec(b, c, benchTable)
	ctx := context.Background()
	var ours, raw time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cfg := baseConfig(db, "snapshot.mode", "no_data", "slot.drop.on.stop", "true")
		cfg["slot.name"] = fmt.Sprintf("%s_%d", cfg["slot.name"], i)
		s, err := parseSettings(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := ensurePublication(ctx, c, s); err != nil {
			b.Fatal(err)
		}
		mustExec(b, c, fmt.Sprintf("SELECT pg_create_logical_replication_slot('%s', 'pgoutput')", s.slot))
		mustExec(b, c, "TRUNCATE bench")
		benchInsert(b, c, 1, rows)
		b.StartTimer()

		start := time.Now()
		if n := rawDecode(ctx, b, s, rows); n < rows {
			b.Fatalf("baseline decoded %d inserts, want %d", n, rows)
		}
		raw += time.Since(start)

		h := newSim(b, cfg)
		start = time.Now()
		cpu0 := cpuTime()
		h.start(ctx)
		drain(ctx, b, h, rows)
		ours += time.Since(start)
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(rows), "client-cpu-µs/row")
		b.StopTimer()
		if os.Getenv("TRIBUTARY_BENCH_TWICE") != "" {
			start = time.Now()
			rawDecode(ctx, b, s, rows)
			b.Logf("baseline again (slot acknowledged: reads nothing new): %s", time.Since(start))
		}
		h.stop()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows*b.N)/ours.Seconds(), "rows/s")
	b.ReportMetric(float64(rows*b.N)/raw.Seconds(), "baseline-rows/s")
	b.ReportMetric(raw.Seconds()/ours.Seconds(), "ratio-vs-baseline")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rawDecode streams the slot without acknowledging and parses every
// message with pglogrepl, stopping after want inserts.
func rawDecode(ctx context.Context, b *testing.B, s *settings, want int) int {
	conn, err := s.connectReplication(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	err = pglogrepl.StartReplication(ctx, conn, s.slot, 0, pglogrepl.StartReplicationOptions{PluginArgs: []string{
		"proto_version '2'", "publication_names '" + s.publication + "'"}})
	if err != nil {
		b.Fatal(err)
	}
	inserts := 0
	for inserts < want {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		msg, err := conn.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			if pgconn.Timeout(err) {
				b.Fatalf("baseline stalled at %d inserts", inserts)
			}
			b.Fatal(err)
		}
		cd, ok := msg.(*pgproto3.CopyData)
		if !ok || len(cd.Data) == 0 || cd.Data[0] != pglogrepl.XLogDataByteID {
			continue
		}
		xld, err := pglogrepl.ParseXLogData(cd.Data[1:])
		if err != nil {
			b.Fatal(err)
		}
		m, err := pglogrepl.ParseV2(xld.WALData, false)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := m.(*pglogrepl.InsertMessageV2); ok {
			inserts++
		}
	}
	return inserts
}

// BenchmarkDecode measures the connector's per-row cost without the
// network and server: recorded pgoutput messages (BEGIN, RELATION, 1000
// INSERTs, COMMIT, …) are decoded into records and queued; a goroutine
// drains the queue as Poll would.
func BenchmarkDecode(b *testing.B) {
	const rows = 20_000
	db := harness.Postgres(b)
	c := pgConn(b, db)
	mustExec(b, c, benchTable)
	ctx := context.Background()
	cfg := baseConfig(db, "snapshot.mode", "no_data")
	s, err := parseSettings(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := ensurePublication(ctx, c, s); err != nil {
		b.Fatal(err)
	}
	mustExec(b, c, fmt.Sprintf("SELECT pg_create_logical_replication_slot('%s', 'pgoutput')", s.slot))
	defer mustExec(b, c, fmt.Sprintf("SELECT pg_drop_replication_slot('%s')", s.slot))
	benchInsert(b, c, 1, rows)
	msgs := recordMessages(ctx, b, s, rows)

	types := newTypeCache()
	if err := types.load(ctx, c); err != nil {
		b.Fatal(err)
	}
	bld := &builder{s: s, m: newMapper(s), types: types, log: testLogger(b), warned: map[string]bool{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := newQueue(s.maxQueue)
		st := &streamer{s: s, log: bld.log, b: bld, types: types, q: q, part: s.partition(),
			metrics: connector.NopMetrics{}, flushed: new(atomic.Uint64), rels: map[uint32]*table{}, cat: c}
		done := make(chan int)
		go func() {
			n := 0
			for n < rows {
				recs, _ := q.poll(ctx, s.maxBatch, time.Second)
				n += len(recs)
			}
			done <- n
		}()
		for _, m := range msgs {
			if err := st.handle(ctx, m.start, m.data); err != nil {
				b.Fatal(err)
			}
		}
		<-done
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// recordMessages reads the slot's messages (without acknowledging) until
// want inserts.
func recordMessages(ctx context.Context, b *testing.B, s *settings, want int) []wireMsg {
	conn, err := s.connectReplication(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	err = pglogrepl.StartReplication(ctx, conn, s.slot, 0, pglogrepl.StartReplicationOptions{PluginArgs: []string{
		"proto_version '2'", "publication_names '" + s.publication + "'"}})
	if err != nil {
		b.Fatal(err)
	}
	var out []wireMsg
	inserts := 0
	for inserts < want || (len(out) > 0 && out[len(out)-1].data[0] != 'C') {
		msg, err := conn.ReceiveMessage(ctx)
		if err != nil {
			b.Fatal(err)
		}
		cd, ok := msg.(*pgproto3.CopyData)
		if !ok || len(cd.Data) == 0 || cd.Data[0] != pglogrepl.XLogDataByteID {
			continue
		}
		xld, err := pglogrepl.ParseXLogData(cd.Data[1:])
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, wireMsg{start: xld.WALStart, data: append([]byte(nil), xld.WALData...)})
		if xld.WALData[0] == 'I' {
			inserts++
		}
	}
	return out
}
