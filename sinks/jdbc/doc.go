// Package jdbcsink is the JDBC sink connector: it applies sink records (Kafka
// Connect Struct values, Debezium change-event envelopes, and — when
// schemaless.infer=true — plain JSON objects) to a MariaDB/MySQL or
// PostgreSQL table with Confluent's JdbcSinkConnector config keys and
// behaviour (io.confluent.connect.jdbc.JdbcSinkConnector, alias
// JdbcSinkConnector).
//
// Place in the data flow: Kafka → consumer group → converter → transforms →
// this package → target database. The runtime commits consumer offsets only
// after Flush returned nil, and Flush returns only after every record handed
// to Put is committed in the database (DESIGN rule 2).
//
// Batching and ordering. Put converts each record into a row operation at
// once (a record that cannot be converted is reported through
// TaskContext.Report) and buffers it per destination table. Within a table,
// operations are grouped into phases of one record shape (key and value
// schema); a new schema starts a new phase. Inside a phase repeated keys are
// collapsed (the last change wins; a delete followed by an insert deletes
// first and inserts after), deletes run before writes, and writes use
// multi-row statements chunked under the 65535-parameter limit; on
// PostgreSQL, 32 rows and more go in one INSERT … SELECT … FROM UNNEST(one
// array per column) statement (deletes by a one-column key: = ANY(array)),
// as Debezium's JDBC sink writes them. A table's phases are written in one
// transaction, except that an upsert batch (insert.mode=upsert, keys, no
// exactly.once, no truncate) of 512 rows and more is split by ranges of its
// keys over two connections writing at once, each its own transaction, a
// key always on one of them (so its changes keep their order); after a
// failure of either the whole batch is written again, which leaves the
// same rows. A table is written as soon as it
// holds batch.size operations, and every table with buffered rows is written
// before Put returns (as Confluent's sink writes on every put), so rows reach
// the target within one poll whatever offset.flush.interval.ms says.
//
// Tables. auto.create builds a missing table (primary key from pk.mode);
// auto.evolve adds missing columns (nullable, or with the schema default) and
// never drops, narrows or widens a column: such a change fails with an error
// naming table, column and reason. Table metadata is re-read whenever a new
// record schema appears and after a write fails on a missing table or column,
// so tables changed by someone else are handled.
//
// Debezium. Envelopes (value schema named *.Envelope, or with op, before,
// after and source fields) are flattened natively: c/r/u write "after", d
// deletes by key (delete.enabled=true), t truncates (truncate.enabled=true).
// A column holding the unavailable-value placeholder
// (__debezium_unavailable_value, an unchanged TOASTed PostgreSQL value) is
// left unchanged in the target; so is an array column holding a one-element
// array of the placeholder (Debezium's form for TOASTed text[], bytea[]…).
//
// Errors. A lost connection, deadlock or timeout is retried max.retries times
// with retry.backoff.ms between attempts, then Put/Flush return an error
// wrapping connector.ErrRetriable and keep their buffer, so nothing is
// skipped. Any other failure of a table batch re-runs it row by row (a
// savepoint per row) to find the failing records; each is reported through
// TaskContext.Report, and the batch commits without them only when the
// reporter accepts them (errors.tolerance=all).
//
// Exactly once. With exactly.once=true the last applied Kafka offset of every
// topic partition is stored per table in a table of the target database
// (exactly.once.table, default tributary_sink_offsets) inside the same
// transaction as the rows; records at or below it are skipped, so even
// insert mode never duplicates after a crash. Each write transaction first
// locks the offsets rows of its partitions (SELECT … FOR UPDATE, creating
// missing rows) and skips what the stored offsets already cover, and the
// stored offset only grows (GREATEST): two tasks that both believe they own
// a partition (a rebalance, a zombie after a lost partition) serialise on its
// row and never apply a record twice or move its offset backwards.
//
// Partitions. ClosePartitions (Connect's close, called by the runtime when
// partitions are revoked or lost) drops what is still buffered for them and
// forgets their redelivery positions: another task owns them now and
// replays them from the committed offsets.
//
// Cancellation: cancelling the context of Put or Flush rolls back the open
// transaction; buffered operations stay buffered. Stop closes the
// connection pool and drops the buffer (the runtime replays from the
// committed offsets).
package jdbcsink
