package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/cdc/mysql"
	"github.com/tributary-cdc/tributary/cdc/postgres"
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/internal/dbserver"
	"github.com/tributary-cdc/tributary/runtime"
	"github.com/tributary-cdc/tributary/runtime/kafka"
	jdbcsink "github.com/tributary-cdc/tributary/sinks/jdbc"
)

type stageFunc func(ctx context.Context, c *child) (result, error)

var stageFuncs map[string]stageFunc

func init() {
	stageFuncs = map[string]stageFunc{
		stBinlogParse:   rawBinlogParse,
		stMariaCatchup:  mariaCatchup,
		stMariaScan:     func(ctx context.Context, c *child) (result, error) { return rawScan(ctx, c, c.p.Maria) },
		stMariaSnapshot: mariaSnapshot,
		stPgDecode:      rawPgDecode,
		stPgCatchup:     pgCatchup,
		stPgScan:        func(ctx context.Context, c *child) (result, error) { return rawScan(ctx, c, c.p.Postgres) },
		stPgSnapshot:    pgSnapshot,
		stProduce300:    rawProduce,
		stProduceCDC:    rawProduce,
		stMariaInsert:   func(ctx context.Context, c *child) (result, error) { return rawInsert(ctx, c, c.p.Maria) },
		stMariaSink:     func(ctx context.Context, c *child) (result, error) { return sinkStage(ctx, c, c.p.Maria) },
		stPgInsert:      func(ctx context.Context, c *child) (result, error) { return rawInsert(ctx, c, c.p.Postgres) },
		stPgSink:        func(ctx context.Context, c *child) (result, error) { return sinkStage(ctx, c, c.p.Postgres) },
		stMariaLatency:  func(ctx context.Context, c *child) (result, error) { return latencyStage(ctx, c, true) },
		stPgLatency:     func(ctx context.Context, c *child) (result, error) { return latencyStage(ctx, c, false) },
	}
}

// byteCounter counts the uncompressed Kafka batch bytes produced to and
// fetched from one topic.
type byteCounter struct {
	topic             string
	produced, fetched atomic.Int64
}

func (b *byteCounter) OnProduceBatchWritten(_ kgo.BrokerMetadata, topic string, _ int32, m kgo.ProduceBatchMetrics) {
	if topic == b.topic {
		b.produced.Add(int64(m.UncompressedBytes))
	}
}

func (b *byteCounter) OnFetchBatchRead(_ kgo.BrokerMetadata, topic string, _ int32, m kgo.FetchBatchMetrics) {
	if topic == b.topic {
		b.fetched.Add(int64(m.UncompressedBytes))
	}
}

// worker starts a runtime.Worker (standalone, JsonConverter with schemas
// for keys and values, as Connect's defaults) against the parent's broker.
func (c *child) worker(ctx context.Context, hooks ...kgo.Hook) (*runtime.Worker, error) {
	offsetFile := filepath.Join(c.p.WorkDir, fmt.Sprintf("%s-run%d.offsets", c.p.Stage, c.p.Run))
	os.Remove(offsetFile) // left by an earlier invocation with the same -work-dir
	raw := map[string]string{
		runtime.KeyBootstrapServers:    c.p.Bootstrap,
		runtime.KeyOffsetFile:          offsetFile,
		runtime.KeyOffsetFlushInterval: strconv.Itoa(c.p.FlushMs),
		runtime.KeyKeyConverter:        runtime.JSONConverterClass,
		runtime.KeyValueConverter:      runtime.JSONConverterClass,
	}
	if c.p.NoSchemas && (strings.HasSuffix(c.p.Stage, "-catchup") || strings.HasSuffix(c.p.Stage, "-snapshot")) {
		raw["key.converter.schemas.enable"] = "false"
		raw["value.converter.schemas.enable"] = "false"
	}
	wc, err := runtime.ParseWorkerConfig(raw)
	if err != nil {
		return nil, err
	}
	reg := connector.NewRegistry(mysql.Plugin{}, postgres.Plugin{}, jdbcsink.Plugin{})
	return runtime.NewWorker(ctx, wc, runtime.Options{Registry: reg, Logger: c.log, KafkaHooks: hooks, WorkerID: "bench:0"})
}

func closeWorker(w *runtime.Worker) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w.Close(ctx)
}

// failure returns the trace of a failed connector or task.
func failure(w *runtime.Worker, names ...string) error {
	for _, n := range names {
		st, err := w.ConnectorStatus(n)
		if err != nil {
			continue
		}
		if st.Connector.State == runtime.Failed {
			return fmt.Errorf("connector %s failed: %s", n, st.Connector.Trace)
		}
		for _, t := range st.Tasks {
			if t.State == runtime.Failed {
				return fmt.Errorf("task %s-%d failed: %s", n, t.ID, t.Trace)
			}
		}
	}
	return nil
}

func (c *child) admin() (*kgo.Client, *kadm.Client, error) {
	// kgo caches metadata of admin requests for MetadataMinAge (5s by
	// default): a topic looked up before the connector created it would
	// look missing for that long and add seconds to the stage.
	cl, err := kgo.NewClient(kgo.SeedBrokers(kafka.Servers(c.p.Bootstrap)...), kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		return nil, nil, err
	}
	return cl, kadm.NewClient(cl), nil
}

// endOffset is the sum of a topic's partition end offsets (0 while the
// topic does not exist).
func endOffset(ctx context.Context, adm *kadm.Client, topic string) int64 {
	offs, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0
	}
	var sum int64
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			sum += o.Offset
		}
	})
	return sum
}

// waitTopic waits until topic holds n records (all acknowledged by the
// broker), failing early when a connector fails.
func waitTopic(ctx context.Context, w *runtime.Worker, adm *kadm.Client, topic string, n int64, conn string) error {
	last, lastChange := int64(-1), time.Now()
	for {
		got := endOffset(ctx, adm, topic)
		if got >= n {
			return nil
		}
		if got != last {
			last, lastChange = got, time.Now()
		} else if time.Since(lastChange) > 3*time.Minute {
			topics, _ := adm.ListTopics(ctx)
			return fmt.Errorf("stalled: %s holds %d of %d records for 3 minutes (topics: %v)", topic, got, n, topics.Names())
		}
		if err := failure(w, conn); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func mariaSourceConfig(p params, prefix, table, mode string) map[string]string {
	return map[string]string{
		"connector.class":        "io.debezium.connector.mariadb.MariaDbConnector",
		"tasks.max":              "1",
		"database.hostname":      p.MariaCDC.Host,
		"database.port":          strconv.Itoa(p.MariaCDC.Port),
		"database.user":          p.MariaCDC.User,
		"database.password":      p.MariaCDC.Password,
		"database.server.id":     strconv.Itoa(p.ServerID),
		"topic.prefix":           prefix,
		"database.include.list":  p.MariaCDC.Name,
		"table.include.list":     p.MariaCDC.Name + "." + table,
		"include.schema.changes": "false",
		"snapshot.mode":          mode,
	}
}

func pgSourceConfig(p params, prefix, table, mode, autocreate string) map[string]string {
	return map[string]string{
		"connector.class":             "io.debezium.connector.postgresql.PostgresConnector",
		"tasks.max":                   "1",
		"database.hostname":           p.Postgres.Host,
		"database.port":               strconv.Itoa(p.Postgres.Port),
		"database.user":               p.Postgres.User,
		"database.password":           p.Postgres.Password,
		"database.dbname":             p.Postgres.Name,
		"topic.prefix":                prefix,
		"plugin.name":                 "pgoutput",
		"slot.name":                   p.Slot,
		"publication.name":            p.Publication,
		"publication.autocreate.mode": autocreate,
		"table.include.list":          "public." + table,
		"snapshot.mode":               mode,
	}
}

// sourceStage runs one source connector until topic holds p.Rows records.
// setup, if set, runs on the STOPPED connector before the clock starts.
func sourceStage(ctx context.Context, c *child, name, topic string, cfg map[string]string,
	setup func(w *runtime.Worker) error) (result, error) {
	bc := &byteCounter{topic: topic}
	w, err := c.worker(ctx, bc)
	if err != nil {
		return result{}, err
	}
	defer closeWorker(w)
	cl, adm, err := c.admin()
	if err != nil {
		return result{}, err
	}
	defer cl.Close()
	initial := runtime.Running
	if setup != nil {
		initial = runtime.Stopped
	}
	if setup == nil {
		if err := c.begin(); err != nil {
			return result{}, err
		}
	}
	if _, err := w.PutConnectorConfigState(ctx, name, cfg, initial, false); err != nil {
		return result{}, err
	}
	if setup != nil {
		if err := setup(w); err != nil {
			return result{}, err
		}
		if err := c.begin(); err != nil {
			return result{}, err
		}
		if err := w.ResumeConnector(ctx, name); err != nil {
			return result{}, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	if err := waitTopic(wctx, w, adm, topic, int64(c.p.Rows), name); err != nil {
		return result{}, fmt.Errorf("waiting for %d records in %s: %w", c.p.Rows, topic, err)
	}
	secs := c.end()
	n := endOffset(ctx, adm, topic)
	res := result{Rows: int64(c.p.Rows), Seconds: secs, Bytes: bc.produced.Load()}
	if n > 0 {
		res.AvgRecord = float64(res.Bytes) / float64(n)
	}
	if n != int64(c.p.Rows) {
		res.Note = fmt.Sprintf("topic holds %d records", n)
	}
	return res, nil
}

func mariaCatchup(ctx context.Context, c *child) (result, error) {
	prefix := fmt.Sprintf("mc%d", c.p.Run)
	topic := fmt.Sprintf("%s.%s.%s", prefix, c.p.MariaCDC.Name, c.p.Table)
	cfg := mariaSourceConfig(c.p, prefix, c.p.Table, "no_data")
	return sourceStage(ctx, c, "mariadb-catchup", topic, cfg, func(w *runtime.Worker) error {
		// Where the connector was when it went down: an operator would do
		// the same with PATCH /connectors/{name}/offsets.
		return w.AlterOffsets(ctx, "mariadb-catchup", []runtime.OffsetEntry{{
			Partition: map[string]any{"server": prefix},
			Offset:    map[string]any{"file": c.p.BinlogFile, "pos": int64(c.p.BinlogPos)},
		}})
	})
}

func mariaSnapshot(ctx context.Context, c *child) (result, error) {
	prefix := fmt.Sprintf("ms%d", c.p.Run)
	topic := fmt.Sprintf("%s.%s.%s", prefix, c.p.MariaCDC.Name, c.p.Table)
	return sourceStage(ctx, c, "mariadb-snapshot", topic, mariaSourceConfig(c.p, prefix, c.p.Table, "initial_only"), nil)
}

func pgCatchup(ctx context.Context, c *child) (result, error) {
	prefix := fmt.Sprintf("pc%d", c.p.Run)
	topic := fmt.Sprintf("%s.public.%s", prefix, c.p.Table)
	// The slot was created before the rows were written; the connector
	// has no stored offset, so it streams from the slot's position.
	return sourceStage(ctx, c, "postgres-catchup", topic, pgSourceConfig(c.p, prefix, c.p.Table, "no_data", "disabled"), nil)
}

func pgSnapshot(ctx context.Context, c *child) (result, error) {
	prefix := fmt.Sprintf("ps%d", c.p.Run)
	topic := fmt.Sprintf("%s.public.%s", prefix, c.p.Table)
	return sourceStage(ctx, c, "postgres-snapshot", topic, pgSourceConfig(c.p, prefix, c.p.Table, "initial_only", "filtered"), nil)
}

func sinkConfig(p params, db *dbserver.Database, table string) map[string]string {
	return map[string]string{
		"connector.class":   "io.confluent.connect.jdbc.JdbcSinkConnector",
		"tasks.max":         "1",
		"connection.url":    db.JDBCURL(),
		"topics":            p.Topic,
		"insert.mode":       "upsert",
		"pk.mode":           "record_key",
		"table.name.format": table,
		"batch.size":        strconv.Itoa(p.SinkBatch),
	}
}

// sinkStage runs the JDBC sink over the prepared topic until the last row
// is in the table, then checks the row count. Records (ids 1..rows, one
// partition) are applied in order, so MAX(id) = rows means all are; it is
// an index lookup, cheap enough to poll while the sink writes.
func sinkStage(ctx context.Context, c *child, db *dbserver.Database) (result, error) {
	bc := &byteCounter{topic: c.p.Topic}
	w, err := c.worker(ctx, bc)
	if err != nil {
		return result{}, err
	}
	defer closeWorker(w)
	conn, err := db.Connect(ctx)
	if err != nil {
		return result{}, err
	}
	defer conn.Close()
	name := c.p.Stage
	if err := c.begin(); err != nil {
		return result{}, err
	}
	if err := w.CreateConnector(ctx, name, sinkConfig(c.p, db, c.p.Table)); err != nil {
		return result{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	for {
		var maxID int64
		if err := conn.QueryRowContext(wctx, "SELECT COALESCE(MAX(id), 0) FROM "+c.p.Table).Scan(&maxID); err == nil && maxID >= int64(c.p.Rows) {
			break
		}
		if err := failure(w, name); err != nil {
			return result{}, err
		}
		select {
		case <-wctx.Done():
			return result{}, fmt.Errorf("waiting for the sink to apply %d records: %w", c.p.Rows, wctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	secs := c.end()
	res := result{Rows: int64(c.p.Rows), Seconds: secs, Bytes: bc.fetched.Load()}
	var n int64
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+c.p.Table).Scan(&n); err != nil {
		return res, err
	}
	if n != int64(c.p.Rows) {
		return res, fmt.Errorf("%s holds %d rows after the sink applied row %d", c.p.Table, n, c.p.Rows)
	}
	return res, nil
}

// keyID reads the id out of a JSON key {"schema":…,"payload":{"id":N}}.
func keyID(key []byte) (int64, bool) {
	s := string(key)
	i := strings.LastIndex(s, `"id":`)
	if i < 0 {
		return 0, false
	}
	s = s[i+5:]
	j := 0
	for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '-') {
		j++
	}
	n, err := strconv.ParseInt(s[:j], 10, 64)
	return n, err == nil
}
