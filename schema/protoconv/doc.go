// Package protoconv is Confluent's ProtobufConverter
// (io.confluent.connect.protobuf.ProtobufConverter, alias ProtobufConverter)
// in Go.
//
// Bytes use Confluent's wire format: magic byte 0, the 4-byte big-endian
// schema id, the message-index array (zig-zag varints, count first; the
// first message of the file is the single byte 0), then the Protobuf
// message.
//
// Connect schemas map to proto3 as Confluent's ProtobufData does: a root
// struct becomes a message named after the last part of the Connect schema
// name in a package named after the rest (unnamed structs are
// ConnectDefault<n>); nested structs become nested messages named after
// their schema's last name part (Debezium's Value, Source, block), defined
// once per parent; fields are numbered from 1 in order (or keep the
// io.confluent.connect.protobuf.Tag they were read with); int8/int16 are
// int32 with (confluent.field_meta) params connect.type; Decimal is
// confluent.type.Decimal with precision/scale params, Date google.type.Date,
// Time google.type.TimeOfDay, Timestamp google.protobuf.Timestamp; arrays are
// repeated fields; maps are repeated <Name>Entry {key = 1; value = 2}
// messages; enums are written from Confluent's
// io.confluent.connect.protobuf.Enum parameters, union structs
// (io.confluent.connect.protobuf.Union.<name>, as read) as oneofs whose
// members keep their tags. optional.for.nullables
// writes proto3 optional, wrapper.for.nullables google.protobuf wrappers.
// The .proto text is printed as Confluent's ProtobufSchemaUtils prints it and
// registered with schemaType PROTOBUF; with skip.known.types=false its
// imports are registered too and referenced.
//
// Reading goes the other way from the writer's schema (fetched by id with
// its references and compiled with github.com/bufbuild/protocompile):
// ProtobufData.toConnectSchema, including oneofs (union structs), map<>
// fields, wrappers and enums. Messages are built and parsed with
// google.golang.org/protobuf's dynamicpb.
//
// A primitive root value (a string key, say) is the google.protobuf wrapper
// of its type, with google/protobuf/wrappers.proto as the registered schema
// and the wrapper's message index, as ProtobufData does.
//
// Not supported: schemaless values, root arrays and maps (Confluent refuses
// them too) and root logical types, recursive message types on read, and Confluent's
// generalized.sum.type.support / schema rules; keys the converter does not
// know are refused by name.
package protoconv
