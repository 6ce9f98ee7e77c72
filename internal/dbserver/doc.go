// Package dbserver starts throwaway servers: database servers from the
// installed Debian binaries, for `replicate quickstart` and for the test
// harness, and Apache Kafka KRaft clusters from Maven Central for the tests:
//
//   - MariaDB (package mariadb-server): mariadb-install-db into a temp dir,
//     then mariadbd on a free 127.0.0.1 port with log_bin, binlog_format=ROW,
//     binlog_row_image=FULL, binlog_row_metadata=FULL and a server id.
//   - PostgreSQL (package postgresql): initdb + postgres (as the postgres user
//     when running as root) on a free port with wal_level=logical, 20
//     replication slots and WAL senders, fsync off.
//   - Apache Kafka (KafkaVersion, jars fetched by FetchKafka with Maven from
//     integration/jvm/kafka/pom.xml): 1 or more combined broker/controller
//     KRaft nodes with a PLAINTEXT listener and optionally a SASL_SSL one
//     (SCRAM-SHA-512, certificates generated per cluster); brokers can be
//     killed and restarted one by one.
//
// Every server runs in its own temp directory; Close stops the process (by
// its pid file) and removes the directory. On Linux the servers are started
// with a parent-death signal, so they die with their parent even when it
// panics or is killed, and SweepStale removes temp directories left behind by
// dead parents. The servers need a Unix system; on others this package has
// only the Database type.
//
// A missing binary is an error that names the Debian package to install.
// This package does not import Go's testing package: the product links it.
// The testing.TB wrappers live in integration/harness.
package dbserver
