// Package simpleconv holds Kafka Connect's two simplest converters:
// StringConverter (org.apache.kafka.connect.storage.StringConverter) and
// ByteArrayConverter (org.apache.kafka.connect.converters.ByteArrayConverter).
// Both are stateless and safe for concurrent use; a nil value is a null
// (tombstone) both ways.
package simpleconv
