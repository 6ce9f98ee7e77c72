package postgres

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pglogrepl"
)

// spill holds the messages of one in-progress transaction that the server
// streams before it commits (pgoutput streaming, protocol v2). They go to a
// local file, not memory, and are replayed in order when the transaction
// commits or dropped when it aborts, so a transaction of any size streams
// with bounded memory and nothing uncommitted is ever emitted.
type spill struct {
	f       *os.File
	w       *bufio.Writer
	aborted map[uint32]bool // aborted subtransactions
	n       int64
}

func (st *streamer) spill(xid uint32, lsn pglogrepl.LSN, data []byte) error {
	sp := st.spills[xid]
	if sp == nil {
		f, err := os.CreateTemp(st.s.spillDir, "tributary-pg-tx-*.spill")
		if err != nil {
			return fmt.Errorf("spool streamed transaction %d: %w", xid, err)
		}
		sp = &spill{f: f, w: bufio.NewWriterSize(f, 256<<10)}
		if st.spills == nil {
			st.spills = map[uint32]*spill{}
		}
		st.spills[xid] = sp
		st.spilledTx.Add(1)
	}
	var hdr [12]byte
	binary.BigEndian.PutUint64(hdr[:8], uint64(lsn))
	binary.BigEndian.PutUint32(hdr[8:], uint32(len(data)))
	if _, err := sp.w.Write(hdr[:]); err != nil {
		return fmt.Errorf("spool streamed transaction %d: %w", xid, err)
	}
	if _, err := sp.w.Write(data); err != nil {
		return fmt.Errorf("spool streamed transaction %d: %w", xid, err)
	}
	sp.n++
	return nil
}

func (sp *spill) close() {
	name := sp.f.Name()
	sp.f.Close()
	os.Remove(name)
}

func (st *streamer) closeSpills() {
	for x, sp := range st.spills {
		sp.close()
		delete(st.spills, x)
	}
}

func (st *streamer) streamAbort(xid, subxid uint32) {
	sp := st.spills[xid]
	if sp == nil {
		return
	}
	if xid == subxid {
		sp.close()
		delete(st.spills, xid)
		return
	}
	if sp.aborted == nil {
		sp.aborted = map[uint32]bool{}
	}
	sp.aborted[subxid] = true
}

// streamCommit replays a spooled transaction as BEGIN, its changes, COMMIT.
func (st *streamer) streamCommit(ctx context.Context, m *pglogrepl.StreamCommitMessageV2) error {
	sp := st.spills[m.Xid]
	delete(st.spills, m.Xid)
	if err := st.begin(ctx, m.Xid, m.CommitLSN, 0, m.CommitTime); err != nil {
		return err
	}
	if sp != nil {
		defer sp.close()
		if err := sp.w.Flush(); err != nil {
			return fmt.Errorf("spool streamed transaction %d: %w", m.Xid, err)
		}
		if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("replay streamed transaction %d: %w", m.Xid, err)
		}
		r := bufio.NewReaderSize(sp.f, 256<<10)
		var hdr [12]byte
		var buf []byte
		for {
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return fmt.Errorf("replay streamed transaction %d: %w", m.Xid, err)
			}
			lsn := pglogrepl.LSN(binary.BigEndian.Uint64(hdr[:8]))
			n := int(binary.BigEndian.Uint32(hdr[8:]))
			if cap(buf) < n {
				buf = make([]byte, n)
			}
			buf = buf[:n]
			if _, err := io.ReadFull(r, buf); err != nil {
				return fmt.Errorf("replay streamed transaction %d: %w", m.Xid, err)
			}
			// Streamed messages carry their (sub)transaction id first.
			if len(buf) >= 5 && sp.aborted[binary.BigEndian.Uint32(buf[1:5])] {
				continue
			}
			if err := st.decodeMsg(ctx, lsn, buf, true); err != nil {
				return fmt.Errorf("replay streamed transaction %d: %w", m.Xid, err)
			}
		}
	}
	return st.commit(ctx, m.CommitLSN, m.TransactionEndLSN, m.CommitTime)
}
