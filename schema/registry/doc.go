// Package registry is Tributary's Confluent Schema Registry support: a
// caching client for converters (Client) and an embeddable, Confluent
// compatible registry server (Server) that `replicate` starts when
// schema.registry.url is "embedded".
//
// The server speaks the REST API clients use (subjects, versions, ids,
// lookup, delete, referencedby, config, compatibility, mode, schema types)
// with Confluent's JSON shapes and error codes (40401, 40402, 40403, 409,
// 42201, 42206, …). It stores schemas of the three schemaTypes, AVRO (the
// default: omitted in requests and left out of responses), JSON and
// PROTOBUF, with their references ([{name, subject, version}]). References
// must resolve to a registered subject version (42201 otherwise); a version
// that a live schema refers to cannot be deleted (42206).
//
// # Schema formats
//
// What the registry knows of a schemaType is a SchemaFormat: Canonical
// checks a schema (its references resolved, transitively, by reference
// name) and gives the text it is stored and recognized by;
// CheckCompatibility(newer, older) gives the reasons a reader of newer cannot
// read data written with older (BACKWARD). The server derives FORWARD (the
// arguments swapped), FULL (both) and the _TRANSITIVE levels (every live
// version, not only the latest) from it, and a schema is never compatible
// with an earlier version of another schemaType. Built in:
//
//   - AVRO: hamba/avro parsing and schema-resolution rules
//     (SchemaCompatibility); canonical text is compact JSON.
//   - JSON: santhosh-tekuri/jsonschema compiles the schema (draft 7 unless
//     $schema says otherwise; $refs resolve only to the schema and its
//     references, a relative reference name against the root's $id, as
//     Confluent's JsonSchema); compatibility after Confluent's SchemaDiff
//     with its default STRICT policy (jsoncompat.go).
//   - PROTOBUF: bufbuild/protocompile compiles the schema with its
//     references and the well-known and Confluent imports; compatibility
//     after Confluent's protobuf SchemaDiff rules (protobuf.go); the text is
//     stored as sent (Confluent reprints it).
//
// A format for another type is added in its own file of this package and
// listed in builtinFormats (format.go), or passed in Options.Formats. A
// schemaType with no format is stored as sent,
// without a parse; a registration that its subject's compatibility level
// would have to check against an earlier version is refused with 409 and a
// message saying the check cannot be done (with NONE it registers), so that
// nothing is accepted unchecked under a level that asks for checks.
//
// State lives in a compacted single-partition topic (default _schemas) in
// Confluent's key/value format (schemaType and references included), so a
// restart, or a second instance pointed at the same topic, sees the same
// ids. Every write is produced first and answered only after the server's
// own reader applied it, as Confluent's KafkaStore does; one write at a time
// per instance. There is no leader election: run one writing instance per
// topic. Close stops the HTTP server and the Kafka client; nothing else is
// left behind.
package registry
