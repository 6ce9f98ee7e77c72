package registry

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"github.com/bufbuild/protocompile/wellknownimports"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Import paths of the dependencies Confluent's ProtobufSchema knows without
// a schema reference (KNOWN_DEPENDENCIES) that Confluent's converter imports.
const (
	ProtobufMetaLocation    = "confluent/meta.proto"
	ProtobufDecimalLocation = "confluent/type/decimal.proto"
	ProtobufDateLocation    = "google/type/date.proto"
	ProtobufTimeLocation    = "google/type/timeofday.proto"
)

// protobufKnown are those dependencies' texts, besides google/protobuf/*.proto
// (which come from protocompile's wellknownimports). Packages, messages,
// field names and numbers are those of Confluent's protobuf-types
// (confluent/meta.proto, confluent/type/decimal.proto) and Google's
// googleapis (google/type/date.proto, google/type/timeofday.proto).
var protobufKnown = map[string]string{
	ProtobufMetaLocation: `syntax = "proto3";
package confluent;

import "google/protobuf/descriptor.proto";

option go_package = "github.com/confluentinc/schema-registry/confluent/meta";
option java_package = "io.confluent.protobuf";
option java_outer_classname = "MetaProto";

message Meta {
  string doc = 1;
  map<string, string> params = 2;
  repeated string tags = 3;
  repeated Rule rules = 4;
}

message Rule {
  string name = 1;
  string doc = 2;
  string expr = 3;
  string sql = 4;
}

extend google.protobuf.FileOptions {
  Meta file_meta = 1088;
}
extend google.protobuf.MessageOptions {
  Meta message_meta = 1088;
}
extend google.protobuf.FieldOptions {
  Meta field_meta = 1088;
}
extend google.protobuf.EnumOptions {
  Meta enum_meta = 1088;
}
extend google.protobuf.EnumValueOptions {
  Meta enum_value_meta = 1088;
}
`,
	ProtobufDecimalLocation: `syntax = "proto3";
package confluent.type;

option go_package = "github.com/confluentinc/schema-registry/confluent/type/decimal";
option java_package = "io.confluent.protobuf.type";
option java_multiple_files = true;
option java_outer_classname = "DecimalProto";

message Decimal {
  bytes value = 1;
  uint32 precision = 2;
  int32 scale = 3;
}
`,
	ProtobufDateLocation: `syntax = "proto3";
package google.type;

option cc_enable_arenas = true;
option go_package = "google.golang.org/genproto/googleapis/type/date;date";
option java_multiple_files = true;
option java_outer_classname = "DateProto";
option java_package = "com.google.type";
option objc_class_prefix = "GTP";

message Date {
  int32 year = 1;
  int32 month = 2;
  int32 day = 3;
}
`,
	ProtobufTimeLocation: `syntax = "proto3";
package google.type;

option cc_enable_arenas = true;
option go_package = "google.golang.org/genproto/googleapis/type/timeofday;timeofday";
option java_multiple_files = true;
option java_outer_classname = "TimeOfDayProto";
option java_package = "com.google.type";
option objc_class_prefix = "GTP";

message TimeOfDay {
  int32 hours = 1;
  int32 minutes = 2;
  int32 seconds = 3;
  int32 nanos = 4;
}
`,
}

var protobufWellKnown = wellknownimports.WithStandardImports(&protocompile.SourceResolver{Accessor: func(p string) (io.ReadCloser, error) {
	return nil, fmt.Errorf("%s: not found", p)
}})

// ProtobufKnownSource returns the .proto text of a dependency every
// Confluent-compatible registry knows without a reference (the files above
// and google/protobuf/*.proto).
func ProtobufKnownSource(path string) (string, bool) {
	if s, ok := protobufKnown[path]; ok {
		return s, true
	}
	if !strings.HasPrefix(path, "google/protobuf/") {
		return "", false
	}
	r, err := protobufWellKnown.FindFileByPath(path)
	if err != nil || r.Source == nil {
		return "", false
	}
	b, err := io.ReadAll(r.Source)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// protobufMainFile is the name under which a schema being compiled is
// presented to the compiler; references keep their own names.
const protobufMainFile = "schema.proto"

// CompileProtobuf parses and links a .proto text with its references (import
// path → text). Imports that are neither references nor known dependencies
// fail. A text that uses (confluent.*_meta) options without importing
// confluent/meta.proto (as Confluent's converter writes it) gets the import
// before compiling.
func CompileProtobuf(ctx context.Context, text string, deps map[string]string) (linker.File, error) {
	srcs := make(map[string]string, len(deps)+len(protobufKnown)+1)
	for k, v := range protobufKnown {
		srcs[k] = v
	}
	for k, v := range deps {
		srcs[k] = withMetaImport(v)
	}
	main := protobufMainFile
	if p, ok := knownPathOf(text); ok {
		// a known dependency registered as a schema of its own (as a
		// reference, with skip.known.types=false) is compiled as itself
		main = p
	} else {
		srcs[main] = withMetaImport(text)
	}
	c := protocompile.Compiler{
		Resolver: wellknownimports.WithStandardImports(&protocompile.SourceResolver{
			Accessor: protocompile.SourceAccessorFromMap(srcs),
		}),
	}
	files, err := c.Compile(ctx, main)
	if err != nil {
		return nil, err
	}
	return files[0], nil
}

// protobufWellKnownFiles are the google/protobuf files protocompile knows.
var protobufWellKnownFiles = []string{"any", "api", "descriptor", "duration", "empty", "field_mask", "source_context", "struct", "timestamp", "type", "wrappers"}

// knownPathOf finds the known dependency whose text is text.
func knownPathOf(text string) (string, bool) {
	if !strings.Contains(text, "package google.") && !strings.Contains(text, "package confluent") {
		return "", false
	}
	for p, s := range protobufKnown {
		if s == text {
			return p, true
		}
	}
	for _, n := range protobufWellKnownFiles {
		p := "google/protobuf/" + n + ".proto"
		if s, ok := ProtobufKnownSource(p); ok && s == text {
			return p, true
		}
	}
	return "", false
}

func withMetaImport(text string) string {
	if !strings.Contains(text, "(confluent.") || strings.Contains(text, `"`+ProtobufMetaLocation+`"`) {
		return text
	}
	lines := strings.SplitAfter(text, "\n")
	at := 0
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "syntax") || strings.HasPrefix(t, "package") || strings.HasPrefix(t, "edition") {
			at = i + 1
		}
	}
	return strings.Join(lines[:at], "") + "import \"" + ProtobufMetaLocation + "\";\n" + strings.Join(lines[at:], "")
}

// protobufFormat is PROTOBUF: schemas are compiled with protocompile and
// compared with Confluent's rules (ProtobufSchema.isBackwardCompatible over
// SchemaDiff).
type protobufFormat struct{}

func (protobufFormat) Type() string { return TypeProtobuf }

const protobufCompileTimeout = 30 * time.Second

func (protobufFormat) compile(s Resolved) (linker.File, error) {
	ctx, cancel := context.WithTimeout(context.Background(), protobufCompileTimeout)
	defer cancel()
	return CompileProtobuf(ctx, s.Schema, s.Deps)
}

// Canonical compiles the schema and keeps its text (Confluent reprints it;
// a client sending the same text finds the same schema either way).
func (f protobufFormat) Canonical(s Resolved) (string, error) {
	if _, err := f.compile(s); err != nil {
		return "", err
	}
	return s.Schema, nil
}

// Confluent's Difference types (protobuf diff.Difference.Type) that make a
// change incompatible: everything outside SchemaDiff.COMPATIBLE_CHANGES.
const (
	pbPackageChanged             = "PACKAGE_CHANGED"
	pbMessageRemoved             = "MESSAGE_REMOVED"
	pbFieldKindChanged           = "FIELD_KIND_CHANGED"
	pbFieldScalarKindChanged     = "FIELD_SCALAR_KIND_CHANGED"
	pbFieldNamedTypeChanged      = "FIELD_NAMED_TYPE_CHANGED"
	pbFieldNumericLabelChanged   = "FIELD_NUMERIC_LABEL_CHANGED"
	pbRequiredFieldAdded         = "REQUIRED_FIELD_ADDED"
	pbRequiredFieldRemoved       = "REQUIRED_FIELD_REMOVED"
	pbOneofFieldRemoved          = "ONEOF_FIELD_REMOVED"
	pbMultipleFieldsMovedToOneof = "MULTIPLE_FIELDS_MOVED_TO_ONEOF"
	pbFieldMovedToExistingOneof  = "FIELD_MOVED_TO_EXISTING_ONEOF"
)

// pbDescriptions are Difference.error()'s texts, with the new (reader) and
// old (writer) schema named.
var pbDescriptions = map[string]string{
	pbPackageChanged:             "The package at '%s' in the new schema does not match the package in the old schema",
	pbMessageRemoved:             "The new schema is missing a MESSAGE type at path '%s' in the old schema",
	pbFieldKindChanged:           "The type of a field at path '%s' in the new schema does not match the old schema",
	pbFieldScalarKindChanged:     "The kind of a SCALAR field at path '%s' in the new schema does not match its kind in the old schema",
	pbFieldNamedTypeChanged:      "The type of a MESSAGE field at path '%s' in the new schema does not match its type in the old schema",
	pbFieldNumericLabelChanged:   "The label for a NUMERIC field at path '%s' in the new schema does not match its label in the old schema",
	pbRequiredFieldAdded:         "A required field  at path '%s' in the new schema is missing in the old schema",
	pbRequiredFieldRemoved:       "The new schema is missing a required field at path: '%s' in the old schema",
	pbOneofFieldRemoved:          "The new schema is missing a oneof field at path '%s' in the old schema",
	pbMultipleFieldsMovedToOneof: "Multiple fields in the oneof at path '%s' in the new schema are outside a oneof in the old schema",
	pbFieldMovedToExistingOneof:  "A field in the oneof at path '%s' in the new schema is outside an existing oneof in the old schema",
}

type pbDiff struct{ path, typ string }

type pbCompare struct {
	diffs   []pbDiff
	visited map[[2]protoreflect.FullName]bool
}

func (c *pbCompare) add(path, typ string) { c.diffs = append(c.diffs, pbDiff{path, typ}) }

// CheckCompatibility is Confluent's ProtobufSchema.isBackwardCompatible:
// SchemaDiff.compare(older, newer), incompatible differences reported as
// {errorType:"…", description:"…"}. Checked: the package, removed messages,
// per field number a changed kind (scalar/message/map), scalar group (the
// proto3 wire-compatible groups), message type or numeric label, required
// fields added or removed, oneof members removed, and fields newly made
// mutually exclusive. Added/removed optional fields, renamed fields, enums
// and moved messages are compatible, as in Confluent.
func (f protobufFormat) CheckCompatibility(newer, older Resolved) []string {
	nf, err := f.compile(newer)
	if err != nil {
		return []string{fmt.Sprintf("new schema cannot be parsed: %v", err)}
	}
	of, err := f.compile(older)
	if err != nil {
		return []string{fmt.Sprintf("stored schema cannot be parsed: %v", err)}
	}
	c := &pbCompare{visited: map[[2]protoreflect.FullName]bool{}}
	if of.Package() != nf.Package() {
		c.add("#/", pbPackageChanged)
	}
	c.types("#", of.Messages(), nf.Messages())
	var msgs []string
	for _, d := range c.diffs {
		msgs = append(msgs, fmt.Sprintf("{errorType:%q, description:%q}", d.typ, fmt.Sprintf(pbDescriptions[d.typ], d.path)))
	}
	return msgs
}

func (c *pbCompare) types(path string, older, newer protoreflect.MessageDescriptors) {
	names := map[protoreflect.Name]bool{}
	for i := 0; i < older.Len(); i++ {
		names[older.Get(i).Name()] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, string(n))
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		o := older.ByName(protoreflect.Name(n))
		u := newer.ByName(protoreflect.Name(n))
		p := path + "/" + n
		switch {
		case u == nil:
			if !o.IsMapEntry() {
				c.add(p, pbMessageRemoved)
			}
		default:
			c.message(p, o, u)
		}
	}
}

func realOneof(fd protoreflect.FieldDescriptor) protoreflect.OneofDescriptor {
	if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
		return od
	}
	return nil
}

func (c *pbCompare) message(path string, o, u protoreflect.MessageDescriptor) {
	key := [2]protoreflect.FullName{o.FullName(), u.FullName()}
	if c.visited[key] {
		return
	}
	c.visited[key] = true
	of, uf := o.Fields(), u.Fields()
	// oneofs of the original none of whose members survive are deleted
	// as a whole (compatible)
	deleted := map[protoreflect.Name]bool{}
	for i := 0; i < o.Oneofs().Len(); i++ {
		od := o.Oneofs().Get(i)
		if od.IsSynthetic() || u.Oneofs().ByName(od.Name()) != nil {
			continue
		}
		survives := false
		for j := 0; j < od.Fields().Len(); j++ {
			survives = survives || uf.ByNumber(od.Fields().Get(j).Number()) != nil
		}
		if !survives {
			deleted[od.Name()] = true
		}
	}
	// newly introduced mutual exclusivity
	for i := 0; i < u.Oneofs().Len(); i++ {
		od := u.Oneofs().Get(i)
		if od.IsSynthetic() {
			continue
		}
		groups := map[string]bool{}
		movedIn := 0
		for j := 0; j < od.Fields().Len(); j++ {
			ofd := of.ByNumber(od.Fields().Get(j).Number())
			switch {
			case ofd == nil:
			case realOneof(ofd) != nil:
				groups["oneof:"+string(realOneof(ofd).Name())] = true
			default:
				groups["field:"+strconv.Itoa(int(ofd.Number()))] = true
				movedIn++
			}
		}
		if len(groups) > 1 {
			if movedIn > 1 {
				c.add(path+"/"+string(od.Name()), pbMultipleFieldsMovedToOneof)
			} else {
				c.add(path+"/"+string(od.Name()), pbFieldMovedToExistingOneof)
			}
		}
	}
	tags := map[protoreflect.FieldNumber]bool{}
	for i := 0; i < of.Len(); i++ {
		tags[of.Get(i).Number()] = true
	}
	for i := 0; i < uf.Len(); i++ {
		tags[uf.Get(i).Number()] = true
	}
	nums := make([]int, 0, len(tags))
	for n := range tags {
		nums = append(nums, int(n))
	}
	sort.Ints(nums)
	for _, n := range nums {
		ofd, ufd := of.ByNumber(protoreflect.FieldNumber(n)), uf.ByNumber(protoreflect.FieldNumber(n))
		p := path + "/" + strconv.Itoa(n)
		switch {
		case ufd == nil:
			if od := realOneof(ofd); od != nil {
				if !deleted[od.Name()] {
					c.add(path+"/"+string(od.Name())+"/"+strconv.Itoa(n), pbOneofFieldRemoved)
				}
			} else if ofd.Cardinality() == protoreflect.Required {
				c.add(p, pbRequiredFieldRemoved)
			}
		case ofd == nil:
			if realOneof(ufd) == nil && ufd.Cardinality() == protoreflect.Required {
				c.add(p, pbRequiredFieldAdded)
			}
		default:
			if od := realOneof(ufd); od != nil {
				p = path + "/" + string(od.Name()) + "/" + strconv.Itoa(n)
			}
			c.field(p, ofd, ufd)
		}
	}
	c.types(path, o.Messages(), u.Messages())
}

// pbLabel is the label the .proto text gives a field, as Wire's
// FieldElement has it: none for proto3 singular and oneof fields.
func pbLabel(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.IsMap():
		return ""
	case fd.Cardinality() == protoreflect.Repeated:
		return "repeated"
	case fd.Cardinality() == protoreflect.Required:
		return "required"
	case realOneof(fd) != nil:
		return ""
	case fd.HasOptionalKeyword():
		return "optional"
	}
	return ""
}

func pbKind(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.IsMap():
		return "MAP"
	case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
		return "MESSAGE"
	}
	return "SCALAR"
}

// pbScalarKind groups the scalar types whose encodings are interchangeable
// (FieldSchemaDiff.scalarKind; enums count as general numbers).
func pbScalarKind(k protoreflect.Kind) string {
	switch k {
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.BoolKind, protoreflect.EnumKind:
		return "GENERAL_NUMBER"
	case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		return "SIGNED_NUMBER"
	case protoreflect.StringKind, protoreflect.BytesKind:
		return "STRING_OR_BYTES"
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		return "FIXED32"
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return "FIXED64"
	case protoreflect.FloatKind:
		return "FLOAT"
	case protoreflect.DoubleKind:
		return "DOUBLE"
	}
	return k.String()
}

func localName(md protoreflect.MessageDescriptor) string {
	n := string(md.FullName())
	if pkg := string(md.ParentFile().Package()); pkg != "" {
		n = strings.TrimPrefix(n, pkg+".")
	}
	return n
}

func (c *pbCompare) field(path string, o, u protoreflect.FieldDescriptor) {
	c.labelsAndTypes(path, pbLabel(o), pbLabel(u), o, u)
}

func (c *pbCompare) labelsAndTypes(path, ol, ul string, o, u protoreflect.FieldDescriptor) {
	ok, uk := pbKind(o), pbKind(u)
	if ok != uk {
		c.add(path, pbFieldKindChanged)
		return
	}
	switch ok {
	case "SCALAR":
		if pbScalarKind(o.Kind()) != pbScalarKind(u.Kind()) {
			c.add(path, pbFieldScalarKindChanged)
		} else if ol != "" && ul != "" && ol != ul && pbScalarKind(o.Kind()) != "STRING_OR_BYTES" {
			c.add(path, pbFieldNumericLabelChanged)
		}
	case "MESSAGE":
		om, um := o.Message(), u.Message()
		if localName(om) != localName(um) {
			c.add(path, pbFieldNamedTypeChanged)
			return
		}
		// the same type name: compared as the types themselves (nested and
		// top-level types are walked by types; imported ones here)
		if om.ParentFile().Path() != protobufMainFile || um.ParentFile().Path() != protobufMainFile {
			sub := &pbCompare{visited: c.visited}
			sub.message("#/"+localName(om), om, um)
			if len(sub.diffs) > 0 {
				c.diffs = append(c.diffs, sub.diffs...)
				c.add(path, pbFieldNamedTypeChanged)
			}
		}
	case "MAP":
		c.labelsAndTypes(path, "", "", o.MapKey(), u.MapKey())
		c.labelsAndTypes(path, "", "", o.MapValue(), u.MapValue())
	}
}

// CheckProtobufCompatibility is the PROTOBUF format's BACKWARD check for
// clients (a serializer's latest.compatibility.strict): why a reader of
// newer cannot read data written with older, in Confluent's
// {errorType, description} form; empty means compatible.
func CheckProtobufCompatibility(newer, older Resolved) []string {
	return protobufFormat{}.CheckCompatibility(newer, older)
}
