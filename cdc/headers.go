package cdc

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/schema"
)

// The context headers Debezium 3.6 (extended.headers.enabled, default true)
// appends to every data-change record, tombstone and schema-change record,
// after the record's own headers (__debezium.newkey/oldkey), as strings.
const (
	HeaderLogicalName   = "__debezium.context.connectorLogicalName"
	HeaderTaskID        = "__debezium.context.taskId"
	HeaderConnectorName = "__debezium.context.connectorName"
	HeaderRunID         = "__debezium.context.runId"
)

// KeyExtendedHeaders turns the context headers off when false.
const KeyExtendedHeaders = "extended.headers.enabled"

// ContextHeaders are the context headers of one task run: the topic
// prefix, the task number, the connector plugin ("postgresql", "mysql",
// "mariadb") and a run id (a fresh UUIDv7 per task start, as Debezium's).
type ContextHeaders []schema.Header

// NewContextHeaders builds the headers of a task run.
func NewContextHeaders(prefix string, taskID int, plugin string) ContextHeaders {
	return ContextHeaders{
		{Key: HeaderLogicalName, Value: []byte(prefix)},
		{Key: HeaderTaskID, Value: []byte(strconv.Itoa(taskID))},
		{Key: HeaderConnectorName, Value: []byte(plugin)},
		{Key: HeaderRunID, Value: []byte(uuidV7(time.Now()))},
	}
}

// Apply appends the headers to the records that carry them in Debezium:
// data-change events (value schema named *.Envelope), tombstones (no
// value) and schema-change events (*.SchemaChangeValue); heartbeats and
// transaction metadata get none. Each record gets its own copy.
func (h ContextHeaders) Apply(recs []schema.Record) {
	if len(h) == 0 {
		return
	}
	for i := range recs {
		r := &recs[i]
		if r.Value != nil {
			if r.ValueSchema == nil {
				continue
			}
			n := r.ValueSchema.Name
			if !strings.HasSuffix(n, ".Envelope") && !strings.HasSuffix(n, ".SchemaChangeValue") {
				continue
			}
		}
		hs := make([]schema.Header, 0, len(r.Headers)+len(h))
		r.Headers = append(append(hs, r.Headers...), h...)
	}
}

// uuidV7 is a random RFC 9562 version 7 UUID for t.
func uuidV7(t time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	ms := uint64(t.UnixMilli())
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms<<16)
	copy(b[:6], ts[:6])
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
