// Package schema is Kafka Connect's data model in Go, shared by every stage of
// Tributary: sources build Records with it, converters serialize it, transforms
// rewrite it and sinks apply it.
//
// A Schema is built once per table version and then shared by pointer; it must
// not be modified after construction. Struct values are positional (Values[i]
// belongs to Schema.Fields[i]), never per-row maps.
//
// Go representation of values, by schema type:
//
//	INT8..INT64    int8, int16, int32, int64
//	FLOAT32/64     float32, float64
//	BOOLEAN        bool
//	STRING         string
//	BYTES          []byte
//	ARRAY          []any
//	MAP            map[any]any (keys are comparable primitives)
//	STRUCT         *Struct
//
// Connect logical types carry richer values: Decimal → decimal.Decimal
// (github.com/shopspring/decimal), Date/Time/Timestamp → time.Time in UTC.
// Debezium's semantic types (io.debezium.time.MicroTimestamp, …) keep their
// primitive base values (int64, string, …).
//
// Schemaless values (a nil schema) use plain JSON-like Go values:
// map[string]any, []any, string, int64, float64, bool, []byte and nil.
package schema
