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

const maskFieldDoc = "Mask specified fields with a valid null value for the field type (i.e. 0, false, empty string, and so on). " +
	"For numeric and string fields, an optional replacement value can be specified that is converted to the correct type."

func maskFieldDef() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "fields", Type: config.List, Default: config.NoDefault, Importance: config.High,
			Validator: nonEmptyList, Doc: "Names of fields to mask."}).
		Define(config.Key{Name: "replacement", Type: config.String, Default: nil, Importance: config.Low,
			Validator: config.NonEmpty,
			Doc:       "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only)."})
}

func nonEmptyList(v any) error {
	if l, _ := v.([]string); len(l) == 0 {
		return fmt.Errorf("Empty list")
	}
	return nil
}

type maskField struct {
	side        side
	fields      map[string]bool
	order       []string
	replacement *string
}

func newMaskField(v *config.Values, s side) (transformer, error) {
	m := &maskField{side: s, fields: map[string]bool{}}
	for _, f := range v.List("fields") {
		if !m.fields[f] {
			m.fields[f] = true
			m.order = append(m.order, f)
		}
	}
	if rv, ok := v.Get("replacement").(string); ok {
		m.replacement = &rv
	}
	return m, nil
}

func (m *maskField) apply(r schema.Record) (schema.Record, bool, error) {
	sc, val := m.side.get(&r)
	if val == nil {
		return r, true, nil
	}
	if sc == nil {
		in, err := requireMap(val, "mask fields")
		if err != nil {
			return r, false, err
		}
		out := make(map[string]any, len(in)+len(m.order))
		for k, e := range in {
			out[k] = e
		}
		for _, f := range m.order {
			mv, err := m.mask(in[f])
			if err != nil {
				return r, false, fmt.Errorf("field %s: %w", f, err)
			}
			out[f] = mv
		}
		m.side.set(&r, nil, out)
		return r, true, nil
	}
	st, err := requireStruct(val, "mask fields")
	if err != nil {
		return r, false, err
	}
	out, vals := newStruct(st.Schema)
	for i, f := range st.Schema.Fields {
		v := fieldValue(st, i, true)
		if m.fields[f.Name] {
			if v, err = m.mask(v); err != nil {
				return r, false, fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
		vals[i] = v
	}
	m.side.set(&r, st.Schema, out)
	return r, true, nil
}

func (m *maskField) mask(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if m.replacement != nil {
		return maskReplacement(v, *m.replacement)
	}
	switch v.(type) {
	case bool:
		return false, nil
	case int8:
		return int8(0), nil
	case int16:
		return int16(0), nil
	case int32:
		return int32(0), nil
	case int64:
		return int64(0), nil
	case int:
		return 0, nil
	case float32:
		return float32(0), nil
	case float64:
		return float64(0), nil
	case decimal.Decimal:
		return decimal.Zero, nil
	case time.Time:
		return time.UnixMilli(0).UTC(), nil
	case string:
		return "", nil
	case []any:
		return []any{}, nil
	case map[string]any:
		return map[string]any{}, nil
	case map[any]any:
		return map[any]any{}, nil
	}
	return nil, fmt.Errorf("Cannot mask value of type: class %s", javaClass(v))
}

func maskReplacement(v any, rep string) (any, error) {
	num := func(bits int) (int64, error) {
		s := strings.TrimSpace(rep)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) {
			return 0, fmt.Errorf("Unable to convert %s (class java.lang.String) to number", rep)
		}
		return int64(f), nil
	}
	switch v.(type) {
	case string:
		return rep, nil
	case int8:
		n, err := num(8)
		return int8(n), err
	case int16:
		n, err := num(16)
		return int16(n), err
	case int32:
		n, err := num(32)
		return int32(n), err
	case int64:
		return num(64)
	case int:
		n, err := num(64)
		return int(n), err
	case float32, float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(rep), 64)
		if err != nil {
			return nil, fmt.Errorf("Unable to convert %s (class java.lang.String) to number", rep)
		}
		if _, ok := v.(float32); ok {
			return float32(f), nil
		}
		return f, nil
	case decimal.Decimal:
		d, err := decimal.NewFromString(strings.TrimSpace(rep))
		if err != nil {
			return nil, fmt.Errorf("Unable to convert %s (class java.lang.String) to number", rep)
		}
		return d, nil
	}
	return nil, fmt.Errorf("Cannot mask value of type class %s with custom replacement.", javaClass(v))
}
