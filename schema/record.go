package schema

import "time"

// Header is one Kafka record header. Values are raw bytes as they travel on the
// wire (Connect's SimpleHeaderConverter form for values set by transforms).
type Header struct {
	Key   string
	Value []byte
}

// Record is one Connect record, source or sink side.
//
// Source records carry SourcePartition/SourceOffset (the connector's position,
// opaque to the runtime) and leave Offset unset. Sink records carry the Kafka
// Partition and Offset they were read from.
type Record struct {
	Topic     string
	Partition int32 // -1: let the producer choose (murmur2 on the key)
	Offset    int64 // Kafka offset (sink records)

	KeySchema   *Schema
	Key         any
	ValueSchema *Schema
	Value       any

	Headers   []Header
	Timestamp time.Time

	SourcePartition map[string]any
	SourceOffset    map[string]any

	// OriginalTopic, OriginalPartition and OriginalOffset are where a sink
	// record was consumed from, kept through transforms that rename or
	// re-partition it (Connect's SinkRecord.originalTopic() and friends,
	// KAFKA-5567). Everything tracking consumer positions must use the
	// accessors below, never Topic/Partition/Offset, which transforms may
	// change. Unset (OriginalTopic == "") means Topic/Partition/Offset.
	OriginalTopic     string
	OriginalPartition int32
	OriginalOffset    int64

	// OffsetOnly marks a source record that carries only its source
	// offset: nothing is produced, and the offset is stored in order with
	// the records around it (a CDC snapshot stores where it began before
	// its first row leaves the task).
	OffsetOnly bool
}

// OrigTopic is the topic the record was consumed from.
func (r *Record) OrigTopic() string {
	if r.OriginalTopic == "" {
		return r.Topic
	}
	return r.OriginalTopic
}

// OrigPartition is the Kafka partition the record was consumed from.
func (r *Record) OrigPartition() int32 {
	if r.OriginalTopic == "" {
		return r.Partition
	}
	return r.OriginalPartition
}

// OrigOffset is the Kafka offset the record was consumed at.
func (r *Record) OrigOffset() int64 {
	if r.OriginalTopic == "" {
		return r.Offset
	}
	return r.OriginalOffset
}

// IsTombstone reports whether the record has a null value (a Kafka tombstone
// once converted).
func (r *Record) IsTombstone() bool { return r.Value == nil }

// Header returns the last header named key.
func (r *Record) Header(key string) ([]byte, bool) {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if r.Headers[i].Key == key {
			return r.Headers[i].Value, true
		}
	}
	return nil, false
}

// Converter turns Connect data into Kafka bytes and back, as Connect's
// org.apache.kafka.connect.storage.Converter. One instance serves either keys
// or values; it must be safe for concurrent use.
type Converter interface {
	// FromConnect serializes a value. A nil schema and nil value give nil
	// bytes (a tombstone).
	FromConnect(topic string, headers []Header, s *Schema, v any) ([]byte, error)
	// ToConnect deserializes bytes; nil bytes give (nil, nil).
	ToConnect(topic string, headers []Header, b []byte) (*Schema, any, error)
}
