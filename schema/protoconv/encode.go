package protoconv

import (
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/tributary-cdc/tributary/schema"
)

// valueFn converts one non-nil Connect value to a Protobuf field value.
type valueFn func(v any) (protoreflect.Value, error)

// structEncoder fills a message from a Connect struct of one schema
// (ProtobufData.fromConnectData for STRUCT).
type structEncoder struct {
	md     protoreflect.MessageDescriptor
	fields []fieldEncoder
}

type fieldEncoder struct {
	index int // in the Connect struct
	name  string
	fd    protoreflect.FieldDescriptor
	elem  valueFn     // scalar or message value; list elements
	entry *mapEncoder // Connect map → repeated entry messages
	kind  int         // kindSingle, kindList, kindEntries, kindUnion
	// union members (kindUnion): the first non-null one is set
	members []unionMember
}

type unionMember struct {
	fd  protoreflect.FieldDescriptor
	enc valueFn
}

const (
	kindSingle = iota
	kindList
	kindEntries
	kindUnion
)

type mapEncoder struct {
	md         protoreflect.MessageDescriptor
	key, value protoreflect.FieldDescriptor
	kf, vf     valueFn
}

func compileStruct(s *schema.Schema, md protoreflect.MessageDescriptor, opts Options) (*structEncoder, error) {
	e := &structEncoder{md: md}
	for i, f := range s.Fields {
		name := f.Name
		if opts.ScrubInvalidNames {
			name = ScrubName(name)
		}
		if isUnion(f.Schema) {
			fe := fieldEncoder{index: i, name: f.Name, kind: kindUnion}
			for _, mf := range f.Schema.Fields {
				mn := mf.Name
				if opts.ScrubInvalidNames {
					mn = ScrubName(mn)
				}
				fd := md.Fields().ByName(protoreflect.Name(mn))
				if fd == nil || fd.ContainingOneof() == nil {
					return nil, fmt.Errorf("message %s has no oneof member %s", md.FullName(), mn)
				}
				enc, err := compileValue(mf.Schema, fd, opts)
				if err != nil {
					return nil, fmt.Errorf("field %s.%s: %w", f.Name, mf.Name, err)
				}
				fe.members = append(fe.members, unionMember{fd: fd, enc: enc})
			}
			e.fields = append(e.fields, fe)
			continue
		}
		fd := md.Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			return nil, fmt.Errorf("message %s has no field %s", md.FullName(), name)
		}
		fe := fieldEncoder{index: i, name: f.Name, fd: fd}
		var err error
		switch {
		case f.Schema.Type == schema.TypeArray:
			fe.kind = kindList
			fe.elem, err = compileValue(f.Schema.ValueSchema, fd, opts)
		case f.Schema.Type == schema.TypeMap:
			fe.kind = kindEntries
			fe.entry, err = compileMap(f.Schema, fd, opts)
		default:
			fe.elem, err = compileValue(f.Schema, fd, opts)
		}
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		e.fields = append(e.fields, fe)
	}
	return e, nil
}

func compileMap(s *schema.Schema, fd protoreflect.FieldDescriptor, opts Options) (*mapEncoder, error) {
	md := fd.Message()
	if md == nil || !fd.IsList() && !fd.IsMap() {
		return nil, fmt.Errorf("map field %s is not a repeated entry message", fd.FullName())
	}
	m := &mapEncoder{md: md, key: md.Fields().ByName("key"), value: md.Fields().ByName("value")}
	if m.key == nil || m.value == nil {
		return nil, fmt.Errorf("map entry %s lacks key or value", md.FullName())
	}
	var err error
	if m.kf, err = compileValue(s.KeySchema, m.key, opts); err != nil {
		return nil, fmt.Errorf("map key: %w", err)
	}
	if m.vf, err = compileValue(s.ValueSchema, m.value, opts); err != nil {
		return nil, fmt.Errorf("map value: %w", err)
	}
	return m, nil
}

// rootEncoder turns a root Connect value into its message.
type rootEncoder func(v any) (*dynamicpb.Message, error)

// compileRoot is the encoder of a root value: a struct's message, or a
// primitive in its wrapper message.
func compileRoot(s *schema.Schema, md protoreflect.MessageDescriptor, opts Options) (rootEncoder, error) {
	if s.Type == schema.TypeStruct {
		se, err := compileStruct(s, md, opts)
		if err != nil {
			return nil, err
		}
		return func(v any) (*dynamicpb.Message, error) {
			st, ok := v.(*schema.Struct)
			if !ok {
				return nil, fmt.Errorf("%T is not a struct for %s", v, s)
			}
			return se.encode(st)
		}, nil
	}
	vfd := md.Fields().ByName("value")
	if !isWrapperMessage(md) || vfd == nil {
		return nil, fmt.Errorf("a %s root value needs a wrapper message, not %s", s.Type, md.FullName())
	}
	fn, err := compileValue(s, vfd, opts)
	if err != nil {
		return nil, err
	}
	return func(v any) (*dynamicpb.Message, error) {
		pv, err := fn(v)
		if err != nil {
			return nil, err
		}
		m := dynamicpb.NewMessage(md)
		m.Set(vfd, pv)
		return m, nil
	}, nil
}

func (e *structEncoder) encode(st *schema.Struct) (*dynamicpb.Message, error) {
	msg := dynamicpb.NewMessage(e.md)
	if err := e.fill(msg, st); err != nil {
		return nil, err
	}
	return msg, nil
}

func (e *structEncoder) fill(msg *dynamicpb.Message, st *schema.Struct) error {
	if len(st.Values) != len(e.fields) {
		return fmt.Errorf("struct %s has %d values for %d fields", st.Schema, len(st.Values), len(e.fields))
	}
	for _, f := range e.fields {
		v := st.Values[f.index]
		if v == nil {
			if d := st.Schema.Fields[f.index].Schema.Default; d != nil {
				v = d
			} else {
				continue
			}
		}
		switch f.kind {
		case kindUnion:
			u, ok := v.(*schema.Struct)
			if !ok || len(u.Values) != len(f.members) {
				return fmt.Errorf("field %s: %T is not its union struct", f.name, v)
			}
			set := false
			for i, x := range u.Values {
				if x == nil {
					continue
				}
				pv, err := f.members[i].enc(x)
				if err != nil {
					return fmt.Errorf("field %s.%s: %w", f.name, f.members[i].fd.Name(), err)
				}
				msg.Set(f.members[i].fd, pv)
				set = true
				break
			}
			if !set {
				return fmt.Errorf("field %s: cannot find non-null field of the union", f.name)
			}
		case kindSingle:
			pv, err := f.elem(v)
			if err != nil {
				return fmt.Errorf("field %s: %w", f.name, err)
			}
			msg.Set(f.fd, pv)
		case kindList:
			arr, ok := v.([]any)
			if !ok {
				return fmt.Errorf("field %s: %T is not an array", f.name, v)
			}
			if len(arr) == 0 {
				continue
			}
			l := msg.Mutable(f.fd).List()
			for i, x := range arr {
				if x == nil {
					return fmt.Errorf("field %s[%d]: Protobuf repeated fields cannot hold null", f.name, i)
				}
				pv, err := f.elem(x)
				if err != nil {
					return fmt.Errorf("field %s[%d]: %w", f.name, i, err)
				}
				l.Append(pv)
			}
		case kindEntries:
			mv, ok := v.(map[any]any)
			if !ok {
				return fmt.Errorf("field %s: %T is not a map", f.name, v)
			}
			if len(mv) == 0 {
				continue
			}
			if err := f.entry.put(msg, f.fd, mv); err != nil {
				return fmt.Errorf("field %s: %w", f.name, err)
			}
		}
	}
	return nil
}

func (m *mapEncoder) put(msg *dynamicpb.Message, fd protoreflect.FieldDescriptor, mv map[any]any) error {
	if fd.IsMap() {
		pm := msg.Mutable(fd).Map()
		for k, v := range mv {
			if k == nil {
				return fmt.Errorf("null map key")
			}
			kv, err := m.kf(k)
			if err != nil {
				return fmt.Errorf("map key: %w", err)
			}
			var vv protoreflect.Value
			if v == nil {
				vv = pm.NewValue()
			} else if vv, err = m.vf(v); err != nil {
				return fmt.Errorf("map value: %w", err)
			}
			pm.Set(kv.MapKey(), vv)
		}
		return nil
	}
	l := msg.Mutable(fd).List()
	for k, v := range mv {
		entry := dynamicpb.NewMessage(m.md)
		if k != nil {
			kv, err := m.kf(k)
			if err != nil {
				return fmt.Errorf("map key: %w", err)
			}
			entry.Set(m.key, kv)
		}
		if v != nil {
			vv, err := m.vf(v)
			if err != nil {
				return fmt.Errorf("map value: %w", err)
			}
			entry.Set(m.value, vv)
		}
		l.Append(protoreflect.ValueOfMessage(entry))
	}
	return nil
}

// compileValue returns the converter of one Connect value of schema s to
// the (single, element, key or value) Protobuf field fd.
func compileValue(s *schema.Schema, fd protoreflect.FieldDescriptor, opts Options) (valueFn, error) {
	if s == nil {
		return nil, fmt.Errorf("no schema")
	}
	if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
		md := fd.Message()
		switch string(md.FullName()) {
		case decimalType:
			return decimalValue(s, md)
		case dateType:
			return dateValue(md), nil
		case timeType:
			return timeValue(md), nil
		case timestampType:
			return timestampValue(md), nil
		}
		if isWrapperMessage(md) {
			inner, err := compileValue(s, md.Fields().ByName("value"), opts)
			if err != nil {
				return nil, err
			}
			vfd := md.Fields().ByName("value")
			return func(v any) (protoreflect.Value, error) {
				pv, err := inner(v)
				if err != nil {
					return protoreflect.Value{}, err
				}
				w := dynamicpb.NewMessage(md)
				w.Set(vfd, pv)
				return protoreflect.ValueOfMessage(w), nil
			}, nil
		}
		if s.Type != schema.TypeStruct {
			return nil, fmt.Errorf("Connect %s cannot be written to message %s", s, md.FullName())
		}
		se, err := compileStruct(s, md, opts)
		if err != nil {
			return nil, err
		}
		return func(v any) (protoreflect.Value, error) {
			st, ok := v.(*schema.Struct)
			if !ok {
				return protoreflect.Value{}, fmt.Errorf("%T is not a struct", v)
			}
			m, err := se.encode(st)
			if err != nil {
				return protoreflect.Value{}, err
			}
			return protoreflect.ValueOfMessage(m), nil
		}, nil
	}
	if fd.Kind() == protoreflect.EnumKind {
		ed := fd.Enum()
		return func(v any) (protoreflect.Value, error) {
			switch x := v.(type) {
			case string:
				if n, ok := s.Param(ParamEnum + "." + x); ok {
					i, err := strconv.Atoi(n)
					if err != nil {
						return protoreflect.Value{}, fmt.Errorf("enum %s: bad number %q for %s", ed.FullName(), n, x)
					}
					return protoreflect.ValueOfEnum(protoreflect.EnumNumber(i)), nil
				}
				if ev := ed.Values().ByName(protoreflect.Name(x)); ev != nil {
					return protoreflect.ValueOfEnum(ev.Number()), nil
				}
				return protoreflect.Value{}, fmt.Errorf("%q is not a symbol of enum %s", x, ed.FullName())
			default:
				n, ok := toInt64(v)
				if !ok {
					return protoreflect.Value{}, fmt.Errorf("%T is not a valid enum value", v)
				}
				return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), nil
			}
		}, nil
	}
	bad := func(v any) error { return fmt.Errorf("%T is not a valid %s value", v, s) }
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return func(v any) (protoreflect.Value, error) {
			n, ok := toInt64(v)
			if !ok {
				return protoreflect.Value{}, bad(v)
			}
			return protoreflect.ValueOfInt32(int32(n)), nil
		}, nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return func(v any) (protoreflect.Value, error) {
			n, ok := toInt64(v)
			if !ok {
				return protoreflect.Value{}, bad(v)
			}
			return protoreflect.ValueOfUint32(uint32(n)), nil
		}, nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return func(v any) (protoreflect.Value, error) {
			n, ok := toInt64(v)
			if !ok {
				if t, isTime := v.(time.Time); isTime {
					return protoreflect.ValueOfInt64(t.UnixMilli()), nil
				}
				return protoreflect.Value{}, bad(v)
			}
			return protoreflect.ValueOfInt64(n), nil
		}, nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return func(v any) (protoreflect.Value, error) {
			n, ok := toInt64(v)
			if !ok {
				return protoreflect.Value{}, bad(v)
			}
			return protoreflect.ValueOfUint64(uint64(n)), nil
		}, nil
	case protoreflect.FloatKind:
		return func(v any) (protoreflect.Value, error) {
			switch x := v.(type) {
			case float32:
				return protoreflect.ValueOfFloat32(x), nil
			case float64:
				return protoreflect.ValueOfFloat32(float32(x)), nil
			}
			return protoreflect.Value{}, bad(v)
		}, nil
	case protoreflect.DoubleKind:
		return func(v any) (protoreflect.Value, error) {
			switch x := v.(type) {
			case float64:
				return protoreflect.ValueOfFloat64(x), nil
			case float32:
				return protoreflect.ValueOfFloat64(float64(x)), nil
			}
			return protoreflect.Value{}, bad(v)
		}, nil
	case protoreflect.BoolKind:
		return func(v any) (protoreflect.Value, error) {
			b, ok := v.(bool)
			if !ok {
				return protoreflect.Value{}, bad(v)
			}
			return protoreflect.ValueOfBool(b), nil
		}, nil
	case protoreflect.StringKind:
		return func(v any) (protoreflect.Value, error) {
			str, ok := v.(string)
			if !ok {
				return protoreflect.Value{}, bad(v)
			}
			return protoreflect.ValueOfString(str), nil
		}, nil
	case protoreflect.BytesKind:
		return func(v any) (protoreflect.Value, error) {
			b, ok := v.([]byte)
			if !ok {
				return protoreflect.Value{}, bad(v)
			}
			return protoreflect.ValueOfBytes(b), nil
		}, nil
	}
	return nil, fmt.Errorf("unsupported Protobuf field kind %s", fd.Kind())
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), true
	}
	return 0, false
}

func isWrapperMessage(md protoreflect.MessageDescriptor) bool {
	switch md.FullName() {
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
		"google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue":
		return true
	}
	return false
}

func msgFields(md protoreflect.MessageDescriptor, names ...string) []protoreflect.FieldDescriptor {
	out := make([]protoreflect.FieldDescriptor, len(names))
	for i, n := range names {
		out[i] = md.Fields().ByName(protoreflect.Name(n))
	}
	return out
}

// decimalValue is DecimalUtils.fromBigDecimal at the schema's scale: the
// unscaled value as big-endian two's complement, its precision (digit count)
// and the scale.
func decimalValue(s *schema.Schema, md protoreflect.MessageDescriptor) (valueFn, error) {
	scale, err := schema.DecimalScale(s)
	if err != nil {
		return nil, err
	}
	f := msgFields(md, "value", "precision", "scale")
	return func(v any) (protoreflect.Value, error) {
		d, ok := v.(decimal.Decimal)
		if !ok {
			return protoreflect.Value{}, fmt.Errorf("%T is not a decimal", v)
		}
		unscaled := d.Shift(scale).Round(0).BigInt()
		m := dynamicpb.NewMessage(md)
		m.Set(f[0], protoreflect.ValueOfBytes(schema.TwosComplement(unscaled)))
		m.Set(f[1], protoreflect.ValueOfUint32(uint32(precisionOf(unscaled))))
		if scale != 0 {
			m.Set(f[2], protoreflect.ValueOfInt32(scale))
		}
		return protoreflect.ValueOfMessage(m), nil
	}, nil
}

// precisionOf is BigDecimal.precision(): the number of decimal digits of the
// unscaled value (1 for zero).
func precisionOf(n *big.Int) int {
	if n.Sign() == 0 {
		return 1
	}
	return len(new(big.Int).Abs(n).String())
}

func dateValue(md protoreflect.MessageDescriptor) valueFn {
	f := msgFields(md, "year", "month", "day")
	return func(v any) (protoreflect.Value, error) {
		var t time.Time
		switch x := v.(type) {
		case time.Time:
			t = x.UTC()
		case int32:
			t = schema.DaysToDate(x)
		default:
			return protoreflect.Value{}, fmt.Errorf("%T is not a Date", v)
		}
		if t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Nanosecond() != 0 {
			return protoreflect.Value{}, fmt.Errorf("Kafka Connect Date type should not have any time fields set to non-zero values")
		}
		m := dynamicpb.NewMessage(md)
		m.Set(f[0], protoreflect.ValueOfInt32(int32(t.Year())))
		m.Set(f[1], protoreflect.ValueOfInt32(int32(t.Month())))
		m.Set(f[2], protoreflect.ValueOfInt32(int32(t.Day())))
		return protoreflect.ValueOfMessage(m), nil
	}
}

func timeValue(md protoreflect.MessageDescriptor) valueFn {
	f := msgFields(md, "hours", "minutes", "seconds", "nanos")
	return func(v any) (protoreflect.Value, error) {
		var ms int64
		switch x := v.(type) {
		case time.Time:
			ms = int64(schema.TimeToMillis(x))
		case int32:
			ms = int64(x)
		default:
			return protoreflect.Value{}, fmt.Errorf("%T is not a Time", v)
		}
		if ms < 0 || ms > 86400000 {
			return protoreflect.Value{}, fmt.Errorf("Time values must use number of millis greater than 0 and less than 86400000")
		}
		m := dynamicpb.NewMessage(md)
		set := func(fd protoreflect.FieldDescriptor, n int64) {
			if n != 0 {
				m.Set(fd, protoreflect.ValueOfInt32(int32(n)))
			}
		}
		set(f[0], ms/3600000%24)
		set(f[1], ms/60000%60)
		set(f[2], ms/1000%60)
		set(f[3], ms%1000*1e6)
		return protoreflect.ValueOfMessage(m), nil
	}
}

// timestampValue is Timestamps.fromMillis.
func timestampValue(md protoreflect.MessageDescriptor) valueFn {
	f := msgFields(md, "seconds", "nanos")
	return func(v any) (protoreflect.Value, error) {
		var ms int64
		switch x := v.(type) {
		case time.Time:
			ms = x.UnixMilli()
		case int64:
			ms = x
		default:
			return protoreflect.Value{}, fmt.Errorf("%T is not a Timestamp", v)
		}
		sec := schema.FloorDiv(ms, 1000)
		nanos := (ms - sec*1000) * 1e6
		m := dynamicpb.NewMessage(md)
		if sec != 0 {
			m.Set(f[0], protoreflect.ValueOfInt64(sec))
		}
		if nanos != 0 {
			m.Set(f[1], protoreflect.ValueOfInt32(int32(nanos)))
		}
		return protoreflect.ValueOfMessage(m), nil
	}
}
