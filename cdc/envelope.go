// Package cdc builds Debezium-compatible change events shared by the MySQL and
// PostgreSQL readers: the envelope (before/after/source/transaction/op/ts_*),
// the common source-block fields, keys, tombstones, transaction metadata and
// heartbeat schemas. The readers in cdc/mysql and cdc/postgres map rows into
// these shapes; nothing here talks to a database. It also holds the small
// task plumbing both readers share (TaskLogger, TaskMetrics), and the
// database-independent half of Debezium's signals and incremental snapshots:
// the signal.* and incremental.snapshot.* keys, the signal formats, the
// Kafka and file channels, and the incremental_snapshot_* offset state
// (queue JSON and Java-serialized chunk keys).
package cdc

import (
	"sort"
	"time"
	"unicode/utf16"

	"github.com/tributary-cdc/tributary/schema"
)

// Op is Debezium's operation code.
type Op string

// Debezium operations.
const (
	OpCreate   Op = "c"
	OpUpdate   Op = "u"
	OpDelete   Op = "d"
	OpRead     Op = "r"
	OpTruncate Op = "t"
	OpMessage  Op = "m"
)

// Snapshot marker values for source.snapshot.
const (
	SnapshotTrue              = "true"
	SnapshotFirst             = "first"
	SnapshotFirstInCollection = "first_in_data_collection"
	SnapshotLastInCollection  = "last_in_data_collection"
	SnapshotLast              = "last"
	SnapshotFalse             = "false"
	SnapshotIncremental       = "incremental"
)

// Headers Debezium puts on the records of a primary-key change.
const (
	HeaderNewKey = "__debezium.newkey"
	HeaderOldKey = "__debezium.oldkey"
)

// Version is what we put in source.version.
const Version = "tributary-0.1.0"

// SnapshotSchema is the source.snapshot field schema (io.debezium.data.Enum).
var SnapshotSchema = schema.NewBuilder(schema.TypeString).Optional().Name(schema.DebeziumEnum).Version(1).
	Param("allowed", "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental").
	Default("false").Build()

// CommonSourceFields returns the source-block fields every connector shares,
// in Debezium's order: version, connector, name, ts_ms, snapshot, db,
// sequence, ts_us, ts_ns. Connector-specific fields follow them.
func CommonSourceFields() []schema.Field {
	return []schema.Field{
		{Name: "version", Schema: schema.StringSchema},
		{Name: "connector", Schema: schema.StringSchema},
		{Name: "name", Schema: schema.StringSchema},
		{Name: "ts_ms", Schema: schema.Int64Schema},
		{Name: "snapshot", Schema: SnapshotSchema},
		{Name: "db", Schema: schema.StringSchema},
		{Name: "sequence", Schema: schema.OptionalString},
		{Name: "ts_us", Schema: schema.OptionalInt64},
		{Name: "ts_ns", Schema: schema.OptionalInt64},
	}
}

// TransactionBlockSchema is the envelope's optional transaction struct.
var TransactionBlockSchema = schema.NewBuilder(schema.TypeStruct).Optional().Name("event.block").Version(1).
	Field("id", schema.StringSchema).
	Field("total_order", schema.Int64Schema).
	Field("data_collection_order", schema.Int64Schema).Build()

// EnvelopeSchema builds the value schema <prefix>.<db>.<table>.Envelope
// (version 2) around the row schema (<…>.Value, optional) and the source schema.
func EnvelopeSchema(name string, row, source *schema.Schema) *schema.Schema {
	row = row.WithOptional(true)
	return schema.NewBuilder(schema.TypeStruct).Name(name).Version(2).
		Field("before", row).
		Field("after", row).
		Field("source", source).
		Field("transaction", TransactionBlockSchema).
		Field("op", schema.StringSchema).
		Field("ts_ms", schema.OptionalInt64).
		Field("ts_us", schema.OptionalInt64).
		Field("ts_ns", schema.OptionalInt64).Build()
}

// Envelope field positions in EnvelopeSchema.
const (
	EnvBefore = iota
	EnvAfter
	EnvSource
	EnvTransaction
	EnvOp
	EnvTsMs
	EnvTsUs
	EnvTsNs
)

// NewEnvelope fills an envelope value. now is the processing time.
func NewEnvelope(env *schema.Schema, op Op, before, after, source, txn *schema.Struct, now time.Time) *schema.Struct {
	v := make([]any, 8)
	if before != nil {
		v[EnvBefore] = before
	}
	if after != nil {
		v[EnvAfter] = after
	}
	v[EnvSource] = source
	if txn != nil {
		v[EnvTransaction] = txn
	}
	v[EnvOp] = string(op)
	ns := now.UnixNano()
	v[EnvTsMs] = ns / 1e6
	v[EnvTsUs] = ns / 1e3
	v[EnvTsNs] = ns
	return &schema.Struct{Schema: env, Values: v}
}

// TransactionBlock returns the transaction struct for an event.
func TransactionBlock(id string, totalOrder, collectionOrder int64) *schema.Struct {
	return &schema.Struct{Schema: TransactionBlockSchema, Values: []any{id, totalOrder, collectionOrder}}
}

// Transaction metadata topic schemas (provide.transaction.metadata=true).
var (
	TransactionKeySchema = schema.NewBuilder(schema.TypeStruct).Name("io.debezium.connector.common.TransactionMetadataKey").Version(1).
				Field("id", schema.StringSchema).Build()
	// Optional, as Debezium 3.6.1's (seen on the real connector).
	dataCollectionSchema = schema.NewBuilder(schema.TypeStruct).Name("event.collection").Version(1).Optional().
				Field("data_collection", schema.StringSchema).
				Field("event_count", schema.Int64Schema).Build()
	TransactionValueSchema = schema.NewBuilder(schema.TypeStruct).Name("io.debezium.connector.common.TransactionMetadataValue").Version(1).
				Field("status", schema.StringSchema).
				Field("id", schema.StringSchema).
				Field("event_count", schema.OptionalInt64).
				Field("data_collections", schema.NewBuilder(schema.TypeArray).Optional().Items(dataCollectionSchema).Build()).
				Field("ts_ms", schema.Int64Schema).Build()
)

// CollectionCount is one entry of an END event's data_collections.
type CollectionCount struct {
	Collection string
	Count      int64
}

// TransactionBegin returns the key and value of a BEGIN event.
func TransactionBegin(id string, ts time.Time) (*schema.Struct, *schema.Struct) {
	k := &schema.Struct{Schema: TransactionKeySchema, Values: []any{id}}
	v := &schema.Struct{Schema: TransactionValueSchema, Values: []any{"BEGIN", id, nil, nil, ts.UnixMilli()}}
	return k, v
}

// TransactionEnd returns the key and value of an END event.
func TransactionEnd(id string, ts time.Time, counts []CollectionCount) (*schema.Struct, *schema.Struct) {
	var total int64
	counts = javaHashMapOrder(counts)
	cols := make([]any, len(counts))
	for i, c := range counts {
		total += c.Count
		cols[i] = &schema.Struct{Schema: dataCollectionSchema, Values: []any{c.Collection, c.Count}}
	}
	k := &schema.Struct{Schema: TransactionKeySchema, Values: []any{id}}
	v := &schema.Struct{Schema: TransactionValueSchema, Values: []any{"END", id, total, cols, ts.UnixMilli()}}
	return k, v
}

// Heartbeat schemas (heartbeat.interval.ms > 0).
var (
	HeartbeatKeySchema = schema.NewBuilder(schema.TypeStruct).Name("io.debezium.connector.common.ServerNameKey").Version(1).
				Field("serverName", schema.StringSchema).Build()
	HeartbeatValueSchema = schema.NewBuilder(schema.TypeStruct).Name("io.debezium.connector.common.Heartbeat").Version(1).
				Field("ts_ms", schema.Int64Schema).Build()
)

// HeartbeatTopic returns Debezium's default heartbeat topic name.
func HeartbeatTopic(prefix, topicPrefix string) string {
	if prefix == "" {
		prefix = "__debezium-heartbeat"
	}
	return prefix + "." + topicPrefix
}

// SanitizeName adjusts a schema name to Avro rules as Debezium's
// schema.name.adjustment.mode=avro does: first char letter or _, others
// letters, digits or _; dots separate namespace parts and are kept.
func SanitizeName(name string) string {
	b := []byte(name)
	changed := false
	start := true
	for i, c := range b {
		if c == '.' {
			start = true
			continue
		}
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!start && c >= '0' && c <= '9')
		if !ok {
			b[i] = '_'
			changed = true
		}
		start = false
	}
	if !changed {
		return name
	}
	return string(b)
}

// javaHashMapOrder returns counts (in first-seen order) in the order a
// java.util.HashMap<String, Long> filled in that order iterates them:
// Debezium 3.6.1 keeps the per-collection counts of a transaction in one
// and writes the END event's data_collections from its entry set. Buckets
// are (h ^ h>>>16) & (n-1) of String.hashCode over a table of n = 16
// doubled while more than 3/4 full; entries of a bucket stay in insertion
// order (HashMap's resize split keeps it).
func javaHashMapOrder(counts []CollectionCount) []CollectionCount {
	if len(counts) < 2 {
		return counts
	}
	n := 16
	for len(counts) > n*3/4 {
		n *= 2
	}
	out := make([]CollectionCount, len(counts))
	copy(out, counts)
	bucket := func(s string) int {
		var h int32
		for _, u := range utf16.Encode([]rune(s)) {
			h = 31*h + int32(u)
		}
		x := uint32(h)
		return int((x ^ x>>16) & uint32(n-1))
	}
	sort.SliceStable(out, func(i, j int) bool { return bucket(out[i].Collection) < bucket(out[j].Collection) })
	return out
}
