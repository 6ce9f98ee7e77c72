package reference

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// node is a JSON value that keeps what byte comparison needs: object
// members in their order, and numbers and strings as their raw bytes
// (escapes and number spelling included).
type node struct {
	kind byte // '{', '[', or 0 for a scalar
	raw  []byte
	keys []string // object member names (decoded), in order
	rawK [][]byte // object member names as written
	vals []*node
}

// parseOrdered parses one JSON document.
func parseOrdered(b []byte) (*node, error) {
	p := &parser{b: b}
	p.ws()
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, fmt.Errorf("trailing bytes at %d", p.i)
	}
	return n, nil
}

type parser struct {
	b []byte
	i int
}

func (p *parser) ws() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *parser) value() (*node, error) {
	if p.i >= len(p.b) {
		return nil, fmt.Errorf("unexpected end")
	}
	switch c := p.b[p.i]; c {
	case '{':
		p.i++
		n := &node{kind: '{'}
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return n, nil
		}
		for {
			p.ws()
			start := p.i
			if err := p.str(); err != nil {
				return nil, err
			}
			rawK := p.b[start:p.i]
			var k string
			if err := json.Unmarshal(rawK, &k); err != nil {
				return nil, err
			}
			p.ws()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return nil, fmt.Errorf("expected ':' at %d", p.i)
			}
			p.i++
			p.ws()
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			n.keys, n.rawK, n.vals = append(n.keys, k), append(n.rawK, rawK), append(n.vals, v)
			p.ws()
			if p.i < len(p.b) && p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.b) && p.b[p.i] == '}' {
				p.i++
				return n, nil
			}
			return nil, fmt.Errorf("expected ',' or '}' at %d", p.i)
		}
	case '[':
		p.i++
		n := &node{kind: '['}
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return n, nil
		}
		for {
			p.ws()
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
			p.ws()
			if p.i < len(p.b) && p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.b) && p.b[p.i] == ']' {
				p.i++
				return n, nil
			}
			return nil, fmt.Errorf("expected ',' or ']' at %d", p.i)
		}
	case '"':
		start := p.i
		if err := p.str(); err != nil {
			return nil, err
		}
		return &node{raw: p.b[start:p.i]}, nil
	default:
		start := p.i
		for p.i < len(p.b) && bytes.IndexByte([]byte(",]} \t\r\n"), p.b[p.i]) < 0 {
			p.i++
		}
		raw := p.b[start:p.i]
		if !json.Valid(raw) {
			return nil, fmt.Errorf("bad scalar %q at %d", raw, start)
		}
		return &node{raw: raw}, nil
	}
}

func (p *parser) str() error {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return fmt.Errorf("expected string at %d", p.i)
	}
	p.i++
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case '\\':
			p.i += 2
		case '"':
			p.i++
			return nil
		default:
			p.i++
		}
	}
	return fmt.Errorf("unterminated string")
}

// encode writes n compactly: for input without insignificant whitespace
// it gives back the input bytes.
func (n *node) encode(w *bytes.Buffer) {
	switch n.kind {
	case '{':
		w.WriteByte('{')
		for i := range n.keys {
			if i > 0 {
				w.WriteByte(',')
			}
			w.Write(n.rawK[i])
			w.WriteByte(':')
			n.vals[i].encode(w)
		}
		w.WriteByte('}')
	case '[':
		w.WriteByte('[')
		for i, v := range n.vals {
			if i > 0 {
				w.WriteByte(',')
			}
			v.encode(w)
		}
		w.WriteByte(']')
	default:
		w.Write(n.raw)
	}
}

func (n *node) bytes() []byte {
	var b bytes.Buffer
	n.encode(&b)
	return b.Bytes()
}

// get returns member k of an object (nil if absent or n is no object).
func (n *node) get(k string) *node {
	if n == nil || n.kind != '{' {
		return nil
	}
	for i, key := range n.keys {
		if key == k {
			return n.vals[i]
		}
	}
	return nil
}

// str is a string scalar's decoded value ("" for anything else).
func (n *node) str() string {
	if n == nil || n.kind != 0 || len(n.raw) == 0 || n.raw[0] != '"' {
		return ""
	}
	var s string
	_ = json.Unmarshal(n.raw, &s)
	return s
}

// set replaces member k's value with raw (when present).
func (n *node) set(k string, raw string) {
	if n == nil || n.kind != '{' {
		return
	}
	for i, key := range n.keys {
		if key == k {
			n.vals[i] = &node{raw: []byte(raw)}
		}
	}
}
