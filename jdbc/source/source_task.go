package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/schema"
)

// SourceTask is one JDBC source task: it polls its share of the tables (or
// the custom query) as Confluent's JdbcSourceTask does.
type SourceTask struct {
	cfg  *sourceConfig
	tc   connector.TaskContext
	log  *slog.Logger
	db   *sqlx.DB
	d    dialect
	conv converter

	mu        sync.Mutex // guards queriers against Stop
	queriers  map[string]*querier
	order     []string // FQNs in assignment order
	active    *querier
	lastList  time.Time
	taskIndex int
	taskCount int
	static    []string // tables from the task config when no index/count is given
	stopped   bool
}

// NewSourceTask returns an unstarted task.
func NewSourceTask() *SourceTask { return &SourceTask{} }

var _ connector.SourceTask = (*SourceTask)(nil)

// Start parses the task config, connects, resolves the tables and loads the
// committed offsets.
func (t *SourceTask) Start(ctx context.Context, cfg map[string]string, tc connector.TaskContext) error {
	c, err := parseSourceConfig(cfg)
	if err != nil {
		return err
	}
	t.cfg, t.tc = c, tc
	t.log = tc.Logger
	if t.log == nil {
		t.log = slog.Default()
	}
	t.log = t.log.With("connector", tc.Connector, "task", tc.TaskID)
	t.taskIndex, t.taskCount = 0, 1
	if s, ok := cfg[taskIndexKey]; ok {
		t.taskIndex, _ = strconv.Atoi(s)
		if n, err := strconv.Atoi(cfg[taskCountKey]); err == nil && n > 0 {
			t.taskCount = n
		}
	} else if s := cfg[taskTablesKey]; s != "" {
		if err := json.Unmarshal([]byte(s), &t.static); err != nil {
			t.static = nonEmpty(strings.Split(s, ","))
		}
	}
	t.db, t.d, err = openSource(ctx, c, t.log)
	if err != nil {
		return err
	}
	if c.safeTimestamp || c.safeIncrement {
		if err := t.d.checkSafeWindowAccess(ctx, t.db); err != nil {
			t.db.Close()
			return err
		}
	}
	t.conv = converter{d: t.d, granularity: c.granularity}
	t.queriers = map[string]*querier{}
	if c.queryMode() {
		q := &querier{task: t, topic: c.topicPrefix, partition: map[string]any{"query": "query"},
			mode: c.mode, incCol: c.incColumn, tsCols: c.tsColumns, keyCols: c.keyFields}
		if err := t.loadQuerierOffset(ctx, q); err != nil {
			t.db.Close()
			return err
		}
		t.queriers["query"] = q
		t.order = []string{"query"}
		return nil
	}
	if err := t.refreshTables(ctx); err != nil {
		t.db.Close()
		return err
	}
	return nil
}

// refreshTables re-reads the table list, starts queriers for tables newly
// assigned to this task and drops those gone.
func (t *SourceTask) refreshTables(ctx context.Context) error {
	all, err := discoverTables(ctx, t.db, t.d, t.cfg)
	if err != nil {
		return err
	}
	t.lastList = time.Now()
	var mine []tableID
	if t.static != nil {
		want := map[string]bool{}
		for _, s := range t.static {
			want[s] = true
		}
		for _, tb := range all {
			if want[tb.String()] {
				mine = append(mine, tb)
			}
		}
	} else {
		groups := groupTables(all, t.taskCount)
		if t.taskIndex < len(groups) {
			mine = groups[t.taskIndex]
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	keep := map[string]bool{}
	var order []string
	for _, tb := range mine {
		fqn := tb.String()
		keep[fqn] = true
		order = append(order, fqn)
		if _, ok := t.queriers[fqn]; ok {
			continue
		}
		q, err := t.newTableQuerier(ctx, tb)
		if err != nil {
			if t.d.missingTable(err) {
				t.log.Info("JDBC source: table vanished while starting", "table", fqn)
				continue
			}
			return err
		}
		t.queriers[fqn] = q
		t.log.Info("JDBC source: polling table", "table", fqn, "topic", q.topic, "mode", q.mode)
	}
	for fqn, q := range t.queriers {
		if !keep[fqn] {
			t.log.Info("JDBC source: table no longer assigned or dropped; stopped polling it", "table", fqn)
			if t.active == q {
				t.active = nil
			}
			q.close()
			delete(t.queriers, fqn)
		}
	}
	t.order = order
	return nil
}

// newTableQuerier sets up a querier for one table: tracking columns,
// validate.non.null, key columns and the stored offset.
func (t *SourceTask) newTableQuerier(ctx context.Context, tb tableID) (*querier, error) {
	c := t.cfg
	q := &querier{task: t, table: tb, topic: c.topicPrefix + tb.Name, mode: c.mode}
	if c.mode == ModeBulk {
		q.partition = map[string]any{"table": tb.Name}
	} else {
		q.partition = map[string]any{"protocol": "1", "table": tb.String()}
	}
	cols, err := t.d.columns(ctx, t.db, tb)
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("table %s: %w", tb.String(), errTableMissing)
	}
	q.nullable = map[string]bool{}
	for _, ci := range cols {
		q.nullable[ci.Name] = ci.Nullable
	}
	q.incCol, q.tsCols = c.incColumn, c.tsColumns
	fqn := tb.String()
	if len(c.incMapping) > 0 {
		m, err := matchMapping(c.incMapping, fqn, "incrementing.column.mapping")
		if err != nil {
			return nil, err
		}
		q.incCol = m[0]
	}
	if len(c.tsMapping) > 0 {
		m, err := matchMapping(c.tsMapping, fqn, "timestamp.columns.mapping")
		if err != nil {
			return nil, err
		}
		q.tsCols = m
	}
	if q.usesInc() && q.incCol == "" {
		for _, ci := range cols {
			if ci.AutoIncrement {
				q.incCol = ci.Name
				break
			}
		}
		if q.incCol == "" {
			return nil, fmt.Errorf("incrementing.column.name: table %s has no auto-increment column; set incrementing.column.name", fqn)
		}
	}
	find := func(name string) *columnInfo {
		for i := range cols {
			if cols[i].Name == name {
				return &cols[i]
			}
		}
		for i := range cols {
			if strings.EqualFold(cols[i].Name, name) {
				return &cols[i]
			}
		}
		return nil
	}
	if q.usesInc() {
		ci := find(q.incCol)
		if ci == nil {
			return nil, fmt.Errorf("incrementing.column.name: table %s has no column %q", fqn, q.incCol)
		}
		if c.validateNN && ci.Nullable {
			return nil, fmt.Errorf("validate.non.null: Cannot make incremental queries using incrementing column %s on %s because this column is nullable.", q.incCol, fqn)
		}
	}
	if q.usesTs() {
		allNullable := true
		for _, name := range q.tsCols {
			ci := find(name)
			if ci == nil {
				return nil, fmt.Errorf("timestamp.column.name: table %s has no column %q", fqn, name)
			}
			if !ci.Nullable {
				allNullable = false
			}
		}
		if c.validateNN && allNullable {
			return nil, fmt.Errorf("validate.non.null: Cannot make incremental queries using timestamp columns [%s] on %s because all of these columns are nullable.", strings.Join(q.tsCols, ", "), fqn)
		}
	}
	if c.keyMode == KeyModePrimaryKey {
		if len(c.keyFields) > 0 {
			q.keyCols = c.keyFields
		} else {
			pk := make([]string, 0, 2)
			for pos := 1; ; pos++ {
				found := false
				for _, ci := range cols {
					if ci.PKPos == pos {
						pk = append(pk, ci.Name)
						found = true
					}
				}
				if !found {
					break
				}
			}
			if len(pk) == 0 {
				return nil, fmt.Errorf("record.key.mode=primary_key: table %s has no primary key; set record.key.fields", fqn)
			}
			q.keyCols = pk
		}
	}
	if err := t.loadQuerierOffset(ctx, q); err != nil {
		return nil, err
	}
	return q, nil
}

// loadQuerierOffset reads the committed offset: protocol v1 partition
// first, then the legacy v0 one (bare table name).
func (t *SourceTask) loadQuerierOffset(ctx context.Context, q *querier) error {
	var off map[string]any
	if q.mode != ModeBulk && t.tc.Offsets != nil {
		var err error
		off, err = t.tc.Offsets.Offset(ctx, q.partition)
		if err != nil {
			return fmt.Errorf("read the committed offset of %s: %w", q.name(), err)
		}
		if off == nil && q.table.Name != "" {
			if off, err = t.tc.Offsets.Offset(ctx, map[string]any{"table": q.table.Name}); err != nil {
				return fmt.Errorf("read the committed offset of %s: %w", q.name(), err)
			}
		}
	}
	if off != nil {
		t.log.Info("JDBC source: resuming from the committed offset", "table", q.name(), "offset", off)
	}
	return q.loadOffset(ctx, off)
}

func matchMapping(ms []colMapping, fqn, key string) ([]string, error) {
	var hit []string
	n := 0
	for _, m := range ms {
		if m.re.MatchString(fqn) {
			hit = m.cols
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("%s: table %s matches %d entries; it must match exactly one", key, fqn, n)
	}
	return hit, nil
}

// Poll returns the next batch (at most batch.max.rows records) of the
// querier whose turn it is, or (nil, nil) when nothing is due within about
// a second.
func (t *SourceTask) Poll(ctx context.Context) ([]schema.Record, error) {
	idle := min(max(t.cfg.pollInterval, 10*time.Millisecond), time.Second)
	deadline := time.Now().Add(idle)
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil
		}
		if !t.cfg.queryMode() && time.Since(t.lastList) >= t.cfg.tablePoll {
			if err := t.refreshTables(ctx); err != nil {
				if ctx.Err() != nil {
					return nil, nil
				}
				t.log.Warn("JDBC source: re-reading the table list failed", "err", err)
				t.lastList = time.Now()
			}
		}
		q := t.active
		if q == nil {
			q = t.due()
			if q == nil {
				wait := time.Until(deadline)
				if next := t.nextRun(); !next.IsZero() && time.Until(next) < wait {
					wait = time.Until(next)
				}
				if wait <= 0 {
					return nil, nil
				}
				select {
				case <-ctx.Done():
					return nil, nil
				case <-time.After(wait):
				}
				if time.Now().Before(deadline) {
					continue
				}
				return nil, nil
			}
			if err := q.start(ctx); err != nil {
				if ctx.Err() != nil {
					return nil, nil
				}
				return nil, t.queryFailed(ctx, q, err)
			}
			t.active = q
		}
		recs, done, err := q.read(t.cfg.batchMaxRows)
		if err != nil {
			t.active = nil
			q.close()
			if ctx.Err() != nil {
				return recs, nil
			}
			if ferr := t.queryFailed(ctx, q, err); ferr != nil {
				return recs, ferr
			}
			return recs, nil
		}
		q.failures = 0
		if done {
			q.close()
			q.nextRun = time.Now().Add(t.cfg.pollInterval)
			t.active = nil
		}
		if len(recs) > 0 {
			return recs, nil
		}
		if time.Now().After(deadline) {
			return nil, nil
		}
	}
}

// due returns the querier with the earliest next run that is due now.
func (t *SourceTask) due() *querier {
	t.mu.Lock()
	defer t.mu.Unlock()
	var best *querier
	now := time.Now()
	for _, fqn := range t.order {
		q := t.queriers[fqn]
		if q == nil || q.nextRun.After(now) {
			continue
		}
		if best == nil || q.nextRun.Before(best.nextRun) {
			best = q
		}
	}
	return best
}

func (t *SourceTask) nextRun() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	var next time.Time
	for _, q := range t.queriers {
		if next.IsZero() || q.nextRun.Before(next) {
			next = q.nextRun
		}
	}
	return next
}

// queryFailed handles a failed query or read: a dropped table is let go,
// a transient error is retried (query.retry.attempts) after a backoff, and
// anything else fails the task.
func (t *SourceTask) queryFailed(ctx context.Context, q *querier, err error) error {
	if q.table.Name != "" && t.d.missingTable(err) {
		t.log.Info("JDBC source: table dropped; stopped polling it", "table", q.name(), "err", err)
		t.mu.Lock()
		delete(t.queriers, q.name())
		t.mu.Unlock()
		t.lastList = time.Time{} // re-list on the next poll
		return nil
	}
	if !t.d.transient(err) {
		return fmt.Errorf("JDBC source %s: %w", q.name(), err)
	}
	q.failures++
	if t.cfg.retryAttempts >= 0 && q.failures > t.cfg.retryAttempts {
		return fmt.Errorf("JDBC source %s: giving up after %d attempts (query.retry.attempts=%d): %w", q.name(), q.failures, t.cfg.retryAttempts, err)
	}
	backoff := time.Duration(min(q.failures, 10)) * time.Second
	t.log.Warn("JDBC source: query failed; retrying", "table", q.name(), "attempt", q.failures, "backoff", backoff, "err", err)
	q.nextRun = time.Now().Add(backoff)
	return nil
}

var errTableMissing = errors.New("table does not exist")

// Commit is a no-op: offsets are carried by the records and stored by the
// runtime; the database needs no acknowledgement.
func (t *SourceTask) Commit(context.Context, []connector.Offset) error { return nil }

// Stop closes the open result set and the connection pool.
func (t *SourceTask) Stop() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return nil
	}
	t.stopped = true
	for _, q := range t.queriers {
		q.close()
	}
	if t.db != nil {
		return t.db.Close()
	}
	return nil
}
