// Package reference runs the real Debezium 3.6.1.Final on a real Kafka
// Connect 4.4.0 worker beside Tributary's `replicate standalone`, on the
// same throwaway MariaDB and PostgreSQL servers and the same real Kafka
// broker, with the same connector configuration except the topic prefix
// (and the MariaDB replica id / PostgreSQL slot), and compares what the two
// write to Kafka record by record: key and value bytes of JsonConverter with
// schemas, after a short, listed set of normalizations of fields that
// legitimately differ between two captures (see normalize.go).
//
// The reference jars come from integration/jvm/connect/pom.xml (fetched
// with Maven once per machine); see harness.Connect.
package reference
