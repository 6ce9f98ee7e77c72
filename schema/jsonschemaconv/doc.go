// Package jsonschemaconv is Confluent's JsonSchemaConverter
// (io.confluent.connect.json.JsonSchemaConverter, alias JsonSchemaConverter)
// in Go: Connect data as JSON in Confluent's wire format (magic byte 0, the
// 4-byte big-endian schema id, the JSON payload), its JSON Schema registered
// in a schema registry with schemaType JSON.
//
// The Connect <-> JSON Schema mapping is Confluent's JsonSchemaData (draft
// 7): integers are {"type":"integer","connect.type":"int8"|…|"int64"},
// floats {"type":"number","connect.type":"float32"|"float64"}, bytes
// {"type":"string","connect.type":"bytes"} with base64 values, a struct an
// object whose properties carry "connect.index" (the field order), an
// optional schema {"oneOf":[{"type":"null"},{…}]}, a map with string keys an
// object with additionalProperties and "connect.type":"map", any other map
// an array of {"key","value"} objects; names are "title", docs
// "description", versions "connect.version", parameters
// "connect.parameters", defaults "default". Decimal is a bytes string of the
// unscaled value in base64 (decimal.format=BASE64, the default) or a JSON
// number (NUMERIC); Date, Time and Timestamp are their integers (days,
// milliseconds of the day, milliseconds since the epoch) with the logical
// name as title. Reading, a oneOf/anyOf of more than null and one schema
// becomes the struct io.confluent.connect.json.OneOf, an enum a string with
// io.confluent.connect.json.Enum parameters, an allOf a struct of all its
// object subschemas' properties (else its combined, typed or referenced
// subschema), $refs resolve within the schema and its registry references.
//
// Writing, the converter derives the JSON schema, registers it (or looks it
// up, or takes the subject's latest) once per Connect schema and topic, and
// then only encodes. Reading, it fetches the writer's schema (with its
// references) once per id. With json.fail.invalid.schema every payload is
// validated against its schema (santhosh-tekuri/jsonschema) both ways.
//
// Not supported (refused with an error, never silently dropped): schemaless
// values, recursive schemas, boolean and type-less schemas (Connect
// variants), Confluent's generalized sum types. The Connect schema read back
// takes its version from connect.version only (Confluent falls back to the
// subject version in the registry).
package jsonschemaconv
