package protoconv

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tributary-cdc/tributary/schema"
)

// Connect schema parameters Confluent's ProtobufData reads and writes.
const (
	paramNamespace = "io.confluent.connect.protobuf"
	// ParamEnum names the enum type of an enum field; ParamEnum+"."+SYMBOL
	// gives each symbol's number.
	ParamEnum = paramNamespace + ".Enum"
	// ParamUnionPrefix prefixes the name of a struct that stands for a oneof.
	ParamUnionPrefix = paramNamespace + ".Union."
	// ParamTag is the field number of a field read from Protobuf.
	ParamTag = paramNamespace + ".Tag"
	// ParamType is the Protobuf scalar type when it is not the default
	// one for the Connect type (sint32, fixed64, uint32, …).
	ParamType = paramNamespace + ".Type"

	connectTypeParam = "connect.type"
	defaultName      = "ConnectDefault"
	mapEntrySuffix   = "Entry"
)

// Options are Confluent's ProtobufDataConfig switches this package honours.
type Options struct {
	// ScrubInvalidNames (scrub.invalid.names) replaces characters that are
	// invalid in Protobuf names.
	ScrubInvalidNames bool
	// OptionalForNullables (optional.for.nullables) writes optional Connect
	// fields with proto3's optional label and reads the label back as
	// optional.
	OptionalForNullables bool
	// WrapperForNullables (wrapper.for.nullables) writes optional primitive
	// fields as google.protobuf wrapper messages and reads wrappers as
	// optional primitives.
	WrapperForNullables bool
	// EnhancedSchemaSupport (enhanced.protobuf.schema.support) names read
	// Connect structs and enums by their full Protobuf name (package kept).
	EnhancedSchemaSupport bool
	// IntForEnums (int.for.enums) reads enums as int32.
	IntForEnums bool
	// GenerateIndexForUnions (generate.index.for.unions, default true)
	// suffixes a oneof's Connect field with _<index>.
	GenerateIndexForUnions bool
	// FlattenUnions (flatten.unions) reads oneof members as plain fields.
	FlattenUnions bool
	// GenerateStructForNulls (generate.struct.for.nulls) reads an unset
	// message field as a struct of defaults instead of null.
	GenerateStructForNulls bool
	// WrapperForRawPrimitives (wrapper.for.raw.primitives, default true)
	// reads a root wrapper message as its primitive.
	WrapperForRawPrimitives bool
	// OptionalForProto2 (optional.for.proto2, default true) treats proto2
	// optional fields as optional with optional.for.nullables.
	OptionalForProto2 bool
}

// DefaultOptions are Confluent's defaults.
func DefaultOptions() Options {
	return Options{GenerateIndexForUnions: true, WrapperForRawPrimitives: true, OptionalForProto2: true}
}

// protoFile is the .proto file derived from a Connect schema.
type protoFile struct {
	pkg     string
	imports []string
	root    *protoMessage
}

type protoMessage struct {
	name     string
	fields   []*protoField
	oneofs   []*protoOneof
	nested   []*protoMessage
	enums    []*protoEnum
	children map[string]bool
}

type protoField struct {
	label  string // "", "repeated", "optional"
	typ    string
	name   string
	number int
	params []schema.Param // (confluent.field_meta).params
}

type protoOneof struct {
	name   string
	fields []*protoField
}

type protoEnum struct {
	name   string
	values []schema.Param // symbol → number
}

type fromConnect struct {
	opts     Options
	nameIdx  int
	imports  []string
	haveImps map[string]bool
}

// ProtoSchemaOf derives the .proto text Confluent's ProtobufData generates
// for a Connect struct schema (fromConnectSchema), and the full name of the
// message that stands for it.
//
// A primitive root schema is, as in ProtobufData.descriptorFromConnectSchema,
// the google.protobuf wrapper of its type: the text is
// google/protobuf/wrappers.proto and the message e.g.
// google.protobuf.StringValue (int8 and int16 become Int32Value).
func ProtoSchemaOf(s *schema.Schema, opts Options) (text string, message string, err error) {
	if s != nil && s.Type.IsPrimitive() {
		w, err := rootWrapper(s)
		if err != nil {
			return "", "", err
		}
		text, _ := KnownSource(wrappersLocation)
		return text, w, nil
	}
	f, err := fileOf(s, opts)
	if err != nil {
		return "", "", err
	}
	message = f.root.name
	if f.pkg != "" {
		message = f.pkg + "." + message
	}
	return f.String(), message, nil
}

// rootWrapper is the wrapper message of a primitive root schema.
func rootWrapper(s *schema.Schema) (string, error) {
	if schema.LogicalOf(s) != nil {
		return "", fmt.Errorf("ProtobufConverter: a root %s schema is not supported (only structs and plain primitives)", s.Name)
	}
	switch s.Type {
	case schema.TypeInt8, schema.TypeInt16, schema.TypeInt32:
		return "google.protobuf.Int32Value", nil
	case schema.TypeInt64:
		return "google.protobuf.Int64Value", nil
	case schema.TypeFloat32:
		return "google.protobuf.FloatValue", nil
	case schema.TypeFloat64:
		return "google.protobuf.DoubleValue", nil
	case schema.TypeBoolean:
		return "google.protobuf.BoolValue", nil
	case schema.TypeString:
		return "google.protobuf.StringValue", nil
	case schema.TypeBytes:
		return "google.protobuf.BytesValue", nil
	}
	return "", fmt.Errorf("ProtobufConverter: unsupported root schema of type %s", s.Type)
}

func fileOf(s *schema.Schema, opts Options) (*protoFile, error) {
	if s == nil {
		return nil, fmt.Errorf("ProtobufConverter needs a schema (schemaless values are not supported)")
	}
	if s.Type != schema.TypeStruct {
		return nil, fmt.Errorf("ProtobufConverter: unsupported root schema of type %s (as Confluent's: structs and primitives only)", s.Type)
	}
	c := &fromConnect{opts: opts, haveImps: map[string]bool{}}
	ns, name := c.splitName(c.nameOrDefault(s.Name))
	root, err := c.message(name, s)
	if err != nil {
		return nil, err
	}
	// confluent/meta.proto first when (confluent.field_meta) is used, as
	// Confluent's own schemas list it; the others in order of first use.
	imps := c.imports
	if i := slices.Index(imps, metaLocation); i > 0 {
		imps = append(append([]string{metaLocation}, imps[:i]...), imps[i+1:]...)
	}
	return &protoFile{pkg: ns, imports: imps, root: root}, nil
}

func (c *fromConnect) addImport(p string) {
	if !c.haveImps[p] {
		c.haveImps[p] = true
		c.imports = append(c.imports, p)
	}
}

func (c *fromConnect) nameOrDefault(n string) string {
	if n != "" {
		return n
	}
	c.nameIdx++
	return defaultName + strconv.Itoa(c.nameIdx)
}

func (c *fromConnect) splitName(full string) (ns, name string) {
	parts := strings.Split(full, ".")
	for i := range parts {
		parts[i] = c.scrub(parts[i])
	}
	if len(parts) <= 1 {
		return "", parts[0]
	}
	return strings.Join(parts[:len(parts)-1], "."), parts[len(parts)-1]
}

func (c *fromConnect) unqualified(n string) string {
	full := c.nameOrDefault(n)
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		full = full[i+1:]
	}
	return c.scrub(full)
}

func (c *fromConnect) scrub(n string) string {
	if !c.opts.ScrubInvalidNames {
		return n
	}
	return ScrubName(n)
}

// ScrubName is Confluent's ProtobufData.doScrubName: names with characters
// other than [A-Za-z0-9_] or starting with a digit or '_' are URL-encoded,
// prefixed with x when that starts with a digit or '_', and every remaining
// invalid character becomes '_'.
func ScrubName(name string) string {
	if name == "" {
		return name
	}
	ok := name[0] != '_' && (name[0] < '0' || name[0] > '9')
	for i := 0; ok && i < len(name); i++ {
		ok = validNameChar(name[i])
	}
	if ok {
		return name
	}
	enc := strings.NewReplacer("~", "%7E", "%2A", "*").Replace(url.QueryEscape(name))
	if (enc[0] >= '0' && enc[0] <= '9') || enc[0] == '_' {
		enc = "x" + enc
	}
	b := []byte(enc)
	for i := range b {
		if !validNameChar(b[i]) {
			b[i] = '_'
		}
	}
	return string(b)
}

func validNameChar(ch byte) bool {
	return ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_'
}

func tagOf(s *schema.Schema) (int, bool) {
	v, ok := s.Param(ParamTag)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n > 0
}

// message is messageDefinitionFromConnectSchema: fields numbered from 1 in
// order unless a field carries its read tag.
func (c *fromConnect) message(name string, s *schema.Schema) (*protoMessage, error) {
	m := &protoMessage{name: name, children: map[string]bool{}}
	idx := 1
	for _, f := range s.Fields {
		tag, ok := tagOf(f.Schema)
		if !ok {
			tag = idx
			idx++
		}
		if isUnion(f.Schema) {
			// oneofDefinitionFromConnectSchema: the union struct's fields
			// are the oneof's members, numbered by their read tags (a
			// member without one takes the next free number here; Confluent
			// would write 0, which no parser accepts)
			o := &protoOneof{name: c.unqualified(strings.TrimPrefix(f.Schema.Name, ParamUnionPrefix))}
			for _, mf := range f.Schema.Fields {
				mtag, ok := tagOf(mf.Schema)
				if !ok {
					mtag = idx
					idx++
				}
				pf, err := c.field(m, mf.Schema, c.scrub(mf.Name), mtag, true)
				if err != nil {
					return nil, fmt.Errorf("field %s.%s: %w", f.Name, mf.Name, err)
				}
				o.fields = append(o.fields, pf)
			}
			m.oneofs = append(m.oneofs, o)
			continue
		}
		pf, err := c.field(m, f.Schema, c.scrub(f.Name), tag, false)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		m.fields = append(m.fields, pf)
	}
	return m, nil
}

// isUnion reports a Connect struct that stands for a oneof (named
// io.confluent.connect.protobuf.Union.<oneof>, as ProtobufData reads them).
func isUnion(s *schema.Schema) bool {
	return s.Type == schema.TypeStruct && strings.HasPrefix(s.Name, ParamUnionPrefix)
}

func (c *fromConnect) field(m *protoMessage, fs *schema.Schema, name string, tag int, oneofMember bool) (*protoField, error) {
	label := c.label(fs)
	if oneofMember {
		if label == "repeated" {
			return nil, fmt.Errorf("a oneof member cannot be an array or a map")
		}
		label = ""
	}
	if fs.Type == schema.TypeArray {
		fs = fs.ValueSchema
		if fs == nil {
			return nil, fmt.Errorf("array schema without an element schema")
		}
		if fs.Type == schema.TypeArray {
			return nil, fmt.Errorf("array cannot be nested (Protobuf has no repeated repeated)")
		}
	}
	pf := &protoField{label: label, name: name, number: tag}
	typ, err := c.dataType(fs, name, &pf.params, oneofMember)
	if err != nil {
		return nil, err
	}
	pf.typ = typ
	switch {
	case fs.Type == schema.TypeStruct:
		if isUnion(fs) {
			return nil, fmt.Errorf("a union struct (%s) is only supported as a field of a struct", fs.Name)
		}
		if typ != m.name && !m.children[typ] {
			m.children[typ] = true
			nm, err := c.message(typ, fs)
			if err != nil {
				return nil, err
			}
			m.nested = append(m.nested, nm)
		}
	case fs.Type == schema.TypeMap:
		entry := &protoMessage{name: typ, children: map[string]bool{}}
		k, err := c.field(entry, fs.KeySchema, "key", 1, false)
		if err != nil {
			return nil, fmt.Errorf("map key: %w", err)
		}
		v, err := c.field(entry, fs.ValueSchema, "value", 2, false)
		if err != nil {
			return nil, fmt.Errorf("map value: %w", err)
		}
		entry.fields = []*protoField{k, v}
		m.nested = append(m.nested, entry)
	case isEnum(fs):
		en := c.unqualified(fs.Name)
		found := false
		for _, e := range m.enums {
			found = found || e.name == en
		}
		if !found {
			e := &protoEnum{name: en}
			for _, p := range fs.Parameters {
				if sym, ok := strings.CutPrefix(p.Key, ParamEnum+"."); ok {
					e.values = append(e.values, schema.Param{Key: sym, Value: p.Value})
				}
			}
			m.enums = append(m.enums, e)
		}
	default:
		if imp := importOf(typ); imp != "" {
			c.addImport(imp)
		}
	}
	if len(pf.params) > 0 {
		c.addImport(metaLocation)
	}
	return pf, nil
}

func isEnum(s *schema.Schema) bool {
	if s.Type != schema.TypeString && s.Type != schema.TypeInt32 {
		return false
	}
	_, ok := s.Param(ParamEnum)
	return ok
}

func importOf(typ string) string {
	switch typ {
	case decimalType:
		return decimalLocation
	case dateType:
		return dateLocation
	case timeType:
		return timeLocation
	case timestampType:
		return timestampLocation
	}
	if strings.HasPrefix(typ, "google.protobuf.") && strings.HasSuffix(typ, "Value") {
		return wrappersLocation
	}
	return ""
}

func (c *fromConnect) label(fs *schema.Schema) string {
	switch {
	case fs.Type == schema.TypeArray || fs.Type == schema.TypeMap:
		return "repeated"
	case c.opts.OptionalForNullables && fs.Optional:
		return "optional"
	}
	return ""
}

// dataType is dataTypeFromConnectSchema.
func (c *fromConnect) dataType(s *schema.Schema, fieldName string, params *[]schema.Param, oneofMember bool) (string, error) {
	// a oneof member is nullable through its oneof: never wrapped
	wrap := c.opts.WrapperForNullables && s.Optional && !oneofMember
	if s.Name != "" {
		switch {
		case s.Name == schema.DecimalName && s.Type == schema.TypeBytes:
			if p, ok := s.Param(schema.DecimalPrecisionParam); ok {
				*params = append(*params, schema.Param{Key: "precision", Value: p})
			}
			if sc, ok := s.Param(schema.DecimalScaleParam); ok {
				*params = append(*params, schema.Param{Key: "scale", Value: sc})
			}
			return decimalType, nil
		case s.Name == schema.DateName && s.Type == schema.TypeInt32:
			return dateType, nil
		case s.Name == schema.TimeName && s.Type == schema.TypeInt32:
			return timeType, nil
		case s.Name == schema.TimestampName && s.Type == schema.TypeInt64:
			return timestampType, nil
		}
	}
	typeParam, _ := s.Param(ParamType)
	switch s.Type {
	case schema.TypeInt8, schema.TypeInt16:
		*params = append(*params, schema.Param{Key: connectTypeParam, Value: s.Type.String()})
		if wrap {
			return "google.protobuf.Int32Value", nil
		}
		return "int32", nil
	case schema.TypeInt32:
		if e, ok := s.Param(ParamEnum); ok {
			return e, nil
		}
		if wrap {
			return "google.protobuf.Int32Value", nil
		}
		if typeParam != "" {
			return typeParam, nil
		}
		return "int32", nil
	case schema.TypeInt64:
		t := "int64"
		if typeParam != "" {
			t = typeParam
		}
		if wrap {
			switch t {
			case "uint32", "fixed32":
				return "google.protobuf.UInt32Value", nil
			case "uint64", "fixed64":
				return "google.protobuf.UInt64Value", nil
			}
			return "google.protobuf.Int64Value", nil
		}
		return t, nil
	case schema.TypeFloat32:
		if wrap {
			return "google.protobuf.FloatValue", nil
		}
		return "float", nil
	case schema.TypeFloat64:
		if wrap {
			return "google.protobuf.DoubleValue", nil
		}
		return "double", nil
	case schema.TypeBoolean:
		if wrap {
			return "google.protobuf.BoolValue", nil
		}
		return "bool", nil
	case schema.TypeString:
		if e, ok := s.Param(ParamEnum); ok {
			return e, nil
		}
		if wrap {
			return "google.protobuf.StringValue", nil
		}
		return "string", nil
	case schema.TypeBytes:
		if wrap {
			return "google.protobuf.BytesValue", nil
		}
		return "bytes", nil
	case schema.TypeMap:
		return toMapEntry(c.unqualified(s.Name)), nil
	case schema.TypeStruct:
		n := c.unqualified(s.Name)
		if n == fieldName {
			// a message type cannot have the name of the field
			n += "Message"
		}
		return n, nil
	}
	return "", fmt.Errorf("unknown schema type %s", s.Type)
}

// toMapEntry is ProtobufSchema.toMapEntry: lower_underscore names become
// UpperCamel, then "Entry" is appended.
func toMapEntry(s string) string {
	if strings.Contains(s, "_") {
		s = lowerUnderscoreToUpperCamel(s)
	}
	return s + mapEntrySuffix
}

func lowerUnderscoreToUpperCamel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range strings.ToLower(s) {
		if r == '_' {
			up = true
			continue
		}
		if up {
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// toMapField is ProtobufSchema.toMapField: the Connect map name of an entry
// message (FooBarEntry → foo_bar).
func toMapField(s string) string {
	parts := strings.Split(s, ".")
	last := parts[len(parts)-1]
	if t, ok := strings.CutSuffix(last, mapEntrySuffix); ok {
		var b strings.Builder
		for i, r := range t {
			if r >= 'A' && r <= 'Z' {
				if i > 0 {
					b.WriteByte('_')
				}
				b.WriteRune(r - 'A' + 'a')
			} else {
				b.WriteRune(r)
			}
		}
		parts[len(parts)-1] = b.String()
	}
	return strings.Join(parts, ".")
}

// String prints the file as Confluent's ProtobufSchemaUtils.toString does
// (the canonical text the registry stores).
func (f *protoFile) String() string {
	var b strings.Builder
	b.WriteString("syntax = \"proto3\";\n")
	if f.pkg != "" {
		b.WriteString("package " + f.pkg + ";\n")
	}
	if len(f.imports) > 0 {
		b.WriteByte('\n')
		for _, imp := range f.imports {
			b.WriteString("import \"" + imp + "\";\n")
		}
	}
	b.WriteByte('\n')
	b.WriteString(f.root.String())
	return b.String()
}

func (m *protoMessage) String() string {
	var b strings.Builder
	b.WriteString("message " + m.name + " {")
	if len(m.fields) > 0 {
		b.WriteByte('\n')
		for _, f := range m.fields {
			indent(&b, f.String())
		}
	}
	if len(m.oneofs) > 0 {
		b.WriteByte('\n')
		for _, o := range m.oneofs {
			indent(&b, o.String())
		}
	}
	if len(m.nested) > 0 || len(m.enums) > 0 {
		b.WriteByte('\n')
		for _, n := range m.nested {
			indent(&b, n.String())
		}
		for _, e := range m.enums {
			indent(&b, e.String())
		}
	}
	b.WriteString("}\n")
	return b.String()
}

func (o *protoOneof) String() string {
	var b strings.Builder
	b.WriteString("oneof " + o.name + " {")
	if len(o.fields) > 0 {
		b.WriteByte('\n')
		for _, f := range o.fields {
			indent(&b, f.String())
		}
	}
	b.WriteString("}\n")
	return b.String()
}

func (e *protoEnum) String() string {
	var b strings.Builder
	b.WriteString("enum " + e.name + " {")
	if len(e.values) > 0 {
		b.WriteByte('\n')
		for _, v := range e.values {
			indent(&b, v.Key+" = "+v.Value+";\n")
		}
	}
	b.WriteString("}\n")
	return b.String()
}

func (f *protoField) String() string {
	var b strings.Builder
	if f.label != "" {
		b.WriteString(f.label + " ")
	}
	b.WriteString(f.typ + " " + f.name + " = " + strconv.Itoa(f.number))
	if len(f.params) > 0 {
		var entries []string
		for _, p := range f.params {
			entries = append(entries, "{\n  key: "+strconv.Quote(p.Key)+",\n  value: "+strconv.Quote(p.Value)+"\n}")
		}
		var list strings.Builder
		list.WriteString("[\n")
		for i, e := range entries {
			if i < len(entries)-1 {
				e += ","
			}
			indent(&list, e)
		}
		list.WriteString("]")
		var opt strings.Builder
		opt.WriteString("(" + fieldMetaOption + ") = {\n")
		indent(&opt, "params: "+list.String())
		opt.WriteString("}")
		b.WriteString(" [" + opt.String() + "]")
	}
	b.WriteString(";\n")
	return b.String()
}

// indent is ProtobufSchemaUtils.appendIndented: every line of s, two spaces in.
func indent(b *strings.Builder, s string) {
	lines := strings.Split(s, "\n")
	if len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
}
