package jsonconv

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// ToConnect parses Kafka bytes. Nil bytes (a tombstone) give a nil schema and
// value. With schemas.enable the message must be exactly {"schema","payload"}
// (the error wraps ErrEnvelope otherwise); without, the payload's types are
// inferred (see package doc). A payload that does not match its schema gives
// a *FieldError naming the field.
func (c *Converter) ToConnect(_ string, _ []schema.Header, b []byte) (*schema.Schema, any, error) {
	if b == nil {
		return nil, nil, nil
	}
	p := &parser{b: b}
	if !c.cfg.SchemasEnable {
		if p.next() == 0 {
			return nil, nil, nil
		}
		v, err := p.any()
		if err == nil {
			err = p.end()
		}
		if err != nil {
			return nil, nil, serialization(err)
		}
		return nil, v, nil
	}
	if p.next() != '{' {
		if err := (&parser{b: b}).skip(); err != nil {
			return nil, nil, serialization(err)
		}
		return nil, nil, ErrEnvelope
	}
	p.i++
	var (
		s                        *schema.Schema
		v                        any
		haveSchema, havePayload  bool
		payloadRaw               []byte
		payloadDone, badEnvelope bool
	)
	if p.next() == '}' {
		p.i++
		badEnvelope = true
	} else {
		for {
			k, err := p.key()
			if err != nil {
				return nil, nil, serialization(err)
			}
			switch {
			case string(k) == "schema" && !haveSchema:
				haveSchema = true
				p.next()
				// Fast path: the same schema text as the previous message.
				// A complete JSON object is self-delimiting, so a byte prefix
				// match is the same (already validated) value.
				if ls := c.last.Load(); ls != nil && bytes.HasPrefix(p.b[p.i:], ls.raw) {
					p.i += len(ls.raw)
					s = ls.s
					break
				}
				start := p.i
				if err := p.skip(); err != nil {
					return nil, nil, serialization(err)
				}
				raw := p.b[start:p.i]
				if s, err = c.schemaFor(raw); err != nil {
					return nil, nil, err
				}
				if len(raw) > 0 && raw[0] == '{' {
					c.last.Store(&lastSchema{raw: bytes.Clone(raw), s: s})
				}
			case string(k) == "payload" && !havePayload:
				havePayload = true
				if haveSchema && !badEnvelope {
					if v, err = c.decodeValue(p, s); err != nil {
						return nil, nil, payloadError(err)
					}
					payloadDone = true
					break
				}
				p.next()
				start := p.i
				if err := p.skip(); err != nil {
					return nil, nil, serialization(err)
				}
				payloadRaw = p.b[start:p.i]
			default:
				badEnvelope = true
				if err := p.skip(); err != nil {
					return nil, nil, serialization(err)
				}
			}
			if p.next() == ',' {
				p.i++
				continue
			}
			if err := p.expect('}'); err != nil {
				return nil, nil, serialization(err)
			}
			break
		}
	}
	if err := p.end(); err != nil {
		return nil, nil, serialization(err)
	}
	if badEnvelope || !haveSchema || !havePayload {
		return nil, nil, ErrEnvelope
	}
	if !payloadDone {
		var err error
		pp := &parser{b: payloadRaw}
		if v, err = c.decodeValue(pp, s); err != nil {
			return nil, nil, payloadError(err)
		}
	}
	return s, v, nil
}

// payloadError reports malformed JSON as a serialization error and anything
// else as a *FieldError.
func payloadError(err error) error {
	err = public(err)
	if errors.Is(err, errSyntax) {
		return serialization(err)
	}
	return err
}

// lastSchema remembers the schema text of the previous message.
type lastSchema struct {
	raw []byte
	s   *schema.Schema
}

func serialization(err error) error {
	return fmt.Errorf("jsonconv: converting byte[] to Kafka Connect data failed due to serialization error: %w", err)
}

// ParseSchema parses a schema in JsonConverter's JSON form (the envelope's
// "schema" member), through the converter's cache.
func (c *Converter) ParseSchema(js []byte) (*schema.Schema, error) {
	p := &parser{b: js}
	p.next()
	start := p.i
	if err := p.skip(); err != nil {
		return nil, serialization(err)
	}
	raw := p.b[start:p.i]
	if err := p.end(); err != nil {
		return nil, serialization(err)
	}
	return c.schemaFor(raw)
}

func (c *Converter) schemaFor(raw []byte) (*schema.Schema, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	if c.dec.max >= 0 {
		c.dec.mu.RLock()
		s, ok := c.dec.m[string(raw)]
		c.dec.mu.RUnlock()
		if ok {
			return s, nil
		}
	}
	s, _, _, err := c.parseSchema(&parser{b: raw})
	if err != nil {
		if pe, ok := err.(*pathError); ok {
			pe.rev = append(pe.rev, "schema")
			return nil, pe.finish()
		}
		return nil, &FieldError{Path: "schema", Err: err}
	}
	return c.dec.put(string(raw), s), nil
}

// parseSchema reads one schema object (JsonConverter.asConnectSchema).
func (c *Converter) parseSchema(p *parser) (s *schema.Schema, field string, hasField bool, err error) {
	if p.next() != '{' {
		return nil, "", false, errorf("schema must be a JSON object")
	}
	if p.depth++; p.depth > maxDepth {
		return nil, "", false, fmt.Errorf("%w: nested too deeply", errSyntax)
	}
	p.i++
	var (
		typ, name, doc       string
		hasType              bool
		optional             bool
		version              int
		params               []schema.Param
		defRaw               []byte
		fields               []schema.Field
		hasFields, fieldsArr bool
		items, keys, values  *schema.Schema
		hasItems, hasKeys    bool
		hasValues            bool
	)
	if p.next() == '}' {
		p.i++
	} else {
		for {
			k, err := p.key()
			if err != nil {
				return nil, "", false, err
			}
			c0 := p.next()
			switch string(k) {
			case "type":
				if c0 == '"' {
					t, err := p.stringBytes()
					if err != nil {
						return nil, "", false, err
					}
					typ, hasType = string(t), true
				} else if err := p.skip(); err != nil {
					return nil, "", false, err
				}
			case "optional":
				switch c0 {
				case 't':
					optional = true
					err = p.literal("true")
				case 'f':
					optional = false
					err = p.literal("false")
				default:
					err = p.skip()
				}
				if err != nil {
					return nil, "", false, err
				}
			case "name", "doc", "field":
				if c0 != '"' {
					if err := p.skip(); err != nil {
						return nil, "", false, err
					}
					break
				}
				t, err := p.stringBytes()
				if err != nil {
					return nil, "", false, err
				}
				switch string(k) {
				case "name":
					name = string(t)
				case "doc":
					doc = string(t)
				default:
					field, hasField = string(t), true
				}
			case "version":
				if c0 == '-' || (c0 >= '0' && c0 <= '9') {
					num, integral, err := p.number()
					if err != nil {
						return nil, "", false, err
					}
					if n, ok := parseInt(num); integral && ok {
						version = int(int32(n))
					}
				} else if err := p.skip(); err != nil {
					return nil, "", false, err
				}
			case "parameters":
				if c0 != '{' {
					if err := p.skip(); err != nil {
						return nil, "", false, err
					}
					break
				}
				p.i++
				if p.next() == '}' {
					p.i++
					params = []schema.Param{}
					break
				}
				for {
					pk, err := p.key()
					if err != nil {
						return nil, "", false, err
					}
					if p.next() != '"' {
						return nil, "", false, errorf("schema parameters must have string values (parameter %q)", pk)
					}
					pv, err := p.stringBytes()
					if err != nil {
						return nil, "", false, err
					}
					params = setParam(params, string(pk), string(pv))
					if p.next() == ',' {
						p.i++
						continue
					}
					if err := p.expect('}'); err != nil {
						return nil, "", false, err
					}
					break
				}
			case "default":
				start := p.i
				if err := p.skip(); err != nil {
					return nil, "", false, err
				}
				defRaw = p.b[start:p.i]
			case "fields":
				hasFields = true
				if c0 != '[' {
					if err := p.skip(); err != nil {
						return nil, "", false, err
					}
					break
				}
				fieldsArr = true
				p.i++
				if p.next() == ']' {
					p.i++
					break
				}
				for i := 0; ; i++ {
					fs, fname, ok, err := c.parseSchema(p)
					if err != nil {
						if ok {
							return nil, "", false, inField(err, fname)
						}
						return nil, "", false, inField(err, "fields["+strconv.Itoa(i)+"]")
					}
					if !ok {
						return nil, "", false, inField(errorf("struct schema's field name not specified properly"), "fields["+strconv.Itoa(i)+"]")
					}
					for _, f := range fields {
						if f.Name == fname {
							return nil, "", false, errorf("cannot create field because of field name duplication %s", fname)
						}
					}
					fields = append(fields, schema.Field{Name: fname, Schema: fs})
					if p.next() == ',' {
						p.i++
						continue
					}
					if err := p.expect(']'); err != nil {
						return nil, "", false, err
					}
					break
				}
			case "items", "keys", "values":
				var sub *schema.Schema
				if c0 == 'n' {
					if err := p.literal("null"); err != nil {
						return nil, "", false, err
					}
				} else {
					if sub, _, _, err = c.parseSchema(p); err != nil {
						return nil, "", false, inField(err, string(k))
					}
				}
				switch string(k) {
				case "items":
					items, hasItems = sub, sub != nil
				case "keys":
					keys, hasKeys = sub, sub != nil
				default:
					values, hasValues = sub, sub != nil
				}
			default:
				if err := p.skip(); err != nil {
					return nil, "", false, err
				}
			}
			if p.next() == ',' {
				p.i++
				continue
			}
			if err := p.expect('}'); err != nil {
				return nil, "", false, err
			}
			break
		}
	}
	p.depth--
	fail := func(err error) (*schema.Schema, string, bool, error) {
		if hasField {
			return nil, field, true, err
		}
		return nil, "", false, err
	}
	if !hasType {
		return fail(errorf("schema must contain 'type' field"))
	}
	t, ok := schema.ParseType(typ)
	if !ok || typ == "float32" || typ == "float64" {
		return fail(errorf("unknown schema type: %s", typ))
	}
	switch t {
	case schema.TypeStruct:
		if !hasFields || !fieldsArr {
			return fail(errorf(`struct schema's "fields" argument is not an array`))
		}
		s = schema.NewStructSchema(name, fields...)
	case schema.TypeArray:
		if !hasItems {
			return fail(errorf("array schema did not specify the element type"))
		}
		s = &schema.Schema{Type: t, Name: name, ValueSchema: items}
	case schema.TypeMap:
		if !hasKeys {
			return fail(errorf("map schema did not specify the key type"))
		}
		if !hasValues {
			return fail(errorf("map schema did not specify the value type"))
		}
		s = &schema.Schema{Type: t, Name: name, KeySchema: keys, ValueSchema: values}
	default:
		s = &schema.Schema{Type: t, Name: name}
	}
	s.Optional, s.Version, s.Doc, s.Parameters = optional, version, doc, params
	if len(params) == 0 {
		s.Parameters = nil
	}
	if defRaw != nil && string(defRaw) != "null" {
		dp := &parser{b: defRaw}
		v, err := c.decodeValue(dp, s)
		if err != nil {
			return fail(inField(err, "default"))
		}
		s.Default = v
	}
	return s, field, hasField, nil
}

func setParam(ps []schema.Param, k, v string) []schema.Param {
	for i := range ps {
		if ps[i].Key == k {
			ps[i].Value = v
			return ps
		}
	}
	return append(ps, schema.Param{Key: k, Value: v})
}

func (c *Converter) nullValue(s *schema.Schema) (any, error) {
	if s.Default != nil && c.cfg.ReplaceNullWithDefault {
		return s.Default, nil
	}
	if s.Optional {
		return nil, nil
	}
	return nil, errorf("invalid null value for required %s field", s.Type)
}

func kindAt(c byte) string {
	switch {
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == 't' || c == 'f':
		return "boolean"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	case c == 0:
		return "end of input"
	}
	return fmt.Sprintf("%q", c)
}

func mismatch(s *schema.Schema, c0 byte) error {
	what := s.Type.String()
	if s.Name != "" {
		what += " (" + s.Name + ")"
	}
	return errorf("schema expects %s, payload has %s", what, kindAt(c0))
}

// decodeValue reads one payload value of schema s (convertToConnect).
func (c *Converter) decodeValue(p *parser, s *schema.Schema) (any, error) {
	if s == nil {
		return p.any()
	}
	c0 := p.next()
	if c0 == 'n' {
		if err := p.literal("null"); err != nil {
			return nil, err
		}
		return c.nullValue(s)
	}
	if s.Name != "" {
		if l := schema.LogicalOf(s); l != nil {
			return c.decodeLogical(p, s, c0)
		}
	}
	switch s.Type {
	case schema.TypeInt8:
		n, err := readInt(p, s, c0, math.MinInt8, math.MaxInt8)
		return int8(n), err
	case schema.TypeInt16:
		n, err := readInt(p, s, c0, math.MinInt16, math.MaxInt16)
		return int16(n), err
	case schema.TypeInt32:
		n, err := readInt(p, s, c0, math.MinInt32, math.MaxInt32)
		return int32(n), err
	case schema.TypeInt64:
		return readInt(p, s, c0, math.MinInt64, math.MaxInt64)
	case schema.TypeFloat32:
		f, err := readFloat(p, s, c0, 32)
		return float32(f), err
	case schema.TypeFloat64:
		return readFloat(p, s, c0, 64)
	case schema.TypeBoolean:
		switch c0 {
		case 't':
			return true, p.literal("true")
		case 'f':
			return false, p.literal("false")
		}
	case schema.TypeString:
		if c0 == '"' {
			b, err := p.stringBytes()
			return string(b), err
		}
	case schema.TypeBytes:
		if c0 == '"' {
			return readBase64(p)
		}
	case schema.TypeArray:
		if c0 == '[' {
			return c.decodeArray(p, s)
		}
	case schema.TypeMap:
		if s.KeySchema.Type == schema.TypeString {
			if c0 == '{' {
				return c.decodeObjectMap(p, s)
			}
			if c0 != 0 {
				return nil, errorf("maps with string fields should be encoded as JSON objects, but found %s", kindAt(c0))
			}
		} else {
			if c0 == '[' {
				return c.decodePairMap(p, s)
			}
			if c0 != 0 {
				return nil, errorf("maps with non-string fields should be encoded as JSON array of tuples, but found %s", kindAt(c0))
			}
		}
	case schema.TypeStruct:
		if c0 == '{' {
			return c.decodeStruct(p, s)
		}
		if c0 != 0 {
			return nil, errorf("structs should be encoded as JSON objects, but found %s", kindAt(c0))
		}
	default:
		return nil, errorf("unknown schema type: %s", s.Type)
	}
	return nil, mismatch(s, c0)
}

func readInt(p *parser, s *schema.Schema, c0 byte, lo, hi int64) (int64, error) {
	if c0 != '-' && (c0 < '0' || c0 > '9') {
		return 0, mismatch(s, c0)
	}
	num, integral, err := p.number()
	if err != nil {
		return 0, err
	}
	n, ok := int64(0), false
	if integral {
		n, ok = parseInt(num)
	} else if f, err := strconv.ParseFloat(string(num), 64); err == nil && f == math.Trunc(f) && f >= -9.223372036854775808e18 && f < 9.223372036854775808e18 {
		n, ok = int64(f), true
	}
	if !ok || n < lo || n > hi {
		return 0, errorf("number %s does not fit %s", num, s.Type)
	}
	return n, nil
}

func readFloat(p *parser, s *schema.Schema, c0 byte, bits int) (float64, error) {
	if c0 == '"' {
		b, err := p.stringBytes()
		if err != nil {
			return 0, err
		}
		switch string(b) {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		return 0, errorf("schema expects %s, payload has string %q", s.Type, b)
	}
	if c0 != '-' && (c0 < '0' || c0 > '9') {
		return 0, mismatch(s, c0)
	}
	num, _, err := p.number()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(num), bits)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, errorf("bad number %s: %v", num, err)
	}
	if f == 0 {
		f = 0 // -0.0 reads as 0.0: Kafka parses through BigDecimal, which has no negative zero
	}
	return f, nil
}

func readBase64(p *parser) ([]byte, error) {
	src, err := p.stringBytes()
	if err != nil {
		return nil, err
	}
	dst := make([]byte, base64.RawStdEncoding.DecodedLen(len(src)))
	n, err := base64.StdEncoding.Decode(dst, src)
	if err != nil {
		if n, err = base64.RawStdEncoding.Decode(dst, src); err != nil {
			return nil, errorf("invalid Base64 bytes: %v", err)
		}
	}
	return dst[:n], nil
}

func (c *Converter) decodeLogical(p *parser, s *schema.Schema, c0 byte) (any, error) {
	switch s.Name {
	case schema.DecimalName:
		scale, err := schema.DecimalScale(s)
		if err != nil {
			return nil, errorf("%w", err)
		}
		switch {
		case c0 == '"':
			src, err := p.stringBytes()
			if err != nil {
				return nil, err
			}
			var buf [32]byte
			var dst []byte
			if base64.RawStdEncoding.DecodedLen(len(src)) <= len(buf) {
				dst = buf[:]
			} else {
				dst = make([]byte, base64.RawStdEncoding.DecodedLen(len(src)))
			}
			n, err := base64.StdEncoding.Decode(dst, src)
			if err != nil {
				if n, err = base64.RawStdEncoding.Decode(dst, src); err != nil {
					return nil, errorf("invalid Base64 decimal: %v", err)
				}
			}
			if n == 0 {
				return nil, errorf("empty decimal bytes")
			}
			if n <= 8 {
				v := int64(int8(dst[0]))
				for _, x := range dst[1:n] {
					v = v<<8 | int64(x)
				}
				return decimal.New(v, -scale), nil
			}
			return schema.DecimalFromUnscaled(dst[:n], scale), nil
		case c0 == '-' || (c0 >= '0' && c0 <= '9'):
			num, _, err := p.number()
			if err != nil {
				return nil, err
			}
			d, err := decimal.NewFromString(string(num))
			if err != nil {
				return nil, errorf("bad decimal %s: %v", num, err)
			}
			return d, nil
		}
		return nil, mismatch(s, c0)
	case schema.DateName:
		if c0 != '-' && (c0 < '0' || c0 > '9') {
			return nil, errorf("invalid type for Date, underlying representation should be integer but was %s", kindAt(c0))
		}
		n, err := readIntStrict(p, s)
		if err != nil {
			return nil, err
		}
		if n < math.MinInt32 || n > math.MaxInt32 {
			return nil, errorf("invalid Date %d: out of int32 range", n)
		}
		return schema.DaysToDate(int32(n)), nil
	case schema.TimeName:
		if c0 != '-' && (c0 < '0' || c0 > '9') {
			return nil, errorf("invalid type for Time, underlying representation should be integer but was %s", kindAt(c0))
		}
		n, err := readIntStrict(p, s)
		if err != nil {
			return nil, err
		}
		if n < 0 || n >= 24*3600*1000 {
			return nil, errorf("invalid Time %d: not milliseconds within a day", n)
		}
		return schema.MillisToTime(int32(n)), nil
	case schema.TimestampName:
		if c0 != '-' && (c0 < '0' || c0 > '9') {
			return nil, errorf("invalid type for Timestamp, underlying representation should be integral but was %s", kindAt(c0))
		}
		n, err := readIntStrict(p, s)
		if err != nil {
			return nil, err
		}
		return time.UnixMilli(n).UTC(), nil
	}
	return nil, errorf("unknown logical type %s", s.Name)
}

func readIntStrict(p *parser, s *schema.Schema) (int64, error) {
	num, integral, err := p.number()
	if err != nil {
		return 0, err
	}
	n, ok := parseInt(num)
	if !integral || !ok {
		return 0, errorf("invalid %s value %s: expected an integer", s.Name, num)
	}
	return n, nil
}

func (c *Converter) decodeArray(p *parser, s *schema.Schema) (any, error) {
	a := []any{}
	more, err := p.open(']')
	for i := 0; more && err == nil; i++ {
		var v any
		if v, err = c.decodeValue(p, s.ValueSchema); err != nil {
			return nil, inIndex(err, i)
		}
		a = append(a, v)
		more, err = p.more(']')
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (c *Converter) decodeObjectMap(p *parser, s *schema.Schema) (any, error) {
	m := map[any]any{}
	more, err := p.open('}')
	for more && err == nil {
		var kb []byte
		if kb, err = p.key(); err != nil {
			return nil, err
		}
		k := string(kb)
		var v any
		if v, err = c.decodeValue(p, s.ValueSchema); err != nil {
			return nil, inField(err, k)
		}
		m[k] = v
		more, err = p.more('}')
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (c *Converter) decodePairMap(p *parser, s *schema.Schema) (any, error) {
	m := map[any]any{}
	more, err := p.open(']')
	for i := 0; more && err == nil; i++ {
		if c0 := p.next(); c0 != '[' {
			return nil, inIndex(errorf("found invalid map entry instead of array tuple: %s", kindAt(c0)), i)
		}
		p.i++
		var k, v any
		if k, err = c.decodeValue(p, s.KeySchema); err != nil {
			return nil, inIndex(err, i)
		}
		if err := p.expect(','); err != nil {
			return nil, inIndex(errorf("found invalid map entry, expected length 2"), i)
		}
		if v, err = c.decodeValue(p, s.ValueSchema); err != nil {
			return nil, inIndex(err, i)
		}
		if err := p.expect(']'); err != nil {
			return nil, inIndex(errorf("found invalid map entry, expected length 2"), i)
		}
		if k != nil && !isComparable(k) {
			return nil, inIndex(errorf("map key of type %T cannot be used as a Go map key", k), i)
		}
		m[k] = v
		more, err = p.more(']')
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func isComparable(v any) bool {
	switch v.(type) {
	case []byte, []any, map[any]any, map[string]any:
		return false
	}
	return true
}

func (c *Converter) decodeStruct(p *parser, s *schema.Schema) (any, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, fmt.Errorf("%w: nested too deeply", errSyntax)
	}
	p.i++
	n := len(s.Fields)
	vals := make([]any, n)
	var seenSmall uint64
	var seenBig []bool
	if n > 64 {
		seenBig = make([]bool, n)
	}
	next := 0
	if p.next() == '}' {
		p.i++
	} else {
		for {
			k, err := p.key()
			if err != nil {
				return nil, err
			}
			idx := -1
			if next < n && s.Fields[next].Name == string(k) {
				idx = next
			} else {
				for j := range s.Fields {
					if s.Fields[j].Name == string(k) {
						idx = j
						break
					}
				}
			}
			if idx < 0 {
				if err := p.skip(); err != nil {
					return nil, err
				}
			} else {
				f := &s.Fields[idx]
				v, err := c.decodeValue(p, f.Schema)
				if err != nil {
					return nil, inField(err, f.Name)
				}
				vals[idx] = v
				if seenBig != nil {
					seenBig[idx] = true
				} else {
					seenSmall |= 1 << idx
				}
				next = idx + 1
			}
			if p.next() == ',' {
				p.i++
				continue
			}
			if err := p.expect('}'); err != nil {
				return nil, err
			}
			break
		}
	}
	p.depth--
	for i := range s.Fields {
		seen := false
		if seenBig != nil {
			seen = seenBig[i]
		} else {
			seen = seenSmall&(1<<i) != 0
		}
		if seen {
			continue
		}
		v, err := c.nullValue(s.Fields[i].Schema)
		if err != nil {
			return nil, inField(err, s.Fields[i].Name)
		}
		vals[i] = v
	}
	return &schema.Struct{Schema: s, Values: vals}, nil
}
