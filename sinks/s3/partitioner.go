package s3

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/schema"
)

// partitioner encodes the directory of a record below its topic, as
// Confluent's storage partitioners do (Partitioner.encodePartition).
type partitioner interface {
	// encode returns the encoded partition; ts is the record time in epoch
	// milliseconds (only time-based partitioners read it).
	encode(rec *schema.Record, ts int64) (string, error)
}

// extractor returns a record's time in epoch milliseconds (Confluent's
// TimestampExtractor); nil for partitioners that are not time-based.
type extractor func(rec *schema.Record, now time.Time) (int64, error)

func newPartitioner(s *settings) (partitioner, extractor, error) {
	switch s.partitioner {
	case PartitionerDefault:
		return defaultPartitioner{}, nil, nil
	case PartitionerField:
		return fieldPartitioner{fields: s.partitionFields, delim: s.dirDelim}, nil, nil
	case PartitionerTimeBased, PartitionerHourly, PartitionerDaily:
		f, err := compileJoda(s.pathFormat)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", KeyPathFormat, err)
		}
		if s.partitionDur <= 0 {
			return nil, nil, fmt.Errorf("%s must be positive", KeyPartitionDuration)
		}
		ex, err := newExtractor(s)
		if err != nil {
			return nil, nil, err
		}
		return &timePartitioner{format: f, duration: s.partitionDur, zone: s.timezone}, ex, nil
	}
	return nil, nil, fmt.Errorf("unsupported partitioner %s", s.partitioner)
}

// defaultPartitioner: partition=<kafka partition>.
type defaultPartitioner struct{}

func (defaultPartitioner) encode(rec *schema.Record, _ int64) (string, error) {
	return "partition=" + strconv.FormatInt(int64(rec.Partition), 10), nil
}

// fieldPartitioner: <field>=<value> for each partition.field.name, joined by
// directory.delim. Only integer, string and boolean fields qualify.
type fieldPartitioner struct {
	fields []string
	delim  string
}

func (p fieldPartitioner) encode(rec *schema.Record, _ int64) (string, error) {
	var b strings.Builder
	for i, name := range p.fields {
		if i > 0 {
			b.WriteString(p.delim)
		}
		v, fs, err := fieldValue(rec.ValueSchema, rec.Value, name)
		if err != nil {
			return "", fmt.Errorf("FieldPartitioner: %w", err)
		}
		b.WriteString(name)
		b.WriteByte('=')
		if fs != nil {
			switch fs.Type {
			case schema.TypeInt8, schema.TypeInt16, schema.TypeInt32, schema.TypeInt64, schema.TypeString, schema.TypeBoolean:
			default:
				return "", fmt.Errorf("FieldPartitioner: field %s: type %s is not supported as a partition key", name, fs.Type)
			}
		}
		switch x := v.(type) {
		case string:
			b.WriteString(x)
		case int8, int16, int32, int64, int, bool:
			fmt.Fprint(&b, x)
		case float64: // schemaless JSON numbers
			if x != float64(int64(x)) {
				return "", fmt.Errorf("FieldPartitioner: field %s: %v is not an integer", name, x)
			}
			b.WriteString(strconv.FormatInt(int64(x), 10))
		case nil:
			return "", fmt.Errorf("FieldPartitioner: field %s is null", name)
		default:
			return "", fmt.Errorf("FieldPartitioner: field %s: %T is not supported as a partition key", name, v)
		}
	}
	return b.String(), nil
}

// fieldValue finds a (dotted) field in a struct or schemaless map value.
func fieldValue(s *schema.Schema, v any, path string) (any, *schema.Schema, error) {
	cur, cs := v, s
	for _, part := range strings.Split(path, ".") {
		switch x := cur.(type) {
		case *schema.Struct:
			f, ok := x.Schema.Field(part)
			if !ok {
				return nil, nil, fmt.Errorf("field %s does not exist in the value", path)
			}
			cur, cs = x.Values[f.Index], f.Schema
		case map[string]any:
			val, ok := x[part]
			if !ok {
				return nil, nil, fmt.Errorf("field %s does not exist in the value", path)
			}
			cur, cs = val, nil
		case nil:
			return nil, nil, fmt.Errorf("field %s: the value is null", path)
		default:
			return nil, nil, fmt.Errorf("field %s: the value is not a struct or map (%T)", path, cur)
		}
	}
	return cur, cs, nil
}

// timePartitioner is TimeBasedPartitioner: the record time is truncated to
// partition.duration.ms in the configured zone and printed with path.format.
type timePartitioner struct {
	format   jodaFormat
	duration int64
	zone     *time.Location
}

func (p *timePartitioner) encode(_ *schema.Record, ts int64) (string, error) {
	// TimeBasedPartitioner.getPartition: truncate in local time, back to UTC.
	_, off := time.UnixMilli(ts).In(p.zone).Zone()
	local := ts + int64(off)*1000
	part := (local / p.duration) * p.duration // Java's truncating division
	t := time.UnixMilli(part).In(time.UTC)
	// convertLocalToUTC: the local wall time part, in the zone.
	t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), p.zone)
	return string(p.format.Append(nil, t)), nil
}

func newExtractor(s *settings) (extractor, error) {
	switch s.extractor {
	case ExtractorWallclock:
		return func(_ *schema.Record, now time.Time) (int64, error) { return now.UnixMilli(), nil }, nil
	case ExtractorRecord:
		return func(rec *schema.Record, _ time.Time) (int64, error) {
			if rec.Timestamp.IsZero() {
				return 0, fmt.Errorf("Unable to determine timestamp using timestamp.extractor Record: the record has no timestamp")
			}
			return rec.Timestamp.UnixMilli(), nil
		}, nil
	case ExtractorRecordField:
		field := s.timestampField
		return func(rec *schema.Record, _ time.Time) (int64, error) {
			v, _, err := fieldValue(rec.ValueSchema, rec.Value, field)
			if err != nil {
				return 0, fmt.Errorf("timestamp.extractor RecordField: %w", err)
			}
			switch x := v.(type) {
			case time.Time:
				return x.UnixMilli(), nil
			case int64:
				return x, nil
			case int32:
				return int64(x), nil
			case float64:
				return int64(x), nil
			case string:
				t, err := parseISO(x)
				if err != nil {
					return 0, fmt.Errorf("timestamp.extractor RecordField: field %s: %w", field, err)
				}
				return t.UnixMilli(), nil
			case nil:
				return 0, fmt.Errorf("timestamp.extractor RecordField: field %s is null", field)
			}
			return 0, fmt.Errorf("timestamp.extractor RecordField: field %s: unsupported type %T", field, v)
		}, nil
	}
	return nil, fmt.Errorf("unsupported timestamp.extractor %s", s.extractor)
}

// parseISO parses ISO-8601 date-times as Joda's dateTimeParser accepts the
// common forms (a zone-less time is UTC).
func parseISO(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as an ISO-8601 date-time", s)
}
