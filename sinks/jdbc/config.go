package jdbcsink

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/jdbc"
)

// Config keys, Confluent's names unless noted.
const (
	KeyTopics             = "topics"
	KeyTopicsRegex        = "topics.regex"
	KeyConnectionURL      = "connection.url"
	KeyConnectionUser     = "connection.user"
	KeyConnectionPassword = "connection.password"
	KeyConnectionAttempts = "connection.attempts"
	KeyConnectionBackoff  = "connection.backoff.ms"
	KeyDialectName        = "dialect.name"
	KeyInsertMode         = "insert.mode"
	KeyPKMode             = "pk.mode"
	KeyPKFields           = "pk.fields"
	KeyFieldsWhitelist    = "fields.whitelist"
	KeyFieldsIncludeList  = "fields.include.list" // accepted alias of fields.whitelist
	KeyTableNameFormat    = "table.name.format"
	KeyTableTypes         = "table.types"
	KeyBatchSize          = "batch.size"
	KeyDeleteEnabled      = "delete.enabled"
	KeyAutoCreate         = "auto.create"
	KeyAutoEvolve         = "auto.evolve"
	KeyMaxRetries         = "max.retries"
	KeyRetryBackoff       = "retry.backoff.ms"
	KeyDBTimezone         = "db.timezone"
	KeyDateTimezone       = "date.timezone"
	KeyQuoteIdentifiers   = "quote.sql.identifiers"
	KeyReplaceNull        = "replace.null.with.default"
	KeyTrimSensitiveLog   = "trim.sensitive.log"
	KeyMSSQLMerge         = "mssql.use.merge.holdlock"

	// Tributary's additions.
	KeyTruncateEnabled   = "truncate.enabled"              // Debezium JDBC sink's name: op "t" truncates the table
	KeyExactlyOnce       = "exactly.once"                  // store consumed offsets in the target, skip replays
	KeyExactlyOnceTable  = "exactly.once.table"            // where those offsets live
	KeySchemalessInfer   = "schemaless.infer"              // accept schemaless JSON objects by inferring a schema
	KeyDebeziumUnwrap    = "debezium.unwrap"               // flatten Debezium envelopes natively
	KeyUnavailableValue  = "unavailable.value.placeholder" // Debezium's placeholder for unchanged TOAST values
	KeyStringKeyLength   = "mysql.string.key.length"       // VARCHAR length of string key columns on MySQL/MariaDB
	DefaultOffsetsTable  = "tributary_sink_offsets"
	DefaultPlaceholder   = "__debezium_unavailable_value"
	defaultStringKeySize = 255
)

// Insert modes.
const (
	InsertModeInsert = "insert"
	InsertModeUpsert = "upsert"
	InsertModeUpdate = "update"
)

// PK modes.
const (
	PKModeNone        = "none"
	PKModeKafka       = "kafka"
	PKModeRecordKey   = "record_key"
	PKModeRecordValue = "record_value"
)

// Default column names of pk.mode=kafka.
var defaultKafkaPKFields = []string{"__connect_topic", "__connect_partition", "__connect_offset"}

const (
	groupConnection = "Connection"
	groupWrites     = "Writes"
	groupDataMap    = "Data Mapping"
	groupDDL        = "DDL Support"
	groupRetries    = "Retries"
)

func timezoneValidator(v any) error {
	s, _ := v.(string)
	if _, err := loadZone(s); err != nil {
		return fmt.Errorf("Invalid time zone identifier")
	}
	return nil
}

func loadZone(s string) (*time.Location, error) {
	switch strings.TrimSpace(s) {
	case "", "UTC", "Z", "GMT":
		return time.UTC, nil
	}
	return time.LoadLocation(strings.TrimSpace(s))
}

// Def returns the sink's config definition. Runtime-level keys (name,
// connector.class, tasks.max, converters, transforms, errors.*) are added by
// the runtime; topics and topics.regex are declared here too so validation
// can check them.
func Def() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: KeyTopics, Type: config.List, Default: []string{}, Importance: config.High, Group: "Common",
			Doc: "List of topics to consume, separated by commas. Exactly one of topics and topics.regex must be set."}).
		Define(config.Key{Name: KeyTopicsRegex, Type: config.String, Default: "", Importance: config.High, Group: "Common",
			Validator: config.ValidRegex,
			Doc:       "Regular expression giving topics to consume (Java/RE2 syntax). Exactly one of topics and topics.regex must be set."}).
		Define(config.Key{Name: KeyConnectionURL, Type: config.String, Default: config.NoDefault, Importance: config.High, Group: groupConnection,
			Validator: config.NonEmpty,
			Doc:       "JDBC connection URL (jdbc:mysql://, jdbc:mariadb://, jdbc:postgresql://) or a native DSN. The dialect is chosen from it unless dialect.name is set."}).
		Define(config.Key{Name: KeyConnectionUser, Type: config.String, Default: "", Importance: config.High, Group: groupConnection,
			Doc: "JDBC connection user; wins over a user in connection.url."}).
		Define(config.Key{Name: KeyConnectionPassword, Type: config.Password, Default: "", Importance: config.High, Group: groupConnection,
			Doc: "JDBC connection password; wins over a password in connection.url."}).
		Define(config.Key{Name: KeyConnectionAttempts, Type: config.Int, Default: 3, Importance: config.Low, Group: groupConnection,
			Validator: config.AtLeast(1), Doc: "Maximum number of attempts to open a connection."}).
		Define(config.Key{Name: KeyConnectionBackoff, Type: config.Long, Default: int64(10000), Importance: config.Low, Group: groupConnection,
			Validator: config.AtLeast(0), Doc: "Backoff time in milliseconds between connection attempts."}).
		Define(config.Key{Name: KeyDialectName, Type: config.String, Default: "", Importance: config.Low, Group: groupConnection,
			Validator: config.OneOf("", "MySqlDatabaseDialect", "MariaDbDialect", "PostgreSqlDatabaseDialect"),
			Doc:       "Database dialect; empty picks it from connection.url."}).
		Define(config.Key{Name: KeyInsertMode, Type: config.String, Default: InsertModeInsert, Importance: config.High, Group: groupWrites,
			Validator: config.OneOf(InsertModeInsert, InsertModeUpsert, InsertModeUpdate),
			Doc:       "insert: plain INSERT; upsert: INSERT … ON DUPLICATE KEY UPDATE (MySQL) / ON CONFLICT … DO UPDATE (PostgreSQL), idempotent; update: UPDATE by key."}).
		Define(config.Key{Name: KeyBatchSize, Type: config.Int, Default: 3000, Importance: config.Medium, Group: groupWrites,
			Validator: config.AtLeast(1),
			Doc:       "Records buffered per table before they are written in one transaction (also the largest multi-row statement, within the 65535-parameter limit)."}).
		Define(config.Key{Name: KeyDeleteEnabled, Type: config.Boolean, Default: false, Importance: config.Medium, Group: groupWrites,
			Doc: "Turn null record values (tombstones) and Debezium delete events into DELETE by key. Requires pk.mode=record_key."}).
		Define(config.Key{Name: KeyTruncateEnabled, Type: config.Boolean, Default: false, Importance: config.Low, Group: groupWrites,
			Doc: "Apply Debezium truncate events (op \"t\") by emptying the table; ignored otherwise."}).
		Define(config.Key{Name: KeyTableNameFormat, Type: config.String, Default: "${topic}", Importance: config.Medium, Group: groupDataMap,
			Validator: config.NonEmpty,
			Doc:       "Destination table; ${topic} is replaced by the topic name. Parsed as [catalog.][schema.]table."}).
		Define(config.Key{Name: KeyTableTypes, Type: config.List, Default: []string{"TABLE"}, Importance: config.Low, Group: groupDataMap,
			Doc: "Table types written to: TABLE, PARTITIONED TABLE, VIEW (views are written, never created or altered)."}).
		Define(config.Key{Name: KeyPKMode, Type: config.String, Default: PKModeNone, Importance: config.High, Group: groupDataMap,
			Validator: config.OneOf(PKModeNone, PKModeKafka, PKModeRecordKey, PKModeRecordValue),
			Doc:       "Where the primary key comes from: none, kafka (topic, partition, offset), record_key, record_value."}).
		Define(config.Key{Name: KeyPKFields, Type: config.List, Default: []string{}, Importance: config.Medium, Group: groupDataMap,
			Doc: "Primary key field names; meaning depends on pk.mode (kafka: three column names; record_key: key fields, or the column for a primitive key; record_value: value fields)."}).
		Define(config.Key{Name: KeyFieldsWhitelist, Type: config.List, Default: []string{}, Importance: config.Medium, Group: groupDataMap,
			Aliases: []string{KeyFieldsIncludeList},
			Doc:     "Value fields written as non-key columns; empty means all."}).
		Define(config.Key{Name: KeyDBTimezone, Type: config.String, Default: "UTC", Importance: config.Medium, Group: groupDataMap,
			Validator: timezoneValidator,
			Doc:       "Time zone in which Connect Time/Timestamp (and Date, see date.timezone) values and Debezium ZonedTimestamps are written to columns without zone."}).
		Define(config.Key{Name: KeyDateTimezone, Type: config.String, Default: "DB_TIMEZONE", Importance: config.Low, Group: groupDataMap,
			Validator: config.OneOf("DB_TIMEZONE", "UTC"),
			Doc:       "Zone for Connect Date values: DB_TIMEZONE (db.timezone) or UTC."}).
		Define(config.Key{Name: KeyQuoteIdentifiers, Type: config.String, Default: "always", Importance: config.Medium, Group: groupDataMap,
			Validator: config.OneOf("always", "never"),
			Doc:       "Quote table and column names (always) or not (never; PostgreSQL then folds them to lower case)."}).
		Define(config.Key{Name: KeyReplaceNull, Type: config.Boolean, Default: true, Importance: config.Low, Group: groupDataMap,
			Doc: "Write the schema default for a null field that has one."}).
		Define(config.Key{Name: KeySchemalessInfer, Type: config.Boolean, Default: false, Importance: config.Medium, Group: groupDataMap,
			Doc: "Accept schemaless values (plain JSON objects, value.converter.schemas.enable=false) by inferring a schema: integers BIGINT, fractions DOUBLE, strings TEXT, booleans, nested objects and arrays as JSON columns. Off: such records fail as in Confluent's sink."}).
		Define(config.Key{Name: KeyDebeziumUnwrap, Type: config.Boolean, Default: true, Importance: config.Medium, Group: groupDataMap,
			Doc: "Flatten Debezium change-event envelopes natively (after for c/r/u, delete for d), so no ExtractNewRecordState transform is needed."}).
		Define(config.Key{Name: KeyUnavailableValue, Type: config.String, Default: DefaultPlaceholder, Importance: config.Low, Group: groupDataMap,
			Doc: "Debezium's placeholder for unchanged TOASTed values; a column holding it is left unchanged in the target. Empty turns this off."}).
		Define(config.Key{Name: KeyAutoCreate, Type: config.Boolean, Default: false, Importance: config.Medium, Group: groupDDL,
			Doc: "Create a missing destination table from the record schema (primary key from pk.mode)."}).
		Define(config.Key{Name: KeyAutoEvolve, Type: config.Boolean, Default: false, Importance: config.Medium, Group: groupDDL,
			Doc: "Add columns for new record fields (nullable or with the schema default). Columns are never dropped, narrowed or widened."}).
		Define(config.Key{Name: KeyStringKeyLength, Type: config.Int, Default: defaultStringKeySize, Importance: config.Low, Group: groupDDL,
			Validator: config.AtLeast(1),
			Doc:       "Length of VARCHAR/VARBINARY primary-key columns created on MySQL/MariaDB for string/bytes keys (TEXT cannot be a key there); shrunk automatically so the key fits 3072 bytes."}).
		Define(config.Key{Name: KeyMaxRetries, Type: config.Int, Default: 10, Importance: config.Medium, Group: groupRetries,
			Validator: config.AtLeast(0), Doc: "Retries of a table batch after a retriable error (lost connection, deadlock, timeout)."}).
		Define(config.Key{Name: KeyRetryBackoff, Type: config.Int, Default: 3000, Importance: config.Medium, Group: groupRetries,
			Validator: config.AtLeast(0), Doc: "Milliseconds to wait before retrying."}).
		Define(config.Key{Name: KeyExactlyOnce, Type: config.Boolean, Default: false, Importance: config.Medium, Group: groupWrites,
			Doc: "Store the consumed topic/partition/offset in the target, in the same transaction as the rows, and skip records already applied: replays after a crash never duplicate, even in insert mode."}).
		Define(config.Key{Name: KeyExactlyOnceTable, Type: config.String, Default: DefaultOffsetsTable, Importance: config.Low, Group: groupWrites,
			Validator: config.NonEmpty, Doc: "Table holding the offsets of exactly.once=true (created when missing)."}).
		Define(config.Key{Name: KeyTrimSensitiveLog, Type: config.Boolean, Default: false, Importance: config.Low, Group: groupWrites,
			Doc: "Accepted for compatibility; values are never logged."}).
		Define(config.Key{Name: KeyMSSQLMerge, Type: config.Boolean, Default: true, Importance: config.Low, Group: groupWrites,
			Doc: "Accepted for compatibility (SQL Server only)."})
}

// settings is a parsed, validated sink config.
type settings struct {
	conn              *jdbc.Conn
	connAttempts      int
	connBackoff       time.Duration
	insertMode        string
	pkMode            string
	pkFields          []string
	whitelist         map[string]bool
	tableFormat       string
	batchSize         int
	deleteEnabled     bool
	truncateEnabled   bool
	autoCreate        bool
	autoEvolve        bool
	maxRetries        int
	retryBackoff      time.Duration
	dbTZ              *time.Location
	dateTZ            *time.Location
	quote             bool
	replaceNull       bool
	schemalessInfer   bool
	unwrap            bool
	placeholder       string
	placeholderBytes  []byte
	exactlyOnce       bool
	offsetsTable      string
	stringKeyLen      int
	topics            []string
	topicsRegex       *regexp.Regexp
	allowViews        bool
	dialectName       string
	connectionURLText string
}

// parseSettings parses and cross-validates raw, returning every problem.
func parseSettings(raw map[string]string) (*settings, error) {
	vals, err := Def().ParseChecked(raw, validate)
	if err != nil {
		return nil, err
	}
	s := &settings{
		connAttempts:    vals.Int(KeyConnectionAttempts),
		connBackoff:     vals.Duration(KeyConnectionBackoff),
		insertMode:      strings.ToLower(vals.String(KeyInsertMode)),
		pkMode:          strings.ToLower(vals.String(KeyPKMode)),
		pkFields:        nonEmpty(vals.List(KeyPKFields)),
		tableFormat:     vals.String(KeyTableNameFormat),
		batchSize:       vals.Int(KeyBatchSize),
		deleteEnabled:   vals.Bool(KeyDeleteEnabled),
		truncateEnabled: vals.Bool(KeyTruncateEnabled),
		autoCreate:      vals.Bool(KeyAutoCreate),
		autoEvolve:      vals.Bool(KeyAutoEvolve),
		maxRetries:      vals.Int(KeyMaxRetries),
		retryBackoff:    time.Duration(vals.Int(KeyRetryBackoff)) * time.Millisecond,
		quote:           strings.EqualFold(vals.String(KeyQuoteIdentifiers), "always"),
		replaceNull:     vals.Bool(KeyReplaceNull),
		schemalessInfer: vals.Bool(KeySchemalessInfer),
		unwrap:          vals.Bool(KeyDebeziumUnwrap),
		placeholder:     vals.String(KeyUnavailableValue),
		exactlyOnce:     vals.Bool(KeyExactlyOnce),
		offsetsTable:    vals.String(KeyExactlyOnceTable),
		stringKeyLen:    vals.Int(KeyStringKeyLength),
		topics:          nonEmpty(vals.List(KeyTopics)),
		dialectName:     vals.String(KeyDialectName),
	}
	// Values of placeholder are compared raw: the key's value is not trimmed
	// beyond what config parsing does.
	if s.placeholder != "" {
		s.placeholderBytes = []byte(s.placeholder)
	}
	if wl := nonEmpty(vals.List(KeyFieldsWhitelist)); len(wl) > 0 {
		s.whitelist = make(map[string]bool, len(wl))
		for _, f := range wl {
			s.whitelist[f] = true
		}
	}
	for _, t := range vals.List(KeyTableTypes) {
		if strings.EqualFold(strings.TrimSpace(t), "VIEW") {
			s.allowViews = true
		}
	}
	s.dbTZ, _ = loadZone(vals.String(KeyDBTimezone))
	s.dateTZ = s.dbTZ
	if strings.EqualFold(vals.String(KeyDateTimezone), "UTC") {
		s.dateTZ = time.UTC
	}
	if re := vals.String(KeyTopicsRegex); re != "" {
		s.topicsRegex = regexp.MustCompile(re) // validated above
	}
	s.conn, _ = jdbc.ParseURL(vals.String(KeyConnectionURL), vals.String(KeyConnectionUser), vals.String(KeyConnectionPassword))
	s.connectionURLText = vals.String(KeyConnectionURL)
	return s, nil
}

func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// validate runs the cross-key checks of Confluent's JdbcSinkConfig and
// Connect's sink checks, each error naming its key.
func validate(v *config.Values) config.Errors {
	var errs config.Errors
	if v == nil {
		return nil
	}
	topics := nonEmpty(v.List(KeyTopics))
	regex := v.String(KeyTopicsRegex)
	switch {
	case len(topics) > 0 && regex != "":
		errs = append(errs, config.KeyError{Key: KeyTopics, Message: "topics and topics.regex are mutually exclusive options, but both are set."})
	case len(topics) == 0 && regex == "":
		errs = append(errs, config.KeyError{Key: KeyTopics, Message: "Must configure one of topics or topics.regex"})
	}
	if u := v.String(KeyConnectionURL); u != "" {
		c, err := jdbc.ParseURL(u, v.String(KeyConnectionUser), v.String(KeyConnectionPassword))
		if err != nil {
			errs = append(errs, config.KeyError{Key: KeyConnectionURL, Message: err.Error()})
		} else if d := v.String(KeyDialectName); d != "" {
			if c.Flavor != dialectNameFlavor(d) {
				errs = append(errs, config.KeyError{Key: KeyDialectName, Message: fmt.Sprintf("dialect %s does not match connection.url, which is a %s URL", d, c.Flavor)})
			}
		}
	}
	insertMode := strings.ToLower(v.String(KeyInsertMode))
	pkMode := strings.ToLower(v.String(KeyPKMode))
	pkFields := nonEmpty(v.List(KeyPKFields))
	if (insertMode == InsertModeUpsert || insertMode == InsertModeUpdate) && pkMode == PKModeNone {
		errs = append(errs, config.KeyError{Key: KeyPKMode, Message: fmt.Sprintf(
			"insert.mode=%s requires key columns, but pk.mode=none defines none; set pk.mode to kafka, record_key or record_value (or use insert.mode=insert)", insertMode)})
	}
	if v.Bool(KeyDeleteEnabled) && pkMode != PKModeRecordKey {
		errs = append(errs, config.KeyError{Key: KeyDeleteEnabled, Message: fmt.Sprintf(
			"Deletes are only supported for pk.mode record_key: delete.enabled=true needs pk.mode=record_key, but pk.mode=%s", pkMode)})
	}
	if pkMode == PKModeKafka && len(pkFields) != 0 && len(pkFields) != 3 {
		errs = append(errs, config.KeyError{Key: KeyPKFields, Message: fmt.Sprintf(
			"pk.mode=kafka needs either no pk.fields (defaults %s) or exactly 3 names (topic, partition, offset columns), got %d: %v",
			strings.Join(defaultKafkaPKFields, ", "), len(pkFields), pkFields)})
	}
	if ot := v.String(KeyExactlyOnceTable); v.Bool(KeyExactlyOnce) && strings.TrimSpace(ot) == "" {
		errs = append(errs, config.KeyError{Key: KeyExactlyOnceTable, Message: "exactly.once=true needs a table name"})
	}
	return errs
}
