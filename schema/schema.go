package schema

import (
	"fmt"
	"strconv"
)

// Type is a Connect schema type.
type Type uint8

// The Connect schema types.
const (
	TypeInt8 Type = iota + 1
	TypeInt16
	TypeInt32
	TypeInt64
	TypeFloat32
	TypeFloat64
	TypeBoolean
	TypeString
	TypeBytes
	TypeArray
	TypeMap
	TypeStruct
)

var typeNames = [...]string{
	TypeInt8: "int8", TypeInt16: "int16", TypeInt32: "int32", TypeInt64: "int64",
	TypeFloat32: "float32", TypeFloat64: "float64", TypeBoolean: "boolean", TypeString: "string",
	TypeBytes: "bytes", TypeArray: "array", TypeMap: "map", TypeStruct: "struct",
}

// String returns Connect's lower-case type name (Schema.Type.getName()).
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// ParseType maps a Connect type name (including JsonConverter's "float" and
// "double") to a Type.
func ParseType(name string) (Type, bool) {
	switch name {
	case "float":
		return TypeFloat32, true
	case "double":
		return TypeFloat64, true
	}
	for t, n := range typeNames {
		if n != "" && n == name {
			return Type(t), true
		}
	}
	return 0, false
}

// IsPrimitive reports whether t is neither array, map nor struct.
func (t Type) IsPrimitive() bool { return t >= TypeInt8 && t <= TypeBytes }

// Param is one schema parameter. Parameters keep their insertion order, as
// Connect's SchemaBuilder does, so serialized output is deterministic.
type Param struct {
	Key, Value string
}

// Schema describes a Connect value. Build it once, then share it by pointer
// and never modify it.
type Schema struct {
	Type       Type
	Optional   bool
	Default    any // nil means no default
	Name       string
	Version    int // 0 means unset
	Doc        string
	Parameters []Param

	// Fields holds a struct's members in order.
	Fields []Field
	// KeySchema is a map's key schema.
	KeySchema *Schema
	// ValueSchema is a map's value schema or an array's element schema.
	ValueSchema *Schema

	index map[string]int
}

// Field is one member of a struct schema.
type Field struct {
	Name   string
	Index  int
	Schema *Schema
}

// Param returns the value of parameter key and whether it is set.
func (s *Schema) Param(key string) (string, bool) {
	for _, p := range s.Parameters {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// Field returns the struct member called name.
func (s *Schema) Field(name string) (Field, bool) {
	if s.index != nil {
		i, ok := s.index[name]
		if !ok {
			return Field{}, false
		}
		return s.Fields[i], true
	}
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// String renders the schema briefly, for error messages.
func (s *Schema) String() string {
	if s == nil {
		return "<schemaless>"
	}
	if s.Name != "" {
		return fmt.Sprintf("%s{%s}", s.Type, s.Name)
	}
	return s.Type.String()
}

// Primitive schemas without names, as Connect's Schema.INT32_SCHEMA etc.
// They are shared; never modify them.
var (
	Int8Schema      = &Schema{Type: TypeInt8}
	Int16Schema     = &Schema{Type: TypeInt16}
	Int32Schema     = &Schema{Type: TypeInt32}
	Int64Schema     = &Schema{Type: TypeInt64}
	Float32Schema   = &Schema{Type: TypeFloat32}
	Float64Schema   = &Schema{Type: TypeFloat64}
	BooleanSchema   = &Schema{Type: TypeBoolean}
	StringSchema    = &Schema{Type: TypeString}
	BytesSchema     = &Schema{Type: TypeBytes}
	OptionalInt8    = &Schema{Type: TypeInt8, Optional: true}
	OptionalInt16   = &Schema{Type: TypeInt16, Optional: true}
	OptionalInt32   = &Schema{Type: TypeInt32, Optional: true}
	OptionalInt64   = &Schema{Type: TypeInt64, Optional: true}
	OptionalFloat32 = &Schema{Type: TypeFloat32, Optional: true}
	OptionalFloat64 = &Schema{Type: TypeFloat64, Optional: true}
	OptionalBoolean = &Schema{Type: TypeBoolean, Optional: true}
	OptionalString  = &Schema{Type: TypeString, Optional: true}
	OptionalBytes   = &Schema{Type: TypeBytes, Optional: true}
)

// NewStructSchema builds a struct schema with the given name and fields, in
// order. Field indexes are assigned here and a name index is built, so the
// result is ready to share. Duplicate field names panic: they are programming
// errors.
func NewStructSchema(name string, fields ...Field) *Schema {
	s := &Schema{Type: TypeStruct, Name: name}
	return s.withFields(fields)
}

func (s *Schema) withFields(fields []Field) *Schema {
	s.Fields = make([]Field, len(fields))
	s.index = make(map[string]int, len(fields))
	for i, f := range fields {
		if _, dup := s.index[f.Name]; dup {
			panic(fmt.Sprintf("schema %q: duplicate field %q", s.Name, f.Name))
		}
		f.Index = i
		s.Fields[i] = f
		s.index[f.Name] = i
	}
	return s
}

// Builder builds a Schema step by step, like Connect's SchemaBuilder.
type Builder struct {
	s      Schema
	fields []Field
}

// NewBuilder starts a schema of type t.
func NewBuilder(t Type) *Builder { return &Builder{s: Schema{Type: t}} }

// StructBuilder starts a struct schema.
func StructBuilder() *Builder { return NewBuilder(TypeStruct) }

// Optional marks the schema optional.
func (b *Builder) Optional() *Builder { b.s.Optional = true; return b }

// SetOptional sets whether the schema is optional.
func (b *Builder) SetOptional(o bool) *Builder { b.s.Optional = o; return b }

// Name sets the schema name.
func (b *Builder) Name(n string) *Builder { b.s.Name = n; return b }

// Version sets the schema version.
func (b *Builder) Version(v int) *Builder { b.s.Version = v; return b }

// Doc sets the documentation.
func (b *Builder) Doc(d string) *Builder { b.s.Doc = d; return b }

// Default sets the default value.
func (b *Builder) Default(v any) *Builder { b.s.Default = v; return b }

// Param adds a parameter (later values for the same key replace earlier ones
// in place).
func (b *Builder) Param(k, v string) *Builder {
	for i := range b.s.Parameters {
		if b.s.Parameters[i].Key == k {
			b.s.Parameters[i].Value = v
			return b
		}
	}
	b.s.Parameters = append(b.s.Parameters, Param{k, v})
	return b
}

// Field appends a struct member.
func (b *Builder) Field(name string, s *Schema) *Builder {
	b.fields = append(b.fields, Field{Name: name, Schema: s})
	return b
}

// Items sets an array's element schema.
func (b *Builder) Items(s *Schema) *Builder { b.s.ValueSchema = s; return b }

// MapOf sets a map's key and value schemas.
func (b *Builder) MapOf(k, v *Schema) *Builder { b.s.KeySchema, b.s.ValueSchema = k, v; return b }

// Build returns the finished, immutable schema.
func (b *Builder) Build() *Schema {
	s := b.s
	s.Parameters = append([]Param(nil), b.s.Parameters...)
	if s.Type == TypeStruct {
		return (&s).withFields(b.fields)
	}
	return &s
}

// ArrayOf returns a required array schema of items.
func ArrayOf(items *Schema) *Schema { return &Schema{Type: TypeArray, ValueSchema: items} }

// MapOf returns a required map schema.
func MapOf(k, v *Schema) *Schema { return &Schema{Type: TypeMap, KeySchema: k, ValueSchema: v} }

// WithOptional returns a copy of s with Optional set to o (s itself if it
// already matches). Struct field indexes are shared with s.
func (s *Schema) WithOptional(o bool) *Schema {
	if s.Optional == o {
		return s
	}
	c := *s
	c.Optional = o
	return &c
}
