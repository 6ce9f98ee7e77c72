package protoconv

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tributary-cdc/tributary/schema/registry"
)

// Import paths and full names of the types Confluent's ProtobufData maps
// Connect logical types to (ProtobufData.PROTOBUF_*_LOCATION / _TYPE).
const (
	metaLocation      = registry.ProtobufMetaLocation
	decimalLocation   = registry.ProtobufDecimalLocation
	dateLocation      = registry.ProtobufDateLocation
	timeLocation      = registry.ProtobufTimeLocation
	timestampLocation = "google/protobuf/timestamp.proto"
	wrappersLocation  = "google/protobuf/wrappers.proto"

	decimalType   = "confluent.type.Decimal"
	dateType      = "google.type.Date"
	timeType      = "google.type.TimeOfDay"
	timestampType = "google.protobuf.Timestamp"

	fieldMetaOption = "confluent.field_meta"
)

// KnownSource returns the .proto text of a dependency every registry knows
// (registry.ProtobufKnownSource).
func KnownSource(path string) (string, bool) { return registry.ProtobufKnownSource(path) }

// Compile parses and links a .proto text with its references (import path →
// text), as the registry does (registry.CompileProtobuf), and rebuilds the
// result with protodesc: google.golang.org/protobuf's own descriptors are
// much faster to query than the compiler's while messages are built and
// parsed.
func Compile(ctx context.Context, text string, refs map[string]string) (protoreflect.FileDescriptor, error) {
	lf, err := registry.CompileProtobuf(ctx, text, refs)
	if err != nil {
		return nil, err
	}
	files := new(protoregistry.Files)
	var add func(f protoreflect.FileDescriptor) (protoreflect.FileDescriptor, error)
	add = func(f protoreflect.FileDescriptor) (protoreflect.FileDescriptor, error) {
		if have, err := files.FindFileByPath(f.Path()); err == nil {
			return have, nil
		}
		imps := f.Imports()
		for i := 0; i < imps.Len(); i++ {
			if _, err := add(imps.Get(i).FileDescriptor); err != nil {
				return nil, err
			}
		}
		nf, err := protodesc.NewFile(protodesc.ToFileDescriptorProto(f), files)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path(), err)
		}
		if err := files.RegisterFile(nf); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path(), err)
		}
		return nf, nil
	}
	return add(lf)
}

// findMessage finds a message of f by full name.
func findMessage(f protoreflect.FileDescriptor, name protoreflect.FullName) (protoreflect.MessageDescriptor, bool) {
	idx, ok := messageIndexes(f, name)
	if !ok {
		return nil, false
	}
	md, err := messageByIndexes(f, idx)
	return md, err == nil
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
