package jsonschemaconv

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// refDocs resolves $refs of one JSON schema: the root document and its
// registry references (by reference name, and by name resolved against the
// root's $id, as Confluent's JsonSchema registers them).
type refDocs struct {
	root any
	base *url.URL
	docs map[string]any
}

const defaultBaseURI = "mem://input"

func newRefDocs(text string, deps map[string]string) (*refDocs, error) {
	root, err := parseOrdered([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	r := &refDocs{root: root, docs: map[string]any{}}
	base := defaultBaseURI
	if o, ok := root.(*object); ok {
		if id, ok := o.str("$id"); ok && id != "" {
			base = id
		}
	}
	if r.base, err = url.Parse(base); err != nil {
		return nil, fmt.Errorf("$id %q: %w", base, err)
	}
	r.docs[r.base.String()] = root
	for name, t := range deps {
		d, err := parseOrdered([]byte(t))
		if err != nil {
			return nil, fmt.Errorf("reference %s is not JSON: %w", name, err)
		}
		r.docs[name] = d
		if u, err := url.Parse(name); err == nil {
			r.docs[r.base.ResolveReference(u).String()] = d
		}
	}
	return r, nil
}

// resolve follows a $ref found in document doc.
func (r *refDocs) resolve(doc any, ref string) (any, any, error) {
	docPart, frag, _ := strings.Cut(ref, "#")
	target := doc
	if docPart != "" {
		u, err := url.Parse(docPart)
		if err != nil {
			return nil, nil, fmt.Errorf("$ref %q: %w", ref, err)
		}
		var ok bool
		if target, ok = r.docs[r.base.ResolveReference(u).String()]; !ok {
			if target, ok = r.docs[docPart]; !ok {
				return nil, nil, fmt.Errorf("$ref %q: not the schema itself nor one of its references", ref)
			}
		}
	}
	if frag != "" && !strings.HasPrefix(frag, "/") {
		return nil, nil, fmt.Errorf("$ref %q: only JSON pointer fragments are supported", ref)
	}
	v, ok := jsonPointer(target, frag)
	if !ok {
		return nil, nil, fmt.Errorf("$ref %q does not resolve", ref)
	}
	return target, v, nil
}

type toCtx struct {
	refs  *refDocs
	stack map[*object]bool
}

// connectSchemaOf is JsonSchemaData.toConnectSchema for a schema text and
// its resolved references.
func (dc dataConfig) connectSchemaOf(text string, deps map[string]string) (*schema.Schema, error) {
	refs, err := newRefDocs(text, deps)
	if err != nil {
		return nil, err
	}
	c := &toCtx{refs: refs, stack: map[*object]bool{}}
	return dc.toSchema(c, refs.root, refs.root, false)
}

func num(v any) (json.Number, bool) {
	n, ok := v.(json.Number)
	return n, ok
}

// kindOf says which everit schema class a JSON schema node loads as.
func kindOf(o *object) string {
	if _, ok := o.get("$ref"); ok {
		return "ref"
	}
	for _, k := range []string{"oneOf", "anyOf", "allOf"} {
		if _, ok := o.get(k); ok {
			return k
		}
	}
	t, hasType := o.get("type")
	if ts, ok := t.([]any); ok {
		if len(ts) == 1 {
			t = ts[0]
		} else {
			return "types"
		}
	}
	ts, _ := t.(string)
	if _, ok := o.get("enum"); ok && (!hasType || ts == "string") {
		return "enum"
	}
	if _, ok := o.get("const"); ok && !hasType {
		return "const"
	}
	if hasType {
		return ts
	}
	for _, k := range []string{"properties", "required", "additionalProperties", "minProperties", "maxProperties", "patternProperties"} {
		if _, ok := o.get(k); ok {
			return "object"
		}
	}
	for _, k := range []string{"items", "minItems", "maxItems", "uniqueItems", "contains"} {
		if _, ok := o.get(k); ok {
			return "array"
		}
	}
	for _, k := range []string{"minLength", "maxLength", "pattern"} {
		if _, ok := o.get(k); ok {
			return "string"
		}
	}
	for _, k := range []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"} {
		if _, ok := o.get(k); ok {
			return "number"
		}
	}
	return "empty"
}

func isNullSchema(c *toCtx, doc, node any) bool {
	for range 32 { // a $ref chain; a cycle is not null
		o, ok := node.(*object)
		if !ok {
			return false
		}
		ref, ok := o.str("$ref")
		if !ok {
			return kindOf(o) == "null"
		}
		var err error
		if doc, node, err = c.refs.resolve(doc, ref); err != nil {
			return false
		}
	}
	return false
}

// toSchema converts one JSON schema node found in document doc.
func (dc dataConfig) toSchema(c *toCtx, doc, node any, forceOptional bool) (*schema.Schema, error) {
	o, ok := node.(*object)
	if !ok {
		if b, isBool := node.(bool); isBool {
			return nil, fmt.Errorf("boolean schema %v has no Connect type (Connect variants are not supported)", b)
		}
		return nil, fmt.Errorf("a schema must be an object, not %T", node)
	}
	if c.stack[o] {
		return nil, errors.New("recursive schemas are not supported")
	}
	c.stack[o] = true
	defer delete(c.stack, o)

	var b *schema.Builder
	switch kind := kindOf(o); kind {
	case "ref":
		ref, _ := o.str("$ref")
		d, target, err := c.refs.resolve(doc, ref)
		if err != nil {
			return nil, err
		}
		return dc.toSchema(c, d, target, forceOptional)
	case "boolean":
		b = schema.NewBuilder(schema.TypeBoolean)
	case "integer", "number":
		ct, _ := o.str(propConnectType)
		switch ct {
		case "":
			if kind == "integer" {
				b = schema.NewBuilder(schema.TypeInt64)
			} else {
				b = schema.NewBuilder(schema.TypeFloat64)
			}
		case "int8", "int16", "int32", "int64", "float32", "float64", "bytes":
			t, _ := schema.ParseType(ct)
			b = schema.NewBuilder(t)
		default:
			return nil, fmt.Errorf("unsupported connect.type %q", ct)
		}
	case "string":
		if ct, _ := o.str(propConnectType); ct == "bytes" {
			b = schema.NewBuilder(schema.TypeBytes)
		} else {
			b = schema.NewBuilder(schema.TypeString)
		}
	case "enum", "const":
		var values []any
		if kind == "enum" {
			v, _ := o.get("enum")
			values, _ = v.([]any)
		} else {
			v, _ := o.get("const")
			values = []any{v}
		}
		b = schema.NewBuilder(schema.TypeString).Param(EnumParam, "")
		for _, v := range values {
			sym := nullMarker
			switch x := v.(type) {
			case nil:
			case string:
				sym = x
			case json.Number:
				sym = x.String()
			case bool:
				sym = strconv.FormatBool(x)
			default:
				sym = string(appendJSON(nil, x))
			}
			b.Param(EnumParam+"."+sym, sym)
		}
	case "oneOf", "anyOf", "types":
		var subs []any
		if kind == "types" {
			ts, _ := o.get("type")
			for _, t := range ts.([]any) {
				sub := newObject()
				for i, k := range o.keys {
					if k != "type" {
						sub.set(k, o.vals[i])
					}
				}
				subs = append(subs, sub.set("type", t))
			}
		} else {
			v, _ := o.get(kind)
			subs, _ = v.([]any)
		}
		if len(subs) == 0 {
			return nil, fmt.Errorf("%s without subschemas", kind)
		}
		if len(subs) == 1 {
			// flatten.singleton.unions (Confluent's default): the one
			// subschema, without this node's optionality
			return dc.toSchema(c, doc, subs[0], false)
		}
		if len(subs) == 2 {
			switch {
			case isNullSchema(c, doc, subs[0]) && !isNullSchema(c, doc, subs[1]):
				return dc.toSchema(c, doc, subs[1], true)
			case isNullSchema(c, doc, subs[1]) && !isNullSchema(c, doc, subs[0]):
				return dc.toSchema(c, doc, subs[0], true)
			}
		}
		b = schema.StructBuilder().Name(OneOfName)
		i := 0
		for _, sub := range subs {
			if isNullSchema(c, doc, sub) {
				b.Optional()
				continue
			}
			fs, err := dc.toSchema(c, doc, sub, true)
			if err != nil {
				return nil, fmt.Errorf("%s/%d: %w", kind, i, err)
			}
			b.Field(OneOfName+".field."+strconv.Itoa(i), fs)
			i++
		}
	case "array":
		items, ok := o.get("items")
		if _, isTuple := items.([]any); !ok || isTuple {
			return nil, errors.New("array schema did not specify the items type")
		}
		if ct, _ := o.str(propConnectType); ct == "map" {
			if entry, ok := items.(*object); ok && kindOf(entry) == "object" {
				props := entry.obj("properties")
				kv, _ := props.get("key")
				vv, _ := props.get("value")
				ks, err := dc.toSchema(c, doc, kv, false)
				if err != nil {
					return nil, fmt.Errorf("map key: %w", err)
				}
				vs, err := dc.toSchema(c, doc, vv, false)
				if err != nil {
					return nil, fmt.Errorf("map value: %w", err)
				}
				b = schema.NewBuilder(schema.TypeMap).MapOf(ks, vs)
				break
			}
		}
		is, err := dc.toSchema(c, doc, items, false)
		if err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		b = schema.NewBuilder(schema.TypeArray).Items(is)
	case "object":
		if ct, _ := o.str(propConnectType); ct == "map" {
			ap, _ := o.get("additionalProperties")
			if _, isObj := ap.(*object); !isObj {
				return nil, errors.New("map schema without an additionalProperties schema")
			}
			vs, err := dc.toSchema(c, doc, ap, false)
			if err != nil {
				return nil, fmt.Errorf("map value: %w", err)
			}
			b = schema.NewBuilder(schema.TypeMap).MapOf(schema.StringSchema, vs)
			break
		}
		b = schema.StructBuilder()
		props := o.obj("properties")
		var required []string
		if rv, ok := o.must("required").([]any); ok {
			for _, r := range rv {
				if s, ok := r.(string); ok {
					required = append(required, s)
				}
			}
		}
		// Fields in connect.index order; a property without one takes the
		// number of properties placed so far (JsonSchemaData's TreeMap).
		byIndex := map[int]string{}
		if props != nil {
			for i, k := range props.keys {
				idx := len(byIndex)
				if po, ok := props.vals[i].(*object); ok {
					if n, ok := num(po.must(propConnectIndex)); ok {
						if i, err := strconv.Atoi(n.String()); err == nil {
							idx = i
						}
					}
				}
				byIndex[idx] = k
			}
		}
		idxs := make([]int, 0, len(byIndex))
		for i := range byIndex {
			idxs = append(idxs, i)
		}
		sort.Ints(idxs)
		for _, i := range idxs {
			name := byIndex[i]
			opt := dc.optionalNonRequired && !contains(required, name)
			fs, err := dc.toSchema(c, doc, props.must(name), opt)
			if err != nil {
				return nil, fmt.Errorf("property %s: %w", name, err)
			}
			b.Field(name, fs)
		}
	case "allOf":
		return dc.allOfSchema(c, doc, o, forceOptional)
	case "null":
		return nil, errors.New("a null schema has no Connect type")
	case "empty":
		return nil, errors.New("a schema without a type has no Connect type (Connect variants are not supported)")
	default:
		return nil, fmt.Errorf("unsupported JSON schema type %q", kind)
	}

	if title, ok := o.str("title"); ok && b.Build().Name == "" {
		b.Name(title)
	}
	if n, ok := num(o.must(propConnectVersion)); ok {
		v, err := strconv.Atoi(n.String())
		if err != nil {
			return nil, fmt.Errorf("connect.version %s: %w", n, err)
		}
		b.Version(v)
	}
	if d, ok := o.str("description"); ok {
		b.Doc(d)
	}
	if params := o.obj(propConnectParameters); params != nil {
		for i, k := range params.keys {
			v, ok := params.vals[i].(string)
			if !ok {
				return nil, fmt.Errorf("connect.parameters %s is not a string", k)
			}
			b.Param(k, v)
		}
	}
	if forceOptional {
		b.Optional()
	}
	s := b.Build()
	if def, ok := o.get("default"); ok {
		v, err := dc.toValue(s, def, true)
		if err != nil {
			return nil, fmt.Errorf("default: %w", err)
		}
		s.Default = v
	}
	return s, nil
}

// allOfSchema is JsonSchemaData.allOfToConnectSchema: the properties of
// every object subschema (through $refs and nested allOfs) make one struct;
// without properties, a combined subschema wins, then a string or number
// beside a const or enum, then a referenced schema.
func (dc dataConfig) allOfSchema(c *toCtx, doc any, o *object, forceOptional bool) (*schema.Schema, error) {
	subsV, _ := o.must("allOf").([]any)
	// Keywords beside allOf are one more subschema, as everit loads them.
	rest := newObject()
	for i, k := range o.keys {
		switch k {
		case "allOf", "title", "description", "$schema", "$id", "definitions", "$defs", "default":
		default:
			rest.set(k, o.vals[i])
		}
	}
	if len(rest.keys) > 0 && kindOf(rest) != "empty" {
		subsV = append([]any{rest}, subsV...)
	}
	type prop struct {
		doc      any
		node     any
		required bool
	}
	var names []string
	props := map[string]prop{}
	var collect func(d, n any, depth int)
	collect = func(d, n any, depth int) {
		so, ok := n.(*object)
		if !ok || depth > 32 {
			return
		}
		switch kindOf(so) {
		case "ref":
			ref, _ := so.str("$ref")
			if rd, target, err := c.refs.resolve(d, ref); err == nil {
				collect(rd, target, depth+1)
			}
		case "allOf":
			subs, _ := so.must("allOf").([]any)
			for _, sub := range subs {
				collect(d, sub, depth+1)
			}
		case "object":
			var required []string
			if rv, ok := so.must("required").([]any); ok {
				for _, r := range rv {
					if s, ok := r.(string); ok {
						required = append(required, s)
					}
				}
			}
			if po := so.obj("properties"); po != nil {
				for i, k := range po.keys {
					if _, seen := props[k]; !seen {
						names = append(names, k)
					}
					props[k] = prop{d, po.vals[i], contains(required, k)}
				}
			}
		}
	}
	var combinedSub, constSub, enumSub, numberSub, stringSub, refSub any
	for _, sub := range subsV {
		collect(doc, sub, 0)
		so, ok := sub.(*object)
		if !ok {
			continue
		}
		switch kindOf(so) {
		case "oneOf", "anyOf", "allOf", "types":
			combinedSub = sub
		case "const":
			constSub = sub
		case "enum":
			enumSub = sub
		case "integer", "number":
			numberSub = sub
		case "string":
			stringSub = sub
		case "ref":
			refSub = sub
		}
	}
	if len(names) > 0 {
		b := schema.StructBuilder()
		for _, name := range names {
			p := props[name]
			fs, err := dc.toSchema(c, p.doc, p.node, dc.optionalNonRequired && !p.required)
			if err != nil {
				return nil, fmt.Errorf("property %s: %w", name, err)
			}
			b.Field(name, fs)
		}
		if forceOptional {
			b.Optional()
		}
		return b.Build(), nil
	}
	var pick any
	switch {
	case combinedSub != nil:
		pick = combinedSub
	case constSub != nil && stringSub != nil:
		pick = stringSub
	case constSub != nil && numberSub != nil:
		pick = numberSub
	case enumSub != nil && stringSub != nil:
		pick = enumSub
	case enumSub != nil && numberSub != nil:
		pick = numberSub
	case stringSub != nil && stringSub.(*object).must("format") != nil:
		pick = stringSub
		if numberSub != nil {
			pick = numberSub
		}
	case refSub != nil:
		pick = refSub
	default:
		return nil, errors.New("unsupported allOf: no properties, nor a combined, typed or referenced subschema to read it as")
	}
	return dc.toSchema(c, doc, pick, forceOptional)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// toValue is JsonSchemaData.toConnectData: a parsed JSON value as the Go
// value of Connect schema s. present says the value was there at all (a
// missing struct member is not, a JSON null is).
func (dc dataConfig) toValue(s *schema.Schema, v any, present bool) (any, error) {
	if !present || v == nil {
		if s.Default != nil {
			return s.Default, nil
		}
		if !present || s.Optional {
			return nil, nil
		}
		return nil, fmt.Errorf("invalid null value for required %s field", s.Type)
	}
	if schema.LogicalOf(s) != nil {
		return logicalValue(s, v)
	}
	bad := func() (any, error) { return nil, fmt.Errorf("%s value expected, found %s", s.Type, jsonKind(v)) }
	switch s.Type {
	case schema.TypeInt8, schema.TypeInt16, schema.TypeInt32, schema.TypeInt64:
		n, ok := num(v)
		if !ok {
			return bad()
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s value expected, found %s", s.Type, n)
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
		var f float64
		switch x := v.(type) {
		case json.Number:
			var err error
			if f, err = strconv.ParseFloat(x.String(), 64); err != nil {
				return nil, err
			}
		case string: // Jackson writes NaN and infinities as strings
			switch x {
			case "NaN", "Infinity", "-Infinity":
				f, _ = strconv.ParseFloat(x, 64)
			default:
				return bad()
			}
		default:
			return bad()
		}
		if s.Type == schema.TypeFloat32 {
			return float32(f), nil
		}
		return f, nil
	case schema.TypeBoolean:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		return x, nil
	case schema.TypeString:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		return x, nil
	case schema.TypeBytes:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		bs, err := base64.StdEncoding.DecodeString(x)
		if err != nil {
			return nil, fmt.Errorf("invalid base64 bytes: %w", err)
		}
		return bs, nil
	case schema.TypeArray:
		a, ok := v.([]any)
		if !ok {
			return bad()
		}
		out := make([]any, len(a))
		for i, e := range a {
			ev, err := dc.toValue(s.ValueSchema, e, true)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = ev
		}
		return out, nil
	case schema.TypeMap:
		out := map[any]any{}
		if s.KeySchema.Type == schema.TypeString && !s.KeySchema.Optional {
			o, ok := v.(*object)
			if !ok {
				return nil, fmt.Errorf("maps with string keys are JSON objects, found %s", jsonKind(v))
			}
			for i, k := range o.keys {
				ev, err := dc.toValue(s.ValueSchema, o.vals[i], true)
				if err != nil {
					return nil, fmt.Errorf("[%s]: %w", k, err)
				}
				out[k] = ev
			}
			return out, nil
		}
		a, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("maps with non-string keys are JSON arrays of {key, value}, found %s", jsonKind(v))
		}
		for _, e := range a {
			o, ok := e.(*object)
			if !ok || len(o.keys) != 2 {
				return nil, errors.New("invalid map entry: not an object of key and value")
			}
			kv, hasK := o.get("key")
			vv, hasV := o.get("value")
			k, err := dc.toValue(s.KeySchema, kv, hasK)
			if err != nil {
				return nil, fmt.Errorf("map key: %w", err)
			}
			ev, err := dc.toValue(s.ValueSchema, vv, hasV)
			if err != nil {
				return nil, fmt.Errorf("map value: %w", err)
			}
			out[k] = ev
		}
		return out, nil
	case schema.TypeStruct:
		if s.Name == OneOfName {
			return dc.unionValue(s, v)
		}
		o, ok := v.(*object)
		if !ok {
			return nil, fmt.Errorf("structs are JSON objects, found %s", jsonKind(v))
		}
		st := schema.NewStruct(s)
		for i, f := range s.Fields {
			fv, has := o.get(f.Name)
			x, err := dc.toValue(f.Schema, fv, has)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			st.Values[i] = x
		}
		return st, nil
	}
	return nil, fmt.Errorf("unsupported Connect type %s", s.Type)
}

// unionValue picks the union branch as JsonSchemaData does: the first
// primitive branch the value is an instance of, else the struct branch
// sharing most property names.
func (dc dataConfig) unionValue(s *schema.Schema, v any) (any, error) {
	best, bestN := -1, 0
	for i, f := range s.Fields {
		if instanceOf(f.Schema, v) {
			best = i
			break
		}
		if n := matchStruct(f.Schema, v); n > bestN {
			best, bestN = i, n
		}
	}
	if best < 0 {
		return nil, errors.New("did not find matching oneof field for data")
	}
	x, err := dc.toValue(s.Fields[best].Schema, v, true)
	if err != nil {
		return nil, err
	}
	st := schema.NewStruct(s)
	st.Values[best] = x
	return st, nil
}

func isIntegral(n json.Number) bool { return !strings.ContainsAny(n.String(), ".eE") }

func instanceOf(s *schema.Schema, v any) bool {
	switch s.Type {
	case schema.TypeInt8, schema.TypeInt16, schema.TypeInt32, schema.TypeInt64:
		n, ok := num(v)
		return ok && isIntegral(n)
	case schema.TypeFloat32, schema.TypeFloat64:
		_, ok := num(v)
		return ok
	case schema.TypeBoolean:
		_, ok := v.(bool)
		return ok
	case schema.TypeString:
		_, ok := v.(string)
		return ok
	case schema.TypeArray:
		_, ok := v.([]any)
		return ok
	case schema.TypeMap:
		_, isObj := v.(*object)
		_, isArr := v.([]any)
		return isObj || isArr
	}
	return false // bytes (never binary in JSON text) and structs
}

func matchStruct(s *schema.Schema, v any) int {
	o, ok := v.(*object)
	if s.Type != schema.TypeStruct || !ok {
		return 0
	}
	n := 0
	for _, f := range s.Fields {
		if fv, ok := o.get(f.Name); ok {
			n += 1 + matchStruct(f.Schema, fv)
		}
	}
	return n
}

func jsonKind(v any) string {
	switch v.(type) {
	case *object:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func logicalValue(s *schema.Schema, v any) (any, error) {
	switch s.Name {
	case schema.DecimalName:
		scale, err := schema.DecimalScale(s)
		if err != nil {
			return nil, err
		}
		switch x := v.(type) {
		case json.Number:
			d, err := decimal.NewFromString(x.String())
			if err != nil {
				return nil, fmt.Errorf("invalid Decimal %s: %w", x, err)
			}
			return d, nil
		case string:
			bs, err := base64.StdEncoding.DecodeString(x)
			if err != nil {
				return nil, fmt.Errorf("invalid bytes for Decimal field: %w", err)
			}
			return schema.DecimalFromUnscaled(bs, scale), nil
		}
		return nil, fmt.Errorf("invalid type for Decimal: %s", jsonKind(v))
	case schema.DateName, schema.TimeName, schema.TimestampName:
		n, ok := num(v)
		if !ok || !isIntegral(n) {
			return nil, fmt.Errorf("invalid type for %s: %s, an integer expected", s.Name, jsonKind(v))
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			return nil, err
		}
		switch s.Name {
		case schema.DateName:
			return schema.DaysToDate(int32(i)), nil
		case schema.TimeName:
			return schema.MillisToTime(int32(i)), nil
		}
		return time.UnixMilli(i).UTC(), nil
	}
	return nil, fmt.Errorf("unknown logical type %s", s.Name)
}
