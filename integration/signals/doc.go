// Package signals tests the CDC sources' Kafka signal channel against a real
// Apache Kafka cluster and a real MariaDB (integration/harness): a signal
// produced to <topic.prefix>-signal with the connector's topic.prefix as key
// starts an incremental snapshot, and the replayed topics equal the tables.
// The signal-table channel, stop/pause/resume, additional-conditions and
// resuming after a restart are tested in cdc/mysql, which needs no Kafka.
package signals
