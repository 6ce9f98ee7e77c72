package jdbcsink

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/schema"
)

// tp is a Kafka topic partition.
type tp struct {
	topic     string
	partition int32
}

// shape is the column layout, converters and cached SQL of one record
// schema version for one table.
type shape struct {
	fm    *fieldsMeta
	cols  []*column // key columns, then non-key columns: the order of op.vals
	nKey  int
	keyFP string
	// ensuredVer is the table-metadata version this shape was checked
	// against (0: never).
	ensuredVer int
	// omit marks columns not written because they do not exist and may not
	// be created (schemaless fields seen only as null).
	omit    []bool
	hasOmit bool
	sql     map[sqlKey]string
}

// sqlKey identifies one generated statement of a shape.
type sqlKey struct {
	kind byte // 'i' insert, 'u' upsert, 'U' update, 'd' delete
	mask string
	rows int
}

// opKind is a row operation.
type opKind uint8

const (
	opWrite opKind = iota
	opDelete
)

// op is one buffered row operation.
type op struct {
	kind opKind
	rec  *schema.Record // the (last) record behind it, for error reports
	key  string         // collapse key; "" when rows have no identity
	vals []any          // converted values in shape.cols order (deletes: key columns only)
	skip []bool         // columns left unchanged (placeholder), nil when none
	size int            // estimated bytes when interpolated
	dead bool           // superseded by a later delete in the same phase
	// done: another owner of the record's partition applied it already
	// (exactly.once, found under the offsets row lock); not written.
	done bool
	// prev is the op of the same key from another partition that this one
	// replaced, and killed the write of another partition that this delete
	// cancelled: ClosePartitions restores them when it drops this op.
	prev, killed *op
}

// partition is where the op's record was consumed.
func (o *op) partition() tp { return tp{o.rec.OrigTopic(), o.rec.OrigPartition()} }

// pending reports whether the op is still to be written.
func (o *op) pending() bool { return !o.dead && !o.done }

// phase is a run of operations of one shape, applied as: truncate, or
// deletes then writes.
type phase struct {
	shape    *shape
	truncate bool
	// truncated is the partition and offset of a truncate's record; done as
	// for op.
	truncated tp
	truncOff  int64
	done      bool
	hasWrite  bool // shape was set by a write (not only by deletes)
	deletes   []*op
	writes    []*op
	delIdx    map[string]int
	wrIdx     map[string]int
}

// tableBuf is the buffered batch of one table.
type tableBuf struct {
	phases []*phase
	n      int          // records added since the last write
	offs   map[tp]int64 // highest offset per partition in the batch
}

func (b *tableBuf) dirty() bool { return b.n > 0 || len(b.phases) > 0 || len(b.offs) > 0 }

func (b *tableBuf) reset() {
	b.phases = nil
	b.n = 0
	clear(b.offs)
}

func (b *tableBuf) noteOffset(p tp, off int64) {
	if b.offs == nil {
		b.offs = map[tp]int64{}
	}
	if cur, ok := b.offs[p]; !ok || off > cur {
		b.offs[p] = off
	}
}

func (b *tableBuf) last() *phase {
	if len(b.phases) == 0 {
		return nil
	}
	return b.phases[len(b.phases)-1]
}

func (b *tableBuf) newPhase(sh *shape) *phase {
	ph := &phase{shape: sh}
	b.phases = append(b.phases, ph)
	return ph
}

func (b *tableBuf) addTruncate(r *schema.Record) {
	b.phases = append(b.phases, &phase{truncate: true, truncated: tp{r.OrigTopic(), r.OrigPartition()}, truncOff: r.OrigOffset()})
}

// addWrite appends an insert/upsert/update. A repeated key in the phase
// replaces the earlier write (last change wins), inheriting the columns the
// new one leaves unchanged. A pending delete of the key stays and runs first.
func (b *tableBuf) addWrite(sh *shape, o *op) {
	ph := b.last()
	switch {
	case ph == nil || ph.truncate:
		ph = b.newPhase(sh)
	case ph.shape == sh:
	case !ph.hasWrite && ph.shape.keyFP == sh.keyFP:
		ph.shape = sh // a delete-only phase takes the writer's shape
	default:
		ph = b.newPhase(sh)
	}
	ph.hasWrite = true
	if o.key != "" {
		if ph.wrIdx == nil {
			ph.wrIdx = map[string]int{}
		}
		if i, ok := ph.wrIdx[o.key]; ok {
			prev := ph.writes[i]
			mergeSkipped(o, prev)
			o.prev = prev.prev
			if prev.partition() != o.partition() {
				o.prev = prev
			}
			ph.writes[i] = o
			return
		}
		ph.wrIdx[o.key] = len(ph.writes)
	}
	ph.writes = append(ph.writes, o)
}

// mergeSkipped fills columns o leaves unchanged from the earlier write prev.
func mergeSkipped(o, prev *op) {
	if o.skip == nil {
		return
	}
	any := false
	for i, s := range o.skip {
		if !s {
			continue
		}
		if prev.skip == nil || !prev.skip[i] {
			o.vals[i] = prev.vals[i]
			o.skip[i] = false
			continue
		}
		any = true
	}
	if !any {
		o.skip = nil
	}
}

// addDelete appends a delete. It cancels a pending write of the key in the
// phase (the row must not exist afterwards).
func (b *tableBuf) addDelete(sh *shape, o *op) {
	ph := b.last()
	if ph == nil || ph.truncate || ph.shape.keyFP != sh.keyFP {
		ph = b.newPhase(sh)
	}
	if i, ok := ph.wrIdx[o.key]; ok {
		w := ph.writes[i]
		w.dead = true
		if w.partition() != o.partition() {
			o.killed = w
		}
		delete(ph.wrIdx, o.key)
	}
	if ph.delIdx == nil {
		ph.delIdx = map[string]int{}
	}
	if i, ok := ph.delIdx[o.key]; ok {
		prev := ph.deletes[i]
		if prev.partition() != o.partition() {
			o.prev = prev
		} else {
			o.prev = prev.prev
			if o.killed == nil {
				o.killed = prev.killed
			}
		}
		ph.deletes[i] = o
		return
	}
	ph.delIdx[o.key] = len(ph.deletes)
	ph.deletes = append(ph.deletes, o)
}

// dropPartitions removes what the buffer holds for the closed partitions:
// their truncates, deletes and writes, and their offsets. Where an op of a
// closed partition had replaced or cancelled an op of the same key from a
// partition still owned, that op comes back. It returns how many ops were
// dropped.
func (b *tableBuf) dropPartitions(closed map[tp]bool) int {
	before := b.ops()
	// survivor follows the replacement chain down to the first op of a
	// partition still owned; revive collects writes whose cancelling
	// delete is dropped.
	var revive []*op
	survivor := func(o *op) *op {
		for o != nil && closed[o.partition()] {
			if o.killed != nil {
				revive = append(revive, o.killed)
			}
			o = o.prev
		}
		return o
	}
	phases := b.phases[:0]
	for _, ph := range b.phases {
		if ph.truncate {
			if closed[ph.truncated] {
				continue
			}
			phases = append(phases, ph)
			continue
		}
		revive = revive[:0]
		dels := ph.deletes[:0]
		for _, o := range ph.deletes {
			if o = survivor(o); o != nil {
				dels = append(dels, o)
			}
		}
		writes := ph.writes[:0]
		for _, o := range ph.writes {
			if s := survivor(o); s != nil {
				// A write cancelled by a delete still owned stays cancelled,
				// whichever write of the key comes back in its place.
				s.dead = s.dead || o.dead
				writes = append(writes, s)
			}
		}
		ph.deletes, ph.writes = dels, writes
		ph.delIdx, ph.wrIdx = nil, nil
		for i, o := range ph.deletes {
			if o.key != "" {
				if ph.delIdx == nil {
					ph.delIdx = map[string]int{}
				}
				ph.delIdx[o.key] = i
			}
		}
		index := func(i int, o *op) {
			if o.key != "" && !o.dead {
				if ph.wrIdx == nil {
					ph.wrIdx = map[string]int{}
				}
				ph.wrIdx[o.key] = i
			}
		}
		for i, o := range ph.writes {
			index(i, o)
		}
		for _, w := range revive {
			// A write revived unless the key was written again since.
			if w = survivor(w); w == nil || !w.dead {
				continue
			}
			if _, again := ph.wrIdx[w.key]; again {
				continue
			}
			w.dead = false
			if !slices.Contains(ph.writes, w) {
				ph.writes = append(ph.writes, w)
			}
			index(slices.Index(ph.writes, w), w)
		}
		if len(ph.deletes) > 0 || len(ph.writes) > 0 {
			phases = append(phases, ph)
		}
	}
	clear(b.phases[len(phases):])
	b.phases = phases
	for p := range b.offs {
		if closed[p] {
			delete(b.offs, p)
		}
	}
	b.n = b.ops()
	return before - b.n
}

// ops counts the buffered truncates, deletes and live writes.
func (b *tableBuf) ops() int {
	n := 0
	for _, ph := range b.phases {
		if ph.truncate {
			n++
			continue
		}
		n += len(ph.deletes)
		for _, o := range ph.writes {
			if !o.dead {
				n++
			}
		}
	}
	return n
}

// newShape builds the layout and converters for a pair of record schemas.
func (t *Task) newShape(fm *fieldsMeta) (*shape, error) {
	sh := &shape{fm: fm, nKey: len(fm.keyCols), keyFP: keyFingerprint(fm), sql: map[sqlKey]string{}}
	sh.cols = append(append(sh.cols, fm.keyCols...), fm.valCols...)
	cc := convCtx{d: t.d, dbTZ: t.st.dbTZ, dateTZ: t.st.dateTZ}
	for _, c := range sh.cols {
		conv, err := cc.converter(c.schema)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
		c.conv = conv
		if !c.key && t.st.placeholder != "" && mayHoldPlaceholder(c.schema) {
			c.placeholder = true
		}
	}
	sh.omit = make([]bool, len(sh.cols))
	return sh, nil
}

// shapeFor finds or builds the shape of (key schema, value schema) for a table.
func (t *Task) shapeFor(ts *tableState, ks, vs *schema.Schema) (*shape, error) {
	pk := [2]*schema.Schema{ks, vs}
	if sh := ts.shapes[pk]; sh != nil {
		return sh, nil
	}
	var b strings.Builder
	fingerprint(&b, ks)
	b.WriteByte('|')
	fingerprint(&b, vs)
	fp := b.String()
	sh := ts.shapesFP[fp]
	if sh == nil {
		fm, err := extractFields(t.st, ts.id.String(), ks, vs)
		if err != nil {
			return nil, err
		}
		if sh, err = t.newShape(fm); err != nil {
			return nil, fmt.Errorf("table %s: %w", ts.id, err)
		}
		if len(ts.shapesFP) > 256 {
			clear(ts.shapesFP)
		}
		ts.shapesFP[fp] = sh
	}
	if len(ts.shapes) > 1024 {
		clear(ts.shapes)
	}
	ts.shapes[pk] = sh
	return sh, nil
}

// buildOp extracts and converts a record's column values.
func (t *Task) buildOp(sh *shape, kind opKind, r *schema.Record, n *normalized) (*op, error) {
	cols := sh.cols
	if kind == opDelete {
		cols = cols[:sh.nKey]
	}
	o := &op{kind: kind, rec: r, vals: make([]any, len(cols))}
	var keyStruct *schema.Struct
	if sk, ok := n.key.(*schema.Struct); ok {
		keyStruct = sk
	}
	for i, c := range cols {
		var raw any
		switch c.src {
		case srcKafkaTopic:
			raw = r.Topic
		case srcKafkaPartition:
			raw = r.Partition
		case srcKafkaOffset:
			raw = r.Offset
		case srcKeyPrimitive:
			raw = n.key
		case srcKeyField:
			if keyStruct == nil || c.idx >= len(keyStruct.Values) {
				return nil, fmt.Errorf("key of record at %s is a %T, not a struct with field %s", recordCoords(r), n.key, c.name)
			}
			raw = keyStruct.Values[c.idx]
		case srcValueField:
			if n.value == nil || c.idx >= len(n.value.Values) {
				return nil, fmt.Errorf("value of record at %s has no field %s", recordCoords(r), c.name)
			}
			raw = n.value.Values[c.idx]
		}
		if c.placeholder && raw != nil && t.isPlaceholder(raw) {
			if o.skip == nil {
				o.skip = make([]bool, len(cols))
			}
			o.skip[i] = true
			continue
		}
		if raw == nil && t.st.replaceNull && c.schema.Default != nil {
			raw = c.schema.Default
		}
		if raw == nil {
			if c.key {
				return nil, fmt.Errorf("record at %s has a null value for primary-key column %s", recordCoords(r), c.name)
			}
			o.size += 4
			continue
		}
		v, err := c.conv(raw)
		if err != nil {
			return nil, fmt.Errorf("record at %s, field %s: %w", recordCoords(r), c.name, err)
		}
		o.vals[i] = v
		switch x := v.(type) {
		case string:
			o.size += 2*len(x) + 3
		case []byte:
			o.size += 2*len(x) + 10
		default:
			o.size += 28
		}
	}
	if t.collapse {
		o.key = encodeKey(o.vals[:sh.nKey])
	}
	return o, nil
}

// mayHoldPlaceholder reports whether a column of schema s can carry
// Debezium's unavailable-value placeholder: strings and bytes, and arrays of
// them, for which Debezium's PostgreSQL connector (and cdc/postgres) send a
// one-element array holding the placeholder (text[], varchar[], uuid[],
// bytea[]…), and integer[]/bigint[], for which they send the placeholder's
// bytes as numbers.
func mayHoldPlaceholder(s *schema.Schema) bool {
	switch s.Type {
	case schema.TypeString, schema.TypeBytes:
		return true
	case schema.TypeArray:
		if s.ValueSchema == nil {
			return false
		}
		switch s.ValueSchema.Type {
		case schema.TypeString, schema.TypeBytes, schema.TypeInt32, schema.TypeInt64:
			return true
		}
	}
	return false
}

func (t *Task) isPlaceholder(v any) bool {
	switch x := v.(type) {
	case string:
		return x == t.st.placeholder
	case []byte:
		return bytes.Equal(x, t.st.placeholderBytes)
	case []any:
		if len(x) > 1 || (len(x) == 1 && isInteger(x[0])) {
			return isBytesAsNumbers(x, t.st.placeholderBytes)
		}
		if len(x) != 1 {
			return false
		}
		switch e := x[0].(type) {
		case string:
			return e == t.st.placeholder
		case []byte:
			return bytes.Equal(e, t.st.placeholderBytes)
		}
	}
	return false
}

// isInteger reports whether v is a Connect int32 or int64.
func isInteger(v any) bool {
	switch v.(type) {
	case int32, int64:
		return true
	}
	return false
}

// isBytesAsNumbers reports whether x holds exactly b, byte by byte as
// signed numbers: Debezium's unchanged TOASTed integer[]/bigint[].
func isBytesAsNumbers(x []any, b []byte) bool {
	if len(x) != len(b) || len(b) == 0 {
		return false
	}
	for i, e := range x {
		var n int64
		switch v := e.(type) {
		case int32:
			n = int64(v)
		case int64:
			n = v
		default:
			return false
		}
		if n != int64(int8(b[i])) {
			return false
		}
	}
	return true
}

// encodeKey renders converted key values as a map key.
func encodeKey(vals []any) string {
	b := make([]byte, 0, 16*len(vals))
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			b = append(b, 'n')
		case int64:
			b = append(b, 'i')
			b = binary.BigEndian.AppendUint64(b, uint64(x))
		case uint64:
			b = append(b, 'u')
			b = binary.BigEndian.AppendUint64(b, x)
		case float64:
			b = append(b, 'f')
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(x))
		case bool:
			if x {
				b = append(b, 'T')
			} else {
				b = append(b, 'F')
			}
		case string:
			b = append(b, 's')
			b = binary.AppendUvarint(b, uint64(len(x)))
			b = append(b, x...)
		case []byte:
			b = append(b, 'b')
			b = binary.AppendUvarint(b, uint64(len(x)))
			b = append(b, x...)
		case time.Time:
			b = append(b, 't')
			b = binary.BigEndian.AppendUint64(b, uint64(x.Unix()))
			b = binary.BigEndian.AppendUint32(b, uint32(x.Nanosecond()))
		default:
			s := fmt.Sprint(x)
			b = append(b, 'x')
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	return string(b)
}
