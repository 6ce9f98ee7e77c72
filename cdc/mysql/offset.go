package mysql

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
)

// Debezium's MySQL offset keys.
const (
	offFile              = "file"
	offPos               = "pos"
	offRow               = "row"
	offEvent             = "event"
	offGTIDs             = "gtids"
	offTsSec             = "ts_sec"
	offServerID          = "server_id"
	offSnapshot          = "snapshot"
	offSnapshotCompleted = "snapshot_completed"
)

// position is a resumable place in the binlog, Debezium's MySQL offset:
// File/Pos is where the transaction being read starts (or the next
// transaction, between transactions); Event events of that transaction and
// then Row rows of the following event were already handled.
type position struct {
	File     string
	Pos      uint32
	GTIDs    string
	Event    int64
	Row      int64
	ServerID int64
	TsSec    int64
	// Snapshot is set while an initial snapshot runs (its records carry it).
	Snapshot bool
	// SnapshotCompleted marks the offset of the last snapshot record.
	SnapshotCompleted bool
}

func (p position) offsetMap() map[string]any {
	m := make(map[string]any, 8)
	m[offFile] = p.File
	m[offPos] = int64(p.Pos)
	if p.GTIDs != "" {
		m[offGTIDs] = p.GTIDs
	}
	if p.Event != 0 {
		m[offEvent] = p.Event
	}
	if p.Row != 0 {
		m[offRow] = p.Row
	}
	if p.ServerID != 0 {
		m[offServerID] = p.ServerID
	}
	m[offTsSec] = p.TsSec
	if p.Snapshot {
		m[offSnapshot] = "INITIAL"
	}
	if p.SnapshotCompleted {
		m[offSnapshotCompleted] = true
	}
	return m
}

// parseOffset reads a stored offset (values may have come back from JSON as
// float64 or json.Number).
func parseOffset(m map[string]any) (position, error) {
	var p position
	if m == nil {
		return p, nil
	}
	var err error
	if v, ok := m[offFile]; ok && v != nil {
		p.File = fmt.Sprint(v)
	}
	num := func(key string) int64 {
		v, ok := m[key]
		if !ok || v == nil || err != nil {
			return 0
		}
		n, e := toInt64(v)
		if e != nil {
			err = fmt.Errorf("offset key %q: %w", key, e)
		}
		return n
	}
	pos := num(offPos)
	if pos < 0 || pos > math.MaxUint32 {
		return p, fmt.Errorf("offset key %q: %d out of range", offPos, pos)
	}
	p.Pos = uint32(pos)
	p.Event = num(offEvent)
	p.Row = num(offRow)
	p.ServerID = num(offServerID)
	p.TsSec = num(offTsSec)
	if v, ok := m[offGTIDs]; ok && v != nil {
		p.GTIDs = fmt.Sprint(v)
	}
	switch v := m[offSnapshot].(type) {
	case bool:
		p.Snapshot = v
	case string:
		p.Snapshot = v != "" && v != "false"
	}
	switch v := m[offSnapshotCompleted].(type) {
	case bool:
		p.SnapshotCompleted = v
	case string:
		p.SnapshotCompleted = v == "true"
	}
	if err != nil {
		return p, err
	}
	if p.File == "" && p.GTIDs == "" && !p.Snapshot {
		return p, fmt.Errorf("offset has neither %q nor %q", offFile, offGTIDs)
	}
	return p, nil
}

func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		return int64(x), nil
	case float64:
		return int64(x), nil
	case json.Number:
		return x.Int64()
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, fmt.Errorf("not a number: %T", v)
}

// sourceBlock builds the io.debezium.connector.mysql.Source struct.
type sourceBlock struct {
	schema    *schema.Schema
	connector string
	server    string
}

func newSourceBlock(connector, server string) *sourceBlock {
	name := "io.debezium.connector.mysql.Source"
	if connector == "mariadb" {
		name = "io.debezium.connector.mariadb.Source"
	}
	fields := append(cdc.CommonSourceFields(),
		schema.Field{Name: "table", Schema: schema.OptionalString},
		schema.Field{Name: "server_id", Schema: schema.Int64Schema},
		schema.Field{Name: "gtid", Schema: schema.OptionalString},
		schema.Field{Name: "file", Schema: schema.StringSchema},
		schema.Field{Name: "pos", Schema: schema.Int64Schema},
		schema.Field{Name: "row", Schema: schema.Int32Schema},
		schema.Field{Name: "thread", Schema: schema.OptionalInt64},
		schema.Field{Name: "query", Schema: schema.OptionalString},
	)
	s := schema.NewStructSchema(name, fields...)
	s.Version = 1
	return &sourceBlock{schema: s, connector: connector, server: server}
}

// sourceInfo is what varies per event in the source block.
type sourceInfo struct {
	tsMs     int64
	snapshot string
	db       string
	table    string // "" → null
	serverID int64
	gtid     string // "" → null
	file     string
	pos      int64
	row      int32
	thread   int64 // 0 → null
}

// srcRowIndex is the position of "row" in the source struct.
const srcRowIndex = 14

func (b *sourceBlock) build(si *sourceInfo) *schema.Struct {
	v := make([]any, 17)
	v[0] = cdc.Version
	v[1] = b.connector
	v[2] = b.server
	v[3] = si.tsMs
	v[4] = si.snapshot
	v[5] = si.db
	// v[6] sequence: null for MySQL
	v[7] = si.tsMs * 1000
	v[8] = si.tsMs * 1_000_000
	if si.table != "" {
		v[9] = si.table
	}
	v[10] = si.serverID
	if si.gtid != "" {
		v[11] = si.gtid
	}
	v[12] = si.file
	v[13] = si.pos
	v[14] = si.row
	if si.thread != 0 {
		v[15] = si.thread
	}
	return &schema.Struct{Schema: b.schema, Values: v}
}
