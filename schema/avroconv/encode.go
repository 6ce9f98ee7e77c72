package avroconv

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// encFn writes one Connect value as Avro binary of its compiled writer schema.
type encFn func(w *avro.Writer, v any) error

// fieldErr adds a field name to an encoding error path.
type fieldErr struct {
	path []string // innermost first
	err  error
}

func (e *fieldErr) Error() string {
	p := make([]string, len(e.path))
	for i, s := range e.path {
		p[len(p)-1-i] = s
	}
	return fmt.Sprintf("field %q: %v", strings.Join(p, "."), e.err)
}

func (e *fieldErr) Unwrap() error { return e.err }

func inField(err error, name string) error {
	if fe, ok := err.(*fieldErr); ok {
		fe.path = append(fe.path, name)
		return fe
	}
	return &fieldErr{path: []string{name}, err: err}
}

// compileWriter builds the encoder that writes values of Connect schema cs
// with Avro writer schema t. t is usually derived from cs (fromConnect); with
// use.latest.version it is the subject's latest schema, matched by field name.
func compileWriter(cs *schema.Schema, t *avroType) (encFn, error) {
	return compileEnc(cs, t, map[*avroType]bool{})
}

func compileEnc(cs *schema.Schema, t *avroType, active map[*avroType]bool) (encFn, error) {
	if t.kind == "union" {
		return compileUnion(cs, t, active)
	}
	base, err := compileBase(cs, t, active)
	if err != nil {
		return nil, err
	}
	def := cs.Default
	return func(w *avro.Writer, v any) error {
		if v == nil {
			if def == nil {
				return fmt.Errorf("found null value for non-optional schema %s", cs)
			}
			v = def
		}
		return base(w, v)
	}, nil
}

func compileUnion(cs *schema.Schema, t *avroType, active map[*avroType]bool) (encFn, error) {
	nullIdx := -1
	var others []int
	for i, br := range t.branches {
		if isNull(br) {
			nullIdx = i
		} else {
			others = append(others, i)
		}
	}
	if len(others) == 1 && cs.Name != unionName {
		valIdx := int64(others[0])
		base, err := compileBase(cs, t.branches[others[0]], active)
		if err != nil {
			return nil, err
		}
		return unionBranch(cs, nullIdx, valIdx, base), nil
	}
	if cs.Type != schema.TypeStruct || cs.Name != unionName {
		// A Connect value for a general union: take the first branch that accepts the schema.
		for _, i := range others {
			base, err := compileBase(cs, t.branches[i], active)
			if err != nil {
				continue
			}
			return unionBranch(cs, nullIdx, int64(i), base), nil
		}
		return nil, fmt.Errorf("no branch of Avro union %s fits Connect schema %s", marshalSchema(t), cs)
	}
	// Connect's Union struct: one field per branch, the set one is written.
	type branch struct {
		idx int64
		enc encFn
	}
	byField := make([]branch, len(cs.Fields))
	for fi, f := range cs.Fields {
		found := false
		for _, i := range others {
			if unionMemberName(t.branches[i]) == f.Name {
				enc, err := compileBase(f.Schema, t.branches[i], active)
				if err != nil {
					return nil, fmt.Errorf("union member %s: %w", f.Name, err)
				}
				byField[fi] = branch{int64(i), enc}
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("union member %s has no matching Avro branch", f.Name)
		}
	}
	return func(w *avro.Writer, v any) error {
		if v == nil {
			if nullIdx < 0 {
				return fmt.Errorf("found null value for non-optional union")
			}
			w.WriteLong(int64(nullIdx))
			return nil
		}
		st, ok := v.(*schema.Struct)
		if !ok {
			return fmt.Errorf("expected a union struct, got %T", v)
		}
		for i, fv := range st.Values {
			if fv != nil && i < len(byField) {
				w.WriteLong(byField[i].idx)
				return byField[i].enc(w, fv)
			}
		}
		if nullIdx < 0 {
			return fmt.Errorf("union struct has no value set")
		}
		w.WriteLong(int64(nullIdx))
		return nil
	}, nil
}

// unionBranch writes a Connect value into one branch of an Avro union: a
// null (once the schema's default is applied) as branch nullIdx, when the
// union has one, anything else as branch idx through base.
func unionBranch(cs *schema.Schema, nullIdx int, idx int64, base encFn) encFn {
	def := cs.Default
	return func(w *avro.Writer, v any) error {
		if v == nil {
			v = def
		}
		if v == nil {
			if nullIdx < 0 {
				return fmt.Errorf("found null value for non-optional schema %s", cs)
			}
			w.WriteLong(int64(nullIdx))
			return nil
		}
		w.WriteLong(idx)
		return base(w, v)
	}
}

func mismatch(cs *schema.Schema, t *avroType) error {
	return fmt.Errorf("Connect schema %s cannot be written as Avro %s", cs, t.kind)
}

func badValue(cs *schema.Schema, v any) error {
	return fmt.Errorf("%T is not a valid value for schema %s", v, cs)
}

// timeInt writes an int32 logical type (Date, Time): a time.Time as toInt
// gives it, or the raw int32.
func timeInt(cs *schema.Schema, toInt func(time.Time) int32) encFn {
	return func(w *avro.Writer, v any) error {
		switch x := v.(type) {
		case time.Time:
			w.WriteInt(toInt(x))
		case int32:
			w.WriteInt(x)
		default:
			return badValue(cs, v)
		}
		return nil
	}
}

// compileBase compiles a non-union writer type for non-null values.
func compileBase(cs *schema.Schema, t *avroType, active map[*avroType]bool) (encFn, error) {
	logical := t.logical()
	switch t.kind {
	case "boolean":
		if cs.Type != schema.TypeBoolean {
			return nil, mismatch(cs, t)
		}
		return func(w *avro.Writer, v any) error {
			b, ok := v.(bool)
			if !ok {
				return badValue(cs, v)
			}
			w.WriteBool(b)
			return nil
		}, nil
	case "int":
		switch {
		case cs.Name == schema.DateName && cs.Type == schema.TypeInt32:
			return timeInt(cs, schema.DateToDays), nil
		case cs.Name == schema.TimeName && cs.Type == schema.TypeInt32:
			return timeInt(cs, schema.TimeToMillis), nil
		}
		switch cs.Type {
		case schema.TypeInt8, schema.TypeInt16, schema.TypeInt32:
			return func(w *avro.Writer, v any) error {
				switch x := v.(type) {
				case int8:
					w.WriteInt(int32(x))
				case int16:
					w.WriteInt(int32(x))
				case int32:
					w.WriteInt(x)
				default:
					return badValue(cs, v)
				}
				return nil
			}, nil
		}
		return nil, mismatch(cs, t)
	case "long":
		if cs.Name == schema.TimestampName && cs.Type == schema.TypeInt64 {
			micros := strings.EqualFold(logical, "timestamp-micros")
			return func(w *avro.Writer, v any) error {
				switch x := v.(type) {
				case time.Time:
					if micros {
						w.WriteLong(x.UnixMicro())
					} else {
						w.WriteLong(x.UnixMilli())
					}
				case int64:
					w.WriteLong(x)
				default:
					return badValue(cs, v)
				}
				return nil
			}, nil
		}
		switch cs.Type {
		case schema.TypeInt8, schema.TypeInt16, schema.TypeInt32, schema.TypeInt64:
			return func(w *avro.Writer, v any) error {
				switch x := v.(type) {
				case int64:
					w.WriteLong(x)
				case int32:
					w.WriteLong(int64(x))
				case int16:
					w.WriteLong(int64(x))
				case int8:
					w.WriteLong(int64(x))
				default:
					return badValue(cs, v)
				}
				return nil
			}, nil
		}
		return nil, mismatch(cs, t)
	case "float":
		if cs.Type != schema.TypeFloat32 {
			return nil, mismatch(cs, t)
		}
		return func(w *avro.Writer, v any) error {
			f, ok := v.(float32)
			if !ok {
				return badValue(cs, v)
			}
			w.WriteFloat(f)
			return nil
		}, nil
	case "double":
		switch cs.Type {
		case schema.TypeFloat64, schema.TypeFloat32:
		default:
			return nil, mismatch(cs, t)
		}
		return func(w *avro.Writer, v any) error {
			switch x := v.(type) {
			case float64:
				w.WriteDouble(x)
			case float32:
				w.WriteDouble(float64(x))
			default:
				return badValue(cs, v)
			}
			return nil
		}, nil
	case "string":
		if cs.Type != schema.TypeString {
			return nil, mismatch(cs, t)
		}
		return func(w *avro.Writer, v any) error {
			s, ok := v.(string)
			if !ok {
				return badValue(cs, v)
			}
			w.WriteString(s)
			return nil
		}, nil
	case "enum":
		if cs.Type != schema.TypeString {
			return nil, mismatch(cs, t)
		}
		idx := map[string]int32{}
		for i, s := range t.symbols {
			idx[s] = int32(i)
		}
		return func(w *avro.Writer, v any) error {
			s, ok := v.(string)
			if !ok {
				return badValue(cs, v)
			}
			i, ok := idx[s]
			if !ok {
				return fmt.Errorf("%q is not a symbol of enum %s", s, t.fullName())
			}
			w.WriteInt(i)
			return nil
		}, nil
	case "bytes", "fixed":
		if cs.Type != schema.TypeBytes {
			return nil, mismatch(cs, t)
		}
		fixed, size := t.kind == "fixed", t.size
		put := func(w *avro.Writer, b []byte) error {
			if !fixed {
				w.WriteBytes(b)
				return nil
			}
			if len(b) > size {
				return fmt.Errorf("%d bytes do not fit fixed(%d)", len(b), size)
			}
			if len(b) < size {
				pad := make([]byte, size-len(b))
				if len(b) > 0 && b[0]&0x80 != 0 {
					for i := range pad {
						pad[i] = 0xff
					}
				}
				_, _ = w.Write(pad)
			}
			_, _ = w.Write(b)
			return nil
		}
		if cs.Name == schema.DecimalName {
			scale, err := schema.DecimalScale(cs)
			if err != nil {
				return nil, err
			}
			return func(w *avro.Writer, v any) error {
				switch x := v.(type) {
				case decimal.Decimal:
					var buf [8]byte
					b, err := unscaledBytes(&buf, x, scale)
					if err != nil {
						return err
					}
					return put(w, b)
				case []byte:
					return put(w, x)
				}
				return badValue(cs, v)
			}, nil
		}
		return func(w *avro.Writer, v any) error {
			b, ok := v.([]byte)
			if !ok {
				return badValue(cs, v)
			}
			return put(w, b)
		}, nil
	case "array":
		if isMapEntry(t.items) && cs.Type == schema.TypeMap {
			return compileEntryMap(cs, t.items, active)
		}
		if cs.Type != schema.TypeArray {
			return nil, mismatch(cs, t)
		}
		items, err := compileEnc(cs.ValueSchema, t.items, active)
		if err != nil {
			return nil, err
		}
		return func(w *avro.Writer, v any) error {
			a, ok := v.([]any)
			if !ok {
				return badValue(cs, v)
			}
			if len(a) > 0 {
				w.WriteBlockHeader(int64(len(a)), 0)
				for i, e := range a {
					if err := items(w, e); err != nil {
						return inField(err, fmt.Sprintf("[%d]", i))
					}
				}
			}
			w.WriteLong(0)
			return nil
		}, nil
	case "map":
		if cs.Type != schema.TypeMap || cs.KeySchema.Type != schema.TypeString {
			return nil, mismatch(cs, t)
		}
		vals, err := compileEnc(cs.ValueSchema, t.items, active)
		if err != nil {
			return nil, err
		}
		return func(w *avro.Writer, v any) error {
			m, ok := v.(map[any]any)
			if !ok {
				return badValue(cs, v)
			}
			if len(m) > 0 {
				keys := make([]string, 0, len(m))
				for k := range m {
					ks, ok := k.(string)
					if !ok {
						return fmt.Errorf("map key %v is %T, not a string", k, k)
					}
					keys = append(keys, ks)
				}
				slices.Sort(keys)
				w.WriteBlockHeader(int64(len(keys)), 0)
				for _, k := range keys {
					w.WriteString(k)
					if err := vals(w, m[k]); err != nil {
						return inField(err, k)
					}
				}
			}
			w.WriteLong(0)
			return nil
		}, nil
	case "record":
		if cs.Type != schema.TypeStruct {
			return nil, mismatch(cs, t)
		}
		if active[t] {
			return nil, fmt.Errorf("recursive Avro record %s is not supported", t.fullName())
		}
		active[t] = true
		defer delete(active, t)
		type fenc struct {
			idx  int // Connect field index, -1: write the Avro default
			name string
			enc  encFn
			def  []byte
		}
		fs := make([]fenc, len(t.fields))
		for i, af := range t.fields {
			f, ok := cs.Field(af.name)
			if !ok {
				if !af.hasDefault {
					return nil, fmt.Errorf("Avro field %s.%s is missing from Connect schema %s and has no default", t.fullName(), af.name, cs)
				}
				w := avro.NewWriter(nil, 16)
				if err := writeJSONDefault(w, af.typ, af.def); err != nil {
					return nil, fmt.Errorf("default of Avro field %s: %w", af.name, err)
				}
				fs[i] = fenc{idx: -1, name: af.name, def: w.Buffer()}
				continue
			}
			enc, err := compileEnc(f.Schema, af.typ, active)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", af.name, err)
			}
			fs[i] = fenc{idx: f.Index, name: af.name, enc: enc}
		}
		nf := len(cs.Fields)
		return func(w *avro.Writer, v any) error {
			st, ok := v.(*schema.Struct)
			if !ok {
				return badValue(cs, v)
			}
			if len(st.Values) != nf {
				return fmt.Errorf("struct has %d values for %d fields of %s", len(st.Values), nf, cs)
			}
			for i := range fs {
				f := &fs[i]
				if f.idx < 0 {
					_, _ = w.Write(f.def)
					continue
				}
				if err := f.enc(w, st.Values[f.idx]); err != nil {
					return inField(err, f.name)
				}
			}
			return nil
		}, nil
	}
	return nil, mismatch(cs, t)
}

func compileEntryMap(cs *schema.Schema, entry *avroType, active map[*avroType]bool) (encFn, error) {
	var kenc, venc encFn
	keyFirst := true
	for i, f := range entry.fields {
		var err error
		switch f.name {
		case "key":
			kenc, err = compileEnc(cs.KeySchema, f.typ, active)
			keyFirst = i == 0
		case "value":
			venc, err = compileEnc(cs.ValueSchema, f.typ, active)
		default:
			err = fmt.Errorf("unexpected map entry field %s", f.name)
		}
		if err != nil {
			return nil, err
		}
	}
	if kenc == nil || venc == nil || len(entry.fields) != 2 {
		return nil, fmt.Errorf("map entry record %s needs key and value fields", entry.fullName())
	}
	return func(w *avro.Writer, v any) error {
		m, ok := v.(map[any]any)
		if !ok {
			return badValue(cs, v)
		}
		if len(m) > 0 {
			keys := make([]any, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			slices.SortFunc(keys, compareKeys)
			w.WriteBlockHeader(int64(len(keys)), 0)
			for _, k := range keys {
				var err error
				if keyFirst {
					if err = kenc(w, k); err == nil {
						err = venc(w, m[k])
					}
				} else {
					if err = venc(w, m[k]); err == nil {
						err = kenc(w, k)
					}
				}
				if err != nil {
					return inField(err, fmt.Sprint(k))
				}
			}
		}
		w.WriteLong(0)
		return nil
	}, nil
}

func compareKeys(a, b any) int {
	switch x := a.(type) {
	case int8:
		if y, ok := b.(int8); ok {
			return cmp.Compare(x, y)
		}
	case int16:
		if y, ok := b.(int16); ok {
			return cmp.Compare(x, y)
		}
	case int32:
		if y, ok := b.(int32); ok {
			return cmp.Compare(x, y)
		}
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
	case string:
		if y, ok := b.(string); ok {
			return cmp.Compare(x, y)
		}
	}
	return cmp.Compare(fmt.Sprintf("%T%v", a, a), fmt.Sprintf("%T%v", b, b))
}

// unscaledBytes returns d's unscaled two's complement at scale, refusing to
// drop fractional digits.
func unscaledBytes(buf *[8]byte, d decimal.Decimal, scale int32) ([]byte, error) {
	exp := d.Exponent()
	if exp == -scale {
		if co := d.Coefficient(); co.IsInt64() {
			return minimalTwos(buf, co.Int64()), nil
		} else {
			return schema.TwosComplement(co), nil
		}
	}
	if int64(exp)+int64(scale) > 4096 || int64(exp)+int64(scale) < -4096 {
		return nil, fmt.Errorf("decimal %sE%d cannot be written with scale %d", d.Coefficient(), exp, scale)
	}
	var n *big.Int
	if exp > -scale {
		n = d.Coefficient()
		n.Mul(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp+scale)), nil))
	} else {
		shifted := d.Shift(scale)
		if !shifted.IsInteger() {
			return nil, fmt.Errorf("decimal %sE%d has more fractional digits than the schema scale %d", d.Coefficient(), exp, scale)
		}
		n = shifted.BigInt()
	}
	if n.IsInt64() {
		return minimalTwos(buf, n.Int64()), nil
	}
	return schema.TwosComplement(n), nil
}

func minimalTwos(buf *[8]byte, n int64) []byte {
	binary.BigEndian.PutUint64(buf[:], uint64(n))
	i := 0
	for i < 7 && ((buf[i] == 0 && buf[i+1]&0x80 == 0) || (buf[i] == 0xff && buf[i+1]&0x80 != 0)) {
		i++
	}
	return buf[i:]
}

// writeJSONDefault encodes an Avro default (JSON) as binary of type t; for a
// union the default belongs to the first branch.
func writeJSONDefault(w *avro.Writer, t *avroType, v any) error {
	num := func() (json.Number, error) { return asNumber(v) }
	switch t.kind {
	case "null":
		if v != nil {
			return fmt.Errorf("expected null, got %v", v)
		}
		return nil
	case "union":
		w.WriteLong(0)
		return writeJSONDefault(w, t.branches[0], v)
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("expected a boolean, got %v", v)
		}
		w.WriteBool(b)
	case "int", "long":
		n, err := num()
		if err != nil {
			return err
		}
		i, err := n.Int64()
		if err != nil {
			return err
		}
		if t.kind == "int" {
			w.WriteInt(int32(i))
		} else {
			w.WriteLong(i)
		}
	case "float", "double":
		n, err := num()
		if err != nil {
			return err
		}
		f, err := n.Float64()
		if err != nil {
			return err
		}
		if t.kind == "float" {
			w.WriteFloat(float32(f))
		} else {
			w.WriteDouble(f)
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("expected a string, got %v", v)
		}
		w.WriteString(s)
	case "bytes", "fixed":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("expected a string, got %v", v)
		}
		b, err := fromLatin1(s)
		if err != nil {
			return err
		}
		if t.kind == "fixed" {
			if len(b) != t.size {
				return fmt.Errorf("fixed default has %d bytes, want %d", len(b), t.size)
			}
			_, _ = w.Write(b)
		} else {
			w.WriteBytes(b)
		}
	case "enum":
		s, _ := v.(string)
		for i, sym := range t.symbols {
			if sym == s {
				w.WriteInt(int32(i))
				return nil
			}
		}
		return fmt.Errorf("%q is not a symbol of enum %s", s, t.fullName())
	case "array":
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("expected an array, got %v", v)
		}
		if len(a) > 0 {
			w.WriteBlockHeader(int64(len(a)), 0)
			for _, e := range a {
				if err := writeJSONDefault(w, t.items, e); err != nil {
					return err
				}
			}
		}
		w.WriteLong(0)
	case "map":
		o, ok := v.(*jobj)
		if !ok {
			return fmt.Errorf("expected an object, got %v", v)
		}
		if len(o.keys) > 0 {
			w.WriteBlockHeader(int64(len(o.keys)), 0)
			for _, k := range o.keys {
				w.WriteString(k)
				if err := writeJSONDefault(w, t.items, o.vals[k]); err != nil {
					return err
				}
			}
		}
		w.WriteLong(0)
	case "record":
		o, ok := v.(*jobj)
		if !ok {
			return fmt.Errorf("expected an object, got %v", v)
		}
		for _, f := range t.fields {
			fv, present := o.get(f.name)
			if !present {
				if !f.hasDefault {
					return fmt.Errorf("record default misses field %s", f.name)
				}
				fv = f.def
			}
			if err := writeJSONDefault(w, f.typ, fv); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unsupported Avro type %s", t.kind)
	}
	return nil
}
