package avroconv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

// avroType is an Avro schema kept with everything Confluent's converter
// reads or writes: custom properties in their original order (connect.*,
// logicalType, precision, scale), docs, defaults and aliases. hamba/avro
// sorts properties, so we keep our own model for the JSON text and use
// hamba/avro for validation, compatibility and the binary primitives.
type avroType struct {
	kind     string // null boolean int long float double bytes string record enum array map union fixed
	name, ns string // named types
	doc      string
	fields   []*avroField
	items    *avroType // array items, map values
	branches []*avroType
	symbols  []string
	enumDef  string
	hasEDef  bool
	size     int
	props    []prop
	aliases  []string
}

type avroField struct {
	name       string
	doc        string
	typ        *avroType
	hasDefault bool
	def        any // JSON value: nil, bool, json.Number, string, []any, *jobj
	order      string
	aliases    []string
	props      []prop
}

type prop struct {
	key string
	val any // JSON value
}

// jobj is a JSON object that keeps its member order.
type jobj struct {
	keys []string
	vals map[string]any
}

func (o *jobj) get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.vals[k]
	return v, ok
}

func (o *jobj) set(k string, v any) {
	if o.vals == nil {
		o.vals = map[string]any{}
	}
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (t *avroType) fullName() string {
	if t.ns == "" {
		return t.name
	}
	return t.ns + "." + t.name
}

func (t *avroType) isNamed() bool {
	return t.kind == "record" || t.kind == "enum" || t.kind == "fixed"
}

func (t *avroType) prop(k string) (any, bool) {
	for _, p := range t.props {
		if p.key == k {
			return p.val, true
		}
	}
	return nil, false
}

func (t *avroType) propString(k string) string {
	v, _ := t.prop(k)
	s, _ := v.(string)
	return s
}

func (t *avroType) propInt(k string) (int, bool) {
	v, ok := t.prop(k)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			f, err := x.Float64()
			if err != nil {
				return 0, false
			}
			return int(f), true
		}
		return int(n), true
	case int:
		return x, true
	}
	return 0, false
}

// addProp adds k unless present (Avro's JsonProperties.addProp keeps the
// first position of a key).
func (t *avroType) addProp(k string, v any) {
	for _, p := range t.props {
		if p.key == k {
			return
		}
	}
	t.props = append(t.props, prop{k, v})
}

func (t *avroType) logical() string { return t.propString("logicalType") }

// ---------- JSON writing (Avro's Schema.toString) ----------

type names struct {
	space string
	seen  map[string]bool
}

// marshalSchema renders t as compact JSON in Avro Java's member order.
func marshalSchema(t *avroType) []byte {
	n := &names{seen: map[string]bool{}}
	return n.write(nil, t)
}

func (n *names) write(b []byte, t *avroType) []byte {
	switch t.kind {
	case "record", "enum", "fixed":
		full := t.fullName()
		if n.seen[full] {
			if t.ns == n.space || (t.ns == "" && n.space == "") {
				return jsonconv.AppendString(b, t.name)
			}
			return jsonconv.AppendString(b, full)
		}
		n.seen[full] = true
		b = append(b, `{"type":`...)
		b = jsonconv.AppendString(b, t.kind)
		b = append(b, `,"name":`...)
		b = jsonconv.AppendString(b, t.name)
		if t.ns != n.space {
			b = append(b, `,"namespace":`...)
			b = jsonconv.AppendString(b, t.ns)
		}
		saved := n.space
		n.space = t.ns
		if t.doc != "" {
			b = append(b, `,"doc":`...)
			b = jsonconv.AppendString(b, t.doc)
		}
		switch t.kind {
		case "record":
			b = append(b, `,"fields":[`...)
			for i, f := range t.fields {
				if i > 0 {
					b = append(b, ',')
				}
				b = n.writeField(b, f)
			}
			b = append(b, ']')
		case "enum":
			b = append(b, `,"symbols":[`...)
			for i, s := range t.symbols {
				if i > 0 {
					b = append(b, ',')
				}
				b = jsonconv.AppendString(b, s)
			}
			b = append(b, ']')
			if t.hasEDef {
				b = append(b, `,"default":`...)
				b = jsonconv.AppendString(b, t.enumDef)
			}
		case "fixed":
			b = append(b, `,"size":`...)
			b = strconv.AppendInt(b, int64(t.size), 10)
		}
		b = writeProps(b, t.props)
		b = writeAliases(b, t.aliases)
		n.space = saved
		return append(b, '}')
	case "array":
		b = append(b, `{"type":"array","items":`...)
		b = n.write(b, t.items)
		b = writeProps(b, t.props)
		return append(b, '}')
	case "map":
		b = append(b, `{"type":"map","values":`...)
		b = n.write(b, t.items)
		b = writeProps(b, t.props)
		return append(b, '}')
	case "union":
		b = append(b, '[')
		for i, br := range t.branches {
			if i > 0 {
				b = append(b, ',')
			}
			b = n.write(b, br)
		}
		return append(b, ']')
	}
	if len(t.props) == 0 {
		return jsonconv.AppendString(b, t.kind)
	}
	b = append(b, `{"type":`...)
	b = jsonconv.AppendString(b, t.kind)
	b = writeProps(b, t.props)
	return append(b, '}')
}

func (n *names) writeField(b []byte, f *avroField) []byte {
	b = append(b, `{"name":`...)
	b = jsonconv.AppendString(b, f.name)
	b = append(b, `,"type":`...)
	b = n.write(b, f.typ)
	if f.doc != "" {
		b = append(b, `,"doc":`...)
		b = jsonconv.AppendString(b, f.doc)
	}
	if f.hasDefault {
		b = append(b, `,"default":`...)
		b = appendJSON(b, f.def)
	}
	if f.order != "" && f.order != "ascending" {
		b = append(b, `,"order":`...)
		b = jsonconv.AppendString(b, f.order)
	}
	b = writeAliases(b, f.aliases)
	b = writeProps(b, f.props)
	return append(b, '}')
}

func writeProps(b []byte, ps []prop) []byte {
	for _, p := range ps {
		b = append(b, ',')
		b = jsonconv.AppendString(b, p.key)
		b = append(b, ':')
		b = appendJSON(b, p.val)
	}
	return b
}

func writeAliases(b []byte, as []string) []byte {
	if len(as) == 0 {
		return b
	}
	b = append(b, `,"aliases":[`...)
	for i, a := range as {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonconv.AppendString(b, a)
	}
	return append(b, ']')
}

// javaFloat/javaDouble mark numbers that Jackson writes as Java floats.
type javaDouble float64
type javaFloat float32

// appendJSON writes a JSON value as Jackson does.
func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case json.Number:
		return append(b, x...)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case javaDouble:
		return jsonconv.AppendJavaDouble(b, float64(x), 64)
	case javaFloat:
		return jsonconv.AppendJavaDouble(b, float64(x), 32)
	case string:
		return jsonconv.AppendString(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	case *jobj:
		b = append(b, '{')
		for i, k := range x.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonconv.AppendString(b, k)
			b = append(b, ':')
			b = appendJSON(b, x.vals[k])
		}
		return append(b, '}')
	}
	panic(fmt.Sprintf("avroconv: unexpected JSON value %T", v))
}

// ---------- JSON parsing ----------

// parseJSON reads one JSON document keeping object member order; numbers
// are json.Number.
func parseJSON(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := readJSON(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

func readJSON(d *json.Decoder) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch x := tok.(type) {
	case json.Delim:
		switch x {
		case '{':
			o := &jobj{vals: map[string]any{}}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := readJSON(d)
				if err != nil {
					return nil, err
				}
				o.set(k, v)
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			a := []any{}
			for d.More() {
				v, err := readJSON(d)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return a, nil
		}
		return nil, fmt.Errorf("unexpected %v", x)
	default:
		return x, nil // nil, bool, json.Number, string
	}
}

var primitives = map[string]bool{"null": true, "boolean": true, "int": true, "long": true, "float": true, "double": true, "bytes": true, "string": true}

// parseSchema parses Avro schema JSON into our model. Named types referenced
// by name resolve to the same *avroType.
func parseSchema(text string) (*avroType, error) {
	v, err := parseJSON([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("invalid Avro schema JSON: %w", err)
	}
	p := &schemaParser{named: map[string]*avroType{}}
	return p.parse(v, "")
}

type schemaParser struct {
	named map[string]*avroType
}

func splitFull(name, space string) (simple, ns string) {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:], name[:i]
	}
	return name, space
}

func (p *schemaParser) parse(v any, space string) (*avroType, error) {
	switch x := v.(type) {
	case string:
		if primitives[x] {
			return &avroType{kind: x}, nil
		}
		s, ns := splitFull(x, space)
		full := s
		if ns != "" {
			full = ns + "." + s
		}
		if t, ok := p.named[full]; ok {
			return t, nil
		}
		if t, ok := p.named[x]; ok {
			return t, nil
		}
		return nil, fmt.Errorf("unknown Avro type %q", x)
	case []any:
		u := &avroType{kind: "union"}
		for _, e := range x {
			b, err := p.parse(e, space)
			if err != nil {
				return nil, err
			}
			u.branches = append(u.branches, b)
		}
		return u, nil
	case *jobj:
		tv, _ := x.get("type")
		kind, ok := tv.(string)
		if !ok {
			// {"type": {...}} or {"type": [...]} wraps another schema
			if tv == nil {
				return nil, fmt.Errorf("Avro schema object without \"type\"")
			}
			return p.parse(tv, space)
		}
		t := &avroType{kind: kind}
		reserved := map[string]bool{"type": true}
		switch kind {
		case "record", "error", "enum", "fixed":
			if kind == "error" {
				t.kind = "record"
			}
			nv, _ := x.get("name")
			name, _ := nv.(string)
			if name == "" {
				return nil, fmt.Errorf("Avro %s without a name", kind)
			}
			t.name, t.ns = splitFull(name, space)
			if nsv, ok := x.get("namespace"); ok && !strings.Contains(name, ".") {
				t.ns, _ = nsv.(string)
			}
			if dv, ok := x.get("doc"); ok {
				t.doc, _ = dv.(string)
			}
			if av, ok := x.get("aliases"); ok {
				t.aliases = toStrings(av)
			}
			p.named[t.fullName()] = t
			for _, k := range []string{"name", "namespace", "doc", "aliases"} {
				reserved[k] = true
			}
			switch t.kind {
			case "record":
				reserved["fields"] = true
				fv, _ := x.get("fields")
				fa, ok := fv.([]any)
				if !ok {
					return nil, fmt.Errorf("record %s: \"fields\" must be an array", t.fullName())
				}
				for _, fe := range fa {
					fo, ok := fe.(*jobj)
					if !ok {
						return nil, fmt.Errorf("record %s: field must be an object", t.fullName())
					}
					f := &avroField{}
					fnv, _ := fo.get("name")
					f.name, _ = fnv.(string)
					ftv, ok := fo.get("type")
					if !ok {
						return nil, fmt.Errorf("record %s: field %q has no type", t.fullName(), f.name)
					}
					ft, err := p.parse(ftv, t.ns)
					if err != nil {
						return nil, fmt.Errorf("record %s field %q: %w", t.fullName(), f.name, err)
					}
					f.typ = ft
					fres := map[string]bool{"name": true, "type": true, "doc": true, "default": true, "order": true, "aliases": true}
					if dv, ok := fo.get("doc"); ok {
						f.doc, _ = dv.(string)
					}
					if dv, ok := fo.get("default"); ok {
						f.hasDefault, f.def = true, dv
					}
					if ov, ok := fo.get("order"); ok {
						f.order, _ = ov.(string)
					}
					if av, ok := fo.get("aliases"); ok {
						f.aliases = toStrings(av)
					}
					for _, k := range fo.keys {
						if !fres[k] {
							f.props = append(f.props, prop{k, fo.vals[k]})
						}
					}
					t.fields = append(t.fields, f)
				}
			case "enum":
				reserved["symbols"], reserved["default"] = true, true
				sv, _ := x.get("symbols")
				t.symbols = toStrings(sv)
				if dv, ok := x.get("default"); ok {
					t.enumDef, _ = dv.(string)
					t.hasEDef = true
				}
			case "fixed":
				reserved["size"] = true
				sv, _ := x.get("size")
				n, _ := sv.(json.Number)
				sz, err := n.Int64()
				if err != nil || sz < 0 {
					return nil, fmt.Errorf("fixed %s: bad size", t.fullName())
				}
				t.size = int(sz)
			}
		case "array":
			reserved["items"] = true
			iv, ok := x.get("items")
			if !ok {
				return nil, fmt.Errorf("array without items")
			}
			it, err := p.parse(iv, space)
			if err != nil {
				return nil, err
			}
			t.items = it
		case "map":
			reserved["values"] = true
			vv, ok := x.get("values")
			if !ok {
				return nil, fmt.Errorf("map without values")
			}
			vt, err := p.parse(vv, space)
			if err != nil {
				return nil, err
			}
			t.items = vt
		default:
			if !primitives[kind] {
				// a reference written as {"type":"Name"}
				return p.parse(kind, space)
			}
		}
		for _, k := range x.keys {
			if !reserved[k] {
				t.props = append(t.props, prop{k, x.vals[k]})
			}
		}
		return t, nil
	}
	return nil, fmt.Errorf("invalid Avro schema element %T", v)
}

func toStrings(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, e := range a {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
