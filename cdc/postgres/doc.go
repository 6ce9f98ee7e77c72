// Package postgres is the PostgreSQL change-data-capture source,
// compatible with Debezium's io.debezium.connector.postgresql.PostgresConnector:
// the same config keys, topics (<topic.prefix>.<schema>.<table>), keys,
// envelopes, source block, type mapping and offsets.
//
// Data flow. On first start the task creates the publication
// (publication.autocreate.mode) and the replication slot with an exported
// snapshot; snapshot.max.threads connections import that snapshot in
// REPEATABLE READ transactions and read the captured tables (text format,
// streamed row by row) as op:r events. Only then does the replication
// connection issue START_REPLICATION from the slot's consistent point, so
// nothing is missed or repeated between snapshot and stream. The stream
// (pgoutput, protocol v2 with streaming of large in-progress transactions on
// PostgreSQL 14+, else v1) is read by a receiver goroutine that owns the
// connection — it answers keepalives and sends standby status updates — and
// decoded by a second goroutine into records. Streamed transactions are
// spooled to a local file and emitted at commit. Records flow through a
// bounded queue to Poll, so memory stays bounded for any table or
// transaction size.
//
// Offsets and acknowledgement. Each record carries Debezium's offset keys
// under {"server": <topic.prefix>}: lsn (the event), lsn_commit (its
// transaction's commit LSN), lsn_proc (everything before it is completely
// processed), txId, ts_usec and lsn_events_processed. The last record of a
// transaction has lsn_proc at the transaction's end. Commit(offsets), called
// by the runtime after Kafka acknowledged and the offsets are stored, is the
// only thing that moves the flush LSN reported to the server, so
// confirmed_flush_lsn never passes data that is not in Kafka. Heartbeats
// (heartbeat.interval.ms) carry the server's position while captured tables
// are idle, so acknowledging them advances the slot too. A restart resumes
// from lsn_proc and skips the already emitted events of a partially emitted
// transaction; delivery is at least once.
//
// Signals and incremental snapshots. With signal.data.collection (or the
// kafka or file channel) set, inserts into the signal table are read from
// the stream as Debezium signals, and execute-snapshot runs an incremental
// snapshot (incremental.go): a loop on its own connection writes an open
// and a close watermark row around each primary-key ordered chunk, the
// decoder drops chunk rows whose keys changed between the two in the
// stream and queues the rest at the close as op r, and the progress rides
// in every offset under Debezium's incremental_snapshot_* keys.
//
// Cancellation. Cancelling the context given to Start stops every goroutine
// and closes all connections, leaving the slot where the last
// acknowledgement put it. Stop does the same and then records the last
// acknowledged LSN in the slot (or drops it with slot.drop.on.stop). The
// slot and publication are removed only by Plugin.OnDelete.
package postgres
