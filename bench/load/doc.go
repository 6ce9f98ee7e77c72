// Command load is Tributary's end-to-end load benchmark (`go run ./bench/load`,
// `make bench`).
//
// It starts throwaway MariaDB and PostgreSQL servers through
// integration/harness and the embedded broker (runtime/kafka, kfake, in
// memory) inside this process, then drives -rows rows through the real
// runtime path — connector task → JsonConverter (schemas on) → franz-go
// producer → broker, and broker → consumer group → JDBC sink → database —
// stage by stage:
//
//	catchup   binlog / pgoutput streaming catch-up: rows written while the
//	          connector was down (1000-row transactions), read from a stored
//	          position into Kafka
//	snapshot  initial snapshot of one -rows table into Kafka
//	sink      JDBC sink (upsert, pk.mode=record_key) from a topic of -rows
//	          flat JSON records into a pre-created table
//	latency   a steady writer (-latency-rate rows/s for -latency-duration)
//	          into the source while CDC source and JDBC sink run: commit →
//	          acked in Kafka and commit → visible in the other database
//
// and, in the same run, the raw baselines each stage is divided by:
// go-mysql BinlogSyncer parse-only over the same binlog, pglogrepl
// decode-only over the same slot contents, a plain streaming SELECT scan
// of the snapshot table, kgo produce-only into the same broker (300-byte
// records and records as large as the CDC stage's), and a hand-written
// multi-row INSERT … ON DUPLICATE KEY UPDATE / ON CONFLICT loop into a table
// like the sink's.
//
// Every stage and baseline runs in a subprocess of its own (this binary
// re-executed with -child), which connects to the broker over TCP, so its
// peak RSS (VmHWM from /proc/self/status) is its own and does not include
// the broker's copy of the data; the parent's CPU during the stage (the
// broker's work) is reported beside it. -cpuprofile DIR writes one CPU
// profile per stage (DIR/<stage>-run<N>.pprof) covering the timed part,
// -memprofile DIR a heap profile taken near the stage's peak heap.
//
// -gobench instead runs the Go benchmarks other packages keep beside their
// hot code (go test -bench in every package that declares one, sized by
// -rows through TRIBUTARY_ROWS / TRIBUTARY_BENCH_ROWS).
//
// The result is a table per run and, with -runs > 1, a table of medians:
// rows/s, MB/s (uncompressed Kafka batch bytes produced or fetched),
// latency percentiles, peak RSS and each stage's ratio to its baseline in
// the same run. The load average is printed with the results because the
// numbers depend on what else the machine is doing.
package main
