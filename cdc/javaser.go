package cdc

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// Java object serialization of an Object[] of boxed integers and strings, as
// Debezium writes incremental_snapshot_primary_key and
// incremental_snapshot_maximum_key (ObjectOutputStream, then hex). Go int32
// is java.lang.Integer, int64 java.lang.Long, int16 java.lang.Short, int8
// java.lang.Byte, string java.lang.String and nil null; other types are
// refused.

const (
	jsMagic       = 0xACED
	jsVersion     = 5
	tcNull        = 0x70
	tcReference   = 0x71
	tcClassDesc   = 0x72
	tcObject      = 0x73
	tcString      = 0x74
	tcArray       = 0x75
	tcEndBlock    = 0x78
	jsBaseHandle  = 0x7E0000
	scSerializble = 0x02
)

type javaBox struct {
	class string
	suid  uint64
	code  byte // field type code of "value"
}

var (
	jsObjectArray = javaBox{"[Ljava.lang.Object;", 0x90CE589F1073296C, 0}
	jsNumber      = javaBox{"java.lang.Number", 0x86AC951D0B94E08B, 0}
	jsInteger     = javaBox{"java.lang.Integer", 0x12E2A0A4F7818738, 'I'}
	jsLong        = javaBox{"java.lang.Long", 0x3B8BE490CC8F23DF, 'J'}
	jsShort       = javaBox{"java.lang.Short", 0x684D37133460DA52, 'S'}
	jsByte        = javaBox{"java.lang.Byte", 0x9C4E6084EE50F51C, 'B'}
)

type javaWriter struct {
	b       bytes.Buffer
	next    uint32
	handles map[string]uint32 // class name → handle of its descriptor
}

func (w *javaWriter) assign() uint32 { h := w.next; w.next++; return h }

func (w *javaWriter) utf(s string) {
	_ = binary.Write(&w.b, binary.BigEndian, uint16(len(s)))
	w.b.WriteString(s)
}

func (w *javaWriter) u32(v uint32) { _ = binary.Write(&w.b, binary.BigEndian, v) }

// classDesc writes a class descriptor, or a reference to it when written
// before. Number is the boxes' superclass.
func (w *javaWriter) classDesc(c javaBox) {
	if h, ok := w.handles[c.class]; ok {
		w.b.WriteByte(tcReference)
		w.u32(jsBaseHandle + h)
		return
	}
	w.b.WriteByte(tcClassDesc)
	w.utf(c.class)
	_ = binary.Write(&w.b, binary.BigEndian, c.suid)
	w.handles[c.class] = w.assign()
	w.b.WriteByte(scSerializble)
	if c.code == 0 {
		w.b.Write([]byte{0, 0})
	} else {
		w.b.Write([]byte{0, 1, c.code})
		w.utf("value")
	}
	w.b.WriteByte(tcEndBlock)
	if c.code == 0 {
		w.b.WriteByte(tcNull)
	} else {
		w.classDesc(jsNumber)
	}
}

// EncodeJavaKey serializes key values as Debezium stores a chunk boundary.
// A nil slice is Java's null.
func EncodeJavaKey(vals []any) (string, error) {
	if vals == nil {
		return "aced000570", nil
	}
	w := &javaWriter{handles: map[string]uint32{}}
	_ = binary.Write(&w.b, binary.BigEndian, uint16(jsMagic))
	_ = binary.Write(&w.b, binary.BigEndian, uint16(jsVersion))
	w.b.WriteByte(tcArray)
	w.classDesc(jsObjectArray)
	w.assign() // the array itself
	w.u32(uint32(len(vals)))
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
			w.b.WriteByte(tcNull)
		case string:
			if len(x) > 0xFFFF {
				return "", fmt.Errorf("key value %d: string of %d bytes is too long", i, len(x))
			}
			w.b.WriteByte(tcString)
			w.utf(x)
			w.assign()
		case int32:
			w.box(jsInteger, func() { _ = binary.Write(&w.b, binary.BigEndian, x) })
		case int64:
			w.box(jsLong, func() { _ = binary.Write(&w.b, binary.BigEndian, x) })
		case int16:
			w.box(jsShort, func() { _ = binary.Write(&w.b, binary.BigEndian, x) })
		case int8:
			w.box(jsByte, func() { w.b.WriteByte(byte(x)) })
		default:
			return "", fmt.Errorf("key value %d: %T cannot be stored as a Java object", i, v)
		}
	}
	return hex.EncodeToString(w.b.Bytes()), nil
}

func (w *javaWriter) box(c javaBox, value func()) {
	w.b.WriteByte(tcObject)
	w.classDesc(c)
	w.assign()
	value()
}

type javaReader struct {
	b       []byte
	handles []any // *javaBox for class descriptors, values for objects
}

var errJavaShort = errors.New("truncated Java serialization stream")

func (r *javaReader) n(k int) ([]byte, error) {
	if len(r.b) < k {
		return nil, errJavaShort
	}
	out := r.b[:k]
	r.b = r.b[k:]
	return out, nil
}

func (r *javaReader) u8() (byte, error) {
	b, err := r.n(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (r *javaReader) utf() (string, error) {
	l, err := r.n(2)
	if err != nil {
		return "", err
	}
	s, err := r.n(int(binary.BigEndian.Uint16(l)))
	return string(s), err
}

func (r *javaReader) handle() (any, error) {
	b, err := r.n(4)
	if err != nil {
		return nil, err
	}
	h := int(binary.BigEndian.Uint32(b)) - jsBaseHandle
	if h < 0 || h >= len(r.handles) {
		return nil, fmt.Errorf("bad Java handle %#x", h+jsBaseHandle)
	}
	return r.handles[h], nil
}

// classDesc reads a class descriptor (new or a reference) and returns the
// type code of its "value" field (0 for Number and Object[]).
func (r *javaReader) classDesc() (*javaBox, error) {
	tc, err := r.u8()
	if err != nil {
		return nil, err
	}
	switch tc {
	case tcReference:
		h, err := r.handle()
		if err != nil {
			return nil, err
		}
		c, ok := h.(*javaBox)
		if !ok {
			return nil, errors.New("Java handle is not a class descriptor")
		}
		return c, nil
	case tcNull:
		return nil, nil
	case tcClassDesc:
	default:
		return nil, fmt.Errorf("unexpected Java type code %#x for a class descriptor", tc)
	}
	name, err := r.utf()
	if err != nil {
		return nil, err
	}
	if _, err := r.n(8); err != nil {
		return nil, err
	}
	c := &javaBox{class: name}
	r.handles = append(r.handles, c)
	flags, err := r.u8()
	if err != nil {
		return nil, err
	}
	if flags&scSerializble == 0 || flags&^scSerializble != 0 {
		return nil, fmt.Errorf("Java class %s: unsupported flags %#x", name, flags)
	}
	nb, err := r.n(2)
	if err != nil {
		return nil, err
	}
	for i := 0; i < int(binary.BigEndian.Uint16(nb)); i++ {
		code, err := r.u8()
		if err != nil {
			return nil, err
		}
		if _, err := r.utf(); err != nil {
			return nil, err
		}
		if code == 'L' || code == '[' {
			return nil, fmt.Errorf("Java class %s: object fields are not supported", name)
		}
		c.code = code
	}
	if end, err := r.u8(); err != nil || end != tcEndBlock {
		return nil, fmt.Errorf("Java class %s: class annotations are not supported", name)
	}
	if _, err := r.classDesc(); err != nil { // superclass
		return nil, err
	}
	return c, nil
}

// DecodeJavaKey reads what EncodeJavaKey (or Debezium) wrote: Integer as
// int32, Long int64, Short int16, Byte int8, String string, null nil.
func DecodeJavaKey(s string) ([]any, error) {
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hex: %w", err)
	}
	r := &javaReader{b: raw}
	head, err := r.n(5)
	if err != nil {
		return nil, err
	}
	if binary.BigEndian.Uint16(head) == jsMagic && binary.BigEndian.Uint16(head[2:]) == jsVersion && head[4] == tcNull {
		return nil, nil
	}
	if binary.BigEndian.Uint16(head) != jsMagic || binary.BigEndian.Uint16(head[2:]) != jsVersion || head[4] != tcArray {
		return nil, errors.New("not a serialized Java Object[]")
	}
	ad, err := r.classDesc()
	if err != nil {
		return nil, err
	}
	if ad == nil || ad.class != jsObjectArray.class {
		return nil, errors.New("not a serialized Java Object[]")
	}
	r.handles = append(r.handles, nil) // the array
	nb, err := r.n(4)
	if err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(nb))
	if n > 1024 {
		return nil, fmt.Errorf("Object[] of %d elements", n)
	}
	out := make([]any, n)
	for i := range out {
		tc, err := r.u8()
		if err != nil {
			return nil, err
		}
		switch tc {
		case tcNull:
		case tcString:
			out[i], err = r.utf()
			r.handles = append(r.handles, out[i])
		case tcReference:
			out[i], err = r.handle()
		case tcObject:
			var c *javaBox
			c, err = r.classDesc()
			if err != nil {
				return nil, err
			}
			if c == nil {
				return nil, errors.New("Java object without a class")
			}
			var b []byte
			switch c.code {
			case 'I':
				b, err = r.n(4)
				if err == nil {
					out[i] = int32(binary.BigEndian.Uint32(b))
				}
			case 'J':
				b, err = r.n(8)
				if err == nil {
					out[i] = int64(binary.BigEndian.Uint64(b))
				}
			case 'S':
				b, err = r.n(2)
				if err == nil {
					out[i] = int16(binary.BigEndian.Uint16(b))
				}
			case 'B':
				b, err = r.n(1)
				if err == nil {
					out[i] = int8(b[0])
				}
			default:
				return nil, fmt.Errorf("Java class %s is not supported in a key", c.class)
			}
			r.handles = append(r.handles, out[i])
		default:
			return nil, fmt.Errorf("unexpected Java type code %#x in a key", tc)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
