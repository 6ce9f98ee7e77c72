package protoconv

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"github.com/bufbuild/protocompile/wellknownimports"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Import paths and full names of the types Confluent's ProtobufData maps
// Connect logical types to (ProtobufData.PROTOBUF_*_LOCATION / _TYPE).
const (
	metaLocation      = "confluent/meta.proto"
	decimalLocation   = "confluent/type/decimal.proto"
	dateLocation      = "google/type/date.proto"
	timeLocation      = "google/type/timeofday.proto"
	timestampLocation = "google/protobuf/timestamp.proto"
	wrappersLocation  = "google/protobuf/wrappers.proto"

	decimalType   = "confluent.type.Decimal"
	dateType      = "google.type.Date"
	timeType      = "google.type.TimeOfDay"
	timestampType = "google.protobuf.Timestamp"

	fieldMetaOption = "confluent.field_meta"
)

// knownSources are the dependencies Confluent's ProtobufSchema knows without a
// schema reference (KNOWN_DEPENDENCIES) and that this converter imports,
// besides google/protobuf/*.proto (which come from protocompile's
// wellknownimports). Field names and numbers are those of Confluent's
// protobuf-types (confluent/meta.proto, confluent/type/decimal.proto) and of
// Google's googleapis (google/type/date.proto, google/type/timeofday.proto).
var knownSources = map[string]string{
	metaLocation: `syntax = "proto3";
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
	decimalLocation: `syntax = "proto3";
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
	dateLocation: `syntax = "proto3";
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
	timeLocation: `syntax = "proto3";
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

// IsKnownDependency reports whether an import needs no schema reference
// because every Confluent-compatible registry knows it (Confluent's
// ProtobufSchema.knownTypes for the files this package uses, and every
// google/protobuf/*.proto well-known type).
func IsKnownDependency(path string) bool {
	if _, ok := knownSources[path]; ok {
		return true
	}
	_, err := wellKnown.FindFileByPath(path)
	return err == nil && strings.HasPrefix(path, "google/protobuf/")
}

var wellKnown = wellknownimports.WithStandardImports(&protocompile.SourceResolver{Accessor: func(string) (io.ReadCloser, error) {
	return nil, fmt.Errorf("not found")
}})

// KnownSource returns the .proto text of a known dependency.
func KnownSource(path string) (string, bool) {
	if s, ok := knownSources[path]; ok {
		return s, true
	}
	r, err := wellKnown.FindFileByPath(path)
	if err != nil || r.Source == nil {
		return "", false
	}
	b, err := io.ReadAll(r.Source)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// mainFile is the name under which a schema being compiled is presented to
// the compiler; references keep their own names.
const mainFile = "schema.proto"

// Compile parses and links a .proto text with its references (import path →
// .proto text). Imports that are neither references nor known dependencies
// fail. A schema that uses (confluent.field_meta) without importing
// confluent/meta.proto (as some Confluent versions write it) gets the import
// added before compiling.
func Compile(ctx context.Context, text string, refs map[string]string) (linker.File, error) {
	text = withMetaImport(text)
	srcs := make(map[string]string, len(refs)+len(knownSources)+1)
	for k, v := range knownSources {
		srcs[k] = v
	}
	for k, v := range refs {
		srcs[k] = withMetaImport(v)
	}
	srcs[mainFile] = text
	c := protocompile.Compiler{
		Resolver: wellknownimports.WithStandardImports(&protocompile.SourceResolver{
			Accessor: protocompile.SourceAccessorFromMap(srcs),
		}),
	}
	files, err := c.Compile(ctx, mainFile)
	if err != nil {
		return nil, err
	}
	return files[0], nil
}

// withMetaImport adds import "confluent/meta.proto" to a schema that uses
// (confluent.*_meta) options without it.
func withMetaImport(text string) string {
	if !strings.Contains(text, "(confluent.") || strings.Contains(text, `"`+metaLocation+`"`) {
		return text
	}
	// after the syntax and package statements when present, else first
	lines := strings.SplitAfter(text, "\n")
	at := 0
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "syntax") || strings.HasPrefix(t, "package") || strings.HasPrefix(t, "edition") {
			at = i + 1
		}
	}
	out := strings.Join(lines[:at], "") + "import \"" + metaLocation + "\";\n" + strings.Join(lines[at:], "")
	return out
}

// messageByIndexes follows Confluent's message-index path in a file.
func messageByIndexes(f protoreflect.FileDescriptor, idx []int) (protoreflect.MessageDescriptor, error) {
	if len(idx) == 0 {
		idx = []int{0}
	}
	msgs := f.Messages()
	var md protoreflect.MessageDescriptor
	for _, i := range idx {
		if i < 0 || i >= msgs.Len() {
			return nil, fmt.Errorf("message index %v out of range in %s", idx, f.Path())
		}
		md = msgs.Get(i)
		msgs = md.Messages()
	}
	return md, nil
}

// messageIndexes is the path of a message's full name in a file, the inverse
// of messageByIndexes (Confluent's ProtobufSchema.toMessageIndexes).
func messageIndexes(f protoreflect.FileDescriptor, fullName protoreflect.FullName) ([]int, bool) {
	var walk func(msgs protoreflect.MessageDescriptors, path []int) ([]int, bool)
	walk = func(msgs protoreflect.MessageDescriptors, path []int) ([]int, bool) {
		for i := 0; i < msgs.Len(); i++ {
			m := msgs.Get(i)
			p := append(append([]int(nil), path...), i)
			if m.FullName() == fullName {
				return p, true
			}
			if r, ok := walk(m.Messages(), p); ok {
				return r, true
			}
		}
		return nil, false
	}
	return walk(f.Messages(), nil)
}
