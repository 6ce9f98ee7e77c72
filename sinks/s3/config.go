package s3

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/connector/config"
)

// Config keys, Confluent's names (S3SinkConnectorConfig, StorageCommonConfig,
// PartitionerConfig).
const (
	KeyTopics                = "topics"
	KeyTopicsRegex           = "topics.regex"
	KeyBucket                = "s3.bucket.name"
	KeyRegion                = "s3.region"
	KeyStoreURL              = "store.url"
	KeyPathStyle             = "s3.path.style.access.enabled"
	KeyAccessKeyID           = "aws.access.key.id"
	KeySecretAccessKey       = "aws.secret.access.key"
	KeyCredentialsProvider   = "s3.credentials.provider.class"
	KeyPartSize              = "s3.part.size"
	KeyPartRetries           = "s3.part.retries"
	KeyS3RetryBackoff        = "s3.retry.backoff.ms"
	KeyCompressionType       = "s3.compression.type"
	KeyCompressionLevel      = "s3.compression.level"
	KeyFlushSize             = "flush.size"
	KeyRotateInterval        = "rotate.interval.ms"
	KeyRotateSchedule        = "rotate.schedule.interval.ms"
	KeyTopicsDir             = "topics.dir"
	KeyDirectoryDelim        = "directory.delim"
	KeyFileDelim             = "file.delim"
	KeyZeroPadWidth          = "filename.offset.zero.pad.width"
	KeyFormatClass           = "format.class"
	KeyStorageClass          = "storage.class"
	KeyPartitionerClass      = "partitioner.class"
	KeyPathFormat            = "path.format"
	KeyPartitionDuration     = "partition.duration.ms"
	KeyLocale                = "locale"
	KeyTimezone              = "timezone"
	KeyTimestampExtractor    = "timestamp.extractor"
	KeyTimestampField        = "timestamp.field"
	KeyPartitionFieldName    = "partition.field.name"
	KeyBehaviorOnNull        = "behavior.on.null.values"
	KeyTombstonePartition    = "tombstone.encoded.partition"
	KeyStoreKafkaKeys        = "store.kafka.keys"
	KeyStoreKafkaHeaders     = "store.kafka.headers"
	KeyKeysFormatClass       = "keys.format.class"
	KeyHeadersFormatClass    = "headers.format.class"
	KeyAvroCodec             = "avro.codec"
	KeyParquetCodec          = "parquet.codec"
	KeyJSONDecimalFormat     = "json.decimal.format"
	KeyByteArrayExtension    = "format.bytearray.extension"
	KeyByteArraySeparator    = "format.bytearray.separator"
	KeySchemaCompatibility   = "schema.compatibility"
	KeyRetryBackoff          = "retry.backoff.ms"
	KeyScrubInvalidNames     = "scrub.invalid.names"
	KeyEnhancedAvroSupport   = "enhanced.avro.schema.support"
	KeyConnectMetaData       = "connect.meta.data"
	KeyAvroDataCacheSize     = "schema.cache.size"
	KeyUploadConcurrency     = "s3.upload.concurrency"  // Tributary's: object uploads in flight per task
	KeyMaxBufferedUploadSize = "s3.upload.buffer.bytes" // Tributary's: bytes of finished files waiting for upload before Put blocks
)

// Format classes (format.class, keys.format.class, headers.format.class).
const (
	FormatJSON      = "io.confluent.connect.s3.format.json.JsonFormat"
	FormatAvro      = "io.confluent.connect.s3.format.avro.AvroFormat"
	FormatParquet   = "io.confluent.connect.s3.format.parquet.ParquetFormat"
	FormatByteArray = "io.confluent.connect.s3.format.bytearray.ByteArrayFormat"
)

// Partitioner classes (partitioner.class).
const (
	PartitionerDefault   = "io.confluent.connect.storage.partitioner.DefaultPartitioner"
	PartitionerTimeBased = "io.confluent.connect.storage.partitioner.TimeBasedPartitioner"
	PartitionerHourly    = "io.confluent.connect.storage.partitioner.HourlyPartitioner"
	PartitionerDaily     = "io.confluent.connect.storage.partitioner.DailyPartitioner"
	PartitionerField     = "io.confluent.connect.storage.partitioner.FieldPartitioner"
)

// StorageS3 is the only storage.class.
const StorageS3 = "io.confluent.connect.s3.storage.S3Storage"

// Timestamp extractors (timestamp.extractor).
const (
	ExtractorWallclock   = "Wallclock"
	ExtractorRecord      = "Record"
	ExtractorRecordField = "RecordField"
)

// behavior.on.null.values.
const (
	NullFail   = "fail"
	NullIgnore = "ignore"
	NullWrite  = "write"
)

const (
	defaultPartSize = 25 * 1024 * 1024
	minPartSize     = 5 * 1024 * 1024
	maxPartSize     = 2147483647 // int max, as Confluent's PartRange
	groupS3         = "S3"
	groupStorage    = "Storage"
	groupPartition  = "Partitioner"
	groupConnector  = "Connector"
)

// classAliases maps accepted short/variant class names to canonical ones.
var formatAliases = map[string]string{
	"JsonFormat": FormatJSON, "AvroFormat": FormatAvro, "ParquetFormat": FormatParquet, "ByteArrayFormat": FormatByteArray,
}

var partitionerAliases = map[string]string{
	"DefaultPartitioner": PartitionerDefault, "TimeBasedPartitioner": PartitionerTimeBased,
	"HourlyPartitioner": PartitionerHourly, "DailyPartitioner": PartitionerDaily, "FieldPartitioner": PartitionerField,
}

func canonical(aliases map[string]string, s string) (string, bool) {
	s = strings.TrimSpace(s)
	for short, full := range aliases {
		if s == full || s == short {
			return full, true
		}
	}
	return s, false
}

func classValidator(aliases map[string]string) config.Validator {
	return func(v any) error {
		s, _ := v.(string)
		if _, ok := canonical(aliases, s); !ok {
			var names []string
			for _, full := range aliases {
				names = append(names, full)
			}
			return fmt.Errorf("Class %s could not be found; supported: %s", s, strings.Join(sortedStrings(names), ", "))
		}
		return nil
	}
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Def returns the connector's config definition. Runtime-level keys (name,
// connector.class, tasks.max, converters, transforms, errors.*) are added by
// the runtime.
func Def() *config.Def {
	return defineTLS(config.NewDef().
		Define(config.Key{Name: KeyTopics, Type: config.List, Default: []string{}, Importance: config.High, Group: groupConnector,
			Doc: "List of topics to consume, separated by commas. Exactly one of topics and topics.regex must be set."}).
		Define(config.Key{Name: KeyTopicsRegex, Type: config.String, Default: "", Importance: config.High, Group: groupConnector,
			Validator: config.ValidRegex, Doc: "Regular expression giving topics to consume."}).
		Define(config.Key{Name: KeyFlushSize, Type: config.Int, Default: config.NoDefault, Importance: config.High, Group: groupConnector,
			Validator: config.AtLeast(1), Doc: "Number of records written to a file before it is committed (per Kafka partition)."}).
		Define(config.Key{Name: KeyRotateInterval, Type: config.Long, Default: int64(-1), Importance: config.High, Group: groupConnector,
			Doc: "The time interval in milliseconds to invoke file commits, measured in record time (timestamp.extractor of a time-based partitioner): a file is committed when a record's time is this far past the file's first record, or when the record belongs to another encoded partition. -1 disables it."}).
		Define(config.Key{Name: KeyRotateSchedule, Type: config.Long, Default: int64(-1), Importance: config.Medium, Group: groupConnector,
			Doc: "Commit open files on a wall-clock schedule of this period in milliseconds (aligned to the day in timezone). Breaks exactly-once: a replay may cut files elsewhere. -1 disables it."}).
		Define(config.Key{Name: KeyRetryBackoff, Type: config.Long, Default: int64(5000), Importance: config.Low, Group: groupConnector,
			Validator: config.AtLeast(0), Doc: "Backoff in milliseconds before a failed upload is retried."}).
		Define(config.Key{Name: KeySchemaCompatibility, Type: config.String, Default: "NONE", Importance: config.High, Group: groupConnector,
			Validator: config.OneOf("NONE"), Doc: "Schema compatibility mode: only NONE (a file is committed whenever the value schema changes)."}).
		Define(config.Key{Name: KeyBucket, Type: config.String, Default: config.NoDefault, Importance: config.High, Group: groupS3,
			Validator: config.NonEmpty, Doc: "The S3 bucket."}).
		Define(config.Key{Name: KeyRegion, Type: config.String, Default: "us-west-2", Importance: config.Medium, Group: groupS3,
			Doc: "The AWS region used by the connector."}).
		Define(config.Key{Name: KeyStoreURL, Type: config.String, Default: "", Importance: config.High, Group: groupStorage,
			Validator: storeURLValidator, Doc: "Store's connection URL for S3-compatible stores (MinIO, Ceph, R2): http(s)://host[:port]. Empty means AWS S3 in s3.region."}).
		Define(config.Key{Name: KeyPathStyle, Type: config.Boolean, Default: true, Importance: config.Low, Group: groupS3,
			Doc: "Use path-style requests (http://host/bucket/key) with store.url; false uses virtual-hosted style."}).
		Define(config.Key{Name: KeyAccessKeyID, Type: config.String, Default: "", Importance: config.High, Group: groupS3,
			Doc: "AWS access key id. Empty uses the default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, then instance metadata."}).
		Define(config.Key{Name: KeySecretAccessKey, Type: config.Password, Default: "", Importance: config.High, Group: groupS3,
			Doc: "AWS secret access key (with aws.access.key.id)."}).
		Define(config.Key{Name: KeyCredentialsProvider, Type: config.Class, Default: "com.amazonaws.auth.DefaultAWSCredentialsProviderChain", Importance: config.Low, Group: groupS3,
			Doc: "Accepted for compatibility; the default provider chain is always used when no keys are given."}).
		Define(config.Key{Name: KeyPartSize, Type: config.Int, Default: defaultPartSize, Importance: config.High, Group: groupS3,
			Validator: partSizeValidator, Doc: "The part size in S3 multipart uploads (5 MiB to 2 GiB). Files larger than one part are uploaded with multipart."}).
		Define(config.Key{Name: KeyPartRetries, Type: config.Int, Default: 3, Importance: config.Medium, Group: groupS3,
			Validator: config.AtLeast(0), Doc: "Maximum number of retries of a failed S3 request."}).
		Define(config.Key{Name: KeyS3RetryBackoff, Type: config.Long, Default: int64(200), Importance: config.Low, Group: groupS3,
			Validator: config.AtLeast(0), Doc: "How long to wait in milliseconds before the first retry of a failed S3 request."}).
		Define(config.Key{Name: KeyCompressionType, Type: config.String, Default: "none", Importance: config.Low, Group: groupS3,
			Validator: config.OneOf("none", "gzip"), Doc: "Compression of JsonFormat and ByteArrayFormat files: none or gzip (adds .gz)."}).
		Define(config.Key{Name: KeyCompressionLevel, Type: config.Int, Default: -1, Importance: config.Low, Group: groupS3,
			Validator: rangeValidator(-1, 9), Doc: "gzip level, -1 (default) to 9."}).
		Define(config.Key{Name: KeyUploadConcurrency, Type: config.Int, Default: 4, Importance: config.Low, Group: groupS3,
			Validator: config.AtLeast(1), Doc: "Tributary: objects uploaded at once per task."}).
		Define(config.Key{Name: KeyMaxBufferedUploadSize, Type: config.Long, Default: int64(256 << 20), Importance: config.Low, Group: groupS3,
			Validator: config.AtLeast(1), Doc: "Tributary: bytes of committed files waiting for their upload before Put waits."}).
		Define(config.Key{Name: KeyTopicsDir, Type: config.String, Default: "topics", Importance: config.High, Group: groupStorage,
			Doc: "Top-level directory of the objects."}).
		Define(config.Key{Name: KeyDirectoryDelim, Type: config.String, Default: "/", Importance: config.Medium, Group: groupStorage,
			Validator: config.NonEmpty, Doc: "Directory delimiter pattern."}).
		Define(config.Key{Name: KeyFileDelim, Type: config.String, Default: "+", Importance: config.Medium, Group: groupStorage,
			Validator: config.NonEmpty, Doc: "File delimiter pattern (between topic, partition and start offset)."}).
		Define(config.Key{Name: KeyZeroPadWidth, Type: config.Int, Default: 10, Importance: config.Low, Group: groupStorage,
			Validator: config.AtLeast(0), Doc: "Width to zero-pad offsets in file names to."}).
		Define(config.Key{Name: KeyStorageClass, Type: config.Class, Default: StorageS3, Importance: config.High, Group: groupStorage,
			Validator: config.OneOf(StorageS3), Doc: "The underlying storage layer."}).
		Define(config.Key{Name: KeyFormatClass, Type: config.Class, Default: config.NoDefault, Importance: config.High, Group: groupConnector,
			Validator: classValidator(formatAliases), Doc: "The format class of value files: JsonFormat, AvroFormat, ParquetFormat or ByteArrayFormat (io.confluent.connect.s3.format.*)."}).
		Define(config.Key{Name: KeyKeysFormatClass, Type: config.Class, Default: FormatAvro, Importance: config.Low, Group: groupConnector,
			Validator: classValidator(formatAliases), Doc: "The format class of key files (store.kafka.keys)."}).
		Define(config.Key{Name: KeyHeadersFormatClass, Type: config.Class, Default: FormatAvro, Importance: config.Low, Group: groupConnector,
			Validator: classValidator(formatAliases), Doc: "The format class of header files (store.kafka.headers)."}).
		Define(config.Key{Name: KeyStoreKafkaKeys, Type: config.Boolean, Default: false, Importance: config.Low, Group: groupConnector,
			Doc: "Also write record keys, to <file>.keys.<ext> beside each value file."}).
		Define(config.Key{Name: KeyStoreKafkaHeaders, Type: config.Boolean, Default: false, Importance: config.Low, Group: groupConnector,
			Doc: "Also write record headers, to <file>.headers.<ext> beside each value file."}).
		Define(config.Key{Name: KeyBehaviorOnNull, Type: config.String, Default: NullFail, Importance: config.Low, Group: groupConnector,
			Validator: config.OneOf(NullFail, NullIgnore, NullWrite), Doc: "Null values (tombstones): fail the task, ignore them, or write them (keys only, to the tombstone.encoded.partition directory; needs store.kafka.keys=true)."}).
		Define(config.Key{Name: KeyTombstonePartition, Type: config.String, Default: "tombstone", Importance: config.Low, Group: groupConnector,
			Validator: config.NonEmpty, Doc: "Encoded partition of tombstones written with behavior.on.null.values=write."}).
		Define(config.Key{Name: KeyAvroCodec, Type: config.String, Default: "null", Importance: config.Low, Group: groupConnector,
			Validator: config.OneOf("null", "deflate", "snappy", "zstandard"), Doc: "Avro container file codec: null, deflate, snappy or zstandard."}).
		Define(config.Key{Name: KeyParquetCodec, Type: config.String, Default: "snappy", Importance: config.Low, Group: groupConnector,
			Validator: config.OneOf("none", "snappy", "gzip", "brotli", "lz4", "zstd"), Doc: "Parquet compression codec: none, snappy, gzip, brotli, lz4 (LZ4_RAW) or zstd. It prefixes the extension as parquet-mr does (.snappy.parquet)."}).
		Define(config.Key{Name: KeyJSONDecimalFormat, Type: config.String, Default: "BASE64", Importance: config.Low, Group: groupConnector,
			Validator: config.OneOf("BASE64", "NUMERIC"), Doc: "How JsonFormat writes decimals: BASE64 or NUMERIC."}).
		Define(config.Key{Name: KeyByteArrayExtension, Type: config.String, Default: ".bin", Importance: config.Low, Group: groupConnector,
			Doc: "Extension of ByteArrayFormat files."}).
		Define(config.Key{Name: KeyByteArraySeparator, Type: config.String, Default: "", Importance: config.Low, Group: groupConnector,
			Doc: "Bytes written after each ByteArrayFormat record; may hold escapes such as \\n. Defaults to a newline when not set."}).
		Define(config.Key{Name: KeyScrubInvalidNames, Type: config.Boolean, Default: false, Importance: config.Low, Group: groupConnector,
			Doc: "Replace characters invalid in Avro names (AvroFormat/ParquetFormat)."}).
		Define(config.Key{Name: KeyEnhancedAvroSupport, Type: config.Boolean, Default: false, Importance: config.Low, Group: groupConnector,
			Doc: "Accepted for compatibility; not supported (enum symbols are written as strings)."}).
		Define(config.Key{Name: KeyConnectMetaData, Type: config.Boolean, Default: true, Importance: config.Low, Group: groupConnector,
			Doc: "Accepted for compatibility; Connect metadata is always written in Avro schemas."}).
		Define(config.Key{Name: KeyAvroDataCacheSize, Type: config.Int, Default: 1000, Importance: config.Low, Group: groupConnector,
			Doc: "Accepted for compatibility (AvroData's schema cache size)."}).
		Define(config.Key{Name: KeyPartitionerClass, Type: config.Class, Default: PartitionerDefault, Importance: config.High, Group: groupPartition,
			Validator: classValidator(partitionerAliases), Doc: "The partitioner: DefaultPartitioner, TimeBasedPartitioner, HourlyPartitioner, DailyPartitioner or FieldPartitioner (io.confluent.connect.storage.partitioner.*)."}).
		Define(config.Key{Name: KeyPathFormat, Type: config.String, Default: "", Importance: config.Medium, Group: groupPartition,
			Doc: "Joda-Time pattern of TimeBasedPartitioner directories, e.g. 'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH."}).
		Define(config.Key{Name: KeyPartitionDuration, Type: config.Long, Default: int64(-1), Importance: config.Medium, Group: groupPartition,
			Doc: "TimeBasedPartitioner: the duration of a partition in milliseconds."}).
		Define(config.Key{Name: KeyLocale, Type: config.String, Default: "", Importance: config.Medium, Group: groupPartition,
			Doc: "TimeBasedPartitioner: locale of path.format (month and day names are written in English)."}).
		Define(config.Key{Name: KeyTimezone, Type: config.String, Default: "", Importance: config.Medium, Group: groupPartition,
			Validator: timezoneValidator, Doc: "TimeBasedPartitioner and rotate.schedule.interval.ms: the time zone (an IANA id such as UTC or America/New_York)."}).
		Define(config.Key{Name: KeyTimestampExtractor, Type: config.String, Default: ExtractorWallclock, Importance: config.Medium, Group: groupPartition,
			Validator: extractorValidator, Doc: "TimeBasedPartitioner: Record (Kafka record timestamp), RecordField (timestamp.field of the value) or Wallclock."}).
		Define(config.Key{Name: KeyTimestampField, Type: config.String, Default: "timestamp", Importance: config.Medium, Group: groupPartition,
			Doc: "RecordField extractor: the value field holding the time (epoch milliseconds, a Timestamp, or an ISO-8601 string); dots reach nested fields."}).
		Define(config.Key{Name: KeyPartitionFieldName, Type: config.List, Default: []string{}, Importance: config.Medium, Group: groupPartition,
			Doc: "FieldPartitioner: value fields whose values name the directories (<field>=<value>)."}))
}

func storeURLValidator(v any) error {
	s, _ := v.(string)
	if strings.TrimSpace(s) == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an http:// or https:// URL")
	}
	return nil
}

func partSizeValidator(v any) error {
	n, _ := v.(int)
	if n < minPartSize || n > maxPartSize {
		return fmt.Errorf("Part size must be at least: %d bytes (5MB)", minPartSize)
	}
	return nil
}

func rangeValidator(lo, hi int) config.Validator {
	return func(v any) error {
		n, _ := v.(int)
		if n < lo || n > hi {
			return fmt.Errorf("Value must be between %d and %d", lo, hi)
		}
		return nil
	}
}

func timezoneValidator(v any) error {
	s, _ := v.(string)
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if _, err := loadZone(s); err != nil {
		return fmt.Errorf("Invalid time zone identifier")
	}
	return nil
}

func loadZone(s string) (*time.Location, error) {
	switch s = strings.TrimSpace(s); s {
	case "UTC", "Z", "GMT", "Etc/UTC":
		return time.UTC, nil
	}
	return time.LoadLocation(s)
}

func extractorValidator(v any) error {
	s, _ := v.(string)
	switch extractorName(s) {
	case ExtractorWallclock, ExtractorRecord, ExtractorRecordField:
		return nil
	}
	return fmt.Errorf("must be Wallclock, Record or RecordField")
}

// extractorName accepts the short names and Confluent's class names
// (io.confluent.connect.storage.partitioner.TimeBasedPartitioner$RecordTimestampExtractor).
func extractorName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, ".$"); i >= 0 {
		s = s[i+1:]
	}
	switch s {
	case "Wallclock", "WallclockTimestampExtractor":
		return ExtractorWallclock
	case "Record", "RecordTimestampExtractor":
		return ExtractorRecord
	case "RecordField", "RecordFieldTimestampExtractor":
		return ExtractorRecordField
	}
	return s
}

// settings is a parsed, validated connector config.
type settings struct {
	topics      []string
	topicsRegex *regexp.Regexp

	bucket, region, storeURL string
	transport                http.RoundTripper // s3.ssl.*: TLS to the store; nil for the default
	pathStyle                bool
	accessKey, secretKey     string
	partSize                 int64
	partRetries              int
	s3Backoff                time.Duration
	gzip                     bool
	gzipLevel                int
	uploadConcurrency        int
	uploadBuffer             int64

	flushSize       int
	rotateInterval  int64 // ms, <=0 off
	rotateSchedule  int64 // ms, <=0 off
	retryBackoff    time.Duration
	topicsDir       string
	dirDelim        string
	fileDelim       string
	zeroPad         int
	format          string
	keysFormat      string // "" when keys are not stored
	headersFormat   string // "" when headers are not stored
	nullBehavior    string
	tombstonePart   string
	avroCodec       string
	parquetCodec    string
	jsonDecimal     string
	byteArrayExt    string
	byteArraySep    []byte
	scrubNames      bool
	partitioner     string
	pathFormat      string
	partitionDur    int64
	locale          string
	timezone        *time.Location
	extractor       string
	timestampField  string
	partitionFields []string
}

// parseSettings parses and checks raw, returning every problem (config.Errors).
func parseSettings(raw map[string]string) (*settings, error) {
	v, err := Def().ParseChecked(raw, validate)
	if err != nil {
		return nil, err
	}
	s := &settings{
		topics:            nonEmpty(v.List(KeyTopics)),
		bucket:            strings.TrimSpace(v.String(KeyBucket)),
		region:            strings.TrimSpace(v.String(KeyRegion)),
		storeURL:          strings.TrimSpace(v.String(KeyStoreURL)),
		pathStyle:         v.Bool(KeyPathStyle),
		accessKey:         strings.TrimSpace(v.String(KeyAccessKeyID)),
		secretKey:         v.String(KeySecretAccessKey),
		partSize:          int64(v.Int(KeyPartSize)),
		partRetries:       v.Int(KeyPartRetries),
		s3Backoff:         v.Duration(KeyS3RetryBackoff),
		gzip:              strings.EqualFold(v.String(KeyCompressionType), "gzip"),
		gzipLevel:         v.Int(KeyCompressionLevel),
		uploadConcurrency: v.Int(KeyUploadConcurrency),
		uploadBuffer:      v.Long(KeyMaxBufferedUploadSize),
		flushSize:         v.Int(KeyFlushSize),
		rotateInterval:    v.Long(KeyRotateInterval),
		rotateSchedule:    v.Long(KeyRotateSchedule),
		retryBackoff:      v.Duration(KeyRetryBackoff),
		topicsDir:         v.String(KeyTopicsDir),
		dirDelim:          rawString(raw, KeyDirectoryDelim, "/"),
		fileDelim:         rawString(raw, KeyFileDelim, "+"),
		zeroPad:           v.Int(KeyZeroPadWidth),
		nullBehavior:      strings.ToLower(v.String(KeyBehaviorOnNull)),
		tombstonePart:     v.String(KeyTombstonePartition),
		avroCodec:         strings.ToLower(v.String(KeyAvroCodec)),
		parquetCodec:      strings.ToLower(v.String(KeyParquetCodec)),
		jsonDecimal:       strings.ToUpper(v.String(KeyJSONDecimalFormat)),
		byteArrayExt:      v.String(KeyByteArrayExtension),
		byteArraySep:      []byte("\n"),
		scrubNames:        v.Bool(KeyScrubInvalidNames),
		pathFormat:        v.String(KeyPathFormat),
		partitionDur:      v.Long(KeyPartitionDuration),
		locale:            v.String(KeyLocale),
		extractor:         extractorName(v.String(KeyTimestampExtractor)),
		timestampField:    v.String(KeyTimestampField),
		partitionFields:   nonEmpty(v.List(KeyPartitionFieldName)),
	}
	if re := strings.TrimSpace(v.String(KeyTopicsRegex)); re != "" {
		s.topicsRegex = regexp.MustCompile(re) // validated by the key's validator
	}
	s.format, _ = canonical(formatAliases, v.String(KeyFormatClass))
	if v.Bool(KeyStoreKafkaKeys) {
		s.keysFormat, _ = canonical(formatAliases, v.String(KeyKeysFormatClass))
	}
	if v.Bool(KeyStoreKafkaHeaders) {
		s.headersFormat, _ = canonical(formatAliases, v.String(KeyHeadersFormatClass))
	}
	s.partitioner, _ = canonical(partitionerAliases, v.String(KeyPartitionerClass))
	switch s.partitioner {
	case PartitionerHourly:
		s.pathFormat = "'year'=YYYY" + s.dirDelim + "'month'=MM" + s.dirDelim + "'day'=dd" + s.dirDelim + "'hour'=HH"
		s.partitionDur = int64(time.Hour / time.Millisecond)
	case PartitionerDaily:
		s.pathFormat = "'year'=YYYY" + s.dirDelim + "'month'=MM" + s.dirDelim + "'day'=dd"
		s.partitionDur = int64(24 * time.Hour / time.Millisecond)
	}
	if sep, ok := raw[KeyByteArraySeparator]; ok && sep != "" {
		s.byteArraySep = []byte(unescape(sep))
	}
	s.timezone = time.UTC
	if tz := strings.TrimSpace(v.String(KeyTimezone)); tz != "" {
		s.timezone, _ = loadZone(tz) // validated
	}
	if s.transport, err = storeTLS(v); err != nil {
		return nil, err
	}
	return s, nil
}

// rawString returns a key's untrimmed value (delimiters may be spaces).
func rawString(raw map[string]string, key, def string) string {
	if s, ok := raw[key]; ok && s != "" {
		return s
	}
	return def
}

func isTimeBased(p string) bool {
	return p == PartitionerTimeBased || p == PartitionerHourly || p == PartitionerDaily
}

// validate holds the cross-key rules of S3SinkConnectorConfig and
// PartitionerConfig.
func validate(v *config.Values) config.Errors {
	var errs config.Errors
	topics := nonEmpty(v.List(KeyTopics))
	regex := strings.TrimSpace(v.String(KeyTopicsRegex))
	switch {
	case len(topics) > 0 && regex != "":
		errs = append(errs, config.KeyError{Key: KeyTopics, Message: "topics and topics.regex are mutually exclusive options, but both are set."})
	case len(topics) == 0 && regex == "":
		errs = append(errs, config.KeyError{Key: KeyTopics, Message: "Must configure one of topics or topics.regex"})
	}
	ak, sk := strings.TrimSpace(v.String(KeyAccessKeyID)), v.String(KeySecretAccessKey)
	if (ak == "") != (sk == "") {
		errs = append(errs, config.KeyError{Key: KeySecretAccessKey, Message: "aws.access.key.id and aws.secret.access.key must be set together"})
	}
	part, _ := canonical(partitionerAliases, v.String(KeyPartitionerClass))
	if isTimeBased(part) {
		if part == PartitionerTimeBased {
			if strings.TrimSpace(v.String(KeyPathFormat)) == "" {
				errs = append(errs, config.KeyError{Key: KeyPathFormat, Message: "Path format cannot be empty when using TimeBasedPartitioner"})
			} else if _, err := compileJoda(v.String(KeyPathFormat)); err != nil {
				errs = append(errs, config.KeyError{Key: KeyPathFormat, Message: err.Error()})
			}
			if v.Long(KeyPartitionDuration) <= 0 {
				errs = append(errs, config.KeyError{Key: KeyPartitionDuration, Message: "Partition duration needs to be a positive number when using TimeBasedPartitioner"})
			}
		}
		if strings.TrimSpace(v.String(KeyLocale)) == "" {
			errs = append(errs, config.KeyError{Key: KeyLocale, Message: "Locale cannot be empty when using a time-based partitioner"})
		}
		if strings.TrimSpace(v.String(KeyTimezone)) == "" {
			errs = append(errs, config.KeyError{Key: KeyTimezone, Message: "Timezone cannot be empty when using a time-based partitioner"})
		}
		if extractorName(v.String(KeyTimestampExtractor)) == ExtractorRecordField && strings.TrimSpace(v.String(KeyTimestampField)) == "" {
			errs = append(errs, config.KeyError{Key: KeyTimestampField, Message: "timestamp.field must be set with the RecordField extractor"})
		}
	}
	if part == PartitionerField && len(nonEmpty(v.List(KeyPartitionFieldName))) == 0 {
		errs = append(errs, config.KeyError{Key: KeyPartitionFieldName, Message: "FieldPartitioner needs at least one field in partition.field.name"})
	}
	if v.Long(KeyRotateSchedule) > 0 && strings.TrimSpace(v.String(KeyTimezone)) == "" {
		errs = append(errs, config.KeyError{Key: KeyTimezone, Message: "Timezone cannot be empty when using rotate.schedule.interval.ms"})
	}
	if strings.EqualFold(v.String(KeyBehaviorOnNull), NullWrite) && !v.Bool(KeyStoreKafkaKeys) {
		errs = append(errs, config.KeyError{Key: KeyBehaviorOnNull, Message: "behavior.on.null.values=write needs store.kafka.keys=true (tombstones are written as keys only)"})
	}
	return dedupe(errs)
}

// dedupe keeps the first error per key and message.
func dedupe(errs config.Errors) config.Errors {
	seen := map[string]bool{}
	var out config.Errors
	for _, e := range errs {
		k := e.Key + "\x00" + e.Message
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

func nonEmpty(l []string) []string {
	var out []string
	for _, s := range l {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// unescape turns Java-style escapes (\n, \t, \r, \\, \uXXXX) into their characters.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		case '\\':
			b.WriteByte('\\')
		case 'u':
			if i+4 < len(s) {
				if n, err := strconv.ParseUint(s[i+1:i+5], 16, 32); err == nil {
					b.WriteRune(rune(n))
					i += 4
					continue
				}
			}
			b.WriteString(`\u`)
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
