package jsonschemaconv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

// object is a JSON object that keeps its members in order: JSON Schema
// documents are written in a stable order and read with the order of
// "properties" and "connect.parameters" kept. Objects are small, so members
// are found by a linear scan.
type object struct {
	keys []string
	vals []any
}

func newObject() *object { return &object{} }

// find returns the index of member k, the last one of duplicates (as
// Jackson keeps the last), or -1.
func (o *object) find(k string) int {
	for i := len(o.keys) - 1; i >= 0; i-- {
		if o.keys[i] == k {
			return i
		}
	}
	return -1
}

// set adds or replaces a member; a new key goes last.
func (o *object) set(k string, v any) *object {
	if i := o.find(k); i >= 0 {
		o.vals[i] = v
		return o
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
	return o
}

func (o *object) get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	if i := o.find(k); i >= 0 {
		return o.vals[i], true
	}
	return nil, false
}

// must is the value of member k, nil when absent.
func (o *object) must(k string) any {
	v, _ := o.get(k)
	return v
}

func (o *object) str(k string) (string, bool) {
	v, _ := o.get(k)
	s, ok := v.(string)
	return s, ok
}

func (o *object) obj(k string) *object {
	v, _ := o.get(k)
	m, _ := v.(*object)
	return m
}

// rawJSON is a value already encoded as JSON.
type rawJSON []byte

// appendJSON encodes v: *object, []any, string, bool, nil, json.Number,
// int64, rawJSON.
func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case *object:
		b = append(b, '{')
		for i, k := range x.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonconv.AppendString(b, k)
			b = append(b, ':')
			b = appendJSON(b, x.vals[i])
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	case string:
		return jsonconv.AppendString(b, x)
	case bool:
		if x {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case nil:
		return append(b, "null"...)
	case json.Number:
		return append(b, x...)
	case int:
		return fmt.Appendf(b, "%d", x)
	case int64:
		return fmt.Appendf(b, "%d", x)
	case rawJSON:
		return append(b, x...)
	}
	panic(fmt.Sprintf("jsonschemaconv: cannot encode %T", v))
}

// parseOrdered parses JSON text into *object, []any, string, json.Number,
// bool and nil, keeping object member order. Numbers are checked against
// JSON's grammar; strings are unescaped as encoding/json does.
func parseOrdered(data []byte) (any, error) {
	p := &parser{b: data}
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, p.errf("trailing data after the JSON value")
	}
	return v, nil
}

type parser struct {
	b []byte
	i int
}

const maxDepth = 1000

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) lit(word string, v any) (any, error) {
	if !bytes.HasPrefix(p.b[p.i:], []byte(word)) {
		return nil, p.errf("unexpected character %q", p.b[p.i])
	}
	p.i += len(word)
	return v, nil
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errf("nested too deep")
	}
	if p.i >= len(p.b) {
		return nil, p.errf("unexpected end")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		p.i++
		o := &object{keys: make([]string, 0, 8), vals: make([]any, 0, 8)}
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return o, nil
		}
		for {
			p.ws()
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return nil, p.errf("object key expected")
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.ws()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return nil, p.errf("':' expected")
			}
			p.i++
			p.ws()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			o.keys, o.vals = append(o.keys, k), append(o.vals, v) // duplicates: find takes the last
			p.ws()
			if p.i >= len(p.b) {
				return nil, p.errf("unexpected end")
			}
			if p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.b[p.i] == '}' {
				p.i++
				return o, nil
			}
			return nil, p.errf("',' or '}' expected")
		}
	case c == '[':
		p.i++
		a := []any{}
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return a, nil
		}
		for {
			p.ws()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
			p.ws()
			if p.i >= len(p.b) {
				return nil, p.errf("unexpected end")
			}
			if p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.b[p.i] == ']' {
				p.i++
				return a, nil
			}
			return nil, p.errf("',' or ']' expected")
		}
	case c == '"':
		return p.str()
	case c == 't':
		return p.lit("true", true)
	case c == 'f':
		return p.lit("false", false)
	case c == 'n':
		return p.lit("null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, p.errf("unexpected character %q", p.b[p.i])
}

func (p *parser) str() (string, error) {
	start := p.i
	p.i++ // opening quote
	escaped := false
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			raw := p.b[start:p.i]
			if !escaped && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", p.errf("bad string: %v", err)
			}
			return s, nil
		case c == '\\':
			escaped = true
			p.i += 2
		case c < 0x20:
			return "", p.errf("control character in string")
		default:
			p.i++
		}
	}
	return "", p.errf("unterminated string")
}

func (p *parser) number() (any, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, p.errf("bad number")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.errf("bad number")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.errf("bad number")
		}
	}
	return json.Number(p.b[start:p.i]), nil
}

// jsonPointer follows a JSON pointer fragment ("/definitions/X") in doc.
func jsonPointer(doc any, frag string) (any, bool) {
	if frag == "" || frag == "/" {
		return doc, doc != nil
	}
	cur := doc
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		o, ok := cur.(*object)
		if !ok {
			return nil, false
		}
		if cur, ok = o.get(tok); !ok {
			return nil, false
		}
	}
	return cur, true
}
