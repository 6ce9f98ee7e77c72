// Package avroconv is Confluent's AvroConverter
// (io.confluent.connect.avro.AvroConverter, alias AvroConverter) in Go.
//
// It sits where jsonconv sits: sources' records are serialized with
// FromConnect before they are produced, sinks' records are parsed with
// ToConnect after they are consumed. Bytes use the Confluent wire format:
// magic byte 0, the 4-byte big-endian schema id, then the Avro binary body.
//
// Connect schemas map to Avro as Confluent's AvroData does with
// connect.meta.data=true: record names from the Connect schema name
// (namespace = everything before the last dot; unnamed structs become
// io.confluent.connect.avro.ConnectDefault), optional → union with null first
// and default null (an optional schema with a default puts its type first and
// defaults to that value), connect.name / connect.version / connect.doc /
// connect.parameters / connect.default / connect.type properties, Decimal →
// bytes with the decimal logical type (precision from
// connect.decimal.precision, else 64), Date/Time/Timestamp → date,
// time-millis, timestamp-millis, maps with non-string keys → arrays of
// io.confluent.connect.avro.MapEntry {key, value} records. The generated JSON
// keeps Avro Java's member and property order, so it is the text Confluent
// registers. Reading goes the other way from the writer's schema
// (AvroData.toConnectSchema): enums become strings with Confluent's
// parameters, fixed becomes bytes, other unions become
// io.confluent.connect.avro.Union structs.
//
// Subjects follow key/value.subject.name.strategy (TopicNameStrategy,
// RecordNameStrategy, TopicRecordNameStrategy). With auto.register.schemas
// the schema is registered on first use, otherwise looked up; with
// use.latest.version the subject's latest schema is the writer schema and
// Connect fields are matched to it by name (missing ones get the Avro
// default).
//
// A Converter caches, per Connect schema pointer and topic, the schema id
// and a compiled encoder, and per schema id a compiled decoder; after the
// first record of a schema version no registry round trip happens. Binary
// primitives come from hamba/avro's Reader and Writer; schemas are validated
// with hamba/avro. A Converter is safe for concurrent use.
//
// Not supported: schemaless values (Confluent's "anything" schema), schema
// references, connect.meta.data=false, enhanced.avro.schema.support (enum
// symbols are read into parameters but written back as strings).
package avroconv
