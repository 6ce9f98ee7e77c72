// Package connector is the contract between the runtime and every connector:
// what a source or sink connector class provides, what its tasks do, and what
// the runtime hands them. Connectors (cdc/*, jdbc, sinks/*, the file
// connectors) implement these interfaces and never reach into the runtime's
// internals; the runtime depends only on this package to drive them.
//
// The Registry (registry.go) holds every plugin class of every kind — source
// and sink connectors, converters, header converters, transforms and
// predicates — as Entry values (class, aliases, type, version, config
// definition, constructor). It is a value built by the caller, never global.
//
// Lifecycle of a source task (Connect's SourceTask):
//
//	Start(ctx, cfg, tc) → Poll(ctx)… → Commit(ctx, offsets) (after Kafka acked) → Stop()
//
// Poll blocks until records are available or ctx is done, but returns
// (nil, nil) at least every second or so when idle, so pause and stop work.
// Commit and Poll may run concurrently. Commit tells the task that the offsets
// of every record up to and including the given positions are durably stored;
// a CDC source uses it to acknowledge its upstream (PostgreSQL's slot).
//
// Lifecycle of a sink task (Connect's SinkTask):
//
//	Start(ctx, cfg, tc) → Put(ctx, records)… → Flush(ctx) → Stop()
//
// Put may buffer; Flush returns only after everything handed to Put was
// committed in the target. The runtime commits consumer offsets only after
// Flush returned nil (DESIGN rule 2). Put returning an error wrapping
// ErrRetriable means "same batch again after a backoff".
package connector

import (
	"context"
	"errors"
	"log/slog"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

// Type says whether a connector is a source or a sink.
type Type string

// Connector types, as the REST API spells them.
const (
	Source Type = "source"
	Sink   Type = "sink"
)

// Plugin describes a connector class. One value serves every connector of the
// class; it must be stateless.
type Plugin interface {
	// Class is the canonical class name, e.g. io.debezium.connector.mysql.MySqlConnector.
	Class() string
	// Aliases are other accepted class names (short names, Confluent/Debezium variants).
	Aliases() []string
	Type() Type
	Version() string
	// Config declares the connector's keys. Runtime-level keys (name,
	// connector.class, tasks.max, transforms, converters, errors.*) are added
	// by the runtime.
	Config() *config.Def
	// Validate runs checks across keys after each key parsed (e.g. insert.mode
	// vs pk.mode). It returns every problem, each naming its key.
	Validate(cfg *config.Values) config.Errors
	// TaskConfigs splits the connector's work into at most maxTasks task
	// configs (Connect's taskConfigs). It may contact the database.
	TaskConfigs(ctx context.Context, cfg map[string]string, maxTasks int) ([]map[string]string, error)
}

// SourcePlugin is a source connector class.
type SourcePlugin interface {
	Plugin
	NewTask() SourceTask
}

// SinkPlugin is a sink connector class.
type SinkPlugin interface {
	Plugin
	NewTask() SinkTask
}

// CopiesPerTask is the TaskConfigs of a sink that splits no work itself:
// maxTasks (at least one) copies of the connector config, the consumer group
// sharing the topic partitions among the tasks, as Confluent's sinks do.
func CopiesPerTask(cfg map[string]string, maxTasks int) []map[string]string {
	if maxTasks < 1 {
		maxTasks = 1
	}
	out := make([]map[string]string, maxTasks)
	for i := range out {
		m := make(map[string]string, len(cfg))
		for k, v := range cfg {
			m[k] = v
		}
		out[i] = m
	}
	return out
}

// Deleter is implemented by plugins that own external resources (a
// replication slot, a publication) to remove when the connector is deleted —
// never on a restart.
type Deleter interface {
	OnDelete(ctx context.Context, cfg map[string]string) error
}

// OffsetReader gives a source task its committed offsets.
type OffsetReader interface {
	// Offset returns the last committed offset for a source partition, or nil.
	Offset(ctx context.Context, partition map[string]any) (map[string]any, error)
}

// TaskContext is what the runtime gives a task.
type TaskContext struct {
	Connector string
	TaskID    int
	Logger    *slog.Logger
	// Offsets reads committed source offsets (source tasks only).
	Offsets OffsetReader
	// Metrics reports task progress; never nil (a no-op when metrics are off).
	Metrics Metrics
	// Report sends a record a sink task could not apply to the errant-record
	// reporter (DLQ / errors.tolerance, Connect's ErrantRecordReporter). It
	// returns an error when the task must fail (errors.tolerance=none).
	Report func(ctx context.Context, rec schema.Record, err error) error
}

// Metrics is the narrow metrics surface tasks report through.
type Metrics interface {
	// SnapshotProgress reports rows done and estimated total for one table.
	SnapshotProgress(table string, done, total int64)
	// SourceLag reports how far behind the source commit time the task is.
	SourceLagMillis(ms int64)
}

// NopMetrics discards everything.
type NopMetrics struct{}

// SnapshotProgress implements Metrics.
func (NopMetrics) SnapshotProgress(string, int64, int64) {}

// SourceLagMillis implements Metrics.
func (NopMetrics) SourceLagMillis(int64) {}

// SourceTask reads changes from an external system.
type SourceTask interface {
	Start(ctx context.Context, cfg map[string]string, tc TaskContext) error
	// Poll returns the next records, or (nil, nil) when there are none yet.
	Poll(ctx context.Context) ([]schema.Record, error)
	// Commit reports that offsets up to these positions (one per source
	// partition, the last acknowledged) are durably stored.
	Commit(ctx context.Context, offsets []Offset) error
	Stop() error
}

// Offset is a source partition with its offset.
type Offset struct {
	Partition map[string]any
	Offset    map[string]any
}

// SinkTask writes records to an external system.
type SinkTask interface {
	Start(ctx context.Context, cfg map[string]string, tc TaskContext) error
	// Put hands records over (already converted and transformed). Records of
	// one Kafka partition arrive in offset order.
	Put(ctx context.Context, recs []schema.Record) error
	// Flush returns once everything given to Put is committed in the target.
	Flush(ctx context.Context) error
	Stop() error
}

// ErrRetriable marks an error after which the same batch should be retried
// (Connect's RetriableException): a lost connection, a deadlock, a timeout.
var ErrRetriable = errors.New("retriable")

// Retriable wraps err so errors.Is(err, ErrRetriable) holds.
func Retriable(err error) error {
	if err == nil {
		return nil
	}
	return retriableError{err}
}

type retriableError struct{ err error }

func (e retriableError) Error() string   { return e.err.Error() }
func (e retriableError) Unwrap() []error { return []error{e.err, ErrRetriable} }

// TopicPartition names one Kafka partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// SinkPartitionCloser is implemented by sink tasks that hold state per
// topic partition (Connect's SinkTask.close(partitions)): rows buffered
// after a failed write, redelivery filters, files being written. The
// runtime calls ClosePartitions when partitions are revoked (after a last
// Flush or PreCommit and offset commit) or lost (without one, since another
// member may already own them). It runs on the consumer's rebalance
// callback goroutine, so a task guards its state against a Flush running at
// the same time (the runtime's final flush at shutdown).
type SinkPartitionCloser interface {
	// ClosePartitions tells the task that these partitions were revoked or
	// lost: it drops what it still buffers for them; they will be consumed
	// again from their committed offsets by whoever owns them next.
	ClosePartitions(ctx context.Context, parts []TopicPartition) error
}

// SinkPreCommitter is implemented by sink tasks that keep records buffered
// across commits (Connect's SinkTask.preCommit and close(partitions)), such
// as object-store sinks that write whole files. When a task implements it,
// the runtime calls PreCommit instead of Flush and commits only the offsets
// it returns.
type SinkPreCommitter interface {
	SinkPartitionCloser
	// PreCommit is called at every offset commit. current holds, per
	// assigned partition, the offset after the last record handed to Put. It
	// returns, per partition, the next offset to consume that is safe to
	// commit (everything before it is durably written); a partition left out
	// is not committed this time. Returned offsets above current are
	// clamped to it.
	PreCommit(ctx context.Context, current map[TopicPartition]int64) (map[TopicPartition]int64, error)
}
