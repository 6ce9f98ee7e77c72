package avroconv

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// Names and properties of Confluent's AvroData.
const (
	connectNamespace    = "io.confluent.connect.avro"
	defaultRecordName   = "ConnectDefault"
	defaultFullName     = connectNamespace + "." + defaultRecordName
	mapEntryName        = "MapEntry"
	unionName           = "io.confluent.connect.avro.Union"
	enumParam           = "io.confluent.connect.avro.Enum"
	recordDocParam      = "io.confluent.connect.avro.record.doc"
	fieldDocPrefix      = "io.confluent.connect.avro.field.doc."
	fieldDefaultFlag    = "io.confluent.connect.avro.field.default"
	propConnectName     = "connect.name"
	propConnectVersion  = "connect.version"
	propConnectDoc      = "connect.doc"
	propConnectParams   = "connect.parameters"
	propConnectDefault  = "connect.default"
	propConnectType     = "connect.type"
	propInternalType    = "connect.internal.type"
	defaultDecimalPrec  = 64
	logicalDecimal      = "decimal"
	logicalDate         = "date"
	logicalTimeMillis   = "time-millis"
	logicalTimestampMil = "timestamp-millis"
)

// fromConnect maps Connect schemas to Avro schemas as Confluent's
// AvroData.fromConnectSchema does (connect.meta.data=true).
type fromConnect struct {
	scrub   bool
	cache   map[*schema.Schema]*avroType
	defName int // unnamed records seen, for ConnectDefault, ConnectDefault2, …
}

func avroSchemaOf(s *schema.Schema, scrub bool) (*avroType, error) {
	fc := &fromConnect{scrub: scrub, cache: map[*schema.Schema]*avroType{}}
	return fc.convert(s, false)
}

func (fc *fromConnect) splitName(full string) (name, ns string, err error) {
	name, ns = full, ""
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		name, ns = full[i+1:], full[:i]
	}
	if fc.scrub {
		name = scrubName(name)
		if ns != "" {
			parts := strings.Split(ns, ".")
			for i := range parts {
				parts[i] = scrubName(parts[i])
			}
			ns = strings.Join(parts, ".")
		}
	}
	if !validName(name) {
		return "", "", fmt.Errorf("schema name %q is not a valid Avro name (set scrub.invalid.names=true to replace invalid characters)", full)
	}
	if ns != "" {
		for _, p := range strings.Split(ns, ".") {
			if !validName(p) {
				return "", "", fmt.Errorf("schema name %q has an invalid Avro namespace (set scrub.invalid.names=true to replace invalid characters)", full)
			}
		}
	}
	return name, ns, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// scrubName replaces characters that are invalid in Avro names with '_', as
// Confluent's scrub.invalid.names does.
func scrubName(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')) {
			b[i] = '_'
		}
	}
	if b[0] >= '0' && b[0] <= '9' {
		return "_" + string(b)
	}
	return string(b)
}

func (fc *fromConnect) convert(s *schema.Schema, ignoreOptional bool) (*avroType, error) {
	if s == nil {
		return nil, fmt.Errorf("AvroConverter needs a schema (schemaless values are not supported)")
	}
	if !ignoreOptional {
		if t, ok := fc.cache[s]; ok {
			return t, nil
		}
	}
	var t *avroType
	connectType := ""
	switch s.Type {
	case schema.TypeInt8:
		connectType, t = "int8", &avroType{kind: "int"}
	case schema.TypeInt16:
		connectType, t = "int16", &avroType{kind: "int"}
	case schema.TypeInt32:
		t = &avroType{kind: "int"}
	case schema.TypeInt64:
		t = &avroType{kind: "long"}
	case schema.TypeFloat32:
		t = &avroType{kind: "float"}
	case schema.TypeFloat64:
		t = &avroType{kind: "double"}
	case schema.TypeBoolean:
		t = &avroType{kind: "boolean"}
	case schema.TypeString:
		t = &avroType{kind: "string"}
	case schema.TypeBytes:
		t = &avroType{kind: "bytes"}
		if strings.EqualFold(s.Name, schema.DecimalName) {
			scale, err := schema.DecimalScale(s)
			if err != nil {
				return nil, err
			}
			t.addProp("scale", int(scale))
			prec := defaultDecimalPrec
			if p, ok := s.Param(schema.DecimalPrecisionParam); ok {
				if prec, err = strconv.Atoi(p); err != nil {
					return nil, fmt.Errorf("decimal schema %s: bad %s %q", s, schema.DecimalPrecisionParam, p)
				}
			}
			t.addProp("precision", prec)
		}
	case schema.TypeArray:
		items, err := fc.convert(s.ValueSchema, false)
		if err != nil {
			return nil, err
		}
		t = &avroType{kind: "array", items: items}
	case schema.TypeMap:
		if s.KeySchema.Type == schema.TypeString && !s.KeySchema.Optional {
			vals, err := fc.convert(s.ValueSchema, false)
			if err != nil {
				return nil, err
			}
			t = &avroType{kind: "map", items: vals}
		} else {
			entry := &avroType{kind: "record", name: mapEntryName, ns: connectNamespace}
			if s.Name != "" {
				n, ns, err := fc.splitName(s.Name)
				if err != nil {
					return nil, err
				}
				entry.name, entry.ns = n, ns
				entry.addProp(propInternalType, mapEntryName)
			}
			k, err := fc.field("key", s.KeySchema, "")
			if err != nil {
				return nil, err
			}
			v, err := fc.field("value", s.ValueSchema, "")
			if err != nil {
				return nil, err
			}
			entry.fields = []*avroField{k, v}
			t = &avroType{kind: "array", items: entry}
		}
	case schema.TypeStruct:
		switch {
		case s.Name == unionName:
			u := &avroType{kind: "union"}
			if s.Optional {
				u.branches = append(u.branches, &avroType{kind: "null"})
			}
			for _, f := range s.Fields {
				b, err := fc.convert(f.Schema.WithOptional(false), true)
				if err != nil {
					return nil, err
				}
				u.branches = append(u.branches, b)
			}
			t = u
		case s.Optional && !ignoreOptional:
			inner, err := fc.convert(s.WithOptional(false), false)
			if err != nil {
				return nil, err
			}
			t = &avroType{kind: "union", branches: []*avroType{{kind: "null"}, inner}}
		default:
			rec := &avroType{kind: "record", name: defaultRecordName, ns: connectNamespace}
			if s.Name != "" {
				n, ns, err := fc.splitName(s.Name)
				if err != nil {
					return nil, err
				}
				rec.name, rec.ns = n, ns
			} else {
				fc.defName++
				if fc.defName > 1 {
					rec.name += strconv.Itoa(fc.defName)
				}
			}
			if d, ok := s.Param(recordDocParam); ok {
				rec.doc = d
			}
			for _, f := range s.Fields {
				doc, _ := s.Param(fieldDocPrefix + f.Name)
				af, err := fc.field(f.Name, f.Schema, doc)
				if err != nil {
					return nil, fmt.Errorf("field %s: %w", f.Name, err)
				}
				rec.fields = append(rec.fields, af)
			}
			t = rec
		}
	default:
		return nil, fmt.Errorf("unknown schema type %s", s.Type)
	}
	final := t
	if t.kind != "union" {
		if s.Doc != "" {
			t.addProp(propConnectDoc, s.Doc)
		}
		if s.Version != 0 {
			t.addProp(propConnectVersion, s.Version)
		}
		if len(s.Parameters) > 0 {
			params := &jobj{vals: map[string]any{}}
			for _, p := range s.Parameters {
				if p.Key != fieldDefaultFlag {
					params.set(p.Key, p.Value)
				}
			}
			if len(params.keys) > 0 {
				t.addProp(propConnectParams, params)
			}
		}
		if s.Default != nil {
			if _, flag := s.Param(fieldDefaultFlag); !flag {
				dv, err := defaultJSON(s, s.Default)
				if err != nil {
					return nil, err
				}
				t.addProp(propConnectDefault, dv)
			}
		}
		if s.Name != "" {
			t.addProp(propConnectName, s.Name)
		}
		if connectType != "" {
			t.addProp(propConnectType, connectType)
		}
		switch {
		case strings.EqualFold(s.Name, schema.DecimalName) && s.Type == schema.TypeBytes:
			t.addProp("logicalType", logicalDecimal)
		case strings.EqualFold(s.Name, schema.TimeName) && s.Type == schema.TypeInt32:
			t.addProp("logicalType", logicalTimeMillis)
		case strings.EqualFold(s.Name, schema.TimestampName) && s.Type == schema.TypeInt64:
			t.addProp("logicalType", logicalTimestampMil)
		case strings.EqualFold(s.Name, schema.DateName) && s.Type == schema.TypeInt32:
			t.addProp("logicalType", logicalDate)
		}
		for _, p := range s.Parameters {
			if strings.HasPrefix(p.Key, "avro") {
				t.addProp(p.Key, p.Value)
			}
		}
		if !ignoreOptional && s.Optional {
			if s.Default != nil {
				final = &avroType{kind: "union", branches: []*avroType{t, {kind: "null"}}}
			} else {
				final = &avroType{kind: "union", branches: []*avroType{{kind: "null"}, t}}
			}
		}
	}
	if !ignoreOptional {
		fc.cache[s] = final
	}
	return final, nil
}

func (fc *fromConnect) field(name string, s *schema.Schema, doc string) (*avroField, error) {
	typ, err := fc.convert(s, false)
	if err != nil {
		return nil, err
	}
	f := &avroField{name: name, typ: typ, doc: doc}
	if s.Default != nil {
		dv, err := defaultJSON(s, s.Default)
		if err != nil {
			return nil, err
		}
		f.hasDefault, f.def = true, dv
	} else if s.Optional {
		f.hasDefault, f.def = true, nil
	}
	return f, nil
}

// defaultJSON renders a Connect default as Avro default JSON
// (AvroData.defaultValueFromConnect).
func defaultJSON(s *schema.Schema, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func() (any, error) {
		return nil, fmt.Errorf("invalid type used for default value of %s: %T", s, v)
	}
	if l := schema.LogicalOf(s); l != nil {
		switch s.Name {
		case schema.DecimalName:
			d, ok := v.(decimal.Decimal)
			if !ok {
				return bad()
			}
			scale, err := schema.DecimalScale(s)
			if err != nil {
				return nil, err
			}
			return latin1(schema.DecimalToUnscaled(d, scale)), nil
		case schema.DateName:
			t, ok := v.(time.Time)
			if !ok {
				return bad()
			}
			return int64(schema.DateToDays(t)), nil
		case schema.TimeName:
			t, ok := v.(time.Time)
			if !ok {
				return bad()
			}
			return int64(schema.TimeToMillis(t)), nil
		case schema.TimestampName:
			t, ok := v.(time.Time)
			if !ok {
				return bad()
			}
			return t.UnixMilli(), nil
		}
	}
	switch s.Type {
	case schema.TypeInt8:
		if x, ok := v.(int8); ok {
			return int64(x), nil
		}
	case schema.TypeInt16:
		if x, ok := v.(int16); ok {
			return int64(x), nil
		}
	case schema.TypeInt32:
		if x, ok := v.(int32); ok {
			return int64(x), nil
		}
	case schema.TypeInt64:
		if x, ok := v.(int64); ok {
			return x, nil
		}
	case schema.TypeFloat32:
		if x, ok := v.(float32); ok {
			return javaFloat(x), nil
		}
	case schema.TypeFloat64:
		if x, ok := v.(float64); ok {
			return javaDouble(x), nil
		}
	case schema.TypeBoolean:
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case schema.TypeString:
		if x, ok := v.(string); ok {
			return x, nil
		}
	case schema.TypeBytes:
		if x, ok := v.([]byte); ok {
			return latin1(x), nil
		}
	case schema.TypeArray:
		a, ok := v.([]any)
		if !ok {
			return bad()
		}
		out := make([]any, len(a))
		for i, e := range a {
			ev, err := defaultJSON(s.ValueSchema, e)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case schema.TypeMap:
		m, ok := v.(map[any]any)
		if !ok {
			return bad()
		}
		keys := make([]any, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		if s.KeySchema.Type == schema.TypeString && !s.KeySchema.Optional {
			o := &jobj{vals: map[string]any{}}
			for _, k := range keys {
				ev, err := defaultJSON(s.ValueSchema, m[k])
				if err != nil {
					return nil, err
				}
				ks, _ := k.(string)
				o.set(ks, ev)
			}
			return o, nil
		}
		out := make([]any, 0, len(m))
		for _, k := range keys {
			kv, err := defaultJSON(s.KeySchema, k)
			if err != nil {
				return nil, err
			}
			ev, err := defaultJSON(s.ValueSchema, m[k])
			if err != nil {
				return nil, err
			}
			out = append(out, []any{kv, ev})
		}
		return out, nil
	case schema.TypeStruct:
		st, ok := v.(*schema.Struct)
		if !ok {
			return bad()
		}
		o := &jobj{vals: map[string]any{}}
		for i, f := range s.Fields {
			fv := st.Values[i]
			if fv == nil {
				fv = f.Schema.Default
			}
			ev, err := defaultJSON(f.Schema, fv)
			if err != nil {
				return nil, err
			}
			o.set(f.Name, ev)
		}
		return o, nil
	}
	return bad()
}

// latin1 returns bytes as a string of the code points 0-255, Avro's JSON form
// of bytes defaults.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func fromLatin1(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, fmt.Errorf("bytes default contains code point %U above U+00FF", r)
		}
		out = append(out, byte(r))
	}
	return out, nil
}
