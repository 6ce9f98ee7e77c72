package postgres

import (
	"strconv"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
)

// Source-block field positions in sourceSchema.
const (
	srcVersion = iota
	srcConnector
	srcName
	srcTsMs
	srcSnapshot
	srcDB
	srcSequence
	srcTsUs
	srcTsNs
	srcSchema
	srcTable
	srcTxID
	srcLSN
	srcXmin
	srcOrigin
	srcOriginLSN
	srcFields
)

// sourceBlock fills the source struct of one event. txid and lsn are
// omitted when zero.
func sourceBlock(s *settings, t *table, snapshot string, ts time.Time, txid int64, lsn pglogrepl.LSN, seq string) *schema.Struct {
	v := make([]any, srcFields)
	v[srcVersion] = cdc.Version
	v[srcConnector] = "postgresql"
	v[srcName] = s.boxPrefix
	ns := ts.UnixNano()
	v[srcTsMs] = ns / 1e6
	v[srcSnapshot] = snapshot
	v[srcDB] = s.boxDB
	if seq != "" {
		v[srcSequence] = seq
	}
	v[srcTsUs] = ns / 1e3
	v[srcTsNs] = ns
	v[srcSchema] = t.boxSchema
	v[srcTable] = t.boxName
	if txid != 0 {
		v[srcTxID] = txid
	}
	if lsn != 0 {
		v[srcLSN] = int64(lsn)
	}
	return &schema.Struct{Schema: sourceSchema, Values: v}
}

// sequence renders Debezium's source.sequence: ["<commit lsn>","<lsn>"].
func sequence(commit, lsn pglogrepl.LSN) string {
	b := make([]byte, 0, 48)
	b = append(b, '[')
	if commit == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = strconv.AppendUint(b, uint64(commit), 10)
		b = append(b, '"')
	}
	b = append(b, ',', '"')
	b = strconv.AppendUint(b, uint64(lsn), 10)
	return string(append(b, '"', ']'))
}

// Operation codes as interface values (no allocation per event).
var (
	opCreate   any = string(cdc.OpCreate)
	opUpdate   any = string(cdc.OpUpdate)
	opDelete   any = string(cdc.OpDelete)
	opRead     any = string(cdc.OpRead)
	opTruncate any = string(cdc.OpTruncate)
)

// envelope fills an envelope value like cdc.NewEnvelope, with the
// operation pre-boxed.
func envelope(env *schema.Schema, op any, before, after, source, txn *schema.Struct, now time.Time) *schema.Struct {
	v := make([]any, 8)
	if before != nil {
		v[cdc.EnvBefore] = before
	}
	if after != nil {
		v[cdc.EnvAfter] = after
	}
	v[cdc.EnvSource] = source
	if txn != nil {
		v[cdc.EnvTransaction] = txn
	}
	v[cdc.EnvOp] = op
	ns := now.UnixNano()
	v[cdc.EnvTsMs] = ns / 1e6
	v[cdc.EnvTsUs] = ns / 1e3
	v[cdc.EnvTsNs] = ns
	return &schema.Struct{Schema: env, Values: v}
}

// dataRecord builds a change-event record; key may be nil (no key).
func dataRecord(t *table, key *schema.Struct, env *schema.Struct, part, off map[string]any, now time.Time) schema.Record {
	r := schema.Record{
		Topic:           t.topic,
		Partition:       -1,
		ValueSchema:     t.envelope,
		Value:           env,
		Timestamp:       now,
		SourcePartition: part,
		SourceOffset:    off,
	}
	if key != nil {
		r.KeySchema = t.keySchema
		r.Key = key
	}
	return r
}

// tombstone is the null-valued record that follows a delete.
func tombstone(t *table, key *schema.Struct, part, off map[string]any, now time.Time) schema.Record {
	r := schema.Record{Topic: t.topic, Partition: -1, Timestamp: now, SourcePartition: part, SourceOffset: off}
	if key != nil {
		r.KeySchema = t.keySchema
		r.Key = key
	}
	return r
}

// heartbeatRecord is Debezium's heartbeat: key {serverName}, value {ts_ms}.
func heartbeatRecord(s *settings, part, off map[string]any, now time.Time) schema.Record {
	return schema.Record{
		Topic:           s.heartbeatTopic,
		Partition:       -1,
		KeySchema:       cdc.HeartbeatKeySchema,
		Key:             &schema.Struct{Schema: cdc.HeartbeatKeySchema, Values: []any{s.prefix}},
		ValueSchema:     cdc.HeartbeatValueSchema,
		Value:           &schema.Struct{Schema: cdc.HeartbeatValueSchema, Values: []any{now.UnixMilli()}},
		Timestamp:       now,
		SourcePartition: part,
		SourceOffset:    off,
	}
}

// txRecord is a BEGIN or END event on the transaction topic.
func txRecord(s *settings, key, value *schema.Struct, part, off map[string]any, now time.Time) schema.Record {
	return schema.Record{
		Topic:           s.transactionTopic,
		Partition:       -1,
		KeySchema:       cdc.TransactionKeySchema,
		Key:             key,
		ValueSchema:     cdc.TransactionValueSchema,
		Value:           value,
		Timestamp:       now,
		SourcePartition: part,
		SourceOffset:    off,
	}
}
