package postgres

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/jackc/pglogrepl"
)

// Offset keys (Debezium's PostgresOffsetContext names).
const (
	offLSN       = "lsn"                  // LSN of the event
	offLSNProc   = "lsn_proc"             // everything before it is completely processed: the restart point
	offLSNCommit = "lsn_commit"           // commit LSN of the event's transaction
	offTxID      = "txId"                 // transaction id
	offTsUsec    = "ts_usec"              // commit time, µs
	offEventsAt  = "lsn_events_processed" // events of this transaction already emitted at lsn
	offMsgType   = "messageType"
	offSnapshot  = "snapshot"
	offLastSnap  = "last_snapshot_record"
	offSnapDone  = "snapshot_completed"
)

// position is where the reader stands: the offset of the last record it
// emitted. A transaction is complete in the offset when lsn_proc is past its
// commit LSN; otherwise a restart skips the events of that transaction up to
// (lsn, lsn_events_processed).
type position struct {
	proc     pglogrepl.LSN // restart point (end of the last complete transaction, or a heartbeat position)
	commit   pglogrepl.LSN // commit LSN of the current/last transaction
	lsn      pglogrepl.LSN // LSN of the last event
	eventsAt int64         // events emitted at lsn in that transaction
	xid      uint32
	tsUsec   int64
	snapshot bool // the offset is inside an unfinished snapshot
}

// partial reports whether the position is inside a transaction.
func (p position) partial() bool { return p.commit != 0 && p.proc <= p.commit }

func (p position) offset(msgType string) map[string]any {
	m := map[string]any{
		offLSN:       int64(p.lsn),
		offLSNProc:   int64(p.proc),
		offLSNCommit: int64(p.commit),
		offTsUsec:    p.tsUsec,
	}
	if p.xid != 0 {
		m[offTxID] = int64(p.xid)
	}
	if p.eventsAt > 0 {
		m[offEventsAt] = p.eventsAt
	}
	if msgType != "" {
		m[offMsgType] = msgType
	}
	return m
}

// parsePosition reads a stored offset. snapshotDone is false when the offset
// was written by a snapshot that did not finish.
func parsePosition(m map[string]any) (p position, snapshotDone bool, err error) {
	get := func(k string) (int64, bool, error) {
		v, ok := m[k]
		if !ok || v == nil {
			return 0, false, nil
		}
		n, err := toInt64(v)
		if err != nil {
			return 0, false, fmt.Errorf("offset %s: %w", k, err)
		}
		return n, true, nil
	}
	lsn, _, err := get(offLSN)
	if err != nil {
		return p, false, err
	}
	proc, hasProc, err := get(offLSNProc)
	if err != nil {
		return p, false, err
	}
	if !hasProc {
		proc = lsn
	}
	commit, _, err := get(offLSNCommit)
	if err != nil {
		return p, false, err
	}
	xid, _, err := get(offTxID)
	if err != nil {
		return p, false, err
	}
	n, _, err := get(offEventsAt)
	if err != nil {
		return p, false, err
	}
	ts, _, err := get(offTsUsec)
	if err != nil {
		return p, false, err
	}
	p = position{proc: pglogrepl.LSN(proc), commit: pglogrepl.LSN(commit), lsn: pglogrepl.LSN(lsn),
		eventsAt: n, xid: uint32(xid), tsUsec: ts}
	snapshotDone = true
	if isTrue(m[offSnapshot]) {
		p.snapshot = true
		snapshotDone = isTrue(m[offLastSnap]) || isTrue(m[offSnapDone])
	}
	return p, snapshotDone, nil
}

func isTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		b, _ := strconv.ParseBool(x)
		return b
	}
	return false
}

// toInt64 accepts the number forms offsets come back in from JSON stores.
func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%d out of range", x)
		}
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case float64:
		return int64(x), nil
	case json.Number:
		return x.Int64()
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, fmt.Errorf("unexpected %T", v)
}
