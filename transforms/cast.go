package transforms

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

const castDoc = "Cast fields or the entire key or value to a specific type, e.g. to force an integer field to a smaller width. " +
	"Cast from integers, floats, boolean and string to any other type, and cast binary to string (base64 encoded)."

const keyReplaceNullWithDefault = "replace.null.with.default"

func replaceNullKey() config.Key {
	return config.Key{Name: keyReplaceNullWithDefault, Type: config.Boolean, Default: true, Importance: config.Medium,
		Doc: "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."}
}

func castDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "spec", Type: config.List, Default: config.NoDefault, Importance: config.High,
			Validator: func(v any) error { _, _, err := parseCastSpec(v.([]string)); return err },
			Doc: "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. " +
				"A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. " +
				"Note that binary fields can only be cast to string."}).
		Define(replaceNullKey())
}

func parseCastSpec(spec []string) (map[string]schema.Type, schema.Type, error) {
	if len(spec) == 0 {
		return nil, 0, fmt.Errorf("Must specify at least one field to cast.")
	}
	casts := map[string]schema.Type{}
	var whole schema.Type
	for _, m := range spec {
		parts := strings.Split(m, ":")
		if len(parts) > 2 {
			return nil, 0, fmt.Errorf("Invalid cast mapping: %s", m)
		}
		tname := strings.ToLower(strings.TrimSpace(parts[len(parts)-1]))
		t, ok := schema.ParseType(tname)
		if !ok || tname == "float" || tname == "double" {
			return nil, 0, fmt.Errorf("Invalid type found in casting spec: %s", strings.TrimSpace(parts[len(parts)-1]))
		}
		if !t.IsPrimitive() || t == schema.TypeBytes {
			return nil, 0, fmt.Errorf("Cast transformation does not support casting to %s; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]", strings.ToUpper(t.String()))
		}
		if len(parts) == 1 {
			whole = t
		} else {
			casts[strings.TrimSpace(parts[0])] = t
		}
	}
	if whole != 0 && len(spec) > 1 {
		return nil, 0, fmt.Errorf("Cast transformations that specify a type to cast the entire value to may ony specify a single cast in their spec")
	}
	return casts, whole, nil
}

type cast struct {
	side        side
	casts       map[string]schema.Type
	whole       schema.Type
	replaceNull bool
	schemas     cache[*schema.Schema, *schema.Schema]
}

func newCast(v *config.Values, s side) (transformer, error) {
	casts, whole, err := parseCastSpec(v.List("spec"))
	if err != nil {
		return nil, keyError("spec", "%v", err)
	}
	return &cast{side: s, casts: casts, whole: whole, replaceNull: v.Bool(keyReplaceNullWithDefault)}, nil
}

func (c *cast) apply(r schema.Record) (schema.Record, bool, error) {
	sc, val := c.side.get(&r)
	if val == nil {
		return r, true, nil
	}
	if sc == nil {
		if c.whole != 0 {
			nv, err := castValue(nil, val, c.whole)
			if err != nil {
				return r, false, fmt.Errorf("%s: %w", c.side, err)
			}
			c.side.set(&r, nil, nv)
			return r, true, nil
		}
		m, err := requireMap(val, "cast types")
		if err != nil {
			return r, false, err
		}
		out := make(map[string]any, len(m)+len(c.casts))
		for k, e := range m {
			out[k] = e
		}
		for f, t := range c.casts {
			nv, err := castValue(nil, m[f], t)
			if err != nil {
				return r, false, fmt.Errorf("field %s: %w", f, err)
			}
			out[f] = nv
		}
		c.side.set(&r, nil, out)
		return r, true, nil
	}
	ns, err := c.schemas.getOrBuild(sc, func() (*schema.Schema, error) { return c.buildSchema(sc) })
	if err != nil {
		return r, false, err
	}
	if c.whole != 0 {
		nv, err := castValue(sc, val, c.whole)
		if err != nil {
			return r, false, fmt.Errorf("%s: %w", c.side, err)
		}
		c.side.set(&r, ns, nv)
		return r, true, nil
	}
	st, err := requireStruct(val, "cast types")
	if err != nil {
		return r, false, err
	}
	out, vals := newStruct(ns)
	for i, f := range st.Schema.Fields {
		v := fieldValue(st, i, c.replaceNull)
		if t, ok := c.casts[f.Name]; ok {
			if v, err = castValue(f.Schema, v, t); err != nil {
				return r, false, fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
		vals[i] = v
	}
	c.side.set(&r, ns, out)
	return r, true, nil
}

func (c *cast) buildSchema(sc *schema.Schema) (*schema.Schema, error) {
	if c.whole != 0 {
		b := copyBasics(sc, c.whole)
		if schema.LogicalOf(sc) != nil {
			// Connect copies the logical name onto the new primitive, which
			// no converter can then serialize; keep only the primitive.
			b = schema.NewBuilder(c.whole).Doc(sc.Doc)
		}
		b.SetOptional(sc.Optional)
		if sc.Default != nil {
			d, err := castValue(sc, sc.Default, c.whole)
			if err != nil {
				return nil, fmt.Errorf("default value: %w", err)
			}
			b.Default(d)
		}
		return b.Build(), nil
	}
	if sc.Type != schema.TypeStruct {
		return nil, fmt.Errorf("only Struct objects supported for [cast types], found schema %s", sc)
	}
	b := copyBasics(sc, schema.TypeStruct).SetOptional(sc.Optional)
	for _, f := range sc.Fields {
		t, ok := c.casts[f.Name]
		if !ok {
			b.Field(f.Name, f.Schema)
			continue
		}
		fb := schema.NewBuilder(t).SetOptional(f.Schema.Optional)
		if f.Schema.Default != nil {
			d, err := castValue(f.Schema, f.Schema.Default, t)
			if err != nil {
				return nil, fmt.Errorf("field %s: default value: %w", f.Name, err)
			}
			fb.Default(d)
		}
		b.Field(f.Name, fb.Build())
	}
	return b.Build(), nil
}

// castValue is Connect's Cast.castValueToType.
func castValue(sc *schema.Schema, v any, target schema.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	var in schema.Type
	if sc != nil {
		in = sc.Type
	} else {
		t, ok := inferType(v)
		if !ok {
			return nil, fmt.Errorf("Cast transformation was passed a value of type %T which is not supported by Connect's data API", v)
		}
		in = t
	}
	if !in.IsPrimitive() {
		return nil, fmt.Errorf("Cast transformation does not support casting from %s; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]", strings.ToUpper(in.String()))
	}
	if sc != nil && sc.Name != "" && target != schema.TypeString {
		if t, ok := v.(time.Time); ok {
			switch sc.Name {
			case schema.DateName:
				v = schema.DateToDays(t)
			case schema.TimeName:
				v = schema.TimeToMillis(t)
			case schema.TimestampName:
				v = t.UnixMilli()
			}
		}
	}
	switch target {
	case schema.TypeString:
		return javaToString(v), nil
	case schema.TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			return strings.EqualFold(x, "true"), nil
		}
		n, ok := javaNumber(v)
		if !ok {
			return nil, fmt.Errorf("Unexpected type in Cast transformation: %T", v)
		}
		return n.long() != 0, nil
	}
	if b, ok := v.(bool); ok {
		one := 0.0
		if b {
			one = 1
		}
		v = one
	}
	if s, ok := v.(string); ok {
		return parseNumber(s, target)
	}
	n, ok := javaNumber(v)
	if !ok {
		return nil, fmt.Errorf("Unexpected type in Cast transformation: %T", v)
	}
	switch target {
	case schema.TypeInt8:
		return int8(n.int()), nil
	case schema.TypeInt16:
		return int16(n.int()), nil
	case schema.TypeInt32:
		return n.int(), nil
	case schema.TypeInt64:
		return n.long(), nil
	case schema.TypeFloat32:
		return float32(n.double()), nil
	case schema.TypeFloat64:
		return n.double(), nil
	}
	return nil, fmt.Errorf("%s is not supported in the Cast transformation", target)
}

func parseNumber(s string, target schema.Type) (any, error) {
	outOfRange := fmt.Errorf("Value (%s) was out of range for requested data type", s)
	switch target {
	case schema.TypeInt8, schema.TypeInt16, schema.TypeInt32, schema.TypeInt64:
		bits := map[schema.Type]int{schema.TypeInt8: 8, schema.TypeInt16: 16, schema.TypeInt32: 32, schema.TypeInt64: 64}[target]
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return nil, outOfRange
		}
		switch target {
		case schema.TypeInt8:
			return int8(n), nil
		case schema.TypeInt16:
			return int16(n), nil
		case schema.TypeInt32:
			return int32(n), nil
		}
		return n, nil
	case schema.TypeFloat32, schema.TypeFloat64:
		t := strings.TrimSpace(s)
		t = strings.TrimRight(t, "fFdD")
		bits := 64
		if target == schema.TypeFloat32 {
			bits = 32
		}
		f, err := strconv.ParseFloat(t, bits)
		if err != nil && !strings.Contains(err.Error(), "range") {
			return nil, outOfRange
		}
		if target == schema.TypeFloat32 {
			return float32(f), nil
		}
		return f, nil
	}
	return nil, fmt.Errorf("%s is not supported in the Cast transformation", target)
}

// jnum is a Java Number: an integer, a floating-point value or a decimal.
type jnum struct {
	i    int64
	f    float64
	d    decimal.Decimal
	kind byte // 'i', 'f', 'd'
}

func javaNumber(v any) (jnum, bool) {
	switch x := v.(type) {
	case int8:
		return jnum{i: int64(x), kind: 'i'}, true
	case int16:
		return jnum{i: int64(x), kind: 'i'}, true
	case int32:
		return jnum{i: int64(x), kind: 'i'}, true
	case int64:
		return jnum{i: x, kind: 'i'}, true
	case int:
		return jnum{i: int64(x), kind: 'i'}, true
	case float32:
		return jnum{f: float64(x), kind: 'f'}, true
	case float64:
		return jnum{f: x, kind: 'f'}, true
	case decimal.Decimal:
		return jnum{d: x, kind: 'd'}, true
	}
	return jnum{}, false
}

// long is Number.longValue (Java's saturating double-to-long conversion).
func (n jnum) long() int64 {
	switch n.kind {
	case 'f':
		switch {
		case math.IsNaN(n.f):
			return 0
		case n.f >= math.MaxInt64:
			return math.MaxInt64
		case n.f <= math.MinInt64:
			return math.MinInt64
		}
		return int64(n.f)
	case 'd':
		return n.d.IntPart()
	}
	return n.i
}

// int is Number.intValue: floats saturate to int32, integers wrap.
func (n jnum) int() int32 {
	if n.kind == 'f' {
		switch {
		case math.IsNaN(n.f):
			return 0
		case n.f >= math.MaxInt32:
			return math.MaxInt32
		case n.f <= math.MinInt32:
			return math.MinInt32
		}
		return int32(n.f)
	}
	return int32(n.long())
}

func (n jnum) double() float64 {
	switch n.kind {
	case 'f':
		return n.f
	case 'd':
		return n.d.InexactFloat64()
	}
	return float64(n.i)
}
