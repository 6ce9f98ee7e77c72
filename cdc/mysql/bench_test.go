package mysql

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	gmysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// The benchmarks share one database with a TRIBUTARY_ROWS-row table (100k by
// default; run with TRIBUTARY_ROWS=1000000 to measure) and the binlog of
// inserting the same rows again in 1000-row transactions.
//
//	go test ./cdc/mysql/ -run '^$' -bench . -benchtime 1x
var benchEnv struct {
	db        *harness.Database
	rows      int
	streamPos position // binlog position before the streamed inserts
}

func benchSetup(b *testing.B) {
	b.Helper()
	if benchEnv.db != nil {
		return
	}
	n := testRows()
	db := harness.MariaDB(b)
	conn, err := db.Connect(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		"CREATE TABLE snap (id INT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(64), d DECIMAL(12,2), ts DATETIME(6))",
		"CREATE TABLE strm (id INT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(64), d DECIMAL(12,2), ts DATETIME(6))",
		fmt.Sprintf("INSERT INTO snap SELECT seq, seq * 7, CONCAT('row-', seq), seq / 100, '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_%d", n),
	} {
		if _, err := conn.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	file, pos, gtids, err := currentPosition(context.Background(), conn.DB, gmysql.MariaDBFlavor)
	if err != nil {
		b.Fatal(err)
	}
	for start := 1; start <= n; start += 1000 {
		q := fmt.Sprintf("INSERT INTO strm SELECT seq, seq * 7, CONCAT('row-', seq), seq / 100, '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_%d_to_%d", start, min(start+999, n))
		if _, err := conn.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	benchEnv.db, benchEnv.rows = db, n
	benchEnv.streamPos = position{File: file, Pos: pos, GTIDs: gtids}
}

func countRows(b *testing.B, task *Task, topic string, n int) {
	got := 0
	deadline := time.Now().Add(10 * time.Minute)
	for got < n {
		recs, err := task.Poll(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		recs = ackPolled(task, recs, nil)
		for _, r := range recs {
			if r.Topic == topic {
				got++
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d rows", got, n)
		}
	}
}

// BenchmarkSnapshot measures snapshot rows/s (read, convert to Connect
// records, hand to Poll).
func BenchmarkSnapshot(b *testing.B) {
	benchSetup(b)
	db := benchEnv.db
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		prefix := fmt.Sprintf("bs%d", i)
		task := startTask(b, testConfig(db, prefix, "table.include.list", db.Name+".snap", "snapshot.mode", "initial_only",
			"include.schema.changes", "false", "max.batch.size", "4096", "max.queue.size", "16384"), &memOffsets{})
		countRows(b, task, prefix+"."+db.Name+".snap", benchEnv.rows)
		task.Stop()
	}
	b.ReportMetric(float64(benchEnv.rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkStreamCatchUp measures binlog catch-up rows/s: start from a
// stored offset and read TRIBUTARY_ROWS inserted rows (decode, convert, Poll).
func BenchmarkStreamCatchUp(b *testing.B) {
	benchSetup(b)
	db := benchEnv.db
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		prefix := fmt.Sprintf("bc%d", i)
		off := &memOffsets{}
		off.commit(benchEnv.streamPos.offsetMap())
		task := startTask(b, testConfig(db, prefix, "table.include.list", db.Name+".strm", "include.schema.changes", "false",
			"max.batch.size", "4096", "max.queue.size", "16384"), off)
		countRows(b, task, prefix+"."+db.Name+".strm", benchEnv.rows)
		task.Stop()
	}
	b.ReportMetric(float64(benchEnv.rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkRawBinlogParse is the baseline for BenchmarkStreamCatchUp: the
// same binlog read with go-mysql's BinlogSyncer alone (events decoded into
// Go values, nothing converted or queued).
func BenchmarkRawBinlogParse(b *testing.B) {
	benchSetup(b)
	db := benchEnv.db
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
			ServerID: uint32(7000 + i), Flavor: gmysql.MariaDBFlavor, Host: db.Host, Port: uint16(db.Port), User: db.User, Password: db.Password,
			ParseTime: true, UseDecimal: true, Logger: discardLogger(),
		})
		st, err := s.StartSync(gmysql.Position{Name: benchEnv.streamPos.File, Pos: benchEnv.streamPos.Pos})
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for got < benchEnv.rows {
			ev, err := st.GetEvent(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if re, ok := ev.Event.(*replication.RowsEvent); ok && strings.EqualFold(string(re.Table.Table), "strm") {
				got += len(re.Rows)
			}
		}
		s.Close()
	}
	b.ReportMetric(float64(benchEnv.rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkRowConversion measures converting decoded binlog rows into
// Debezium envelopes without any I/O.
func BenchmarkRowConversion(b *testing.B) {
	src := newSourceBlock("mysql", "bench")
	cols := []column{
		{name: "id", position: 1, kind: kInt},
		{name: "v", position: 2, kind: kBig},
		{name: "s", position: 3, kind: kString, nullable: true, charset: "utf8mb4"},
		{name: "d", position: 4, kind: kDecimal, precision: 12, scale: 2, nullable: true},
		{name: "ts", position: 5, kind: kDateTime, fsp: 6, nullable: true},
	}
	tbl, err := newTable(tableNaming{prefix: "bench", adjust: func(s string) string { return s }}, "db", "t", cols, []int{0}, nil,
		typeOptions{decimal: decimalPrecise, time: timeAdaptiveMicros, bigint: bigintLong, binary: binaryBytes}, src.schema)
	if err != nil {
		b.Fatal(err)
	}
	row := []any{int32(42), int64(4242), "row-42", mustDecimal("4.20"), time.Date(2024, 1, 1, 0, 0, 42, 0, time.UTC)}
	si := &sourceInfo{tsMs: 1, snapshot: "false", db: "db", table: "t", serverID: 1, file: "mysql-bin.000001", pos: 4}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		key, val, err := tbl.rowValue(row, true)
		if err != nil {
			b.Fatal(err)
		}
		env := newEnvelopeForBench(tbl, val, src.build(si))
		_ = schema.Record{Topic: tbl.topic, KeySchema: tbl.keySchema, Key: key, ValueSchema: tbl.envSchema, Value: env}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkIncrementalSnapshot measures an incremental snapshot of the same
// table (chunks of incremental.snapshot.chunk.size=1024, watermarks in a
// signal table that is not captured) started by a signal-table row.
func BenchmarkIncrementalSnapshot(b *testing.B) {
	benchSetup(b)
	db := benchEnv.db
	conn := db.Open(b)
	mustExec(b, conn, "CREATE TABLE IF NOT EXISTS dbz_signal (id VARCHAR(64) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT)")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		prefix := fmt.Sprintf("bi%d", i)
		task := startTask(b, testConfig(db, prefix, "table.include.list", db.Name+".snap", "snapshot.mode", "no_data",
			"include.schema.changes", "false", "max.batch.size", "4096", "max.queue.size", "16384", "heartbeat.interval.ms", "100",
			"signal.data.collection", db.Name+".dbz_signal"), &memOffsets{})
		countRows(b, task, cdc.HeartbeatTopic("__debezium-heartbeat", prefix), 1) // streaming
		mustExec(b, conn, "INSERT INTO dbz_signal VALUES (UUID(), 'execute-snapshot', ?)", `{"data-collections": ["`+db.Name+`.snap"]}`)
		countRows(b, task, prefix+"."+db.Name+".snap", benchEnv.rows)
		task.Stop()
	}
	b.ReportMetric(float64(benchEnv.rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
