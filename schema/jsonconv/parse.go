package jsonconv

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// parser is a small strict JSON reader over one message (RFC 8259; UTF-8
// validated, as Jackson does).
type parser struct {
	b     []byte
	i     int
	depth int
}

const maxDepth = 10000

var errSyntax = errors.New("invalid JSON")

func (p *parser) syntax(what string) error {
	if p.i >= len(p.b) {
		return fmt.Errorf("%w: unexpected end of input, expected %s", errSyntax, what)
	}
	return fmt.Errorf("%w at offset %d: unexpected %q, expected %s", errSyntax, p.i, p.b[p.i], what)
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

// next skips whitespace and returns the next byte (0 at the end).
func (p *parser) next() byte {
	p.ws()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *parser) expect(c byte) error {
	if p.next() != c {
		return p.syntax(strconv.QuoteRune(rune(c)))
	}
	p.i++
	return nil
}

func (p *parser) literal(word string) error {
	if len(p.b)-p.i >= len(word) && string(p.b[p.i:p.i+len(word)]) == word {
		p.i += len(word)
		return nil
	}
	return p.syntax(word)
}

// open consumes the opening bracket of an object or array (the next byte)
// and counts its nesting depth. It reports whether an element follows; an
// empty container is consumed whole, closing bracket end included.
func (p *parser) open(end byte) (bool, error) {
	if p.depth++; p.depth > maxDepth {
		return false, fmt.Errorf("%w: nested too deeply", errSyntax)
	}
	p.i++
	if p.next() == end {
		p.i++
		p.depth--
		return false, nil
	}
	return true, nil
}

// more reads what follows an element of a container that open entered: true
// after ',', false after the closing bracket end.
func (p *parser) more(end byte) (bool, error) {
	switch p.next() {
	case ',':
		p.i++
		return true, nil
	case end:
		p.i++
		p.depth--
		return false, nil
	}
	if end == '}' {
		return false, p.syntax("',' or '}'")
	}
	return false, p.syntax("',' or ']'")
}

// key reads an object member's name and the ':' after it.
func (p *parser) key() ([]byte, error) {
	k, err := p.stringBytes()
	if err != nil {
		return nil, err
	}
	return k, p.expect(':')
}

// end checks that only whitespace remains.
func (p *parser) end() error {
	p.ws()
	if p.i != len(p.b) {
		return p.syntax("end of input")
	}
	return nil
}

// stringBytes reads a JSON string and returns its content. Without escapes it
// is a subslice of the input (no copy).
func (p *parser) stringBytes() ([]byte, error) {
	if p.next() != '"' {
		return nil, p.syntax("string")
	}
	p.i++
	start := p.i
	ascii := true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !ascii && !utf8.Valid(s) {
				return nil, fmt.Errorf("%w: invalid UTF-8 in string at offset %d", errSyntax, start)
			}
			return s, nil
		case c == '\\':
			return p.unescape(start)
		case c < 0x20:
			return nil, fmt.Errorf("%w at offset %d: control character in string", errSyntax, p.i)
		case c >= utf8.RuneSelf:
			ascii = false
		}
		p.i++
	}
	return nil, p.syntax(`'"'`)
}

func (p *parser) unescape(start int) ([]byte, error) {
	out := make([]byte, 0, p.i-start+16)
	out = append(out, p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(out) {
				return nil, fmt.Errorf("%w: invalid UTF-8 in string at offset %d", errSyntax, start)
			}
			return out, nil
		case c < 0x20:
			return nil, fmt.Errorf("%w at offset %d: control character in string", errSyntax, p.i)
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.b) {
			break
		}
		e := p.b[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return nil, fmt.Errorf("%w at offset %d: bad \\u escape", errSyntax, p.i)
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					var ok2 bool
					if r2, ok2 = p.hex4(); !ok2 {
						return nil, fmt.Errorf("%w at offset %d: bad \\u escape", errSyntax, p.i)
					}
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
					} else {
						p.i = save
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, fmt.Errorf("%w at offset %d: bad escape \\%c", errSyntax, p.i-1, e)
		}
	}
	return nil, p.syntax(`'"'`)
}

func (p *parser) hex4() (rune, bool) {
	if len(p.b)-p.i < 4 {
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		c := p.b[p.i+k]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// number reads a JSON number and returns its text and whether it is written
// as an integer (no fraction, no exponent).
func (p *parser) number() ([]byte, bool, error) {
	p.ws()
	start := p.i
	b := p.b
	i := p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		p.i = i
		return nil, false, p.syntax("number")
	}
	integral := true
	if i < len(b) && b[i] == '.' {
		integral = false
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			p.i = i
			return nil, false, p.syntax("digit")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		integral = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			p.i = i
			return nil, false, p.syntax("digit")
		}
	}
	p.i = i
	return b[start:i], integral, nil
}

// parseInt parses an integer literal (already validated by number).
func parseInt(s []byte) (int64, bool) {
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg = true
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	var u uint64 // 19 digits always fit in a uint64
	for _, c := range s {
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// skip reads over one JSON value, validating it.
func (p *parser) skip() error {
	switch p.next() {
	case '{':
		more, err := p.open('}')
		for more && err == nil {
			if _, err = p.key(); err != nil {
				return err
			}
			if err = p.skip(); err != nil {
				return err
			}
			more, err = p.more('}')
		}
		return err
	case '[':
		more, err := p.open(']')
		for more && err == nil {
			if err = p.skip(); err != nil {
				return err
			}
			more, err = p.more(']')
		}
		return err
	case '"':
		_, err := p.stringBytes()
		return err
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	default:
		_, _, err := p.number()
		return err
	}
}

// any reads a schemaless value: object → map[string]any, array → []any,
// integer → int64 (float64 beyond int64), fraction → float64, string,
// boolean, null.
func (p *parser) any() (any, error) {
	switch p.next() {
	case '{':
		m := map[string]any{}
		more, err := p.open('}')
		for more && err == nil {
			var k []byte
			var v any
			if k, err = p.key(); err != nil {
				return nil, err
			}
			if v, err = p.any(); err != nil {
				return nil, err
			}
			m[string(k)] = v
			more, err = p.more('}')
		}
		if err != nil {
			return nil, err
		}
		return m, nil
	case '[':
		a := []any{}
		more, err := p.open(']')
		for more && err == nil {
			var v any
			if v, err = p.any(); err != nil {
				return nil, err
			}
			a = append(a, v)
			more, err = p.more(']')
		}
		if err != nil {
			return nil, err
		}
		return a, nil
	case '"':
		s, err := p.stringBytes()
		if err != nil {
			return nil, err
		}
		return string(s), nil
	case 't':
		return true, p.literal("true")
	case 'f':
		return false, p.literal("false")
	case 'n':
		return nil, p.literal("null")
	default:
		num, integral, err := p.number()
		if err != nil {
			return nil, err
		}
		if integral {
			if n, ok := parseInt(num); ok {
				return n, nil
			}
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, fmt.Errorf("%w: number %s: %v", errSyntax, num, err)
		}
		if f == 0 {
			f = 0 // -0.0 reads as 0.0: Kafka parses through BigDecimal, which has no negative zero
		}
		return f, nil
	}
}
