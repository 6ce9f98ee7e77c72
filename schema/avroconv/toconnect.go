package avroconv

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// decFn reads one value of a writer schema from r as a Connect value.
type decFn func(r *avro.Reader) (any, error)

// reader is a compiled writer schema: the Connect schema Confluent's
// AvroData.toConnectSchema derives from it and the matching binary decoder.
type reader struct {
	schema *schema.Schema
	dec    decFn
}

type toConnect struct {
	active map[*avroType]bool // records being converted, to refuse recursion
}

func compileReader(t *avroType) (*reader, error) {
	tc := &toConnect{active: map[*avroType]bool{}}
	s, dec, err := tc.convert(t, false, nil, false)
	if err != nil {
		return nil, err
	}
	return &reader{schema: s, dec: dec}, nil
}

func isNull(t *avroType) bool { return t.kind == "null" }

// unionMemberName is the Connect field name of a union branch.
func unionMemberName(t *avroType) string {
	if t.isNamed() {
		return t.name
	}
	return t.kind
}

func isMapEntry(t *avroType) bool {
	if t.kind != "record" {
		return false
	}
	return (t.ns == connectNamespace && t.name == mapEntryName) || t.propString(propInternalType) == mapEntryName
}

func (tc *toConnect) convert(t *avroType, forceOptional bool, fieldDef any, hasFieldDef bool) (*schema.Schema, decFn, error) {
	if t.kind == "union" {
		if len(t.branches) == 2 && (isNull(t.branches[0]) || isNull(t.branches[1])) {
			nullIdx, valIdx := 0, 1
			if isNull(t.branches[1]) {
				nullIdx, valIdx = 1, 0
			}
			s, dec, err := tc.convert(t.branches[valIdx], true, nil, false)
			if err != nil {
				return nil, nil, err
			}
			return s, func(r *avro.Reader) (any, error) {
				switch r.ReadLong() {
				case int64(nullIdx):
					return nil, nil
				case int64(valIdx):
					return dec(r)
				}
				return nil, fmt.Errorf("union index out of range")
			}, nil
		}
		// A general union becomes Connect's io.confluent.connect.avro.Union struct.
		b := schema.NewBuilder(schema.TypeStruct).Name(unionName)
		decs := make([]decFn, len(t.branches))
		fieldOf := make([]int, len(t.branches))
		seen := map[string]bool{}
		n := 0
		for i, br := range t.branches {
			if isNull(br) {
				b.Optional()
				fieldOf[i] = -1
				continue
			}
			name := unionMemberName(br)
			if seen[name] {
				return nil, nil, fmt.Errorf("multiple union schemas map to the Connect union field name %q", name)
			}
			seen[name] = true
			fs, dec, err := tc.convert(br, true, nil, false)
			if err != nil {
				return nil, nil, err
			}
			b.Field(name, fs)
			decs[i] = dec
			fieldOf[i] = n
			n++
		}
		if forceOptional {
			b.Optional()
		}
		s := b.Build()
		return s, func(r *avro.Reader) (any, error) {
			idx := r.ReadLong()
			if idx < 0 || idx >= int64(len(decs)) {
				return nil, fmt.Errorf("union index %d out of range", idx)
			}
			if fieldOf[idx] < 0 {
				return nil, nil
			}
			v, err := decs[idx](r)
			if err != nil {
				return nil, err
			}
			st := schema.NewStruct(s)
			st.Values[fieldOf[idx]] = v
			return st, nil
		}, nil
	}

	var (
		b   *schema.Builder
		dec decFn
		// finish is called with the built schema (records need it for Struct values)
		finish func(s *schema.Schema)
	)
	logical := t.logical()
	switch t.kind {
	case "null":
		return nil, nil, fmt.Errorf("standalone null schemas are not supported by this converter")
	case "boolean":
		b = schema.NewBuilder(schema.TypeBoolean)
		dec = func(r *avro.Reader) (any, error) { return r.ReadBool(), nil }
	case "int":
		switch {
		case strings.EqualFold(logical, logicalDate):
			b = schema.NewBuilder(schema.TypeInt32).Name(schema.DateName).Version(1)
			dec = func(r *avro.Reader) (any, error) { return schema.DaysToDate(r.ReadInt()), nil }
		case strings.EqualFold(logical, logicalTimeMillis):
			b = schema.NewBuilder(schema.TypeInt32).Name(schema.TimeName).Version(1)
			dec = func(r *avro.Reader) (any, error) { return schema.MillisToTime(r.ReadInt()), nil }
		case logical == "" && t.propString(propConnectType) == "int8":
			b = schema.NewBuilder(schema.TypeInt8)
			dec = func(r *avro.Reader) (any, error) {
				n := r.ReadInt()
				if n < math.MinInt8 || n > math.MaxInt8 {
					return nil, fmt.Errorf("value %d out of int8 range", n)
				}
				return int8(n), nil
			}
		case logical == "" && t.propString(propConnectType) == "int16":
			b = schema.NewBuilder(schema.TypeInt16)
			dec = func(r *avro.Reader) (any, error) {
				n := r.ReadInt()
				if n < math.MinInt16 || n > math.MaxInt16 {
					return nil, fmt.Errorf("value %d out of int16 range", n)
				}
				return int16(n), nil
			}
		default:
			b = schema.NewBuilder(schema.TypeInt32)
			dec = func(r *avro.Reader) (any, error) { return r.ReadInt(), nil }
		}
	case "long":
		if strings.EqualFold(logical, logicalTimestampMil) {
			b = schema.NewBuilder(schema.TypeInt64).Name(schema.TimestampName).Version(1)
			dec = func(r *avro.Reader) (any, error) { return time.UnixMilli(r.ReadLong()).UTC(), nil }
		} else {
			b = schema.NewBuilder(schema.TypeInt64)
			dec = func(r *avro.Reader) (any, error) { return r.ReadLong(), nil }
		}
	case "float":
		b = schema.NewBuilder(schema.TypeFloat32)
		dec = func(r *avro.Reader) (any, error) { return r.ReadFloat(), nil }
	case "double":
		b = schema.NewBuilder(schema.TypeFloat64)
		dec = func(r *avro.Reader) (any, error) { return r.ReadDouble(), nil }
	case "string":
		b = schema.NewBuilder(schema.TypeString)
		dec = func(r *avro.Reader) (any, error) { return strings.Clone(r.ReadString()), nil }
	case "bytes", "fixed":
		size := t.size
		read := func(r *avro.Reader) []byte {
			if t.kind == "fixed" {
				buf := make([]byte, size)
				r.Read(buf)
				return buf
			}
			bs := r.ReadBytes()
			return bs[:len(bs):len(bs)]
		}
		if strings.EqualFold(logical, logicalDecimal) || t.propString(propConnectName) == schema.DecimalName {
			scale, _ := t.propInt("scale")
			b = schema.NewBuilder(schema.TypeBytes).Name(schema.DecimalName).Version(1).Param(schema.DecimalScaleParam, strconv.Itoa(scale))
			if prec, ok := t.propInt("precision"); ok && prec != defaultDecimalPrec {
				b.Param(schema.DecimalPrecisionParam, strconv.Itoa(prec))
			}
			sc := int32(scale)
			dec = func(r *avro.Reader) (any, error) {
				bs := read(r)
				if len(bs) == 0 {
					return decimal.New(0, -sc), nil
				}
				if len(bs) <= 8 {
					v := int64(int8(bs[0]))
					for _, x := range bs[1:] {
						v = v<<8 | int64(x)
					}
					return decimal.New(v, -sc), nil
				}
				return schema.DecimalFromUnscaled(bs, sc), nil
			}
		} else {
			b = schema.NewBuilder(schema.TypeBytes)
			if t.kind == "fixed" {
				b.Param("connect.fixed.size", strconv.Itoa(size))
			}
			dec = func(r *avro.Reader) (any, error) { return read(r), nil }
		}
	case "enum":
		b = schema.NewBuilder(schema.TypeString)
		b.Param(enumParam, t.fullName())
		for _, sym := range t.symbols {
			b.Param(enumParam+"."+sym, sym)
		}
		syms := t.symbols
		dec = func(r *avro.Reader) (any, error) {
			i := r.ReadInt()
			if i < 0 || int(i) >= len(syms) {
				return nil, fmt.Errorf("enum index %d out of range", i)
			}
			return syms[i], nil
		}
	case "array":
		if isMapEntry(t.items) {
			e := t.items
			var kf, vf *avroField
			for _, f := range e.fields {
				switch f.name {
				case "key":
					kf = f
				case "value":
					vf = f
				}
			}
			if len(e.fields) != 2 || kf == nil || vf == nil {
				return nil, nil, fmt.Errorf("found map encoded as array of key-value pairs, but array elements do not match the expected format")
			}
			ks, kdec, err := tc.convert(kf.typ, false, nil, false)
			if err != nil {
				return nil, nil, err
			}
			vs, vdec, err := tc.convert(vf.typ, false, nil, false)
			if err != nil {
				return nil, nil, err
			}
			keyFirst := e.fields[0] == kf
			b = schema.NewBuilder(schema.TypeMap).MapOf(ks, vs)
			dec = func(r *avro.Reader) (any, error) {
				m := map[any]any{}
				for {
					n, _ := r.ReadBlockHeader()
					if n == 0 || r.Error != nil {
						return m, r.Error
					}
					for ; n > 0; n-- {
						if r.Error != nil {
							return nil, r.Error
						}
						var k, v any
						var err error
						if keyFirst {
							if k, err = kdec(r); err == nil {
								v, err = vdec(r)
							}
						} else {
							if v, err = vdec(r); err == nil {
								k, err = kdec(r)
							}
						}
						if err != nil {
							return nil, err
						}
						if !isComparable(k) {
							return nil, fmt.Errorf("map key of type %T cannot be a Go map key", k)
						}
						m[k] = v
					}
				}
			}
		} else {
			is, idec, err := tc.convert(t.items, false, nil, false)
			if err != nil {
				return nil, nil, err
			}
			b = schema.NewBuilder(schema.TypeArray).Items(is)
			// Items that take no bytes (empty records) cannot be bounded by the
			// input length, so their count is capped.
			zeroSize := minSize(t.items, map[*avroType]bool{}) == 0
			dec = func(r *avro.Reader) (any, error) {
				a := []any{}
				for {
					n, _ := r.ReadBlockHeader()
					if n == 0 || r.Error != nil {
						return a, r.Error
					}
					if n < 0 || (zeroSize && int64(len(a))+n > maxZeroSizeItems) {
						return nil, fmt.Errorf("array block of %d items is not acceptable", n)
					}
					for ; n > 0; n-- {
						if r.Error != nil {
							return nil, r.Error
						}
						v, err := idec(r)
						if err != nil {
							return nil, fmt.Errorf("[%d]: %w", len(a), err)
						}
						a = append(a, v)
					}
				}
			}
		}
	case "map":
		vs, vdec, err := tc.convert(t.items, false, nil, false)
		if err != nil {
			return nil, nil, err
		}
		b = schema.NewBuilder(schema.TypeMap).MapOf(schema.StringSchema, vs)
		dec = func(r *avro.Reader) (any, error) {
			m := map[any]any{}
			for {
				n, _ := r.ReadBlockHeader()
				if n == 0 || r.Error != nil {
					return m, r.Error
				}
				for ; n > 0; n-- {
					if r.Error != nil {
						return nil, r.Error
					}
					k := strings.Clone(r.ReadString())
					v, err := vdec(r)
					if err != nil {
						return nil, fmt.Errorf("[%s]: %w", k, err)
					}
					m[k] = v
				}
			}
		}
	case "record":
		if tc.active[t] {
			return nil, nil, fmt.Errorf("recursive Avro record %s is not supported", t.fullName())
		}
		tc.active[t] = true
		defer delete(tc.active, t)
		b = schema.StructBuilder()
		if t.doc != "" {
			b.Param(recordDocParam, t.doc)
		}
		decs := make([]decFn, len(t.fields))
		names := make([]string, len(t.fields))
		for i, f := range t.fields {
			if f.doc != "" {
				b.Param(fieldDocPrefix+f.name, f.doc)
			}
			fs, fdec, err := tc.convert(f.typ, false, f.def, f.hasDefault)
			if err != nil {
				return nil, nil, fmt.Errorf("field %s: %w", f.name, err)
			}
			b.Field(f.name, fs)
			decs[i], names[i] = fdec, f.name
		}
		var built *schema.Schema
		finish = func(s *schema.Schema) { built = s }
		dec = func(r *avro.Reader) (any, error) {
			vals := make([]any, len(decs))
			for i, d := range decs {
				v, err := d(r)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", names[i], err)
				}
				vals[i] = v
			}
			return &schema.Struct{Schema: built, Values: vals}, nil
		}
	default:
		return nil, nil, fmt.Errorf("couldn't translate unsupported schema type %s", t.kind)
	}

	if d := t.propString(propConnectDoc); d != "" {
		b.Doc(d)
	}
	if v, ok := t.propInt(propConnectVersion); ok {
		b.Version(v)
	}
	if pv, ok := t.prop(propConnectParams); ok {
		po, isObj := pv.(*jobj)
		if !isObj {
			return nil, nil, fmt.Errorf("expected JSON object for schema parameters but found %v", pv)
		}
		for _, k := range po.keys {
			sv, isStr := po.vals[k].(string)
			if !isStr {
				return nil, nil, fmt.Errorf("expected schema parameter values to be strings but found %v", po.vals[k])
			}
			b.Param(k, sv)
		}
	}
	for _, p := range t.props {
		if strings.HasPrefix(p.key, "avro") {
			if s, ok := p.val.(string); ok {
				b.Param(p.key, s)
			} else {
				b.Param(p.key, string(appendJSON(nil, p.val)))
			}
		}
	}
	connectDef, hasConnectDef := t.prop(propConnectDefault)
	def, hasDef := fieldDef, hasFieldDef && fieldDef != nil
	if !hasDef {
		def, hasDef = connectDef, hasConnectDef && connectDef != nil
	} else if !hasConnectDef {
		b.Param(fieldDefaultFlag, "true")
	}
	name := t.propString(propConnectName)
	if name == "" && (t.kind == "record" || t.kind == "enum") {
		name = t.fullName()
	}
	if name != "" && name != defaultFullName {
		b.Name(name)
	}
	if forceOptional {
		b.Optional()
	}
	// Defaults need the schema they belong to (without the default).
	s := b.Build()
	if finish != nil {
		finish(s)
	}
	if hasDef {
		v, err := defaultFromAvro(s, t, def)
		if err != nil {
			return nil, nil, fmt.Errorf("default value of %s: %w", s, err)
		}
		s.Default = v
	}
	return s, dec, nil
}

func isComparable(v any) bool {
	switch v.(type) {
	case []byte, []any, map[any]any, map[string]any:
		return false
	}
	return true
}

// defaultFromAvro converts an Avro default JSON value to a Connect value of s.
func defaultFromAvro(s *schema.Schema, t *avroType, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t.kind == "union" {
		for _, br := range t.branches {
			if isNull(br) {
				return nil, nil
			}
			return defaultFromAvro(s, br, v)
		}
	}
	num := func() (json.Number, error) { return asNumber(v) }
	switch s.Type {
	case schema.TypeInt8, schema.TypeInt16, schema.TypeInt32, schema.TypeInt64:
		n, err := num()
		if err != nil {
			return nil, err
		}
		i, err := n.Int64()
		if err != nil {
			return nil, err
		}
		switch {
		case s.Name == schema.DateName && s.Type == schema.TypeInt32:
			return schema.DaysToDate(int32(i)), nil
		case s.Name == schema.TimeName && s.Type == schema.TypeInt32:
			return schema.MillisToTime(int32(i)), nil
		case s.Name == schema.TimestampName && s.Type == schema.TypeInt64:
			return time.UnixMilli(i).UTC(), nil
		}
		switch s.Type {
		case schema.TypeInt8:
			return int8(i), nil
		case schema.TypeInt16:
			return int16(i), nil
		case schema.TypeInt32:
			return int32(i), nil
		}
		return i, nil
	case schema.TypeFloat32, schema.TypeFloat64:
		n, err := num()
		if err != nil {
			return nil, err
		}
		f, err := n.Float64()
		if err != nil {
			return nil, err
		}
		if s.Type == schema.TypeFloat32 {
			return float32(f), nil
		}
		return f, nil
	case schema.TypeBoolean:
		bv, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("expected a boolean, got %v", v)
		}
		return bv, nil
	case schema.TypeString:
		sv, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("expected a string, got %v", v)
		}
		return sv, nil
	case schema.TypeBytes:
		sv, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("expected a string, got %v", v)
		}
		bs, err := fromLatin1(sv)
		if err != nil {
			return nil, err
		}
		if s.Name == schema.DecimalName {
			scale, err := schema.DecimalScale(s)
			if err != nil {
				return nil, err
			}
			if len(bs) == 0 {
				return decimal.New(0, -scale), nil
			}
			return schema.DecimalFromUnscaled(bs, scale), nil
		}
		return bs, nil
	case schema.TypeArray:
		a, ok := v.([]any)
		if !ok || t.kind != "array" {
			return nil, fmt.Errorf("expected an array, got %v", v)
		}
		out := make([]any, len(a))
		for i, e := range a {
			ev, err := defaultFromAvro(s.ValueSchema, t.items, e)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case schema.TypeMap:
		m := map[any]any{}
		if o, ok := v.(*jobj); ok && t.kind == "map" {
			for _, k := range o.keys {
				ev, err := defaultFromAvro(s.ValueSchema, t.items, o.vals[k])
				if err != nil {
					return nil, err
				}
				m[k] = ev
			}
			return m, nil
		}
		a, ok := v.([]any)
		if !ok || t.kind != "array" || len(t.items.fields) != 2 {
			return nil, fmt.Errorf("expected a map default, got %v", v)
		}
		for _, e := range a {
			var kv, vv any
			switch x := e.(type) {
			case []any:
				if len(x) != 2 {
					return nil, fmt.Errorf("map entry default must have two elements")
				}
				kv, vv = x[0], x[1]
			case *jobj:
				kv, _ = x.get("key")
				vv, _ = x.get("value")
			default:
				return nil, fmt.Errorf("bad map entry default %v", e)
			}
			k, err := defaultFromAvro(s.KeySchema, t.items.fields[0].typ, kv)
			if err != nil {
				return nil, err
			}
			val, err := defaultFromAvro(s.ValueSchema, t.items.fields[1].typ, vv)
			if err != nil {
				return nil, err
			}
			if !isComparable(k) {
				return nil, fmt.Errorf("map key of type %T cannot be a Go map key", k)
			}
			m[k] = val
		}
		return m, nil
	case schema.TypeStruct:
		o, ok := v.(*jobj)
		if !ok || t.kind != "record" {
			return nil, fmt.Errorf("expected an object, got %v", v)
		}
		st := schema.NewStruct(s)
		for i, f := range t.fields {
			fv, present := o.get(f.name)
			if !present {
				continue
			}
			ev, err := defaultFromAvro(s.Fields[i].Schema, f.typ, fv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			st.Values[i] = ev
		}
		return st, nil
	}
	return nil, fmt.Errorf("unsupported default for %s", s)
}

// maxZeroSizeItems caps arrays whose items take no bytes.
const maxZeroSizeItems = 1 << 16

// minSize is the fewest bytes one value of t takes in Avro binary.
func minSize(t *avroType, active map[*avroType]bool) int {
	switch t.kind {
	case "null":
		return 0
	case "float":
		return 4
	case "double":
		return 8
	case "fixed":
		return t.size
	case "record":
		if active[t] {
			return 1
		}
		active[t] = true
		defer delete(active, t)
		n := 0
		for _, f := range t.fields {
			n += minSize(f.typ, active)
		}
		return n
	}
	return 1
}

// asNumber accepts a parsed JSON number or one of the number forms
// fromConnect builds defaults with.
func asNumber(v any) (json.Number, error) {
	switch x := v.(type) {
	case json.Number:
		return x, nil
	case int, int64, javaDouble, javaFloat:
		return json.Number(appendJSON(nil, x)), nil
	}
	return "", fmt.Errorf("expected a number, got %v", v)
}
