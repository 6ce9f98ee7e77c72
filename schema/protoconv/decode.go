package protoconv

import (
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/tributary-cdc/tributary/schema"
)

// decodeFn converts a Protobuf field value to a Connect value.
type decodeFn func(v protoreflect.Value) (any, error)

// reader is the Connect side of one writer message type: the Connect schema
// ProtobufData.toConnectSchema derives and the value converter.
type reader struct {
	md     protoreflect.MessageDescriptor
	schema *schema.Schema
	dec    func(m protoreflect.Message) (any, error)
}

type toConnect struct {
	opts Options
	meta protoreflect.ExtensionType // (confluent.field_meta), nil when not imported
	// building holds messages being converted (recursion is refused: Connect
	// schemas cannot refer to themselves).
	building map[protoreflect.FullName]bool
}

func newReader(file protoreflect.FileDescriptor, md protoreflect.MessageDescriptor, opts Options) (*reader, error) {
	tc := &toConnect{opts: opts, building: map[protoreflect.FullName]bool{}, meta: findFieldMeta(file)}
	if opts.WrapperForRawPrimitives && isWrapperMessage(md) {
		fd := md.Fields().ByName("value")
		s := unwrappedSchema(md).Build()
		dec, err := tc.scalar(s, fd)
		if err != nil {
			return nil, err
		}
		return &reader{md: md, schema: s, dec: func(m protoreflect.Message) (any, error) {
			return dec(m.Get(fd))
		}}, nil
	}
	s, dec, err := tc.structOf(md)
	if err != nil {
		return nil, err
	}
	return &reader{md: md, schema: s, dec: func(m protoreflect.Message) (any, error) { return dec(m) }}, nil
}

// findFieldMeta finds the confluent.field_meta extension among a file's
// transitive imports.
func findFieldMeta(f protoreflect.FileDescriptor) protoreflect.ExtensionType {
	seen := map[string]bool{}
	var walk func(f protoreflect.FileDescriptor) protoreflect.ExtensionType
	walk = func(f protoreflect.FileDescriptor) protoreflect.ExtensionType {
		if seen[f.Path()] {
			return nil
		}
		seen[f.Path()] = true
		if f.Package() == "confluent" {
			if xd := f.Extensions().ByName("field_meta"); xd != nil {
				return dynamicpb.NewExtensionType(xd)
			}
		}
		imps := f.Imports()
		for i := 0; i < imps.Len(); i++ {
			if x := walk(imps.Get(i).FileDescriptor); x != nil {
				return x
			}
		}
		return nil
	}
	return walk(f)
}

// fieldParams returns the (confluent.field_meta).params of a field. The
// compiler keeps the option as an extension field of the options message;
// options read another way may hold it as unknown bytes, which are parsed
// with the extension found among the file's imports.
func (tc *toConnect) fieldParams(fd protoreflect.FieldDescriptor) map[string]string {
	opts := fd.Options()
	if opts == nil {
		return nil
	}
	var meta protoreflect.Message
	opts.ProtoReflect().Range(func(xd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if xd.FullName() == fieldMetaOption && xd.Message() != nil {
			meta = v.Message()
			return false
		}
		return true
	})
	if meta == nil && tc.meta != nil && len(opts.ProtoReflect().GetUnknown()) > 0 {
		b, err := proto.Marshal(opts)
		if err != nil {
			return nil
		}
		parsed := &descriptorpb.FieldOptions{}
		if err := (proto.UnmarshalOptions{Resolver: resolverOf{tc.meta}}).Unmarshal(b, parsed); err != nil {
			return nil
		}
		parsed.ProtoReflect().Range(func(xd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if xd.FullName() == fieldMetaOption && xd.Message() != nil {
				meta = v.Message()
				return false
			}
			return true
		})
	}
	if meta == nil {
		return nil
	}
	pfd := meta.Descriptor().Fields().ByName("params")
	if pfd == nil || !pfd.IsMap() {
		return nil
	}
	out := map[string]string{}
	meta.Get(pfd).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		out[k.String()] = v.String()
		return true
	})
	return out
}

// resolverOf resolves the one extension type it holds.
type resolverOf struct{ x protoreflect.ExtensionType }

func (r resolverOf) FindExtensionByName(n protoreflect.FullName) (protoreflect.ExtensionType, error) {
	if r.x.TypeDescriptor().FullName() == n {
		return r.x, nil
	}
	return nil, errNotFound
}

func (r resolverOf) FindExtensionByNumber(m protoreflect.FullName, n protoreflect.FieldNumber) (protoreflect.ExtensionType, error) {
	xd := r.x.TypeDescriptor()
	if xd.ContainingMessage().FullName() == m && xd.Number() == n {
		return r.x, nil
	}
	return nil, errNotFound
}

var errNotFound = fmt.Errorf("not found")

func unwrappedSchema(md protoreflect.MessageDescriptor) *schema.Builder {
	switch md.FullName() {
	case "google.protobuf.DoubleValue":
		return schema.NewBuilder(schema.TypeFloat64)
	case "google.protobuf.FloatValue":
		return schema.NewBuilder(schema.TypeFloat32)
	case "google.protobuf.Int64Value", "google.protobuf.UInt64Value", "google.protobuf.UInt32Value":
		return schema.NewBuilder(schema.TypeInt64)
	case "google.protobuf.Int32Value":
		return schema.NewBuilder(schema.TypeInt32)
	case "google.protobuf.BoolValue":
		return schema.NewBuilder(schema.TypeBoolean)
	case "google.protobuf.StringValue":
		return schema.NewBuilder(schema.TypeString)
	case "google.protobuf.BytesValue":
		return schema.NewBuilder(schema.TypeBytes)
	}
	return nil
}

type structField struct {
	fd    protoreflect.FieldDescriptor
	oneof protoreflect.OneofDescriptor // a union field (not flattened)
	dec   decodeFn
	// union member decoders, by field number
	members map[protoreflect.FieldNumber]memberDec
	always  bool // put the value even when the field is not present
}

type memberDec struct {
	index int
	dec   decodeFn
}

func (tc *toConnect) name(d protoreflect.Descriptor) string {
	if tc.opts.EnhancedSchemaSupport {
		return string(d.FullName())
	}
	return string(d.Name())
}

// structOf is toConnectSchema for a message: real oneofs first (as union
// structs, or flattened), then the other fields in declaration order.
func (tc *toConnect) structOf(md protoreflect.MessageDescriptor) (*schema.Schema, func(protoreflect.Message) (*schema.Struct, error), error) {
	if tc.building[md.FullName()] {
		return nil, nil, fmt.Errorf("message %s refers to itself; recursive schemas have no Connect equivalent here", md.FullName())
	}
	tc.building[md.FullName()] = true
	defer delete(tc.building, md.FullName())
	b := schema.StructBuilder().Name(tc.name(md))
	var fields []structField
	oneofs := md.Oneofs()
	for i := 0; i < oneofs.Len(); i++ {
		od := oneofs.Get(i)
		if od.IsSynthetic() {
			continue
		}
		if tc.opts.FlattenUnions {
			for j := 0; j < od.Fields().Len(); j++ {
				fd := od.Fields().Get(j)
				s, dec, err := tc.field(fd, true)
				if err != nil {
					return nil, nil, err
				}
				b.Field(string(fd.Name()), s)
				fields = append(fields, structField{fd: fd, dec: dec})
			}
			continue
		}
		name := string(od.Name())
		if tc.opts.GenerateIndexForUnions {
			name += "_" + strconv.Itoa(od.Index())
		}
		ub := schema.StructBuilder().Name(ParamUnionPrefix + tc.name(od)).Optional()
		sf := structField{oneof: od, members: map[protoreflect.FieldNumber]memberDec{}}
		for j := 0; j < od.Fields().Len(); j++ {
			fd := od.Fields().Get(j)
			s, dec, err := tc.field(fd, true)
			if err != nil {
				return nil, nil, err
			}
			ub.Field(string(fd.Name()), s)
			sf.members[fd.Number()] = memberDec{index: j, dec: dec}
		}
		us := ub.Build()
		b.Field(name, us)
		fields = append(fields, sf)
	}
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			continue
		}
		s, dec, err := tc.field(fd, false)
		if err != nil {
			return nil, nil, err
		}
		b.Field(string(fd.Name()), s)
		primitiveOrRepeated := fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind || fd.IsList() || fd.IsMap()
		fields = append(fields, structField{fd: fd, dec: dec, always: primitiveOrRepeated && !tc.isOptional(fd) || tc.opts.GenerateStructForNulls})
	}
	st := b.Build()
	unions := map[int]*schema.Schema{}
	for i, f := range fields {
		if f.oneof != nil {
			unions[i] = st.Fields[i].Schema
		}
	}
	dec := func(m protoreflect.Message) (*schema.Struct, error) {
		out := schema.NewStruct(st)
		for i, f := range fields {
			if f.oneof != nil {
				fd := m.WhichOneof(f.oneof)
				if fd == nil {
					continue
				}
				md := f.members[fd.Number()]
				v, err := md.dec(m.Get(fd))
				if err != nil {
					return nil, fmt.Errorf("field %s: %w", fd.Name(), err)
				}
				u := schema.NewStruct(unions[i])
				u.Values[md.index] = v
				out.Values[i] = u
				continue
			}
			if !f.always && !m.Has(f.fd) {
				continue
			}
			v, err := f.dec(m.Get(f.fd))
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.fd.Name(), err)
			}
			out.Values[i] = v
		}
		return out, nil
	}
	return st, dec, nil
}

// isOptional is ProtobufData.isOptional: proto3 optional, or a proto2
// optional field with optional.for.proto2.
func (tc *toConnect) isOptional(fd protoreflect.FieldDescriptor) bool {
	return fd.HasOptionalKeyword() && (fd.Syntax() != protoreflect.Proto2 || tc.opts.OptionalForProto2)
}

// field is toConnectSchema for a field, with its value converter.
func (tc *toConnect) field(fd protoreflect.FieldDescriptor, oneofMember bool) (*schema.Schema, decodeFn, error) {
	var b *schema.Builder
	var dec decodeFn
	if fd.IsMap() {
		// a map<K,V> field written by protoc-style schemas
		ks, kdec, err := tc.field(fd.MapKey(), false)
		if err != nil {
			return nil, nil, err
		}
		vs, vdec, err := tc.field(fd.MapValue(), false)
		if err != nil {
			return nil, nil, err
		}
		b = schema.NewBuilder(schema.TypeMap).MapOf(ks, vs).Name(toMapField(tc.name(fd.Message()))).Optional()
		dec = func(v protoreflect.Value) (any, error) {
			out := map[any]any{}
			var err error
			v.Map().Range(func(k protoreflect.MapKey, x protoreflect.Value) bool {
				var kk, vv any
				if kk, err = kdec(k.Value()); err != nil {
					return false
				}
				if vv, err = vdec(x); err != nil {
					return false
				}
				out[kk] = vv
				return true
			})
			return out, err
		}
		return tc.finish(b, fd, oneofMember), dec, nil
	}
	es, edec, err := tc.single(fd)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case es.Type == schema.TypeMap:
		b = builderOf(es)
		dec = edec
	case fd.IsList():
		b = schema.NewBuilder(schema.TypeArray).Items(es.WithOptional(true)).Optional()
		dec = func(v protoreflect.Value) (any, error) {
			l := v.List()
			out := make([]any, l.Len())
			for i := range out {
				x, err := edec(l.Get(i))
				if err != nil {
					return nil, fmt.Errorf("[%d]: %w", i, err)
				}
				out[i] = x
			}
			return out, nil
		}
	default:
		b = builderOf(es)
		dec = edec
	}
	return tc.finish(b, fd, oneofMember), dec, nil
}

func (tc *toConnect) finish(b *schema.Builder, fd protoreflect.FieldDescriptor, oneofMember bool) *schema.Schema {
	switch {
	case oneofMember:
		b.Optional()
	case tc.opts.OptionalForNullables:
		if tc.isOptional(fd) {
			b.Optional()
		}
	case !tc.opts.WrapperForNullables:
		b.Optional()
	}
	b.Param(ParamTag, strconv.Itoa(int(fd.Number())))
	return b.Build()
}

// builderOf copies a schema into a builder (to add parameters).
func builderOf(s *schema.Schema) *schema.Builder {
	b := schema.NewBuilder(s.Type).Name(s.Name).SetOptional(s.Optional).Version(s.Version).Doc(s.Doc)
	for _, p := range s.Parameters {
		b.Param(p.Key, p.Value)
	}
	for _, f := range s.Fields {
		b.Field(f.Name, f.Schema)
	}
	if s.Type == schema.TypeArray {
		b.Items(s.ValueSchema)
	}
	if s.Type == schema.TypeMap {
		b.MapOf(s.KeySchema, s.ValueSchema)
	}
	return b
}

// single is the schema and converter of one (non-repeated) value of fd. A
// repeated message that is a map entry (a Connect map written by
// ProtobufData) gives the map.
func (tc *toConnect) single(fd protoreflect.FieldDescriptor) (*schema.Schema, decodeFn, error) {
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		params := tc.fieldParams(fd)
		var s *schema.Schema
		switch params[connectTypeParam] {
		case "int8":
			s = schema.NewBuilder(schema.TypeInt8).Build()
		case "int16":
			s = schema.NewBuilder(schema.TypeInt16).Build()
		default:
			b := schema.NewBuilder(schema.TypeInt32)
			if fd.Kind() != protoreflect.Int32Kind {
				b.Param(ParamType, kindName(fd.Kind()))
			}
			s = b.Build()
		}
		dec, err := tc.scalar(s, fd)
		return s, dec, err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Int64Kind, protoreflect.Uint64Kind,
		protoreflect.Sint64Kind, protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		b := schema.NewBuilder(schema.TypeInt64)
		if fd.Kind() != protoreflect.Int64Kind {
			b.Param(ParamType, kindName(fd.Kind()))
		}
		s := b.Build()
		dec, err := tc.scalar(s, fd)
		return s, dec, err
	case protoreflect.FloatKind, protoreflect.DoubleKind, protoreflect.BoolKind, protoreflect.StringKind, protoreflect.BytesKind:
		t := map[protoreflect.Kind]schema.Type{protoreflect.FloatKind: schema.TypeFloat32, protoreflect.DoubleKind: schema.TypeFloat64,
			protoreflect.BoolKind: schema.TypeBoolean, protoreflect.StringKind: schema.TypeString, protoreflect.BytesKind: schema.TypeBytes}[fd.Kind()]
		s := schema.NewBuilder(t).Build()
		dec, err := tc.scalar(s, fd)
		return s, dec, err
	case protoreflect.EnumKind:
		ed := fd.Enum()
		b := schema.NewBuilder(schema.TypeString)
		if tc.opts.IntForEnums {
			b = schema.NewBuilder(schema.TypeInt32)
		}
		b.Name(tc.name(ed)).Param(ParamEnum, string(ed.Name()))
		vals := ed.Values()
		for i := 0; i < vals.Len(); i++ {
			b.Param(ParamEnum+"."+string(vals.Get(i).Name()), strconv.Itoa(int(vals.Get(i).Number())))
		}
		s := b.Optional().Build()
		asInt := tc.opts.IntForEnums
		return s, func(v protoreflect.Value) (any, error) {
			n := v.Enum()
			if asInt {
				return int32(n), nil
			}
			if ev := vals.ByNumber(n); ev != nil {
				return string(ev.Name()), nil
			}
			return fmt.Sprintf("UNKNOWN_ENUM_VALUE_%s_%d", ed.Name(), n), nil
		}, nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return tc.message(fd)
	}
	return nil, nil, fmt.Errorf("field %s: unsupported kind %s", fd.FullName(), fd.Kind())
}

func kindName(k protoreflect.Kind) string { return k.String() }

func (tc *toConnect) scalar(s *schema.Schema, fd protoreflect.FieldDescriptor) (decodeFn, error) {
	switch s.Type {
	case schema.TypeInt8:
		return func(v protoreflect.Value) (any, error) { return int8(v.Int()), nil }, nil
	case schema.TypeInt16:
		return func(v protoreflect.Value) (any, error) { return int16(v.Int()), nil }, nil
	case schema.TypeInt32:
		return func(v protoreflect.Value) (any, error) { return int32(v.Int()), nil }, nil
	case schema.TypeInt64:
		switch fd.Kind() {
		case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
			return func(v protoreflect.Value) (any, error) { return int64(v.Uint()), nil }, nil
		}
		return func(v protoreflect.Value) (any, error) { return v.Int(), nil }, nil
	case schema.TypeFloat32:
		return func(v protoreflect.Value) (any, error) { return float32(v.Float()), nil }, nil
	case schema.TypeFloat64:
		return func(v protoreflect.Value) (any, error) { return v.Float(), nil }, nil
	case schema.TypeBoolean:
		return func(v protoreflect.Value) (any, error) { return v.Bool(), nil }, nil
	case schema.TypeString:
		return func(v protoreflect.Value) (any, error) { return v.String(), nil }, nil
	case schema.TypeBytes:
		return func(v protoreflect.Value) (any, error) { return append([]byte{}, v.Bytes()...), nil }, nil
	}
	return nil, fmt.Errorf("field %s: no scalar converter for %s", fd.FullName(), s.Type)
}

// message is the MESSAGE case of toConnectSchema: Confluent's logical types,
// wrappers (with wrapper.for.nullables), map entries and structs; all
// optional.
func (tc *toConnect) message(fd protoreflect.FieldDescriptor) (*schema.Schema, decodeFn, error) {
	md := fd.Message()
	switch string(md.FullName()) {
	case decimalType:
		params := tc.fieldParams(fd)
		scale := 0
		if v, err := strconv.Atoi(params["scale"]); err == nil {
			scale = v
		}
		precision := 0
		if v, err := strconv.Atoi(params["precision"]); err == nil {
			precision = v
		}
		f := msgFields(md, "value", "scale")
		return schema.DecimalSchema(scale, precision, true), func(v protoreflect.Value) (any, error) {
			m := v.Message()
			unscaled := schema.FromTwosComplement(m.Get(f[0]).Bytes())
			return decimal.NewFromBigInt(unscaled, -int32(m.Get(f[1]).Int())), nil
		}, nil
	case dateType:
		f := msgFields(md, "year", "month", "day")
		return schema.DateSchema(true), func(v protoreflect.Value) (any, error) {
			m := v.Message()
			return time.Date(int(m.Get(f[0]).Int()), time.Month(m.Get(f[1]).Int()), int(m.Get(f[2]).Int()), 0, 0, 0, 0, time.UTC), nil
		}, nil
	case timeType:
		f := msgFields(md, "hours", "minutes", "seconds", "nanos")
		return schema.TimeSchema(true), func(v protoreflect.Value) (any, error) {
			m := v.Message()
			ms := m.Get(f[0]).Int()*3600000 + m.Get(f[1]).Int()*60000 + m.Get(f[2]).Int()*1000 + m.Get(f[3]).Int()/1e6
			return time.UnixMilli(ms).UTC(), nil
		}, nil
	case timestampType:
		f := msgFields(md, "seconds", "nanos")
		return schema.TimestampSchema(true), func(v protoreflect.Value) (any, error) {
			m := v.Message()
			return time.UnixMilli(m.Get(f[0]).Int()*1000 + m.Get(f[1]).Int()/1e6).UTC(), nil
		}, nil
	}
	if tc.opts.WrapperForNullables && isWrapperMessage(md) {
		vfd := md.Fields().ByName("value")
		s := unwrappedSchema(md).Optional().Build()
		inner, err := tc.scalar(s, vfd)
		if err != nil {
			return nil, nil, err
		}
		return s, func(v protoreflect.Value) (any, error) { return inner(v.Message().Get(vfd)) }, nil
	}
	if isMapEntry(fd) {
		kfd, vfd := md.Fields().ByName("key"), md.Fields().ByName("value")
		ks, kdec, err := tc.field(kfd, false)
		if err != nil {
			return nil, nil, err
		}
		vs, vdec, err := tc.field(vfd, false)
		if err != nil {
			return nil, nil, err
		}
		s := schema.NewBuilder(schema.TypeMap).MapOf(ks, vs).Name(toMapField(tc.name(md))).Optional().Build()
		return s, func(v protoreflect.Value) (any, error) {
			l := v.List()
			out := make(map[any]any, l.Len())
			for i := 0; i < l.Len(); i++ {
				e := l.Get(i).Message()
				k, err := kdec(e.Get(kfd))
				if err != nil {
					return nil, err
				}
				x, err := vdec(e.Get(vfd))
				if err != nil {
					return nil, err
				}
				out[k] = x
			}
			return out, nil
		}, nil
	}
	s, sdec, err := tc.structOf(md)
	if err != nil {
		return nil, nil, err
	}
	return s.WithOptional(true), func(v protoreflect.Value) (any, error) { return sdec(v.Message()) }, nil
}

// isMapEntry is ProtobufData.isMapDescriptor: a repeated message named
// *Entry with exactly the fields key and value, neither repeated.
func isMapEntry(fd protoreflect.FieldDescriptor) bool {
	if !fd.IsList() {
		return false
	}
	md := fd.Message()
	fs := md.Fields()
	return len(md.Name()) > len(mapEntrySuffix) && string(md.Name()[len(md.Name())-len(mapEntrySuffix):]) == mapEntrySuffix &&
		fs.Len() == 2 && fs.Get(0).Name() == "key" && fs.Get(1).Name() == "value" &&
		!fs.Get(0).IsList() && !fs.Get(1).IsList()
}
