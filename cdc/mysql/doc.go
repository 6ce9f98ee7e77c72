// Package mysql is the MySQL/MariaDB change-data-capture source: a
// Debezium MySqlConnector/MariaDbConnector-compatible connector plugin that
// takes a consistent snapshot of the captured tables and then streams the
// binlog (go-mysql's replication.BinlogSyncer, never canal) into Debezium
// change events (package cdc).
//
// Data flow inside one task:
//
//	snapshot workers (snapshot.max.threads) ─┐
//	binlog reader (one goroutine) ───────────┴─► bounded queue (max.queue.size) ─► Poll (≤ max.batch.size)
//
// Schema tracking needs no history topic: row decoding trusts the table-map
// metadata that binlog_row_metadata=FULL writes with every transaction
// (column names, types, signedness, charsets, enum/set values, primary key).
// information_schema adds what the table map lacks (defaults, MariaDB's
// UUID/INET4/INET6/JSON type names) and is re-read after DDL. Each table
// version (a distinct table map) builds its key/value/envelope schemas once
// and caches them.
//
// Offsets use Debezium's MySQL keys under the partition {"server": topic.prefix}:
// file/pos point at the start of the transaction being read (never inside
// it), event counts the binlog events of that transaction already handled
// and row the rows of the next event already handled, so a restart re-reads
// the transaction and skips exactly what was emitted (at-least-once: nothing
// is lost; what was emitted but not committed is emitted again).
//
// Snapshot → stream hand-off: MariaDB's START TRANSACTION WITH CONSISTENT
// SNAPSHOT reports the binlog position matching the snapshot
// (binlog_snapshot_file/position) without any lock; several snapshot
// connections share one view when they report the same position (retried,
// then a brief FLUSH TABLES WITH READ LOCK). MySQL takes the global read lock
// only while the snapshot transactions start and the position is read.
// Streaming starts exactly at that position.
//
// Incremental snapshots (incremental.go): Debezium's signal-based DBLog
// snapshots. A chunk loop on its own goroutine writes open/close watermark
// rows into signal.data.collection and selects each chunk in primary-key
// order; the binlog reader, which never waits for it, notes the keys changed
// between the two watermarks and emits the chunk's other rows (op r) when it
// reaches the close row. Progress rides in every offset under Debezium's
// incremental_snapshot_* keys. Signals arrive from the signal table (seen by
// the reader), a Kafka topic or a file.
//
// Concurrency and cancellation: one goroutine owns the binlog connection and
// the table caches; snapshot workers only read. Poll may run concurrently with
// Commit. Stop (or cancelling the context given to Start) stops the reader and
// the snapshot workers, closes every connection and waits for them; records
// still queued are dropped, which is safe because offsets only advance when
// the runtime commits what it delivered.
package mysql
