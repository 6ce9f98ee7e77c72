// Package s3 is Confluent's S3 sink connector
// (io.confluent.connect.s3.S3SinkConnector, alias S3SinkConnector) in Go:
// the cold tier that lands every record of a topic in S3 or any
// S3-compatible store (MinIO, Ceph, R2) through minio-go.
//
// # Place in the data flow
//
// Kafka → runtime consumer → converter → transforms → Task.Put → open
// files in memory, one per (Kafka partition, encoded partition) → on
// rotation an upload group → uploader (minio-go PutObject; multipart with
// s3.part.size parts above one part) → PreCommit returns the offsets whose
// files are all stored → the runtime commits them.
//
// # Objects
//
// Objects are named as Confluent names them:
//
//	<topics.dir>/<topic>/<encoded partition>/<topic>+<kafkaPartition>+<startOffset zero-padded>.<ext>
//
// with directory.delim and file.delim, and .keys/.headers files beside the
// value file when store.kafka.keys/store.kafka.headers are on. Extensions:
// .json (.json.gz with s3.compression.type=gzip), .avro, .snappy.parquet
// (the codec of parquet.codec as parquet-mr writes it), .bin
// (format.bytearray.extension). Encoded partitions: DefaultPartitioner
// partition=<n>; TimeBasedPartitioner (and Hourly/Daily) path.format in
// Joda syntax over the record time truncated to partition.duration.ms in
// timezone (timestamp.extractor Record, RecordField or Wallclock);
// FieldPartitioner <field>=<value> per partition.field.name.
//
// # Rotation (TopicPartitionWriter)
//
// Per Kafka partition, all open files are committed together when
// flush.size records were written, when a record's time is
// rotate.interval.ms past the first record's or belongs to another encoded
// partition (time-based partitioners), when the wall-clock schedule of
// rotate.schedule.interval.ms is due, or when a record's value schema (or
// key schema, with keys stored) differs from its encoded partition's
// current one.
//
// # Exactly once in the bucket
//
// The task implements connector.SinkPreCommitter: the runtime calls
// PreCommit instead of Flush and commits only the offsets it returns, which
// are file boundaries whose files are all uploaded (or everything handed to
// Put when nothing is open). Open files stay buffered across commits and are
// dropped on ClosePartitions and Stop. Object names come from offsets and
// file boundaries from the records alone, so after a crash the task resumes
// at a file boundary and rewrites the same objects with the same bytes
// (Avro sync markers are derived from the object key): no duplicate and no
// gap. This holds for deterministic partitioners and rotation; Wallclock
// extraction and rotate.schedule.interval.ms cut files by wall time and a
// replay may cut them elsewhere, as in Confluent's connector. An unfinished
// multipart upload never becomes visible.
//
// # Memory and concurrency
//
// Open files are held in memory (their encoded bytes) until they rotate;
// finished files wait in memory for their upload, bounded by
// s3.upload.buffer.bytes (Put waits past it). s3.upload.concurrency
// objects upload at once. Transient upload failures are retried with
// backoff (retry.backoff.ms, doubling, capped at a minute) until they
// succeed or the task stops; permanent ones (access denied, no such bucket)
// fail the task at the next Put or PreCommit. Task methods are serialized
// by a mutex.
package s3
