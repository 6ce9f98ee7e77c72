package postgres

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/connector/config"
)

// Connector keys, named as Debezium's PostgreSQL connector names them.
const (
	keyHostname          = "database.hostname"
	keyPort              = "database.port"
	keyUser              = "database.user"
	keyPassword          = "database.password"
	keyDBName            = "database.dbname"
	keySSLMode           = "database.sslmode"
	keySSLRootCert       = "database.sslrootcert"
	keySSLCert           = "database.sslcert"
	keySSLKey            = "database.sslkey"
	keySSLPassword       = "database.sslpassword"
	keyTopicPrefix       = "topic.prefix"
	keyPluginName        = "plugin.name"
	keySlotName          = "slot.name"
	keySlotDropOnStop    = "slot.drop.on.stop"
	keyPublicationName   = "publication.name"
	keyPublicationMode   = "publication.autocreate.mode"
	keySchemaInclude     = "schema.include.list"
	keySchemaExclude     = "schema.exclude.list"
	keyTableInclude      = "table.include.list"
	keyTableExclude      = "table.exclude.list"
	keyColumnInclude     = "column.include.list"
	keyColumnExclude     = "column.exclude.list"
	keySnapshotMode      = "snapshot.mode"
	keySnapshotFetch     = "snapshot.fetch.size"
	keySnapshotThreads   = "snapshot.max.threads"
	keyDecimalMode       = "decimal.handling.mode"
	keyTimePrecision     = "time.precision.mode"
	keyIntervalMode      = "interval.handling.mode"
	keyHstoreMode        = "hstore.handling.mode"
	keyBinaryMode        = "binary.handling.mode"
	keyTombstones        = "tombstones.on.delete"
	keyExtendedHeaders   = "extended.headers.enabled"
	keyTxMetadata        = "provide.transaction.metadata"
	keyHeartbeatInterval = "heartbeat.interval.ms"
	keyHeartbeatQuery    = "heartbeat.action.query"
	keyHeartbeatPrefix   = "topic.heartbeat.prefix"
	keyTransactionTopic  = "topic.transaction"
	keyPlaceholder       = "unavailable.value.placeholder"
	keySkippedOps        = "skipped.operations"
	keyMaxBatch          = "max.batch.size"
	keyMaxQueue          = "max.queue.size"
	keyPollInterval      = "poll.interval.ms"
	keyStatusInterval    = "status.update.interval.ms"
	keyMoneyDigits       = "money.fraction.digits"
	keyNameAdjustment    = "schema.name.adjustment.mode"
	keyRetryDelay        = "retriable.restart.connector.wait.ms"
	keyStreamingMode     = "streaming.mode"
	keySpillDir          = "streaming.spill.dir"
)

// Values accepted by the enumerated keys. Debezium values we do not implement
// are rejected by validation with a message that names them.
var (
	snapshotModes    = []string{"initial", "always", "initial_only", "no_data", "never", "when_needed", "schema_only"}
	publicationModes = []string{"all_tables", "disabled", "filtered"}
	decimalModes     = []string{"precise", "double", "string"}
	timeModes        = []string{"adaptive", "adaptive_time_microseconds", "connect"}
	intervalModes    = []string{"numeric", "string"}
	hstoreModes      = []string{"json", "map"}
	binaryModes      = []string{"bytes", "base64", "base64-url-safe", "hex"}
	sslModes         = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
	nameAdjustModes  = []string{"none", "avro"}
	streamingModes   = []string{"auto", "on", "off"}

	unsupportedValues = map[string]map[string]string{
		keySnapshotMode: {
			"custom":              "custom snapshotters are not supported",
			"configuration_based": "configuration_based snapshots are not supported",
			"recovery":            "recovery applies to connectors with a schema history; PostgreSQL has none",
		},
		keyTimePrecision: {
			"isostring":    "time.precision.mode=isostring is not supported",
			"microseconds": "time.precision.mode=microseconds is not supported",
			"nanoseconds":  "time.precision.mode=nanoseconds is not supported",
			"structured":   "time.precision.mode=structured is not supported",
		},
		keyPluginName: {
			"decoderbufs": "plugin.name=decoderbufs needs a server extension; only pgoutput is supported",
			"wal2json":    "plugin.name=wal2json is not supported; only pgoutput is supported",
		},
	}
)

func oneOf(key string, allowed ...string) config.Validator {
	base := config.OneOf(allowed...)
	return func(v any) error {
		s, _ := v.(string)
		if why, ok := unsupportedValues[key][strings.ToLower(s)]; ok {
			return fmt.Errorf("%s", why)
		}
		return base(v)
	}
}

func validSkipped(v any) error {
	items, _ := v.([]string)
	for _, it := range items {
		switch strings.ToLower(strings.TrimSpace(it)) {
		case "c", "u", "d", "t", "none", "":
		default:
			return fmt.Errorf("unknown operation %q; allowed: c, u, d, t, none", it)
		}
	}
	return nil
}

// configDef declares every key the connector accepts. Doc strings say what
// each does and the Debezium default it mirrors.
func configDef() *config.Def {
	d := config.NewDef()
	str := func(name string, def any, imp config.Importance, doc string, v config.Validator, aliases ...string) {
		d.Define(config.Key{Name: name, Type: config.String, Default: def, Importance: imp, Doc: doc, Validator: v, Aliases: aliases})
	}
	list := func(name string, doc string, aliases ...string) {
		d.Define(config.Key{Name: name, Type: config.List, Default: []string{}, Importance: config.Medium, Doc: doc, Validator: config.ValidRegex, Aliases: aliases})
	}
	integer := func(name string, def int, min int64, doc string) {
		d.Define(config.Key{Name: name, Type: config.Int, Default: def, Importance: config.Low, Doc: doc, Validator: config.AtLeast(min)})
	}
	long := func(name string, def int64, min int64, doc string) {
		d.Define(config.Key{Name: name, Type: config.Long, Default: def, Importance: config.Low, Doc: doc, Validator: config.AtLeast(min)})
	}
	boolean := func(name string, def bool, doc string) {
		d.Define(config.Key{Name: name, Type: config.Boolean, Default: def, Importance: config.Low, Doc: doc})
	}
	str(keyHostname, config.NoDefault, config.High, "Host name or address of the PostgreSQL server.", config.NonEmpty)
	integer(keyPort, 5432, 1, "Port of the PostgreSQL server.")
	str(keyUser, config.NoDefault, config.High, "User name; needs REPLICATION (and CREATE on the database for publication.autocreate.mode other than disabled).", config.NonEmpty)
	d.Define(config.Key{Name: keyPassword, Type: config.Password, Default: "", Importance: config.High, Doc: "Password of database.user."})
	str(keyDBName, config.NoDefault, config.High, "Database to capture.", config.NonEmpty)
	str(keySSLMode, "prefer", config.Low, "libpq sslmode, for the SQL connections and the replication connection alike: disable, allow, prefer (default; TLS without certificate checks when the server offers it, else plaintext, which is logged), require (TLS; with database.sslrootcert the chain is checked, as libpq does), verify-ca (the chain against database.sslrootcert or the system roots), verify-full (verify-ca plus the host name).", oneOf(keySSLMode, sslModes...))
	str(keySSLRootCert, "", config.Low, "PEM file of the CA certificates that verify the server (libpq sslrootcert).", nil)
	str(keySSLCert, "", config.Low, "PEM file of the client certificate (libpq sslcert), for certificate authentication.", nil)
	str(keySSLKey, "", config.Low, "PEM file of the client certificate's key (libpq sslkey).", nil)
	d.Define(config.Key{Name: keySSLPassword, Type: config.Password, Default: "", Importance: config.Low, Doc: "Password of an encrypted database.sslkey (libpq sslpassword)."})
	str(keyTopicPrefix, config.NoDefault, config.High, "Logical server name: topic prefix, source.name and the offsets' partition key.", config.NonEmpty, "database.server.name")
	str(keyPluginName, "pgoutput", config.Medium, "Logical decoding plugin. Only pgoutput (built into PostgreSQL 10+) is supported; Debezium's default decoderbufs is not.", oneOf(keyPluginName, "pgoutput"))
	str(keySlotName, "debezium", config.Medium, "Replication slot name (letters, digits, underscores).", validSlotName)
	boolean(keySlotDropOnStop, false, "Drop the replication slot when the task stops gracefully (tests and throwaway setups).")
	str(keyPublicationName, "dbz_publication", config.Medium, "Publication the pgoutput stream reads.", config.NonEmpty)
	str(keyPublicationMode, "all_tables", config.Medium, "all_tables: create the publication FOR ALL TABLES if missing; disabled: it must exist; filtered: create or update it for the tables the include/exclude lists select.", oneOf(keyPublicationMode, publicationModes...))
	list(keySchemaInclude, "Regular expressions of schemas to capture (full, case-insensitive match).", "schema.whitelist")
	list(keySchemaExclude, "Regular expressions of schemas not to capture.", "schema.blacklist")
	list(keyTableInclude, "Regular expressions of tables (schema.table) to capture.", "table.whitelist")
	list(keyTableExclude, "Regular expressions of tables (schema.table) not to capture.", "table.blacklist")
	list(keyColumnInclude, "Regular expressions of columns (schema.table.column) to include in events.", "column.whitelist")
	list(keyColumnExclude, "Regular expressions of columns (schema.table.column) to leave out of events.", "column.blacklist")
	str(keySnapshotMode, "initial", config.Medium, "initial (default), always, initial_only, no_data (alias schema_only), never, when_needed.", oneOf(keySnapshotMode, snapshotModes...))
	integer(keySnapshotFetch, 10240, 1, "Rows between snapshot progress reports. Rows stream from the server under TCP backpressure, so memory does not depend on it.")
	integer(keySnapshotThreads, 1, 1, "Tables read in parallel during the snapshot, each from a connection sharing the slot's exported snapshot.")
	str(keyDecimalMode, "precise", config.Medium, "NUMERIC/DECIMAL/MONEY as precise (Connect Decimal; VariableScaleDecimal without a declared scale), double or string.", oneOf(keyDecimalMode, decimalModes...))
	str(keyTimePrecision, "adaptive", config.Medium, "adaptive (default), adaptive_time_microseconds or connect.", oneOf(keyTimePrecision, timeModes...))
	str(keyIntervalMode, "numeric", config.Low, "INTERVAL as numeric (MicroDuration, µs) or string (ISO-8601, io.debezium.time.Interval).", oneOf(keyIntervalMode, intervalModes...))
	str(keyHstoreMode, "json", config.Low, "HSTORE as json (io.debezium.data.Json string) or map.", oneOf(keyHstoreMode, hstoreModes...))
	str(keyBinaryMode, "bytes", config.Low, "BYTEA as bytes, base64, base64-url-safe or hex.", oneOf(keyBinaryMode, binaryModes...))
	boolean(keyTombstones, true, "Follow each delete with a tombstone (same key, null value).")
	boolean(keyExtendedHeaders, true, "Append Debezium's __debezium.context.* headers (topic prefix, task id, connector, run id) to data-change records and tombstones.")
	boolean(keyTxMetadata, false, "Write BEGIN/END events to <topic.prefix>.transaction and a transaction block in data events.")
	long(keyHeartbeatInterval, 0, 0, "Milliseconds between heartbeat records (0 = off). Heartbeats carry the current LSN so the slot advances while captured tables are idle.")
	str(keyHeartbeatQuery, "", config.Low, "SQL run on every heartbeat (e.g. an UPDATE of a heartbeat table) to create WAL traffic in the captured database.", nil)
	str(keyHeartbeatPrefix, "__debezium-heartbeat", config.Low, "Heartbeat topic prefix; the topic is <prefix>.<topic.prefix>.", nil)
	str(keyTransactionTopic, "transaction", config.Low, "Suffix of the transaction metadata topic <topic.prefix>.<suffix>.", nil)
	str(keyPlaceholder, "__debezium_unavailable_value", config.Low, "Value given to unchanged TOASTed columns that the WAL does not carry; 'hex:' prefix gives raw bytes for binary columns.", nil)
	d.Define(config.Key{Name: keySkippedOps, Type: config.List, Default: []string{"t"}, Importance: config.Low, Doc: "Operations not emitted: c, u, d, t (default t), or none.", Validator: validSkipped})
	integer(keyMaxBatch, 2048, 1, "Most records one poll returns.")
	integer(keyMaxQueue, 8192, 1, "Records buffered between the reader and poll; bounds memory.")
	long(keyPollInterval, 500, 1, "How long a poll waits for records before returning empty.")
	long(keyStatusInterval, 10000, 100, "Milliseconds between standby status updates to the server.")
	integer(keyMoneyDigits, 2, 0, "Scale of MONEY values in precise mode.")
	str(keyNameAdjustment, "none", config.Low, "none or avro: adjust schema names to Avro rules.", oneOf(keyNameAdjustment, nameAdjustModes...))
	long(keyRetryDelay, 10000, 0, "Longest backoff between reconnect attempts after a lost replication connection.")
	str(keyStreamingMode, "auto", config.Low, "Stream large in-progress transactions from the server (pgoutput streaming, PostgreSQL 14+) and spool them to local disk until commit: auto (when supported), on, off.", oneOf(keyStreamingMode, streamingModes...))
	str(keySpillDir, "", config.Low, "Directory for spooled in-progress transactions (default: the system temp dir).", nil)
	cdc.DefineColumnKeys(d)
	cdc.DefineSignalKeys(d)
	d.PassThrough(cdc.ColumnRulePrefixes...)
	return d
}

var slotNameRe = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)

func validSlotName(v any) error {
	s, _ := v.(string)
	if !slotNameRe.MatchString(s) {
		return fmt.Errorf("slot names may contain only lower-case letters, digits and underscores (at most 63)")
	}
	return nil
}

// settings is the parsed, typed configuration of one task.
type settings struct {
	host, user, password, dbname, sslmode string
	sslRootCert, sslCert, sslKey, sslPass string
	port                                  int
	prefix                                string
	slot                                  string
	dropSlotOnStop                        bool
	publication                           string
	pubMode                               string
	filters                               *filters
	snapshotMode                          string
	fetchSize                             int
	snapshotThreads                       int
	decimalMode, timeMode                 string
	intervalMode, hstoreMode, binaryMode  string
	tombstones                            bool
	extendedHeaders                       bool
	txMetadata                            bool
	heartbeat                             time.Duration
	heartbeatQuery                        string
	heartbeatTopic                        string
	transactionTopic                      string
	placeholder                           string
	skip                                  map[string]bool
	maxBatch, maxQueue                    int
	pollInterval                          time.Duration
	statusInterval                        time.Duration
	moneyDigits                           int
	avroNames                             bool
	retryMax                              time.Duration
	streaming                             string
	spillDir                              string
	columns                               *cdc.ColumnRules
	signals                               *cdc.SignalConfig

	boxPrefix, boxDB any // source.name and source.db, boxed once
}

func parseSettings(raw map[string]string) (*settings, error) {
	v, err := configDef().Parse(raw)
	if err != nil {
		return nil, err
	}
	if errs := validate(v); len(errs) > 0 {
		return nil, errs
	}
	return settingsFrom(v)
}

func validate(v *config.Values) config.Errors {
	var errs config.Errors
	both := func(a, b string) {
		if len(v.List(a)) > 0 && len(v.List(b)) > 0 {
			errs = append(errs, config.KeyError{Key: b, Message: fmt.Sprintf("%s and %s cannot both be set", a, b)})
		}
	}
	both(keySchemaInclude, keySchemaExclude)
	both(keyTableInclude, keyTableExclude)
	both(keyColumnInclude, keyColumnExclude)
	if p := v.String(keyPlaceholder); strings.HasPrefix(p, "hex:") {
		if _, err := decodeHexString(p[4:]); err != nil {
			errs = append(errs, config.KeyError{Key: keyPlaceholder, Message: "hex: placeholder is not valid hexadecimal: " + err.Error()})
		}
	}
	if _, cerrs := cdc.ParseColumnRules(v.Raw()); len(cerrs) > 0 {
		errs = append(errs, cerrs...)
	}
	if _, serrs := cdc.ParseSignalConfig(v, v.String(keyTopicPrefix), 2); len(serrs) > 0 {
		errs = append(errs, serrs...)
	}
	if v.String(keyTopicPrefix) != "" && !topicPrefixRe.MatchString(v.String(keyTopicPrefix)) {
		errs = append(errs, config.KeyError{Key: keyTopicPrefix, Message: "topic.prefix may contain only letters, digits, '.', '_' and '-'"})
	}
	return errs
}

var topicPrefixRe = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func settingsFrom(v *config.Values) (*settings, error) {
	f, err := newFilters(v.List(keySchemaInclude), v.List(keySchemaExclude), v.List(keyTableInclude),
		v.List(keyTableExclude), v.List(keyColumnInclude), v.List(keyColumnExclude))
	if err != nil {
		return nil, err
	}
	s := &settings{
		host:             v.String(keyHostname),
		port:             v.Int(keyPort),
		user:             v.String(keyUser),
		password:         v.String(keyPassword),
		dbname:           v.String(keyDBName),
		sslmode:          strings.ToLower(v.String(keySSLMode)),
		sslRootCert:      v.String(keySSLRootCert),
		sslCert:          v.String(keySSLCert),
		sslKey:           v.String(keySSLKey),
		sslPass:          v.String(keySSLPassword),
		prefix:           v.String(keyTopicPrefix),
		slot:             v.String(keySlotName),
		dropSlotOnStop:   v.Bool(keySlotDropOnStop),
		publication:      v.String(keyPublicationName),
		pubMode:          strings.ToLower(v.String(keyPublicationMode)),
		filters:          f,
		snapshotMode:     strings.ToLower(v.String(keySnapshotMode)),
		fetchSize:        v.Int(keySnapshotFetch),
		snapshotThreads:  v.Int(keySnapshotThreads),
		decimalMode:      strings.ToLower(v.String(keyDecimalMode)),
		timeMode:         strings.ToLower(v.String(keyTimePrecision)),
		intervalMode:     strings.ToLower(v.String(keyIntervalMode)),
		hstoreMode:       strings.ToLower(v.String(keyHstoreMode)),
		binaryMode:       strings.ToLower(v.String(keyBinaryMode)),
		tombstones:       v.Bool(keyTombstones),
		extendedHeaders:  v.Bool(keyExtendedHeaders),
		txMetadata:       v.Bool(keyTxMetadata),
		heartbeat:        v.Duration(keyHeartbeatInterval),
		heartbeatQuery:   v.String(keyHeartbeatQuery),
		placeholder:      v.String(keyPlaceholder),
		skip:             map[string]bool{},
		maxBatch:         v.Int(keyMaxBatch),
		maxQueue:         v.Int(keyMaxQueue),
		pollInterval:     v.Duration(keyPollInterval),
		statusInterval:   v.Duration(keyStatusInterval),
		moneyDigits:      v.Int(keyMoneyDigits),
		avroNames:        strings.EqualFold(v.String(keyNameAdjustment), "avro"),
		retryMax:         v.Duration(keyRetryDelay),
		streaming:        strings.ToLower(v.String(keyStreamingMode)),
		spillDir:         v.String(keySpillDir),
		transactionTopic: v.String(keyTopicPrefix) + "." + v.String(keyTransactionTopic),
	}
	if s.columns, err = parseColumnRules(v.Raw()); err != nil {
		return nil, err
	}
	sc, serrs := cdc.ParseSignalConfig(v, s.prefix, 2)
	if len(serrs) > 0 {
		return nil, serrs
	}
	s.signals = sc
	s.heartbeatTopic = v.String(keyHeartbeatPrefix) + "." + s.prefix
	s.boxPrefix, s.boxDB = s.prefix, s.dbname
	if s.snapshotMode == "schema_only" {
		s.snapshotMode = "no_data"
	}
	for _, op := range v.List(keySkippedOps) {
		op = strings.ToLower(strings.TrimSpace(op))
		if op != "" && op != "none" {
			s.skip[op] = true
		}
	}
	if s.maxQueue < s.maxBatch {
		s.maxQueue = s.maxBatch
	}
	if s.retryMax <= 0 {
		s.retryMax = time.Second
	}
	return s, nil
}

// isSignalTable reports whether schema.name is signal.data.collection.
func (s *settings) isSignalTable(schema, name string) bool {
	return s.signals != nil && s.signals.DataCollection != "" && s.signals.DataCollection == schema+"."+name
}

// partition is the source partition every record of the connector carries.
func (s *settings) partition() map[string]any { return map[string]any{"server": s.prefix} }

func parseColumnRules(raw map[string]string) (*cdc.ColumnRules, error) {
	r, errs := cdc.ParseColumnRules(raw)
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}
