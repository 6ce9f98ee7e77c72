package transforms

import (
	"fmt"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

const timestampConverterDoc = "Convert timestamps between different formats such as Unix epoch, strings, and Connect Date/Timestamp types. " +
	"Applies to individual fields or to the entire value."

const (
	tsString    = "string"
	tsUnix      = "unix"
	tsDate      = "Date"
	tsTime      = "Time"
	tsTimestamp = "Timestamp"
)

const keyFieldSyntaxVersion = "field.syntax.version"

func fieldSyntaxKey() config.Key {
	return config.Key{Name: keyFieldSyntaxVersion, Type: config.String, Default: "V1", Importance: config.High,
		Validator: config.OneOf("V1", "V2"),
		Doc:       "Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. If set to `V2`, the syntax will support accessing nested elements."}
}

func timestampConverterDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "field", Type: config.String, Default: "", Importance: config.High,
			Doc: "The field containing the timestamp, or empty if the entire value is a timestamp"}).
		Define(config.Key{Name: "target.type", Type: config.String, Default: config.NoDefault, Importance: config.High,
			Validator: config.OneOf(tsString, tsUnix, tsDate, tsTime, tsTimestamp),
			Doc:       "The desired timestamp representation: string, unix, Date, Time, or Timestamp"}).
		Define(config.Key{Name: "format", Type: config.String, Default: "", Importance: config.Medium,
			Validator: func(v any) error { _, err := compileJavaDateFormat(v.(string)); return err },
			Doc:       "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string."}).
		Define(config.Key{Name: "unix.precision", Type: config.String, Default: "milliseconds", Importance: config.Low,
			Validator: config.OneOf("nanoseconds", "microseconds", "milliseconds", "seconds"),
			Doc:       "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long."}).
		Define(replaceNullKey()).
		Define(fieldSyntaxKey())
}

type timestampConverter struct {
	side        side
	field       string
	target      string
	format      *javaDateFormat
	precision   string
	replaceNull bool
	target2     [2]*schema.Schema // required, optional
	schemas     cache[*schema.Schema, *schema.Schema]
}

func canonical(s string, allowed ...string) string {
	for _, a := range allowed {
		if strings.EqualFold(a, s) {
			return a
		}
	}
	return s
}

func newTimestampConverter(v *config.Values, s side) (transformer, error) {
	if v.String(keyFieldSyntaxVersion) == "V2" && strings.Contains(v.String("field"), ".") {
		return nil, keyError(keyFieldSyntaxVersion, "field.syntax.version=V2 (nested field paths) is supported by ExtractField only")
	}
	t := &timestampConverter{
		side:        s,
		field:       v.String("field"),
		target:      canonical(v.String("target.type"), tsString, tsUnix, tsDate, tsTime, tsTimestamp),
		precision:   strings.ToLower(v.String("unix.precision")),
		replaceNull: v.Bool(keyReplaceNullWithDefault),
	}
	if p := v.String("format"); strings.TrimSpace(p) != "" {
		f, err := compileJavaDateFormat(p)
		if err != nil {
			return nil, keyError("format", "TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: %v", err)
		}
		t.format = f
	} else if t.target == tsString {
		return nil, keyError("format", "TimestampConverter requires format option to be specified when using string timestamps")
	}
	for i, opt := range []bool{false, true} {
		switch t.target {
		case tsString:
			t.target2[i] = schemaFor(schema.TypeString, opt)
		case tsUnix:
			t.target2[i] = schemaFor(schema.TypeInt64, opt)
		case tsDate:
			t.target2[i] = schema.DateSchema(opt)
		case tsTime:
			t.target2[i] = schema.TimeSchema(opt)
		case tsTimestamp:
			t.target2[i] = schema.TimestampSchema(opt)
		}
	}
	return t, nil
}

func (t *timestampConverter) targetSchema(optional bool) *schema.Schema {
	if optional {
		return t.target2[1]
	}
	return t.target2[0]
}

func (t *timestampConverter) apply(r schema.Record) (schema.Record, bool, error) {
	sc, val := t.side.get(&r)
	if sc == nil {
		if val == nil {
			return r, true, nil
		}
		if t.field == "" {
			nv, err := t.convert(val, "")
			if err != nil {
				return r, false, fmt.Errorf("%s: %w", t.side, err)
			}
			t.side.set(&r, nil, nv)
			return r, true, nil
		}
		in, err := requireMap(val, "converting timestamp formats")
		if err != nil {
			return r, false, err
		}
		out := make(map[string]any, len(in)+1)
		for k, e := range in {
			out[k] = e
		}
		nv, err := t.convert(in[t.field], "")
		if err != nil {
			return r, false, fmt.Errorf("field %s: %w", t.field, err)
		}
		out[t.field] = nv
		t.side.set(&r, nil, out)
		return r, true, nil
	}
	if t.field == "" {
		kind, err := timestampKind(sc)
		if err != nil {
			return r, false, err
		}
		nv, err := t.convert(val, kind)
		if err != nil {
			return r, false, fmt.Errorf("%s: %w", t.side, err)
		}
		t.side.set(&r, t.targetSchema(sc.Optional), nv)
		return r, true, nil
	}
	ns, err := t.schemas.getOrBuild(sc, func() (*schema.Schema, error) {
		if sc.Type != schema.TypeStruct {
			return nil, fmt.Errorf("only Struct objects supported for [converting timestamp formats], found schema %s", sc)
		}
		fields := fieldsOf(sc)
		for i, f := range fields {
			if f.Name == t.field {
				fields[i].Schema = t.targetSchema(f.Schema.Optional)
			}
		}
		return deriveStruct(sc, sc.Optional, fields)
	})
	if err != nil {
		return r, false, err
	}
	if val == nil {
		t.side.set(&r, ns, nil)
		return r, true, nil
	}
	st, err := requireStruct(val, "converting timestamp formats")
	if err != nil {
		return r, false, err
	}
	out, vals := newStruct(ns)
	for i, f := range st.Schema.Fields {
		v := fieldValue(st, i, t.replaceNull)
		if f.Name == t.field {
			kind, err := timestampKind(f.Schema)
			if err != nil {
				return r, false, fmt.Errorf("field %s: %w", f.Name, err)
			}
			if v, err = t.convert(v, kind); err != nil {
				return r, false, fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
		vals[i] = v
	}
	t.side.set(&r, ns, out)
	return r, true, nil
}

// timestampKind is Connect's timestampTypeFromSchema.
func timestampKind(s *schema.Schema) (string, error) {
	switch {
	case s.Name == schema.TimestampName:
		return tsTimestamp, nil
	case s.Name == schema.DateName:
		return tsDate, nil
	case s.Name == schema.TimeName:
		return tsTime, nil
	case s.Type == schema.TypeString:
		return tsString, nil
	case s.Type == schema.TypeInt64:
		return tsUnix, nil
	}
	return "", fmt.Errorf("Schema %s does not correspond to a known timestamp type format", s)
}

func (t *timestampConverter) convert(v any, kind string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if kind == "" {
		switch v.(type) {
		case time.Time:
			kind = tsTimestamp
		case int64, int:
			kind = tsUnix
		case string:
			kind = tsString
		default:
			return nil, fmt.Errorf("TimestampConverter does not support %T objects as timestamps", v)
		}
	}
	var raw time.Time
	switch kind {
	case tsString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("Expected string timestamp to be a String, but found %T", v)
		}
		if t.format == nil {
			return nil, fmt.Errorf("a string timestamp needs the format option to be parsed")
		}
		p, err := t.format.parse(s)
		if err != nil {
			return nil, fmt.Errorf("Could not parse timestamp: value (%s) does not match pattern (%s)", s, t.format.pattern)
		}
		raw = p
	case tsUnix:
		var n int64
		switch x := v.(type) {
		case int64:
			n = x
		case int:
			n = int64(x)
		default:
			return nil, fmt.Errorf("Expected Unix timestamp to be a Long, but found %T", v)
		}
		switch t.precision {
		case "seconds":
			n *= 1000
		case "microseconds":
			n /= 1000
		case "nanoseconds":
			n /= 1e6
		}
		raw = time.UnixMilli(n).UTC()
	default:
		tt, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("Expected %s to be a java.util.Date, but found %T", kind, v)
		}
		raw = tt.UTC().Truncate(time.Millisecond)
	}
	switch t.target {
	case tsString:
		return t.format.format(raw), nil
	case tsUnix:
		ms := raw.UnixMilli()
		switch t.precision {
		case "seconds":
			return ms / 1000, nil
		case "microseconds":
			return ms * 1000, nil
		case "nanoseconds":
			return ms * 1e6, nil
		}
		return ms, nil
	case tsDate:
		y, m, d := raw.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
	case tsTime:
		return time.Date(1970, 1, 1, raw.Hour(), raw.Minute(), raw.Second(), raw.Nanosecond(), time.UTC), nil
	}
	return raw, nil
}
