// Package runtime runs connectors: it is Kafka Connect's worker and
// standalone herder in Go. It turns a worker config (connect-standalone
// .properties keys) and connector configs into running source and sink
// tasks, moves their records through converters, transforms and Kafka, and
// commits offsets by DESIGN's rules.
//
// # API for the REST API, metrics, DLQ and config providers
//
// A Worker is built with NewWorker(ctx, *WorkerConfig, Options). Options
// carry the plugin Registry (connectors, converters, transforms, predicates;
// StandardPlugins lists the non-connector ones) and the seams other packages
// plug into: Converters (ConverterFactory, default Registry.NewConverter),
// Transforms (TransformFactory, default transforms.ParseWith over the
// Registry), Errors (ErrorReporterFactory: DLQ and
// errors.tolerance), Observer (metrics events) and KafkaHooks (kgo hooks).
//
// Connector operations, mirroring Connect's REST API:
//
//	CreateConnector / PutConnectorConfig   POST /connectors, PUT /connectors/{n}/config
//	DeleteConnector                        DELETE /connectors/{n}
//	PauseConnector / ResumeConnector       PUT /connectors/{n}/pause|resume
//	StopConnector                          PUT /connectors/{n}/stop (KIP-875)
//	RestartConnector / RestartTask         POST /connectors/{n}/restart, …/tasks/{t}/restart
//	Connectors, ConnectorInfo, ConnectorConfig, TaskConfigs, ConnectorStatus, TaskStatus
//	Offsets / AlterOffsets / ResetOffsets  GET|PATCH|DELETE /connectors/{n}/offsets (STOPPED only for changes)
//	Validate                               PUT /connector-plugins/{class}/config/validate
//
// Errors to branch on: ErrNotFound (404), ErrExists (409), ErrTaskNotFound,
// ErrNotStopped, and config.Errors (400, every bad key named).
//
// # States
//
// Connectors and tasks report RUNNING, PAUSED, STOPPED, FAILED, UNASSIGNED
// or RESTARTING (ConnectorStatus). A task that returns an error or panics is
// FAILED with the error in Trace; the worker and the other tasks go on, and
// RestartTask/RestartConnector start it again from committed offsets. A
// connector whose TaskConfigs fails is FAILED likewise.
//
// # Record states (as Conduit's stream engine)
//
// Every source record is in one of these states:
//
//	open    polled; being transformed, converted or in flight to Kafka
//	acked   Kafka acknowledged it (or a transform dropped it, or its error was
//	        tolerated/sent to the DLQ): it counts as done for offsets
//	failed  it could not be written and its error is not tolerated: the task
//	        fails; no record after it in the same source partition is ever
//	        committed
//
// Records are tracked per source partition in poll order
// (offsets.Tracker); the committable offset of a partition is that of the
// last acked record whose predecessors are all acked. Every
// offset.flush.interval.ms (Connect's key, default 60000) and at stop, the
// committable offsets are written to the offset store, and only after the
// store returned (durably) is SourceTask.Commit called (DESIGN rule 1). At a
// clean stop the producer is flushed first (offset.flush.timeout.ms), so no
// record is left open; after a crash the task resumes from the stored
// offsets and records after them are produced again (at least once).
//
// Sink records: a poll is converted, transformed and handed to Put; every
// offset.flush.interval.ms, at a rebalance and at stop the task is flushed,
// and only after Flush returned nil are the consumer offsets of everything
// handed to Put committed (DESIGN rule 2). Put returning an error wrapping
// connector.ErrRetriable gets the same batch again after a backoff; other
// errors fail the task. A consumer group "connect-<name>" (or
// consumer.override.group.id) is used, auto-commit off, rebalances blocked
// while a poll is processed.
//
// # Concurrency and cancellation
//
// Each task runs on its own goroutine owned by the Worker; Close and every
// stop wait for it (task.shutdown.graceful.timeout.ms plus
// offset.flush.timeout.ms, then the task is abandoned with a warning).
// Poll gets a context cancelled at stop; SourceTask.Commit may run
// concurrently with Poll.
//
// # Distributed mode
//
// runtime/distributed places connectors and tasks on workers through
// Kafka's group protocol and runs them here through a TaskHost
// (distributed_tasks.go). Source tasks of a Worker whose offset store is a
// TaskOffsetStore commit through a per-task writer: in distributed mode a
// transactional producer whose transactional ID belongs to the task, so a
// new owner fences the old one before it starts (the reasons are in
// runtime/distributed's package doc). With exactly.once.source.support=
// enabled (KIP-618, eos.go) the task's records go through that producer
// too, in the same transaction as their offsets (ExactlyOnceStore), so a
// fenced zombie cannot add a record either.
//
// # Kafka
//
// bootstrap.servers empty or "embedded" starts the embedded broker
// (runtime/kafka) inside the worker; its data lives in
// embedded.broker.data.dir (default data/broker beside the offsets file).
package runtime
