//go:build unix

package quickstart

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/tributary-cdc/tributary/internal/dbserver"
	"github.com/tributary-cdc/tributary/internal/logging"
	"github.com/tributary-cdc/tributary/jdbc"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/runtime/standalone"
	"github.com/tributary-cdc/tributary/runtime/verify"
	"github.com/tributary-cdc/tributary/schema/registry"
)

const quickstartUsage = `usage: replicate quickstart [flags]

Starts throwaway MariaDB (binlog) and PostgreSQL (logical decoding) servers,
the embedded Kafka broker and schema registry, and two pipelines crossing
them: MariaDB CDC → Kafka → JDBC sink into PostgreSQL and PostgreSQL CDC →
Kafka (Avro) → JDBC sink into MariaDB. Runs a workload of inserts, updates,
deletes and an ALTER TABLE, shows progress every second, waits for the
pipelines to catch up and verifies every table row by row. Ctrl-C stops and
removes everything. Exit status 0 when every table verified.

flags:
`

// Main is `replicate quickstart`: it parses args and runs the quickstart,
// returning the process exit status.
func Main(args []string, stdout, stderr io.Writer, wiring Options) int {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := qsOptions{}
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long the workload runs")
	fs.BoolVar(&o.keep, "keep", false, "keep everything running after the verification until Ctrl-C")
	fs.IntVar(&o.restPort, "rest-port", 8083, "REST API and /metrics port on 127.0.0.1 (0: any free port; a busy port falls back to a free one)")
	fs.IntVar(&o.brokerPort, "broker-port", 9092, "embedded Kafka broker port on 127.0.0.1 (0: any free port; a busy port falls back to a free one)")
	fs.IntVar(&o.registryPort, "registry-port", 8081, "embedded schema registry port on 127.0.0.1 (0: any free port; a busy port falls back to a free one)")
	fs.IntVar(&o.rate, "rate", 40, "workload transactions per second, per database")
	fs.BoolVar(&o.json, "json", false, "use JsonConverter for both pipelines (default: Avro with the embedded registry for PostgreSQL → MariaDB)")
	fs.StringVar(&o.dataDir, "data-dir", "", "directory for the broker data, offsets and the log (default: a temp dir removed at exit)")
	fs.StringVar(&o.logLevel, "log-level", "info", "level of the worker log written to replicate.log in the data dir")
	fs.Usage = func() {
		fmt.Fprint(stderr, quickstartUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || o.duration <= 0 || o.rate <= 0 {
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	q := &qs{opts: o, wiring: wiring, out: stdout, errOut: stderr}
	// After the first signal, a second one kills the process at once (the
	// database servers die with it through their parent-death signal).
	go func() { <-ctx.Done(); stop() }()
	defer q.close()
	return q.run(ctx)
}

type qsOptions struct {
	duration                           time.Duration
	keep, json                         bool
	restPort, brokerPort, registryPort int
	rate                               int
	dataDir, logLevel                  string
}

// qs is one quickstart run and everything it started.
type qs struct {
	opts        qsOptions
	wiring      Options
	out, errOut io.Writer
	log         *slog.Logger
	logPath     string
	cleanups    []func()

	my     *dbserver.MariaDBInstance
	pg     *dbserver.PostgresInstance
	w      *runtime.Worker
	admin  *kadm.Client
	regURL string
	rest   string
	dirs   []*qsDirection

	demoPassword string // of demoUser, made for this run
}

// qsDirection is one pipeline: a CDC source, its topics and the sink
// writing them into the other database.
type qsDirection struct {
	label          string // "mariadb → postgres"
	source, sink   string // connector names
	topicPrefix    string // e.g. "mariadb.inventory."
	src            *qsDB  // inventory database the workload writes
	dst            *sqlx.DB
	srcDesc        string // "mariadb inventory"
	dstDesc        string // "postgres from_mariadb"
	captured       map[string]int64
	applied        map[string]int64
	lastCaptureSum int64
}

func (q *qs) defer_(f func()) { q.cleanups = append(q.cleanups, f) }

// close undoes everything in reverse order.
func (q *qs) close() {
	for i := len(q.cleanups) - 1; i >= 0; i-- {
		q.cleanups[i]()
	}
	q.cleanups = nil
}

func (q *qs) say(format string, args ...any) { fmt.Fprintf(q.out, format+"\n", args...) }

// fail reports a setup error (or an interruption) and returns the exit code.
func (q *qs) fail(ctx context.Context, err error) int {
	if ctx.Err() != nil {
		q.say("\ninterrupted: stopping and removing everything")
		return 130
	}
	fmt.Fprintf(q.errOut, "replicate quickstart: %v\n", err)
	q.logTail()
	return 1
}

// logTail prints the worker log's warnings and errors when a run fails.
func (q *qs) logTail() {
	if q.logPath == "" {
		return
	}
	b, err := os.ReadFile(q.logPath)
	if err != nil {
		return
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			lines = append(lines, l)
		}
	}
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	if len(lines) > 0 {
		fmt.Fprintf(q.errOut, "last warnings and errors of the worker log (%s):\n%s\n", q.logPath, strings.Join(lines, "\n"))
	}
}

func (q *qs) run(ctx context.Context) int {
	q.say("Tributary quickstart: MariaDB ⇄ PostgreSQL through Kafka, with CDC sources and JDBC sinks\n")
	if err := checkPackages(ctx, q.out); err != nil {
		return q.fail(ctx, err)
	}
	if err := q.setup(ctx); err != nil {
		return q.fail(ctx, err)
	}

	// Workload, with progress every second.
	q.say("\nWorkload for %s on both databases: inserts, updates, deletes, and %q half-way.", q.opts.duration, qsDDL)
	q.say("Progress per table: events captured into Kafka / events applied by the sink.\n")
	start := time.Now()
	pctx, stopProgress := context.WithCancel(ctx)
	var pwg sync.WaitGroup
	pwg.Add(1)
	go func() { defer pwg.Done(); q.progressLoop(pctx, start) }()
	err := q.workload(ctx)
	if err == nil {
		q.say("  workload done (%d row changes in MariaDB, %d in PostgreSQL); waiting for the pipelines to catch up",
			q.dirs[0].src.writes.Load(), q.dirs[1].src.writes.Load())
		err = q.catchUp(ctx, 90*time.Second)
	}
	stopProgress()
	pwg.Wait()
	if err != nil {
		return q.fail(ctx, err)
	}

	ok, err := q.verifyAll(ctx)
	if err != nil {
		return q.fail(ctx, err)
	}
	q.say("\nREST API:         %s/connectors   (e.g. curl -s %s/connectors?expand=status)", q.rest, q.rest)
	q.say("Metrics:          %s/metrics", q.rest)
	q.say("Kafka (embedded): %s   (e.g. kcat -b %s -L)", q.w.BootstrapServers(), q.w.BootstrapServers())
	q.say("Schema registry:  %s/subjects", q.regURL)
	q.say("MariaDB:          mariadb -h 127.0.0.1 -P %d -u %s -p%s inventory   (read/write inventory, read from_postgres)", q.my.Port, demoUser, q.demoPassword)
	q.say("PostgreSQL:       PGPASSWORD=%s psql -h 127.0.0.1 -p %d -U %s inventory   (read/write inventory, read everything)", q.demoPassword, q.pg.Port, demoUser)
	q.say("Worker log:       %s", q.logPath)
	code := 0
	if !ok {
		code = 1
		q.logTail()
	}
	if q.opts.keep && ctx.Err() == nil {
		q.say("\nEverything keeps running (--keep); press Ctrl-C to stop and remove it.")
		<-ctx.Done()
	}
	q.say("\nstopping and removing everything")
	return code
}

// freePort returns preferred when it can be bound on 127.0.0.1, else a
// free port.
func freePort(preferred int) (int, error) {
	if preferred > 0 {
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(preferred))); err == nil {
			l.Close()
			return preferred, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// setup starts the servers, the schema, the worker and the connectors.
func (q *qs) setup(ctx context.Context) error {
	dir := q.opts.dataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "tributary-quickstart-")
		if err != nil {
			return fmt.Errorf("create data dir: %w", err)
		}
		dir = d
		q.defer_(func() { os.RemoveAll(d) })
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	q.logPath = filepath.Join(dir, "replicate.log")
	lf, err := os.OpenFile(q.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	q.defer_(func() { lf.Close() })
	log, lvl, err := logging.New(lf, q.opts.logLevel, "text")
	if err != nil {
		return err
	}
	q.log = log

	// Database servers, in parallel (after removing what an earlier run
	// killed with SIGKILL left behind).
	dbserver.SweepStale()
	t0 := time.Now()
	var wg sync.WaitGroup
	var myErr, pgErr error
	wg.Add(2)
	go func() { defer wg.Done(); q.my, myErr = dbserver.StartMariaDB(ctx, dbserver.Options{}) }()
	go func() { defer wg.Done(); q.pg, pgErr = dbserver.StartPostgres(ctx, dbserver.Options{}) }()
	wg.Wait()
	if q.my != nil {
		my := q.my
		q.defer_(func() { my.Close() })
	}
	if q.pg != nil {
		pg := q.pg
		q.defer_(func() { pg.Close() })
	}
	if err := errors.Join(myErr, pgErr); err != nil {
		return err
	}
	q.say("  ok  MariaDB on 127.0.0.1:%d (binlog_format=ROW) and PostgreSQL %d on 127.0.0.1:%d (wal_level=logical), started in %.1fs",
		q.my.Port, q.pg.Version, q.pg.Port, time.Since(t0).Seconds())

	// Databases: inventory (captured) and the replica of the other side.
	myInv, err := q.my.CreateDatabase(ctx, "inventory")
	if err != nil {
		return err
	}
	myDst, err := q.my.CreateDatabase(ctx, "from_postgres")
	if err != nil {
		return err
	}
	pgInv, err := q.pg.CreateDatabase(ctx, "inventory")
	if err != nil {
		return err
	}
	pgDst, err := q.pg.CreateDatabase(ctx, "from_mariadb")
	if err != nil {
		return err
	}
	open := func(d *dbserver.Database) (*sqlx.DB, error) {
		c, err := jdbc.ParseURL(d.JDBCURL(), "", "")
		if err != nil {
			return nil, err
		}
		db, err := c.Open(ctx, 3, time.Second)
		if err != nil {
			return nil, err
		}
		q.defer_(func() { db.Close() })
		return db, nil
	}
	myInvDB, err := open(myInv)
	if err != nil {
		return err
	}
	myDstDB, err := open(myDst)
	if err != nil {
		return err
	}
	pgInvDB, err := open(pgInv)
	if err != nil {
		return err
	}
	pgDstDB, err := open(pgDst)
	if err != nil {
		return err
	}
	seed := uint64(time.Now().UnixNano())
	mySrc := newQSDB("mariadb", jdbc.MySQL, myInvDB, seed)
	pgSrc := newQSDB("postgres", jdbc.Postgres, pgInvDB, seed+1)
	wg.Add(2)
	go func() { defer wg.Done(); myErr = mySrc.create(ctx) }()
	go func() { defer wg.Done(); pgErr = pgSrc.create(ctx) }()
	wg.Wait()
	if err := errors.Join(myErr, pgErr); err != nil {
		return err
	}
	q.say("  ok  inventory schema in both databases: customers (%d rows), products (%d), orders (%d)", qsCustomers, qsProducts, qsOrders)
	if q.demoPassword, err = newDemoPassword(); err != nil {
		return err
	}
	if err := createDemoUsers(ctx, myInvDB, pgInvDB, q.pg.Version, q.demoPassword); err != nil {
		return err
	}

	// The worker with the embedded broker, REST API and metrics.
	brokerPort, err := freePort(q.opts.brokerPort)
	if err != nil {
		return err
	}
	restPort, err := freePort(q.opts.restPort)
	if err != nil {
		return err
	}
	regPort, err := freePort(q.opts.registryPort)
	if err != nil {
		return err
	}
	raw := map[string]string{
		runtime.KeyBootstrapServers:      "embedded",
		runtime.KeyEmbeddedBrokerPort:    strconv.Itoa(brokerPort),
		runtime.KeyEmbeddedBrokerDataDir: filepath.Join(dir, "broker"),
		runtime.KeyOffsetFile:            filepath.Join(dir, "connect.offsets"),
		runtime.KeyOffsetFlushInterval:   "1000",
		runtime.KeyListeners:             fmt.Sprintf("http://127.0.0.1:%d", restPort),
		runtime.KeyRestAdvertisedHost:    "127.0.0.1",
		runtime.KeyKeyConverter:          runtime.JSONConverterClass,
		runtime.KeyValueConverter:        runtime.JSONConverterClass,
	}
	wc, err := runtime.ParseWorkerConfig(raw)
	if err != nil {
		return err
	}
	obs := standalone.NewObserver()
	w, err := runtime.NewWorker(ctx, wc, runtime.Options{Registry: q.wiring.Registry(), Logger: log,
		Observer: obs, Errors: runtime.DLQErrorReporters(obs)})
	if err != nil {
		return err
	}
	q.w = w
	q.defer_(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.Close(sctx); err != nil {
			log.Warn("worker close", "err", err)
		}
	})
	reg, err := registry.NewServer(ctx, registry.Options{Addr: fmt.Sprintf("127.0.0.1:%d", regPort),
		Brokers: strings.Split(w.BootstrapServers(), ","), Logger: log})
	if err != nil {
		return err
	}
	q.defer_(func() { reg.Close() })
	q.regURL = reg.URL()
	q.rest = fmt.Sprintf("http://127.0.0.1:%d", restPort)
	q.say("  ok  embedded Kafka broker on %s, schema registry on %s", w.BootstrapServers(), q.regURL)

	cl, err := w.KafkaClient()
	if err != nil {
		return err
	}
	q.defer_(cl.Close)
	q.admin = kadm.NewClient(cl)

	q.dirs = []*qsDirection{
		{label: "mariadb → postgres", source: "mariadb-source", sink: "postgres-sink", topicPrefix: "mariadb.inventory.",
			src: mySrc, dst: pgDstDB, srcDesc: "mariadb inventory", dstDesc: "postgres from_mariadb"},
		{label: "postgres → mariadb", source: "postgres-source", sink: "mariadb-sink", topicPrefix: "postgres.public.",
			src: pgSrc, dst: myDstDB, srcDesc: "postgres inventory", dstDesc: "mariadb from_postgres"},
	}
	// Topics exist before the sinks subscribe, so they start consuming at once.
	var topics []string
	for _, d := range q.dirs {
		for _, t := range qsTables {
			topics = append(topics, d.topicPrefix+t)
		}
	}
	if _, err := q.admin.CreateTopics(ctx, 1, 1, nil, topics...); err != nil {
		return fmt.Errorf("create topics: %w", err)
	}

	conns := q.connectorConfigs(myInv, pgInv, myDst, pgDst)
	order := []string{"mariadb-source", "postgres-source", "postgres-sink", "mariadb-sink"}
	api, err := standalone.StartREST(ctx, log, lvl, w, wc, obs, conns, order, q.wiring.Version)
	if err != nil {
		return err
	}
	q.defer_(api.Close)
	format := "Avro (schema registry)"
	if q.opts.json {
		format = "JSON with schemas"
	}
	q.say("  ok  connectors started (REST API %s):", q.rest)
	q.say("        mariadb-source   io.debezium.connector.mariadb.MariaDbConnector         inventory.*          → mariadb.inventory.* (JSON with schemas)")
	q.say("        postgres-sink    io.confluent.connect.jdbc.JdbcSinkConnector            mariadb.inventory.*  → postgres database from_mariadb")
	q.say("        postgres-source  io.debezium.connector.postgresql.PostgresConnector     public.*             → postgres.public.* (%s)", format)
	q.say("        mariadb-sink     io.confluent.connect.jdbc.JdbcSinkConnector            postgres.public.*    → mariadb database from_postgres")
	return nil
}

// connectorConfigs are the four connectors, with the keys a Kafka Connect
// user would write.
func (q *qs) connectorConfigs(myInv, pgInv, myDst, pgDst *dbserver.Database) map[string]map[string]string {
	topicsOf := func(prefix string) string {
		var ts []string
		for _, t := range qsTables {
			ts = append(ts, prefix+t)
		}
		return strings.Join(ts, ",")
	}
	sink := func(url, topics string) map[string]string {
		return map[string]string{
			"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
			"tasks.max":       "1",
			"connection.url":  url,
			"topics":          topics,
			"insert.mode":     "upsert",
			"pk.mode":         "record_key",
			"delete.enabled":  "true",
			"auto.create":     "true",
			"auto.evolve":     "true",
			// Debezium envelopes are flattened by the sink itself; the topic
			// <prefix>.<db>.<table> becomes the table name.
			"transforms":                   "route",
			"transforms.route.type":        "org.apache.kafka.connect.transforms.RegexRouter",
			"transforms.route.regex":       `[^.]+\.[^.]+\.([^.]+)`,
			"transforms.route.replacement": "$1",
		}
	}
	conns := map[string]map[string]string{
		"mariadb-source": {
			"connector.class":       "io.debezium.connector.mariadb.MariaDbConnector",
			"tasks.max":             "1",
			"database.hostname":     myInv.Host,
			"database.port":         strconv.Itoa(myInv.Port),
			"database.user":         dbserver.MariaDBCDCUser,
			"database.password":     dbserver.MariaDBCDCPassword,
			"database.server.id":    "5401",
			"topic.prefix":          "mariadb",
			"database.include.list": "inventory",
			"snapshot.mode":         "initial",
		},
		"postgres-source": {
			"connector.class":             "io.debezium.connector.postgresql.PostgresConnector",
			"tasks.max":                   "1",
			"database.hostname":           pgInv.Host,
			"database.port":               strconv.Itoa(pgInv.Port),
			"database.user":               pgInv.User,
			"database.password":           pgInv.Password,
			"database.dbname":             pgInv.Name,
			"topic.prefix":                "postgres",
			"plugin.name":                 "pgoutput",
			"slot.name":                   "tributary_quickstart",
			"publication.name":            "tributary_quickstart",
			"publication.autocreate.mode": "filtered",
			"table.include.list":          "public.customers,public.products,public.orders",
			"snapshot.mode":               "initial",
		},
		"postgres-sink": sink(pgDst.JDBCURL(), topicsOf("mariadb.inventory.")),
		"mariadb-sink":  sink(myDst.JDBCURL(), topicsOf("postgres.public.")),
	}
	if !q.opts.json {
		for _, name := range []string{"postgres-source", "mariadb-sink"} {
			for _, side := range []string{"key", "value"} {
				conns[name][side+".converter"] = "io.confluent.connect.avro.AvroConverter"
				conns[name][side+".converter.schema.registry.url"] = q.regURL
			}
		}
	}
	return conns
}

// workload runs both databases' workloads in parallel.
func (q *qs) workload(ctx context.Context) error {
	errs := make([]error, len(q.dirs))
	var wg sync.WaitGroup
	for i, d := range q.dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.src.workload(ctx, q.opts.duration, q.opts.rate)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// measure reads captured (topic end offsets) and applied (the sink group's
// committed offsets) events per table.
func (q *qs) measure(ctx context.Context) error {
	mctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	for _, d := range q.dirs {
		var topics []string
		for _, t := range qsTables {
			topics = append(topics, d.topicPrefix+t)
		}
		ends, err := q.admin.ListEndOffsets(mctx, topics...)
		if err != nil {
			return fmt.Errorf("list end offsets: %w", err)
		}
		captured := map[string]int64{}
		ends.Each(func(o kadm.ListedOffset) {
			if o.Err == nil {
				captured[strings.TrimPrefix(o.Topic, d.topicPrefix)] += o.Offset
			}
		})
		committed, err := q.admin.FetchOffsets(mctx, "connect-"+d.sink)
		if err != nil {
			return fmt.Errorf("fetch offsets of connect-%s: %w", d.sink, err)
		}
		applied := map[string]int64{}
		committed.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil && strings.HasPrefix(o.Topic, d.topicPrefix) {
				applied[strings.TrimPrefix(o.Topic, d.topicPrefix)] += o.At
			}
		})
		d.captured, d.applied = captured, applied
	}
	return nil
}

// failures returns the FAILED connectors and tasks with their first trace line.
func (q *qs) failures() []string {
	var out []string
	first := func(s string) string {
		s, _, _ = strings.Cut(s, "\n")
		return s
	}
	for _, name := range q.w.Connectors() {
		st, err := q.w.ConnectorStatus(name)
		if err != nil {
			continue
		}
		if st.Connector.State == runtime.Failed {
			out = append(out, fmt.Sprintf("connector %s FAILED: %s", name, first(st.Connector.Trace)))
		}
		for _, t := range st.Tasks {
			if t.State == runtime.Failed {
				out = append(out, fmt.Sprintf("task %s-%d FAILED: %s", name, t.ID, first(t.Trace)))
			}
		}
	}
	return out
}

// progressLoop prints captured/applied events per table every second.
func (q *qs) progressLoop(ctx context.Context, start time.Time) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	reported := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := q.measure(ctx); err != nil {
			if ctx.Err() == nil {
				q.log.Warn("quickstart progress", "err", err)
			}
			continue
		}
		secs := int(time.Since(start).Round(time.Second).Seconds())
		for _, d := range q.dirs {
			var b strings.Builder
			fmt.Fprintf(&b, "  [%3ds] %-19s", secs, d.label)
			for _, t := range qsTables {
				fmt.Fprintf(&b, " %s %4d/%-4d", t, d.captured[t], d.applied[t])
			}
			fmt.Fprintf(&b, "  writes %d", d.src.writes.Load())
			q.say("%s", b.String())
		}
		for _, f := range q.failures() {
			if !reported[f] {
				reported[f] = true
				q.say("  !! %s", f)
			}
		}
	}
}

// catchUp waits until every sink applied every captured event and nothing
// new was captured for two seconds, or a task failed, or timeout passed.
func (q *qs) catchUp(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	stable := 0
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		if len(q.failures()) > 0 {
			return nil // the verification shows what is missing
		}
		if err := q.measure(ctx); err != nil {
			continue
		}
		done := true
		for _, d := range q.dirs {
			var sum int64
			for _, t := range qsTables {
				sum += d.captured[t]
				if d.applied[t] != d.captured[t] {
					done = false
				}
			}
			if sum != d.lastCaptureSum {
				done = false
			}
			d.lastCaptureSum = sum
		}
		if !done {
			stable = 0
			continue
		}
		if stable++; stable >= 2 {
			return nil
		}
	}
	q.say("  !! the pipelines did not catch up within %s; verifying anyway", timeout)
	return nil
}

// verifyAll compares every table with its replica and prints the result.
func (q *qs) verifyAll(ctx context.Context) (bool, error) {
	q.say("\nVerification, row by row (count and checksum of normalized rows in key order, source vs target):")
	all := true
	n := 0
	for _, d := range q.dirs {
		for _, t := range qsTables {
			vctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			rep, err := verify.Until(vctx, d.src.db, d.dst, verify.Options{SourceTable: t, TargetTable: t}, 500*time.Millisecond)
			cancel()
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			status := "verified"
			if err != nil || !rep.Verified() {
				status = "NOT VERIFIED"
				all = false
			}
			q.say("  %-9s %-19s → %-22s %5d / %-5d rows  checksum %-16s / %-16s  %s",
				t, d.srcDesc, d.dstDesc, rep.SourceRows, rep.TargetRows, rep.SourceChecksum, rep.TargetChecksum, status)
			if status != "verified" {
				if err != nil && len(rep.Key) == 0 {
					q.say("      %v", err)
				}
				for _, df := range rep.Diffs {
					q.say("      %s", df)
				}
				if len(rep.MissingColumns) > 0 {
					q.say("      target lacks columns %s", strings.Join(rep.MissingColumns, ", "))
				}
			}
			n++
		}
	}
	if all {
		q.say("All %d tables verified.", n)
	} else {
		q.say("Some tables did NOT verify.")
		for _, f := range q.failures() {
			q.say("  !! %s", f)
		}
	}
	return all, nil
}
