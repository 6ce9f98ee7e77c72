package postgres

import (
	"encoding/binary"
	"fmt"
)

// tupleCol is one column of a pgoutput TupleData: its kind ('n' null, 'u'
// unchanged TOAST, 't' text, 'b' binary) and its bytes, aliasing the
// message buffer (which the decoder owns).
type tupleCol struct {
	kind byte
	data []byte
}

// rowChange is an Insert, Update or Delete message decoded without
// copying: the hot path of the stream. Other messages go through
// pglogrepl.
type rowChange struct {
	typ     byte // 'I', 'U', 'D'
	relID   uint32
	oldKind byte // 0, 'K' or 'O'
	old     []tupleCol
	new     []tupleCol
}

// decodeTuple parses a TupleData at b into cols (reused) and returns the
// bytes consumed.
func decodeTuple(b []byte, cols []tupleCol) ([]tupleCol, int, error) {
	if len(b) < 2 {
		return nil, 0, fmt.Errorf("tuple: short message")
	}
	n := int(binary.BigEndian.Uint16(b))
	p := 2
	cols = cols[:0]
	for i := 0; i < n; i++ {
		if p >= len(b) {
			return nil, 0, fmt.Errorf("tuple: column %d past the end", i)
		}
		k := b[p]
		p++
		switch k {
		case 't', 'b':
			if p+4 > len(b) {
				return nil, 0, fmt.Errorf("tuple: column %d length past the end", i)
			}
			l := int(binary.BigEndian.Uint32(b[p:]))
			p += 4
			if p+l > len(b) || l < 0 {
				return nil, 0, fmt.Errorf("tuple: column %d data past the end", i)
			}
			cols = append(cols, tupleCol{kind: k, data: b[p : p+l : p+l]})
			p += l
		case 'n', 'u':
			cols = append(cols, tupleCol{kind: k})
		default:
			return nil, 0, fmt.Errorf("tuple: column %d has unknown kind %q", i, k)
		}
	}
	return cols, p, nil
}

// decodeRowChange parses an Insert/Update/Delete message (inStream: with
// the transaction id after the relation id). ok is false for other
// message types.
func decodeRowChange(b []byte, inStream bool, rc *rowChange) (ok bool, err error) {
	if len(b) < 6 {
		return false, nil
	}
	switch b[0] {
	case 'I', 'U', 'D':
	default:
		return false, nil
	}
	rc.typ = b[0]
	p := 1
	if inStream {
		p += 4 // the (sub)transaction id comes first in streamed messages
	}
	if len(b) < p+5 {
		return true, fmt.Errorf("%c message: short", rc.typ)
	}
	rc.relID = binary.BigEndian.Uint32(b[p:])
	p += 4
	rc.oldKind = 0
	rc.old = rc.old[:0]
	rc.new = rc.new[:0]
	next := func() (byte, error) {
		if p >= len(b) {
			return 0, fmt.Errorf("%c message: short", rc.typ)
		}
		c := b[p]
		p++
		return c, nil
	}
	k, err := next()
	if err != nil {
		return true, err
	}
	var used int
	if k == 'K' || k == 'O' {
		if rc.typ == 'I' {
			return true, fmt.Errorf("insert message with an old tuple")
		}
		rc.oldKind = k
		if rc.old, used, err = decodeTuple(b[p:], rc.old); err != nil {
			return true, err
		}
		p += used
		if rc.typ == 'D' {
			return true, nil
		}
		if k, err = next(); err != nil {
			return true, err
		}
	}
	if k != 'N' || rc.typ == 'D' {
		return true, fmt.Errorf("%c message: unexpected tuple type %q", rc.typ, k)
	}
	rc.new, _, err = decodeTuple(b[p:], rc.new)
	return true, err
}

func colsGet(cols []tupleCol) tupleGetter {
	return func(i int) (byte, []byte) {
		if i >= len(cols) {
			return kindNull, nil
		}
		return cols[i].kind, cols[i].data
	}
}
