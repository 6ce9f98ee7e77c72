// Package jsonconv is Kafka Connect's JsonConverter
// (org.apache.kafka.connect.json.JsonConverter) in Go, both directions.
//
// It sits between the Connect data model (package schema) and Kafka bytes:
// sources' records are serialized with FromConnect before they are produced,
// sinks' records are parsed with ToConnect after they are consumed. The bytes
// are the ones Kafka Connect writes for the same schema and value: compact JSON,
// the {"schema":…,"payload":…} envelope when schemas.enable=true, Connect's
// member order and type names ("float", "double"), Base64 bytes, decimals as
// minimal two's complement (decimal.format=BASE64) or BigDecimal.toString
// (NUMERIC), and floats formatted like Java's Double.toString/Float.toString.
//
// Known differences from Java: map entries are written in sorted key order
// (Java writes its HashMap order, which is unspecified); float formatting
// follows the shortest-representation algorithm of JDK 19+ (older JDKs differ
// in rare last-digit cases).
//
// A Converter is safe for concurrent use. It keeps two bounded caches
// (schemas.cache.size, default 1000): serialized schema JSON per *schema.Schema
// pointer on encode, and parsed *schema.Schema per schema JSON text on decode,
// so a stream of records with the same schema builds it once. Schemas returned
// by ToConnect are shared between records and must not be modified.
package jsonconv
