// Package eos tests exactly-once source support (KIP-618) end to end on
// real Apache Kafka: `replicate distributed` worker processes with
// exactly.once.source.support=enabled run a FileStreamSource under a writer,
// the worker running its task is killed with SIGKILL, then the next owner is
// stopped with SIGSTOP for longer than session.timeout.ms and continued (a
// zombie), and a read_committed consumer must see every line exactly once,
// in order. It also measures the throughput of exactly-once against
// at-least-once (BenchmarkSourceThroughput) and checks that
// exactly.once.support=required is refused where it cannot be honoured.
package eos
