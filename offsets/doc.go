// Package offsets stores source offsets: where each source connector is in
// each of its source partitions (a file's byte position, a binlog position, a
// replication slot LSN). Offsets are opaque JSON-like maps; this package never
// interprets them.
//
// # Place in the data flow
//
// A source task's records go to Kafka asynchronously. The runtime tracks them
// with a Tracker in poll order; producer acknowledgements arrive out of order,
// and Tracker.Committable yields, per source partition, the offset of the
// last record whose predecessors are all acknowledged (DESIGN rule 1). The
// runtime then writes those offsets with Store.Put, and only after Put
// returned does it tell the task (SourceTask.Commit).
//
// # Stores
//
//   - FileStore: standalone mode (offset.storage.file.filename). Every Put
//     rewrites the file through a temp file, fsync and rename, so a crash
//     leaves either the old or the new file.
//
// Distributed mode keeps offsets in a compacted topic (offset.storage.topic,
// Kafka Connect's format) through runtime/distributed's offset store, which
// writes them in the task's transaction.
//
// The file store is durable before Put returns and safe for concurrent use.
//
// # Keys
//
// A partition is identified by its canonical JSON (keys sorted, numbers
// normalised), so a key written by Kafka Connect with another field order
// still matches. Numbers read back are int64 when integral, else float64, as
// Connect's JsonConverter returns Long/Double.
package offsets
