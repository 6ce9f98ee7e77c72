package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/internal/dbserver"
	"github.com/tributary-cdc/tributary/runtime/kafka"
)

// params is everything a stage subprocess needs (passed as JSON in
// TRIBUTARY_BENCH_PARAMS).
type params struct {
	Stage     string             `json:"stage"`
	Run       int                `json:"run"`
	Rows      int                `json:"rows"`
	Bootstrap string             `json:"bootstrap"`
	Maria     *dbserver.Database `json:"maria"`
	Postgres  *dbserver.Database `json:"postgres"`
	// MariaCDC is Maria with the harness's replication user.
	MariaCDC *dbserver.Database `json:"maria_cdc"`
	Table    string             `json:"table"`
	Topic    string             `json:"topic,omitempty"`
	// BinlogFile/BinlogPos: where the MariaDB catch-up starts.
	BinlogFile    string        `json:"binlog_file,omitempty"`
	BinlogPos     uint32        `json:"binlog_pos,omitempty"`
	Slot          string        `json:"slot,omitempty"`
	Publication   string        `json:"publication,omitempty"`
	RecordBytes   int           `json:"record_bytes,omitempty"`
	SinkBatch     int           `json:"sink_batch"`
	FlushMs       int           `json:"flush_ms"`
	NoSchemas     bool          `json:"no_schemas,omitempty"`
	LatRate       int           `json:"lat_rate"`
	LatDuration   time.Duration `json:"lat_duration"`
	CPUProfileDir string        `json:"cpu_profile_dir,omitempty"`
	MemProfileDir string        `json:"mem_profile_dir,omitempty"`
	WorkDir       string        `json:"work_dir"`
	ServerID      int           `json:"server_id"`
}

// env is the parent's view: servers, broker, connections, per-run state.
type env struct {
	o         options
	out       io.Writer
	workDir   string
	my        *dbserver.MariaDBInstance
	pg        *dbserver.PostgresInstance
	broker    *kafka.Embedded
	bootstrap string
	mdb, pdb  *dbserver.Database
	mcdc      *dbserver.Database
	mconn     *sqlx.DB
	pconn     *sqlx.DB
	admin     *kadm.Client
	kcl       *kgo.Client

	// per-run state, reset by each run
	prepared map[string]bool
	binFile  string
	binPos   uint32
	cdcSize  int
	cleanups []func()
}

func orchestrate(ctx context.Context, o options, sel map[string]bool, stdout, stderr io.Writer) (err error) {
	e := &env{o: o, out: stdout}
	e.workDir = o.workDir
	if e.workDir == "" {
		if e.workDir, err = os.MkdirTemp("", "tributary-bench-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(e.workDir, 0o755); err != nil {
		return err
	}
	defer func() {
		if o.keep || o.workDir != "" {
			fmt.Fprintf(stdout, "stage logs: %s\n", e.workDir)
			return
		}
		if err != nil {
			fmt.Fprintf(stdout, "stage logs kept after the failure: %s\n", e.workDir)
			return
		}
		os.RemoveAll(e.workDir)
	}()
	for _, dir := range []*string{&e.o.cpuprofile, &e.o.memprofile} {
		if *dir == "" {
			continue
		}
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			return err
		}
		if *dir, err = filepath.Abs(*dir); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Tributary end-to-end load: %d rows per stage, %d run(s); load average %s on %d CPUs\n",
		o.rows, o.runs, loadAvg(), numCPU())
	fmt.Fprintln(stdout, "starting MariaDB, PostgreSQL (integration/harness) and the embedded broker (in memory) …")
	defer e.close()
	if err := e.start(ctx); err != nil {
		return err
	}

	var all []result
	for run := 1; run <= o.runs; run++ {
		fmt.Fprintf(stdout, "\nrun %d of %d (load average %s)\n", run, o.runs, loadAvg())
		e.prepared = map[string]bool{}
		var results []result
		for _, st := range allStages {
			if !sel[st] {
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p, err := e.prepare(ctx, st, run)
			if err != nil {
				return fmt.Errorf("prepare %s: %w", st, err)
			}
			fmt.Fprintf(stdout, "  %-26s … ", st)
			res, err := runChild(ctx, p, e.workDir)
			if err != nil {
				fmt.Fprintln(stdout, "FAILED")
				return err
			}
			if (st == stMariaCatchup || st == stMariaSnapshot || st == stPgCatchup || st == stPgSnapshot) && res.Rows > 0 && e.cdcSize == 0 {
				e.cdcSize = int(res.Bytes / res.Rows)
			}
			fmt.Fprintf(stdout, "%s\n", res.short())
			results = append(results, res)
			e.afterStage(ctx, st, run)
		}
		e.endRun(ctx)
		all = append(all, results...)
		printTable(stdout, fmt.Sprintf("run %d", run), results, o)
	}
	if o.runs > 1 {
		printTable(stdout, fmt.Sprintf("medians of %d runs", o.runs), medians(all, o.runs), o)
	}
	fmt.Fprintf(stdout, "load average at the end: %s\n", loadAvg())
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(all, "", "  ")
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (e *env) start(ctx context.Context) error {
	var err error
	e.my, err = dbserver.StartMariaDB(ctx, dbserver.Options{Settings: map[string]string{
		"innodb-buffer-pool-size": "512M", "innodb-log-file-size": "512M", "max-allowed-packet": "64M"}})
	if err != nil {
		return err
	}
	e.pg, err = dbserver.StartPostgres(ctx, dbserver.Options{Settings: map[string]string{
		"shared_buffers": "256MB", "max_wal_size": "4GB", "wal_sender_timeout": "0",
		// The harness turns it off for fast tests; with it off the WAL
		// sender only sees a commit after the WAL writer flushed it (up to
		// wal_writer_delay, 200 ms, later), which is not what a default
		// server does.
		"synchronous_commit": "on"}})
	if err != nil {
		return err
	}
	e.broker, err = kafka.StartEmbedded(kafka.EmbeddedConfig{})
	if err != nil {
		return err
	}
	e.bootstrap = strings.Join(e.broker.Addrs(), ",")
	if e.mdb, err = e.my.CreateDatabase(ctx, "bench"); err != nil {
		return err
	}
	if e.pdb, err = e.pg.CreateDatabase(ctx, "bench"); err != nil {
		return err
	}
	c := *e.mdb
	c.User, c.Password = dbserver.MariaDBCDCUser, dbserver.MariaDBCDCPassword
	e.mcdc = &c
	if e.mconn, err = e.mdb.Connect(ctx); err != nil {
		return err
	}
	if e.pconn, err = e.pdb.Connect(ctx); err != nil {
		return err
	}
	e.kcl, err = kgo.NewClient(kgo.SeedBrokers(e.broker.Addrs()...))
	if err != nil {
		return err
	}
	e.admin = kadm.NewClient(e.kcl)
	return nil
}

func (e *env) close() {
	if e.kcl != nil {
		e.kcl.Close()
	}
	if e.mconn != nil {
		e.mconn.Close()
	}
	if e.pconn != nil {
		e.pconn.Close()
	}
	if e.broker != nil {
		e.broker.Close()
	}
	if e.my != nil {
		e.my.Close()
	}
	if e.pg != nil {
		e.pg.Close()
	}
}

func (e *env) base(st string, run int) params {
	return params{Stage: st, Run: run, Rows: e.o.rows, Bootstrap: e.bootstrap, Maria: e.mdb, Postgres: e.pdb,
		MariaCDC: e.mcdc, SinkBatch: e.o.sinkBatch, FlushMs: e.o.flushMs, NoSchemas: e.o.noSchemas, LatRate: e.o.latRate, LatDuration: e.o.latDuration,
		CPUProfileDir: e.o.cpuprofile, MemProfileDir: e.o.memprofile, WorkDir: e.workDir, ServerID: 6100 + run*20}
}

func (e *env) defer_(f func()) { e.cleanups = append(e.cleanups, f) }

// endRun drops what the run created (tables, slots, topics), so runs find
// the same state and memory is given back.
func (e *env) endRun(ctx context.Context) {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
	e.cleanups = nil
	e.deleteTopics(ctx)
}

// deleteTopics deletes every non-internal topic of the broker.
func (e *env) deleteTopics(ctx context.Context) {
	topics, err := e.admin.ListTopics(ctx)
	if err != nil {
		return
	}
	var names []string
	for _, t := range topics.Names() {
		if !strings.HasPrefix(t, "__") {
			names = append(names, t)
		}
	}
	if len(names) > 0 {
		e.admin.DeleteTopics(ctx, names...)
	}
}

// afterStage frees memory the stage's topics hold once no later stage
// needs them.
func (e *env) afterStage(ctx context.Context, st string, run int) {
	switch st {
	case stMariaCatchup, stMariaSnapshot, stPgCatchup, stPgSnapshot, stProduce300, stProduceCDC,
		stMariaLatency, stPgLatency:
		e.deleteTopics(ctx)
	}
}

// Row shape of every table: ~5 columns, ~60 bytes of data per row.
const (
	mariaDDL = "CREATE TABLE %s (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(64), d DECIMAL(12,2), ts DATETIME(6))"
	pgDDL    = "CREATE TABLE %s (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(64), d NUMERIC(12,2), ts TIMESTAMP(6))"
	mariaGen = "INSERT INTO %s SELECT seq, seq * 7, CONCAT('row-', seq), seq / 100, '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_%d_to_%d"
	pgGen    = "INSERT INTO %s SELECT i, i * 7, 'row-' || i, i / 100.0, TIMESTAMP '2024-01-01' + i * INTERVAL '1 second' FROM generate_series(%d, %d) i"
)

// fill inserts rows 1..n into table in transactions of chunk rows.
func fill(ctx context.Context, db *sqlx.DB, gen, table string, n, chunk int) error {
	for lo := 1; lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		if _, err := db.ExecContext(ctx, fmt.Sprintf(gen, table, lo, hi)); err != nil {
			return fmt.Errorf("fill %s rows %d–%d: %w", table, lo, hi, err)
		}
	}
	return nil
}

func (e *env) exec(ctx context.Context, db *sqlx.DB, qs ...string) error {
	for _, q := range qs {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// prepare creates the data a stage reads (untimed) and returns its params.
func (e *env) prepare(ctx context.Context, st string, run int) (params, error) {
	p := e.base(st, run)
	switch st {
	case stBinlogParse, stMariaCatchup:
		p.Table = fmt.Sprintf("strm_%d", run)
		if !e.prepared["maria-stream"] {
			e.prepared["maria-stream"] = true
			if err := e.exec(ctx, e.mconn, fmt.Sprintf(mariaDDL, p.Table)); err != nil {
				return p, err
			}
			e.dropLater(e.mconn, p.Table)
			if err := e.mconn.QueryRowxContext(ctx, "SHOW MASTER STATUS").Scan(&e.binFile, &e.binPos, new(any), new(any)); err != nil {
				return p, fmt.Errorf("SHOW MASTER STATUS: %w", err)
			}
			start := time.Now()
			if err := fill(ctx, e.mconn, mariaGen, p.Table, e.o.rows, 1000); err != nil {
				return p, err
			}
			e.note("wrote %d rows into MariaDB %s in 1000-row transactions (%.1fs)", e.o.rows, p.Table, time.Since(start).Seconds())
		}
		p.BinlogFile, p.BinlogPos = e.binFile, e.binPos
		p.ServerID += 1
		if st == stMariaCatchup {
			p.ServerID += 1
		}
	case stMariaScan, stMariaSnapshot:
		p.Table = fmt.Sprintf("snap_%d", run)
		if !e.prepared["maria-snap"] {
			e.prepared["maria-snap"] = true
			if err := e.exec(ctx, e.mconn, fmt.Sprintf(mariaDDL, p.Table)); err != nil {
				return p, err
			}
			e.dropLater(e.mconn, p.Table)
			if err := fill(ctx, e.mconn, mariaGen, p.Table, e.o.rows, 50_000); err != nil {
				return p, err
			}
			if err := e.exec(ctx, e.mconn, "ANALYZE TABLE "+p.Table); err != nil {
				return p, err
			}
		}
		p.ServerID += 3
	case stPgDecode, stPgCatchup:
		p.Table = fmt.Sprintf("strm_%d", run)
		p.Publication = fmt.Sprintf("bench_pub_%d", run)
		p.Slot = fmt.Sprintf("bench_slot_%d", run)
		if st == stPgDecode {
			p.Slot = fmt.Sprintf("bench_raw_slot_%d", run)
		}
		if !e.prepared["pg-stream"] {
			e.prepared["pg-stream"] = true
			if err := e.exec(ctx, e.pconn, fmt.Sprintf(pgDDL, p.Table),
				fmt.Sprintf("CREATE PUBLICATION %s FOR TABLE %s", p.Publication, p.Table)); err != nil {
				return p, err
			}
			for _, slot := range []string{fmt.Sprintf("bench_slot_%d", run), fmt.Sprintf("bench_raw_slot_%d", run)} {
				if err := e.exec(ctx, e.pconn, fmt.Sprintf("SELECT pg_create_logical_replication_slot('%s', 'pgoutput')", slot)); err != nil {
					return p, err
				}
				e.defer_(func() {
					e.pconn.ExecContext(context.Background(), fmt.Sprintf(
						"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '%s' AND NOT active", slot))
				})
			}
			pub := p.Publication
			e.defer_(func() { e.pconn.ExecContext(context.Background(), "DROP PUBLICATION IF EXISTS "+pub) })
			e.dropLater(e.pconn, p.Table)
			start := time.Now()
			if err := fill(ctx, e.pconn, pgGen, p.Table, e.o.rows, 1000); err != nil {
				return p, err
			}
			e.note("wrote %d rows into PostgreSQL %s in 1000-row transactions (%.1fs)", e.o.rows, p.Table, time.Since(start).Seconds())
		}
	case stPgScan, stPgSnapshot:
		p.Table = fmt.Sprintf("snap_%d", run)
		p.Slot = fmt.Sprintf("bench_snap_slot_%d", run)
		p.Publication = fmt.Sprintf("bench_snap_pub_%d", run)
		if !e.prepared["pg-snap"] {
			e.prepared["pg-snap"] = true
			if err := e.exec(ctx, e.pconn, fmt.Sprintf(pgDDL, p.Table)); err != nil {
				return p, err
			}
			e.dropLater(e.pconn, p.Table)
			slot, pub := p.Slot, p.Publication
			e.defer_(func() {
				e.pconn.ExecContext(context.Background(), fmt.Sprintf(
					"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '%s' AND NOT active", slot))
				e.pconn.ExecContext(context.Background(), "DROP PUBLICATION IF EXISTS "+pub)
			})
			if err := fill(ctx, e.pconn, pgGen, p.Table, e.o.rows, 50_000); err != nil {
				return p, err
			}
			if err := e.exec(ctx, e.pconn, "VACUUM ANALYZE "+p.Table); err != nil {
				return p, err
			}
		}
	case stProduce300:
		p.Topic = fmt.Sprintf("bench.produce300.%d", run)
		p.RecordBytes = 300
	case stProduceCDC:
		p.Topic = fmt.Sprintf("bench.producecdc.%d", run)
		p.RecordBytes = e.cdcSize
		if p.RecordBytes == 0 {
			p.RecordBytes = 1500
		}
	case stMariaInsert, stMariaSink, stPgInsert, stPgSink:
		p.Topic = fmt.Sprintf("bench.sink.%d", run)
		p.Table = fmt.Sprintf("sink_%d", run)
		if st == stMariaInsert || st == stPgInsert {
			p.Table = fmt.Sprintf("raw_%d", run)
		}
		if !e.prepared["sink-topic"] {
			e.prepared["sink-topic"] = true
			start := time.Now()
			if err := produceSinkTopic(ctx, e.kcl, p.Topic, e.o.rows); err != nil {
				return p, err
			}
			e.note("produced %d JSON records (schemas on) into %s (%.1fs)", e.o.rows, p.Topic, time.Since(start).Seconds())
		}
		db, ddl := e.mconn, mariaDDL
		if st == stPgInsert || st == stPgSink {
			db, ddl = e.pconn, pgDDL
		}
		if err := e.exec(ctx, db, fmt.Sprintf(ddl, p.Table)); err != nil {
			return p, err
		}
		e.dropLater(db, p.Table)
	case stMariaLatency, stPgLatency:
		p.Table = fmt.Sprintf("latm_%d", run)
		if st == stPgLatency {
			p.Table = fmt.Sprintf("latp_%d", run)
		}
		p.Slot = fmt.Sprintf("bench_lat_slot_%d", run)
		p.Publication = fmt.Sprintf("bench_lat_pub_%d", run)
		p.ServerID += 5
		src, dst, ddl := e.mconn, e.pconn, mariaDDL
		if st == stPgLatency {
			src, dst, ddl = e.pconn, e.mconn, pgDDL
			slot, pub := p.Slot, p.Publication
			e.defer_(func() {
				e.pconn.ExecContext(context.Background(), fmt.Sprintf(
					"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '%s' AND NOT active", slot))
				e.pconn.ExecContext(context.Background(), "DROP PUBLICATION IF EXISTS "+pub)
			})
		}
		if err := e.exec(ctx, src, fmt.Sprintf(ddl, p.Table)); err != nil {
			return p, err
		}
		e.dropLater(src, p.Table)
		e.dropLater(dst, p.Table) // created by the sink (auto.create)
	}
	return p, nil
}

func (e *env) dropLater(db *sqlx.DB, table string) {
	e.defer_(func() { db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table) })
}

func (e *env) note(format string, args ...any) {
	fmt.Fprintf(e.out, "  (setup: "+format+")\n", args...)
}
