// Package pipelines holds the cross-component acceptance tests that no
// single package owns: a real `replicate standalone` process (built once in
// TestMain) with the embedded broker and, where needed, the embedded schema
// registry, real MariaDB and PostgreSQL servers from integration/harness,
// and connector configs written exactly as a Kafka Connect, Confluent or
// Debezium user writes them (full class names, standard keys), posted over
// the REST API or given on the command line. Each test starts its own worker
// and databases; the package takes about 45 s (plus starting the servers).
//
// What each file checks:
//
//   - orders_test.go (issue 7): a plain franz-go producer writes Connect-JSON
//     orders ({"schema":…,"payload":…}) to a topic; JDBC sinks with
//     auto.create/auto.evolve and upserts create and fill the table in
//     MariaDB and PostgreSQL, and a field the producer adds becomes a column.
//   - debezium_test.go (issue 7): Debezium change events from the MariaDB and
//     PostgreSQL CDC sources applied to the other database by the JDBC sink
//     (delete.enabled, pk.mode=record_key); runtime/verify proves the target
//     equals the source after the snapshot, inserts, updates, deletes, key
//     changes, an unchanged TOASTed value (Debezium's placeholder), columns
//     added with ALTER TABLE, a clean restart and a kill -9.
//   - avro_test.go (issue 8): the same with AvroConverter keys and values
//     through the embedded schema registry (new schema versions on DDL), and
//     the records' wire format and registry subjects checked.
//   - transforms_test.go (issue 9): ExtractNewRecordState → ReplaceField →
//     RegexRouter on the sink, and InsertHeader on the source, checked with
//     kcat.
//   - jdbcsource_test.go (issue 6): the JdbcSourceConnector config from the
//     issue posted over REST writes topic mysql.login.
package pipelines
