// Package registry is Tributary's Confluent Schema Registry support: a
// caching client for converters (Client) and an embeddable, Confluent
// compatible registry server (Server) that `replicate` starts when
// schema.registry.url is "embedded".
//
// The server speaks the REST API clients use (subjects, versions, ids,
// lookup, delete, config, compatibility, mode) with Confluent's JSON shapes
// and error codes (40401, 40402, 40403, 409, 42201, …). It stores Avro
// schemas only. Compatibility levels NONE, BACKWARD (default), FORWARD, FULL
// and their _TRANSITIVE forms are checked with Avro schema-resolution rules
// (hamba/avro's SchemaCompatibility); an incompatible registration is
// answered with HTTP 409 and error_code 409.
//
// State lives in a compacted single-partition topic (default _schemas) in
// Confluent's key/value format, so a restart, or a second instance pointed at
// the same topic, sees the same ids. Every write is produced first and
// answered only after the server's own reader applied it, as Confluent's
// KafkaStore does; one write at a time per instance. There is no leader
// election: run one writing instance per topic. Close stops the HTTP server
// and the Kafka client; nothing else is left behind.
package registry
