// Package kafka is Tributary's Kafka plumbing on franz-go: client options
// from Kafka's property names (bootstrap.servers, security.protocol,
// sasl.mechanism, sasl.jaas.config, compression.type, linger.ms…), the source
// producer, the sink consumer-group reader with manual commits, admin helpers
// and the embedded broker.
//
// # Producer
//
// ProducerOpts gives an idempotent producer with acks=all, a small linger
// (linger.ms, default 5 ms as in Kafka 4) and compression.type. Keyed records
// are partitioned with murmur2 exactly as the Java client's default
// partitioner (franz-go's default KafkaHasher(murmur2)), so consumers see
// the same partitioning as with Kafka Connect. A record can ask for an
// explicit partition with WithPartition; others get the default partitioner.
//
// # Consumer
//
// GroupOpts gives a consumer-group member with auto-commit off and
// BlockRebalanceOnPoll: the caller processes a poll, commits only what its
// sink flushed, then calls AllowRebalance. Rebalance callbacks therefore run
// only between AllowRebalance and the next poll's return.
//
// # Embedded broker
//
// IsEmbedded reports whether bootstrap.servers asks for the embedded broker
// (empty or "embedded"). StartEmbedded runs franz-go's kfake in-process: one
// broker on 127.0.0.1:<embedded.broker.port>, persisted under
// embedded.broker.data.dir, topics auto-created with one partition (Kafka's
// num.partitions default), no compaction, retention every 5 minutes. A
// restart on the same directory, graceful or after kill -9, keeps topics,
// records and committed group offsets; outside clients such as kcat can
// connect to it. kfake listens on 127.0.0.1 only.
//
// Durability: a produce is acknowledged only after its batch was written and
// fsynced to the partition's segment file (kfake's SyncWrites), so a process
// crash never loses an acknowledged record. Topics are persisted in
// topics.json (written, fsynced and renamed) before any client can produce to
// them: kfake's own auto-creation kept auto-created topics in memory only, so
// it is off, and a Metadata control creates missing topics through
// Cluster.CreateTopic, the persisted path. Topic names are validated as
// Kafka's Topic.validate does (ValidateTopicName; INVALID_TOPIC_EXCEPTION).
// Compaction is off because kfake compacts by deleting a partition's segment
// files and writing the kept batches anew, which a crash in between turns
// into lost records; compacted topics therefore keep every record.
// What kfake cannot make safe: it ignores fsync errors and does not fsync
// directories, so a power cut (not a process crash) may lose a topic or
// segment file created just before; and it only logs a failed topics.json
// write, which Embedded turns into a refusal of every produce
// (KAFKA_STORAGE_ERROR, Err returns ErrEmbeddedStorage) until restart.
package kafka
