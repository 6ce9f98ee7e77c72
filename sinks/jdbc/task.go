package jdbcsink

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/internal/tlsstore"
	"github.com/tributary-cdc/tributary/jdbc"
	"github.com/tributary-cdc/tributary/schema"
)

// Task is one JDBC sink task (connector.SinkTask). Put and Flush must not be
// called concurrently with each other; Stop may be called at any time.
type Task struct {
	mu       sync.Mutex
	st       *settings
	d        dialect
	q        quoter
	db       *sqlx.DB
	tc       connector.TaskContext
	log      *slog.Logger
	connName string
	collapse bool // rows have an identity (record_key/record_value keys)
	maxBytes int  // statement byte budget (dialect.maxStatementBytes), 0 = none

	byTopic map[string]*tableState
	byName  map[string]*tableState
	seen    map[tp]int64 // highest offset accepted per partition (redelivery filter)
	applied map[appliedKey]int64
	offsets offsetsStore

	// bulkRows counts the rows written and deleted by the dialect's bulk
	// statements, parallelRows those written by parallel writers (what the
	// tests check to know the path taken).
	bulkRows, parallelRows atomic.Int64
	// sqlMu guards the shapes' statement caches (parallel writers share
	// them); argPool holds the writers' argument slices.
	sqlMu   sync.Mutex
	argPool sync.Pool

	envCache map[*schema.Schema]envInfo
	infer    inferrer

	// stopped is cancelled by Stop so a Put or Flush waiting in a retry
	// backoff returns at once.
	stopped    context.Context
	cancelStop context.CancelFunc
}

// tableState is everything the task keeps per destination table.
type tableState struct {
	id       tableID
	lookupID tableID // as stored in the catalog (PostgreSQL folds unquoted names)
	key      string  // id.String(), the table_name of exactly-once offsets
	qname    string
	meta     *tableMeta
	metaVer  int
	stale    bool
	shapes   map[[2]*schema.Schema]*shape
	shapesFP map[string]*shape
	buf      tableBuf
}

// Start parses the config, connects (connection.attempts ×
// connection.backoff.ms) and, with exactly.once=true, loads the applied
// offsets.
func (t *Task) Start(ctx context.Context, cfg map[string]string, tc connector.TaskContext) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, err := parseSettings(cfg)
	if err != nil {
		return err
	}
	t.st = st
	t.tc = tc
	t.stopped, t.cancelStop = context.WithCancel(context.Background())
	t.log = tc.Logger
	if t.log == nil {
		t.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	t.connName = tc.Connector
	if t.connName == "" {
		t.connName = "jdbc-sink"
	}
	t.log = t.log.With("connector", t.connName, "task", tc.TaskID)
	if t.d, err = newDialect(st.conn); err != nil {
		return err
	}
	t.q = quoter{jdbc.Quoter{D: t.d, Always: st.quote}}
	t.collapse = st.pkMode == PKModeRecordKey || st.pkMode == PKModeRecordValue
	t.byTopic = map[string]*tableState{}
	t.byName = map[string]*tableState{}
	t.seen = map[tp]int64{}
	t.applied = map[appliedKey]int64{}
	t.envCache = map[*schema.Schema]envInfo{}
	t.infer = inferrer{cache: map[string]*schema.Schema{}}
	conn, err := t.d.session(st.conn)
	if err != nil {
		return err
	}
	conn.Log = t.log
	db, err := conn.Open(ctx, st.connAttempts, st.connBackoff)
	if err != nil {
		if tlsstore.IsCertificateError(err) {
			return err // the server's certificate does not verify: retrying will not help
		}
		return connector.Retriable(err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(2)
	t.db = db
	t.d.probe(ctx, db)
	t.maxBytes = t.d.maxStatementBytes()
	if st.exactlyOnce {
		if err := t.initOffsets(ctx); err != nil {
			db.Close()
			t.db = nil
			if c := t.classify(err); c == errRetriable {
				return connector.Retriable(err)
			}
			return err
		}
	}
	t.log.Info("JDBC sink task started", "flavor", string(st.conn.Flavor), "database", st.conn.Database,
		"insert.mode", st.insertMode, "pk.mode", st.pkMode, "exactly.once", st.exactlyOnce)
	return nil
}

// Put converts and buffers records, writing a table whose buffer reaches
// batch.size at once, and before returning writes (and commits) everything
// the call buffered, each table in one transaction. A record that cannot be converted is
// reported; Put fails when the reporter refuses it. A retriable failure
// returns an error wrapping connector.ErrRetriable: the runtime hands the
// same records again, and records already buffered are recognised by their
// offsets and not buffered twice. Records must therefore carry their Kafka
// partition and offset: one at or below the highest offset this task already
// accepted for its partition is taken for a redelivery and ignored.
//
// The errant-record reporter may be called during Put for any record handed
// to Put since the last successful Flush (a table batch written because it
// reached batch.size), and during Flush.
func (t *Task) Put(ctx context.Context, recs []schema.Record) error {
	if t.cancelStop != nil {
		var cancel context.CancelFunc
		ctx, cancel = t.withStop(ctx)
		defer cancel()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.db == nil {
		return fmt.Errorf("jdbc sink task is not started")
	}
	for i := range recs {
		r := recs[i]
		if err := t.add(ctx, &r); err != nil {
			return err
		}
	}
	// Write what this poll buffered now, as Confluent's sink does on every
	// put: rows reach the target within one poll, not one offset-flush
	// interval later. Each table's rows go in one transaction; the runtime
	// still commits consumer offsets only after Flush.
	return t.writeDirty(ctx)
}

func (t *Task) add(ctx context.Context, r *schema.Record) error {
	// Positions are where the record was consumed, not its routed topic:
	// a router merging two topics onto one name must not make the second
	// topic's offsets look like redeliveries of the first's (KAFKA-5567).
	p := tp{r.OrigTopic(), r.OrigPartition()}
	off := r.OrigOffset()
	last, seen := t.seen[p]
	if seen && off <= last {
		return nil // redelivered after a retriable error: already buffered or written
	}
	ts, err := t.table(r.Topic)
	if err != nil {
		t.seen[p] = off
		return t.report(ctx, &op{rec: r}, err)
	}
	if t.st.exactlyOnce && (!seen || off != last+1) {
		// A partition new to this task, or a jump: it may have been
		// consumed by another task since Start (rebalance); take its
		// applied offsets from the database.
		if err := t.reloadApplied(ctx, ts); err != nil {
			return connector.Retriable(err)
		}
	}
	t.seen[p] = off
	if t.st.exactlyOnce {
		if done, ok := t.applied[appliedKey{table: ts.key, tp: p}]; ok && off <= done {
			return nil // applied before a restart
		}
		ts.buf.noteOffset(p, off)
	}
	ts.buf.n++
	if err := t.buffer(ctx, ts, r); err != nil {
		return err
	}
	if ts.buf.n >= t.st.batchSize {
		return t.writeTable(ctx, ts)
	}
	return nil
}

// buffer normalizes one record and adds its operation to the table buffer.
func (t *Task) buffer(ctx context.Context, ts *tableState, r *schema.Record) error {
	n, err := t.normalize(r)
	if err != nil {
		return t.report(ctx, &op{rec: r}, err)
	}
	switch n.kind {
	case normSkip:
		t.log.Debug("record skipped", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "reason", n.why)
		return nil
	case normTruncate:
		ts.buf.addTruncate(r)
		return nil
	}
	vs := n.valueSchema
	kind := opWrite
	if n.kind == normDelete {
		vs, kind = nil, opDelete
	}
	sh, err := t.shapeFor(ts, n.keySchema, vs)
	if err != nil {
		return t.report(ctx, &op{rec: r}, fmt.Errorf("record at %s: %w", recordCoords(r), err))
	}
	o, err := t.buildOp(sh, kind, r, &n)
	if err != nil {
		return t.report(ctx, &op{rec: r}, err)
	}
	if kind == opDelete {
		ts.buf.addDelete(sh, o)
	} else {
		ts.buf.addWrite(sh, o)
	}
	return nil
}

// table routes a topic to its table state (table.name.format).
func (t *Task) table(topic string) (*tableState, error) {
	if ts := t.byTopic[topic]; ts != nil {
		return ts, nil
	}
	name := tableName(t.st.tableFormat, topic)
	id, err := t.d.ParseTableID(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", KeyTableNameFormat, err)
	}
	key := id.String()
	ts := t.byName[key]
	if ts == nil {
		lookup := id
		if !t.st.quote {
			lookup = t.d.FoldUnquoted(id)
		}
		ts = &tableState{id: id, lookupID: lookup, key: key, qname: t.q.table(id),
			shapes: map[[2]*schema.Schema]*shape{}, shapesFP: map[string]*shape{}}
		t.byName[key] = ts
	}
	t.byTopic[topic] = ts
	return ts, nil
}

// Flush writes every buffered table, each in its own transaction, and
// returns once all are committed. After an error the unwritten tables stay
// buffered.
func (t *Task) Flush(ctx context.Context) error {
	if t.cancelStop != nil {
		var cancel context.CancelFunc
		ctx, cancel = t.withStop(ctx)
		defer cancel()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.db == nil {
		return fmt.Errorf("jdbc sink task is not started")
	}
	return t.writeDirty(ctx)
}

// writeDirty writes every table with buffered rows, in name order. t.mu
// must be held.
func (t *Task) writeDirty(ctx context.Context) error {
	names := make([]string, 0, len(t.byName))
	for k, ts := range t.byName {
		if ts.buf.dirty() {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		if err := t.writeTable(ctx, t.byName[k]); err != nil {
			return err
		}
	}
	return nil
}

// ClosePartitions implements connector.SinkPartitionCloser (Connect's
// SinkTask.close): the partitions were revoked or lost, so another task may
// own them now. Rows still buffered for them (a write that failed and waits
// for the next Put or Flush) are dropped rather than written later over
// that owner's newer changes, and the redelivery filter forgets them, so
// their records are accepted again from the committed offset if the
// partitions come back.
func (t *Task) ClosePartitions(_ context.Context, parts []connector.TopicPartition) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(parts) == 0 {
		return nil
	}
	closed := make(map[tp]bool, len(parts))
	for _, p := range parts {
		k := tp{p.Topic, p.Partition}
		closed[k] = true
		delete(t.seen, k)
	}
	dropped := 0
	for _, ts := range t.byName {
		dropped += ts.buf.dropPartitions(closed)
	}
	t.log.Info("partitions closed", "partitions", len(parts), "dropped_buffered", dropped)
	return nil
}

// Stop closes the connection pool; anything not flushed is dropped (the
// runtime replays it from the committed consumer offsets).
func (t *Task) Stop() error {
	if t.cancelStop != nil {
		t.cancelStop()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.db == nil {
		return nil
	}
	err := t.db.Close()
	t.db = nil
	return err
}

// withStop derives a context that also ends when Stop is called.
func (t *Task) withStop(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	unregister := context.AfterFunc(t.stopped, cancel)
	return ctx, func() { unregister(); cancel() }
}
