// Package transforms implements Kafka Connect's single message transforms
// (SMTs) and predicates, plus Debezium's ExtractNewRecordState and
// ByLogicalTableRouter, configured exactly as in Kafka Connect:
//
//	transforms=unwrap,route
//	transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState
//	transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter
//	transforms.route.regex=(.*)
//	transforms.route.replacement=copy_$1
//	transforms.route.predicate=notTombstone
//	transforms.route.negate=true
//	predicates=notTombstone
//	predicates.notTombstone.type=org.apache.kafka.connect.transforms.predicates.RecordIsTombstone
//
// Place in the data flow: on the source side a Chain runs on each
// schema.Record a task polled, before the converter; on the sink side it runs
// after the converter, before the sink task's Put. Parse builds a Chain from
// the connector config once per task; (*Chain).Apply runs it per record.
//
// Guarantees:
//   - Copy-on-write: Apply never modifies anything reachable from its input
//     record (Struct values, maps, the Headers slice, schemas). Output records
//     may share unchanged parts with the input.
//   - Derived schemas are built once per input schema (pointer identity) and
//     cached in a small bounded cache per transform, so a stream of records
//     sharing a schema builds nothing per record. Converters should therefore
//     return the same *schema.Schema for identical schemas.
//   - A Chain is safe for concurrent use by several goroutines.
//   - A record a transform cannot handle (missing field, wrong type) yields an
//     *Error naming the transform alias, its class and the field; the runtime
//     routes it through errors.tolerance. A filtered record yields keep=false;
//     its source offset still counts as processed.
//
// Header values are bytes in the form Connect's SimpleHeaderConverter writes:
// strings raw, numbers and booleans as their text, structs/maps/arrays in
// Connect's Values string form.
//
// Nothing here blocks or does I/O; there is no context to cancel.
package transforms
