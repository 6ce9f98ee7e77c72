// Package chaos holds Tributary's crash and chaos tests: the real
// `replicate standalone` binary (built once in TestMain) with the embedded
// broker, CDC sources and JDBC sinks, against throwaway MariaDB and
// PostgreSQL servers from integration/harness.
//
// TestChaos runs a MariaDB → PostgreSQL and a PostgreSQL → MariaDB pipeline
// (CDC source → Kafka → JDBC sink, Connect JSON) while a concurrent writer
// inserts, updates and deletes rows in the source. The worker is killed
// with SIGKILL at random moments — during the initial snapshot and while
// streaming — and started again on the same data directory; each database
// server is restarted once mid-run. At the end the writer stops and every
// target table must equal its source row for row (runtime/verify).
//
// TestMalformedRecordStorm feeds the JDBC sinks' topics good records mixed
// with bad JSON, records whose payload does not match their schema,
// records the target table rejects (NOT NULL) and oversize values, with
// errors.tolerance=all and a dead letter queue: every good record must be
// in the table and every bad one on the DLQ topic, once, with its original
// bytes and the __connect.errors.* context headers.
//
// Sizes (CI defaults first; set larger values for a manual run):
//
//	TRIBUTARY_CHAOS_ROWS   initial rows per source table (snapshot)   20000
//	TRIBUTARY_CHAOS_KILLS  kill -9 per pipeline                       10
//	TRIBUTARY_CHAOS_RATE   writer transactions per second per source  50
//	TRIBUTARY_CHAOS_STORM  good records per storm topic               3000
//
// e.g. TRIBUTARY_CHAOS_ROWS=200000 TRIBUTARY_CHAOS_KILLS=40
// TRIBUTARY_CHAOS_RATE=300 go test ./integration/chaos -v -timeout 60m
package chaos
