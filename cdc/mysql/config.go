package mysql

import (
	"context"
	"crypto/tls"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
)

// Class names under which the connector is registered.
const (
	Class        = "io.debezium.connector.mysql.MySqlConnector"
	MariaDBClass = "io.debezium.connector.mariadb.MariaDbConnector"
)

// Config keys (Debezium's names).
const (
	KeyHostname             = "database.hostname"
	KeyPort                 = "database.port"
	KeyUser                 = "database.user"
	KeyPassword             = "database.password"
	KeyServerID             = "database.server.id"
	KeySSLMode              = "database.ssl.mode"
	KeySSLKeystore          = "database.ssl.keystore"
	KeySSLKeystorePassword  = "database.ssl.keystore.password"
	KeySSLTruststore        = "database.ssl.truststore"
	KeySSLTruststorePass    = "database.ssl.truststore.password"
	KeyTopicPrefix          = "topic.prefix"
	KeyDatabaseInclude      = "database.include.list"
	KeyDatabaseExclude      = "database.exclude.list"
	KeyTableInclude         = "table.include.list"
	KeyTableExclude         = "table.exclude.list"
	KeyColumnInclude        = "column.include.list"
	KeyColumnExclude        = "column.exclude.list"
	KeySnapshotMode         = "snapshot.mode"
	KeySnapshotFetchSize    = "snapshot.fetch.size"
	KeySnapshotMaxThreads   = "snapshot.max.threads"
	KeyDecimalMode          = "decimal.handling.mode"
	KeyTimePrecisionMode    = "time.precision.mode"
	KeyBigintUnsignedMode   = "bigint.unsigned.handling.mode"
	KeyBinaryMode           = "binary.handling.mode"
	KeyIncludeSchemaChanges = "include.schema.changes"
	KeyTombstonesOnDelete   = "tombstones.on.delete"
	KeyExtendedHeaders      = "extended.headers.enabled"
	KeyProvideTxnMetadata   = "provide.transaction.metadata"
	KeyHeartbeatInterval    = "heartbeat.interval.ms"
	KeyHeartbeatTopicPrefix = "topic.heartbeat.prefix"
	KeyTransactionTopic     = "topic.transaction"
	KeyMaxBatchSize         = "max.batch.size"
	KeyMaxQueueSize         = "max.queue.size"
	KeyPollInterval         = "poll.interval.ms"
	KeyConnectTimeout       = "connect.timeout.ms"
	KeySchemaNameAdjustment = "schema.name.adjustment.mode"
	KeySkippedOperations    = "skipped.operations"
	KeyIncludeQuery         = "include.query"
	KeyTableIgnoreBuiltin   = "table.ignore.builtin"
	KeyEventFailureHandling = "event.processing.failure.handling.mode"
	KeyConnectKeepAlive     = "connect.keep.alive"
	KeyConnectKeepAliveMs   = "connect.keep.alive.interval.ms"
	KeySnapshotLockingMode  = "snapshot.locking.mode"
)

// Snapshot modes.
const (
	snapInitial     = "initial"
	snapInitialOnly = "initial_only"
	snapNoData      = "no_data"
	snapSchemaOnly  = "schema_only"
	snapNever       = "never"
	snapWhenNeeded  = "when_needed"
	snapAlways      = "always"
)

// keys accepted for Debezium compatibility that this connector does not need:
// the schema history topic (schema tracking uses binlog metadata instead).
var ignoredPrefixes = []string{"schema.history.internal.", "database.history.", "internal."}

// runtime-level keys the connector does not own.
var runtimePrefixes = []string{"key.converter", "value.converter", "header.converter", "transforms", "predicates",
	"errors.", "producer.override.", "consumer.override.", "admin.override.", "topic.creation.", "offsets.storage.",
	"transaction.boundary", "exactly.once.", "config.action.reload"}

var runtimeKeys = []string{"name", "connector.class", "tasks.max", "key.converter", "value.converter", "header.converter"}

var configDef = newConfigDef()

func newConfigDef() *config.Def {
	d := config.NewDef()
	str := func(name string, def any, imp config.Importance, doc string, v config.Validator, aliases ...string) {
		d.Define(config.Key{Name: name, Type: config.String, Default: def, Importance: imp, Doc: doc, Validator: v, Aliases: aliases})
	}
	list := func(name, doc string, aliases ...string) {
		d.Define(config.Key{Name: name, Type: config.List, Default: []string{}, Importance: config.Medium, Doc: doc, Validator: config.ValidRegex, Aliases: aliases})
	}
	integer := func(name string, def int, min int64, doc string) {
		d.Define(config.Key{Name: name, Type: config.Int, Default: def, Importance: config.Medium, Doc: doc, Validator: config.AtLeast(min)})
	}
	long := func(name string, def int64, min int64, doc string) {
		d.Define(config.Key{Name: name, Type: config.Long, Default: def, Importance: config.Medium, Doc: doc, Validator: config.AtLeast(min)})
	}
	boolean := func(name string, def bool, doc string) {
		d.Define(config.Key{Name: name, Type: config.Boolean, Default: def, Importance: config.Medium, Doc: doc})
	}
	str(KeyHostname, config.NoDefault, config.High, "Resolvable hostname or IP address of the MySQL/MariaDB server.", config.NonEmpty)
	integer(KeyPort, 3306, 1, "Port of the MySQL/MariaDB server.")
	str(KeyUser, config.NoDefault, config.High, "User to connect as; needs SELECT, RELOAD, REPLICATION SLAVE and REPLICATION CLIENT (BINLOG MONITOR on MariaDB).", config.NonEmpty)
	d.Define(config.Key{Name: KeyPassword, Type: config.Password, Default: "", Importance: config.High, Doc: "Password of database.user."})
	long(KeyServerID, 0, 0, "Numeric id this connector uses when it joins the replication stream as a replica; unique among the server's replicas. 0 derives a stable id in 5400..6399 from topic.prefix.")
	str(KeySSLMode, "preferred", config.Medium, "TLS to the server, for the SQL connections and the binlog stream alike: disabled; preferred (TLS without certificate checks when the server offers it, else plaintext, which is logged); required (TLS without certificate checks); verify_ca (TLS, the server's chain checked against database.ssl.truststore or the system roots); verify_identity (verify_ca plus the host name).",
		config.OneOf("disabled", "preferred", "required", "verify_ca", "verify_identity", "disable", "trust", "verify-ca", "verify-full"))
	str(KeySSLKeystore, "", config.Low, "Key store with the client's key and certificate (mTLS): JKS, PKCS12 or a PEM file (unencrypted key and chain).", nil)
	d.Define(config.Key{Name: KeySSLKeystorePassword, Type: config.Password, Default: "", Importance: config.Low, Doc: "Password of database.ssl.keystore (and of its key entry)."})
	str(KeySSLTruststore, "", config.Low, "Trust store with the CA certificates that verify the server (verify_ca, verify_identity): JKS, PKCS12 or PEM; empty uses the system roots.", nil)
	d.Define(config.Key{Name: KeySSLTruststorePass, Type: config.Password, Default: "", Importance: config.Low, Doc: "Password of database.ssl.truststore."})
	str(KeyTopicPrefix, config.NoDefault, config.High, "Logical server name: prefix of every topic and of the schema names; the offsets' source partition is {\"server\": topic.prefix}.", validTopicPrefix, "database.server.name")
	list(KeyDatabaseInclude, "Regular expressions matching the databases to capture (whole names); empty means all but the system databases.", "database.whitelist")
	list(KeyDatabaseExclude, "Regular expressions matching databases not to capture.", "database.blacklist")
	list(KeyTableInclude, "Regular expressions matching db.table names to capture.", "table.whitelist")
	list(KeyTableExclude, "Regular expressions matching db.table names not to capture.", "table.blacklist")
	list(KeyColumnInclude, "Regular expressions matching db.table.column names to include in change event values.", "column.whitelist")
	list(KeyColumnExclude, "Regular expressions matching db.table.column names to leave out of change event values.", "column.blacklist")
	str(KeySnapshotMode, snapInitial, config.High, "When to snapshot: initial (no offsets yet, or an unfinished snapshot), initial_only (snapshot, then stop), no_data / schema_only (never copy rows; stream from the current position), never (stream from the oldest binlog), when_needed (as initial, and again when the stored binlog position was purged), always (every start).",
		config.OneOf(snapInitial, snapInitialOnly, snapNoData, snapSchemaOnly, snapNever, snapWhenNeeded, snapAlways))
	integer(KeySnapshotFetchSize, 10240, 1, "Accepted for compatibility: snapshot rows are streamed from the server one at a time, and the queue (max.queue.size) bounds what is buffered.")
	integer(KeySnapshotMaxThreads, 1, 1, "Tables snapshotted at once, each on its own connection sharing one consistent view.")
	str(KeyDecimalMode, decimalPrecise, config.Medium, "DECIMAL/NUMERIC as precise (org.apache.kafka.connect.data.Decimal), double or string.",
		config.OneOf(decimalPrecise, decimalDouble, decimalString))
	str(KeyTimePrecisionMode, timeAdaptiveMicros, config.Medium, "Temporal types as adaptive_time_microseconds (Debezium time types, TIME in microseconds), adaptive (deprecated for MySQL: TIME(0-3) in milliseconds) or connect (Connect's Date/Time/Timestamp, millisecond precision).",
		config.OneOf(timeAdaptiveMicros, timeAdaptive, timeConnect))
	str(KeyBigintUnsignedMode, bigintLong, config.Medium, "BIGINT UNSIGNED as long (int64; values above 2^63-1 wrap) or precise (Decimal, scale 0).",
		config.OneOf(bigintLong, bigintPrecise))
	str(KeyBinaryMode, binaryBytes, config.Medium, "BINARY/VARBINARY/BLOB as bytes, base64, base64-url-safe or hex strings.",
		config.OneOf(binaryBytes, binaryBase64, binaryBase64URL, binaryHex))
	boolean(KeyIncludeSchemaChanges, true, "Emit DDL as schema change events on the topic named topic.prefix.")
	boolean(KeyTombstonesOnDelete, true, "Follow each delete event with a tombstone (null value) for log compaction.")
	boolean(KeyExtendedHeaders, true, "Append Debezium's __debezium.context.* headers (topic prefix, task id, connector, run id) to data-change, tombstone and schema-change records.")
	boolean(KeyProvideTxnMetadata, false, "Emit BEGIN/END events on <topic.prefix>.<topic.transaction> and fill the envelope's transaction block.")
	integer(KeyHeartbeatInterval, 0, 0, "Milliseconds between heartbeat records (0 disables) on <topic.heartbeat.prefix>.<topic.prefix>; they carry the current binlog position so offsets advance while captured tables are idle.")
	str(KeyHeartbeatTopicPrefix, "__debezium-heartbeat", config.Low, "Prefix of the heartbeat topic.", nil)
	str(KeyTransactionTopic, "transaction", config.Low, "Suffix of the transaction metadata topic <topic.prefix>.<topic.transaction>.", nil)
	integer(KeyMaxBatchSize, 2048, 1, "Most records one poll returns.")
	integer(KeyMaxQueueSize, 8192, 1, "Records buffered between the binlog/snapshot readers and poll; readers block when it is full (backpressure).")
	long(KeyPollInterval, 500, 1, "Longest a poll waits for the first record before returning none.")
	long(KeyConnectTimeout, 30000, 1, "Milliseconds to wait for a database connection.")
	str(KeySchemaNameAdjustment, "none", config.Low, "Adjust schema names: none, avro (letters, digits and _ only) or avro_unicode (treated as avro).",
		config.OneOf("none", "avro", "avro_unicode"))
	str(KeySkippedOperations, "t", config.Low, "Comma-separated operations not to emit: c (inserts), u (updates), d (deletes), t (truncates, never emitted here), none.", validSkipped)
	boolean(KeyIncludeQuery, false, "Not supported: must be false (the source block's query field is always null).")
	boolean(KeyTableIgnoreBuiltin, true, "Ignore the system databases (mysql, sys, information_schema, performance_schema).")
	str(KeyEventFailureHandling, "fail", config.Low, "Only fail is supported: an event that cannot be converted fails the task with the reason.", config.OneOf("fail"))
	boolean(KeyConnectKeepAlive, true, "Reconnect to the binlog when the connection drops (with backoff).")
	long(KeyConnectKeepAliveMs, 60000, 1, "Longest backoff between reconnect attempts, in milliseconds.")
	str(KeySnapshotLockingMode, "minimal", config.Low, "minimal (the global read lock only while snapshot transactions start on MySQL; none on MariaDB) or none (never lock: MySQL snapshots with one thread may then start at a later binlog position).", config.OneOf("minimal", "none"))
	cdc.DefineColumnKeys(d)
	cdc.DefineSignalKeys(d)
	d.PassThrough(ignoredPrefixes...)
	d.PassThrough(cdc.ColumnRulePrefixes...)
	return d
}

func validTopicPrefix(v any) error {
	s, _ := v.(string)
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("String may not be empty")
	}
	for _, r := range s {
		if !(r == '.' || r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return fmt.Errorf("topic prefix may contain only letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

func validSkipped(v any) error {
	s, _ := v.(string)
	for _, p := range strings.Split(s, ",") {
		switch strings.TrimSpace(strings.ToLower(p)) {
		case "", "c", "u", "d", "t", "none":
		default:
			return fmt.Errorf("operation %q is not one of c, u, d, t, none", p)
		}
	}
	return nil
}

// settings is the parsed configuration of one task.
type settings struct {
	host, user, password string
	port                 int
	serverID             uint32
	sslMode              string
	tls                  *tls.Config // nil for disabled
	prefix               string
	connectorName        string // mysql | mariadb
	filters              *filters
	snapshotMode         string
	fetchSize            int
	maxThreads           int
	types                typeOptions
	includeSchemaChanges bool
	tombstones           bool
	extendedHeaders      bool
	txnMetadata          bool
	heartbeat            time.Duration
	heartbeatTopic       string
	txnTopic             string
	maxBatch             int
	maxQueue             int
	pollInterval         time.Duration
	connectTimeout       time.Duration
	adjustNames          bool
	skip                 map[string]bool
	maxBackoff           time.Duration
	keepAlive            bool
	lockingMode          string
	columns              *cdc.ColumnRules
	signals              *cdc.SignalConfig
}

func parseSettings(raw map[string]string) (*settings, error) {
	v, err := configDef.Parse(raw)
	if err != nil {
		return nil, err
	}
	if errs := validate(v); len(errs) > 0 {
		return nil, errs
	}
	s := &settings{
		host:                 v.String(KeyHostname),
		user:                 v.String(KeyUser),
		password:             v.String(KeyPassword),
		port:                 v.Int(KeyPort),
		sslMode:              strings.ToLower(v.String(KeySSLMode)),
		prefix:               v.String(KeyTopicPrefix),
		connectorName:        "mysql",
		snapshotMode:         strings.ToLower(v.String(KeySnapshotMode)),
		fetchSize:            v.Int(KeySnapshotFetchSize),
		maxThreads:           v.Int(KeySnapshotMaxThreads),
		includeSchemaChanges: v.Bool(KeyIncludeSchemaChanges),
		tombstones:           v.Bool(KeyTombstonesOnDelete),
		extendedHeaders:      v.Bool(KeyExtendedHeaders),
		txnMetadata:          v.Bool(KeyProvideTxnMetadata),
		heartbeat:            time.Duration(v.Int(KeyHeartbeatInterval)) * time.Millisecond,
		heartbeatTopic:       cdc.HeartbeatTopic(v.String(KeyHeartbeatTopicPrefix), v.String(KeyTopicPrefix)),
		txnTopic:             v.String(KeyTopicPrefix) + "." + v.String(KeyTransactionTopic),
		maxBatch:             v.Int(KeyMaxBatchSize),
		maxQueue:             v.Int(KeyMaxQueueSize),
		pollInterval:         v.Duration(KeyPollInterval),
		connectTimeout:       v.Duration(KeyConnectTimeout),
		adjustNames:          !strings.EqualFold(v.String(KeySchemaNameAdjustment), "none"),
		skip:                 map[string]bool{},
		maxBackoff:           v.Duration(KeyConnectKeepAliveMs),
		keepAlive:            v.Bool(KeyConnectKeepAlive),
		lockingMode:          strings.ToLower(v.String(KeySnapshotLockingMode)),
		types: typeOptions{
			decimal: strings.ToLower(v.String(KeyDecimalMode)),
			time:    strings.ToLower(v.String(KeyTimePrecisionMode)),
			bigint:  strings.ToLower(v.String(KeyBigintUnsignedMode)),
			binary:  strings.ToLower(v.String(KeyBinaryMode)),
		},
	}
	s.sslMode = sslMode(s.sslMode, raw)
	if s.tls, err = tlsConfig(v, s.sslMode, s.host); err != nil {
		return nil, err
	}
	if s.snapshotMode == snapSchemaOnly {
		s.snapshotMode = snapNoData
	}
	if strings.Contains(strings.ToLower(raw["connector.class"]), "mariadb") {
		s.connectorName = "mariadb"
	}
	id := v.Long(KeyServerID)
	if id == 0 {
		h := fnv.New32a()
		h.Write([]byte(s.prefix))
		id = 5400 + int64(h.Sum32()%1000)
	}
	s.serverID = uint32(id)
	for _, p := range strings.Split(v.String(KeySkippedOperations), ",") {
		p = strings.TrimSpace(strings.ToLower(p))
		if p != "" && p != "none" {
			s.skip[p] = true
		}
	}
	s.filters, err = newFilters(v)
	if err != nil {
		return nil, err
	}
	var cerrs config.Errors
	if s.columns, cerrs = cdc.ParseColumnRules(raw); len(cerrs) > 0 {
		return nil, cerrs
	}
	if s.signals, cerrs = cdc.ParseSignalConfig(v, s.prefix, 2); len(cerrs) > 0 {
		return nil, cerrs
	}
	return s, nil
}

// validate runs the cross-key checks and reports keys this connector does
// not support.
func validate(v *config.Values) config.Errors {
	var errs config.Errors
	raw := v.Raw()
	for _, k := range configDef.Unknown(raw) {
		if slices.Contains(runtimeKeys, k) || slices.ContainsFunc(runtimePrefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
			continue
		}
		errs = append(errs, config.KeyError{Key: k, Message: fmt.Sprintf("%s is not supported by Tributary's MySQL/MariaDB connector", k)})
	}
	if v.Bool(KeyIncludeQuery) {
		errs = append(errs, config.KeyError{Key: KeyIncludeQuery, Message: "include.query=true is not supported"})
	}
	if len(v.List(KeyDatabaseInclude)) > 0 && len(v.List(KeyDatabaseExclude)) > 0 {
		errs = append(errs, config.KeyError{Key: KeyDatabaseExclude, Message: "database.exclude.list cannot be used together with database.include.list"})
	}
	if len(v.List(KeyTableInclude)) > 0 && len(v.List(KeyTableExclude)) > 0 {
		errs = append(errs, config.KeyError{Key: KeyTableExclude, Message: "table.exclude.list cannot be used together with table.include.list"})
	}
	if len(v.List(KeyColumnInclude)) > 0 && len(v.List(KeyColumnExclude)) > 0 {
		errs = append(errs, config.KeyError{Key: KeyColumnExclude, Message: "column.exclude.list cannot be used together with column.include.list"})
	}
	if v.Int(KeyMaxQueueSize) <= v.Int(KeyMaxBatchSize) {
		errs = append(errs, config.KeyError{Key: KeyMaxQueueSize, Message: fmt.Sprintf("max.queue.size (%d) must be larger than max.batch.size (%d)", v.Int(KeyMaxQueueSize), v.Int(KeyMaxBatchSize))})
	}
	if skipped := strings.ToLower(v.String(KeySkippedOperations)); !slices.Contains(strings.Split(strings.ReplaceAll(skipped, " ", ""), ","), "t") {
		errs = append(errs, config.KeyError{Key: KeySkippedOperations, Message: "truncate events are not supported: keep t in skipped.operations"})
	}
	if _, cerrs := cdc.ParseColumnRules(raw); len(cerrs) > 0 {
		errs = append(errs, cerrs...)
	}
	if _, serrs := cdc.ParseSignalConfig(v, v.String(KeyTopicPrefix), 2); len(serrs) > 0 {
		errs = append(errs, serrs...)
	}
	if id := v.Long(KeyServerID); id > 0xFFFFFFFF {
		errs = append(errs, config.KeyError{Key: KeyServerID, Message: "database.server.id must fit in 32 bits"})
	}
	return errs
}

// filters decides which databases, tables and columns are captured.
type filters struct {
	dbInclude, dbExclude       []*regexp.Regexp
	tableInclude, tableExclude []*regexp.Regexp
	colInclude, colExclude     []*regexp.Regexp
	ignoreBuiltin              bool
}

func compileAll(key string, pats []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, p := range pats {
		if p == "" {
			continue
		}
		re, err := regexp.Compile("^(?:" + p + ")$")
		if err != nil {
			return nil, config.Errors{{Key: key, Message: fmt.Sprintf("not a valid regular expression %q: %v", p, err)}}
		}
		out = append(out, re)
	}
	return out, nil
}

func newFilters(v *config.Values) (*filters, error) {
	f := &filters{ignoreBuiltin: v.Bool(KeyTableIgnoreBuiltin)}
	var err error
	for _, x := range []struct {
		key string
		dst *[]*regexp.Regexp
	}{
		{KeyDatabaseInclude, &f.dbInclude}, {KeyDatabaseExclude, &f.dbExclude},
		{KeyTableInclude, &f.tableInclude}, {KeyTableExclude, &f.tableExclude},
		{KeyColumnInclude, &f.colInclude}, {KeyColumnExclude, &f.colExclude},
	} {
		if *x.dst, err = compileAll(x.key, v.List(x.key)); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

var builtinDatabases = map[string]bool{"mysql": true, "sys": true, "information_schema": true, "performance_schema": true}

func (f *filters) database(db string) bool {
	if f.ignoreBuiltin && builtinDatabases[strings.ToLower(db)] {
		return false
	}
	if len(f.dbInclude) > 0 {
		return anyMatch(f.dbInclude, db)
	}
	return !anyMatch(f.dbExclude, db)
}

func (f *filters) table(db, table string) bool {
	if !f.database(db) {
		return false
	}
	id := db + "." + table
	if len(f.tableInclude) > 0 {
		return anyMatch(f.tableInclude, id)
	}
	return !anyMatch(f.tableExclude, id)
}

func (f *filters) column(db, table string) func(string) bool {
	if len(f.colInclude) == 0 && len(f.colExclude) == 0 {
		return nil
	}
	prefix := db + "." + table + "."
	return func(col string) bool {
		id := prefix + col
		if len(f.colInclude) > 0 {
			return anyMatch(f.colInclude, id)
		}
		return !anyMatch(f.colExclude, id)
	}
}

// Plugin is the connector class. It is stateless.
type Plugin struct{}

var _ connector.SourcePlugin = Plugin{}

// Class implements connector.Plugin.
func (Plugin) Class() string { return Class }

// Aliases implements connector.Plugin.
func (Plugin) Aliases() []string {
	return []string{MariaDBClass, "MySqlConnector", "MariaDbConnector"}
}

// Type implements connector.Plugin.
func (Plugin) Type() connector.Type { return connector.Source }

// Version implements connector.Plugin.
func (Plugin) Version() string { return cdc.Version }

// Config implements connector.Plugin.
func (Plugin) Config() *config.Def { return configDef }

// Validate implements connector.Plugin.
func (Plugin) Validate(cfg *config.Values) config.Errors { return validate(cfg) }

// TaskConfigs implements connector.Plugin: a binlog is one ordered stream, so
// there is always exactly one task.
func (Plugin) TaskConfigs(_ context.Context, cfg map[string]string, _ int) ([]map[string]string, error) {
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		out[k] = v
	}
	return []map[string]string{out}, nil
}

// NewTask implements connector.SourcePlugin.
func (Plugin) NewTask() connector.SourceTask { return &Task{committed: make(chan struct{})} }
