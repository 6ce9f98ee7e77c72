package source

import (
	"fmt"
	"github.com/tributary-cdc/tributary/jdbc"
	"regexp"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/connector/config"
)

// Source modes (mode).
const (
	ModeBulk                  = "bulk"
	ModeIncrementing          = "incrementing"
	ModeTimestamp             = "timestamp"
	ModeTimestampIncrementing = "timestamp+incrementing"
)

// numeric.mapping values.
const (
	NumericNone               = "none"
	NumericPrecisionOnly      = "precision_only"
	NumericBestFit            = "best_fit"
	NumericBestFitEagerDouble = "best_fit_eager_double"
)

// record.key.mode values.
const (
	KeyModeNone       = "none"
	KeyModePrimaryKey = "primary_key"
)

// Internal task config keys written by TaskConfigs.
const (
	taskTablesKey = "tables"
	taskIndexKey  = "tributary.task.index"
	taskCountKey  = "tributary.task.count"
)

// SourceDef declares the JDBC source connector's keys: Confluent's
// JdbcSourceConnector keys plus Tributary's opt-in fixes
// (timestamp.safe.window.enable, incrementing.safe.window.enable,
// record.key.mode, record.key.fields).
func SourceDef() *config.Def {
	d := config.NewDef()
	g := "Database"
	d.Define(config.Key{Name: "connection.url", Type: config.String, Default: config.NoDefault, Importance: config.High, Group: g,
		Doc: "JDBC connection URL (jdbc:mysql://, jdbc:mariadb://, jdbc:postgresql://) or a native DSN.", Validator: config.NonEmpty})
	d.Define(config.Key{Name: "connection.user", Type: config.String, Default: "", Importance: config.High, Group: g, Doc: "JDBC connection user; wins over a user in the URL."})
	d.Define(config.Key{Name: "connection.password", Type: config.Password, Default: "", Importance: config.High, Group: g, Doc: "JDBC connection password; wins over a password in the URL."})
	d.Define(config.Key{Name: "connection.attempts", Type: config.Int, Default: 3, Importance: config.Low, Group: g, Validator: config.AtLeast(1),
		Doc: "Maximum number of attempts to retrieve a valid JDBC connection."})
	d.Define(config.Key{Name: "connection.backoff.ms", Type: config.Long, Default: int64(10000), Importance: config.Low, Group: g, Validator: config.AtLeast(0),
		Doc: "Backoff time in milliseconds between connection attempts."})
	d.Define(config.Key{Name: "catalog.pattern", Type: config.String, Default: nil, Importance: config.Medium, Group: g,
		Doc: "Catalog pattern (SQL LIKE) to fetch table metadata from: the database on MySQL/MariaDB. Unset: the connection's database."})
	d.Define(config.Key{Name: "schema.pattern", Type: config.String, Default: nil, Importance: config.Medium, Group: g,
		Doc: "Schema pattern (SQL LIKE) to fetch table metadata from (PostgreSQL). Unset: every non-system schema."})
	d.Define(config.Key{Name: "table.whitelist", Type: config.List, Default: []string{}, Importance: config.Medium, Group: g,
		Doc: "Tables to copy: bare names, unquoted or quoted fully-qualified names. Exclusive with table.blacklist."})
	d.Define(config.Key{Name: "table.blacklist", Type: config.List, Default: []string{}, Importance: config.Medium, Group: g,
		Doc: "Tables not to copy. Exclusive with table.whitelist."})
	d.Define(config.Key{Name: "table.include.list", Type: config.List, Default: []string{}, Importance: config.Medium, Group: g, Validator: config.ValidRegex,
		Doc: "Regular expressions matched against fully-qualified table names (schema.table / db.table); only matching tables are copied."})
	d.Define(config.Key{Name: "table.exclude.list", Type: config.List, Default: []string{}, Importance: config.Medium, Group: g, Validator: config.ValidRegex,
		Doc: "Regular expressions of fully-qualified table names to leave out; applied after table.include.list."})
	d.Define(config.Key{Name: "table.types", Type: config.List, Default: []string{"TABLE"}, Importance: config.Low, Group: g,
		Doc: "Table types to copy: TABLE, VIEW (and SYSTEM TABLE, GLOBAL TEMPORARY, LOCAL TEMPORARY, ALIAS, SYNONYM, accepted, matched where the database has them)."})
	d.Define(config.Key{Name: "numeric.precision.mapping", Type: config.Boolean, Default: false, Importance: config.Low, Group: g,
		Doc: "Deprecated: true behaves like numeric.mapping=precision_only."})
	d.Define(config.Key{Name: "numeric.mapping", Type: config.String, Default: nil, Importance: config.Low, Group: g,
		Validator: optionalOneOf(NumericNone, NumericPrecisionOnly, NumericBestFit, NumericBestFitEagerDouble),
		Doc:       "How NUMERIC columns map to Connect types: none (Decimal), precision_only, best_fit, best_fit_eager_double."})
	d.Define(config.Key{Name: "dialect.name", Type: config.String, Default: "", Importance: config.Low, Group: g,
		Doc: "Database dialect; empty chooses it from connection.url. Accepted: MySqlDatabaseDialect, PostgreSqlDatabaseDialect."})
	d.Define(config.Key{Name: "db.timezone", Type: config.String, Default: "UTC", Importance: config.Medium, Group: g, Validator: validZone,
		Doc: "Time zone used for zone-less date/time values and for the query window (IANA name, UTC or an offset like +02:00)."})
	d.Define(config.Key{Name: "quote.sql.identifiers", Type: config.String, Default: "always", Importance: config.Medium, Group: g,
		Validator: config.OneOf("always", "never"), Doc: "When to quote table and column names in generated SQL: always or never."})
	d.Define(config.Key{Name: "transaction.isolation.mode", Type: config.String, Default: "DEFAULT", Importance: config.Low, Group: g,
		Validator: config.OneOf("DEFAULT", "READ_UNCOMMITTED", "READ_COMMITTED", "REPEATABLE_READ", "SERIALIZABLE", "SQL_SERVER_SNAPSHOT", "READ_UNCOMMITED", "READ_COMMITED"),
		Doc:       "Isolation level of the polling queries."})

	g = "Mode"
	d.Define(config.Key{Name: "mode", Type: config.String, Default: "", Importance: config.High, Group: g,
		Validator: config.OneOf("", ModeBulk, ModeIncrementing, ModeTimestamp, ModeTimestampIncrementing),
		Doc:       "How tables are polled: bulk, incrementing, timestamp, timestamp+incrementing."})
	d.Define(config.Key{Name: "incrementing.column.name", Type: config.String, Default: "", Importance: config.Medium, Group: g,
		Doc: "Strictly increasing NOT NULL column. Empty: the table's auto-increment column."})
	d.Define(config.Key{Name: "timestamp.column.name", Type: config.List, Default: []string{}, Importance: config.Medium, Group: g,
		Doc: "Timestamp columns; several are combined with COALESCE in the given order."})
	d.Define(config.Key{Name: "timestamp.initial", Type: config.Long, Default: nil, Importance: config.Low, Group: g,
		Doc: "Epoch milliseconds to start timestamp modes from when there is no stored offset; -1 = the database's current time; unset = from the beginning."})
	d.Define(config.Key{Name: "validate.non.null", Type: config.Boolean, Default: true, Importance: config.Low, Group: g,
		Doc: "At start, refuse tables whose incrementing column is nullable or whose timestamp columns are all nullable."})
	d.Define(config.Key{Name: "query", Type: config.String, Default: "", Importance: config.Medium, Group: g,
		Doc: "Custom SELECT to run instead of copying tables; the mode's WHERE clause is appended to it."})
	d.Define(config.Key{Name: "query.masked", Type: config.Password, Default: "", Importance: config.Medium, Group: g,
		Doc: "Same as query, but hidden in logs and API responses."})
	d.Define(config.Key{Name: "query.suffix", Type: config.String, Default: "", Importance: config.Low, Group: g,
		Doc: "Text appended after the generated ORDER BY, e.g. LIMIT 5000."})
	d.Define(config.Key{Name: "query.retry.attempts", Type: config.Int, Default: -1, Importance: config.Low, Group: g,
		Doc: "Retries of a failing query (transient errors) before the task fails; -1 = unlimited."})
	d.Define(config.Key{Name: "timestamp.granularity", Type: config.String, Default: "connect_logical", Importance: config.Low, Group: g,
		Validator: config.OneOf("connect_logical", "micros_long", "micros_string", "micros_iso_datetime_string", "nanos_long", "nanos_string", "nanos_iso_datetime_string"),
		Doc:       "How TIMESTAMP columns are represented."})
	d.Define(config.Key{Name: "timestamp.columns.mapping", Type: config.String, Default: "", Importance: config.Low, Group: g,
		Doc: "With table.include.list: regex1:[col1|col2],regex2:[col3] giving each table's timestamp columns."})
	d.Define(config.Key{Name: "incrementing.column.mapping", Type: config.String, Default: "", Importance: config.Low, Group: g,
		Doc: "With table.include.list: regex1:col,regex2:col giving each table's incrementing column."})

	g = "Connector"
	d.Define(config.Key{Name: "poll.interval.ms", Type: config.Int, Default: 5000, Importance: config.High, Group: g, Validator: config.AtLeast(0),
		Doc: "Minimum time between two runs of the query for one table."})
	d.Define(config.Key{Name: "batch.max.rows", Type: config.Int, Default: 100, Importance: config.Low, Group: g, Validator: config.AtLeast(1),
		Doc: "Maximum number of rows handed back by one poll; also the fetch size."})
	d.Define(config.Key{Name: "table.poll.interval.ms", Type: config.Long, Default: int64(60000), Importance: config.Low, Group: g, Validator: config.AtLeast(0),
		Doc: "How often the table list is re-read to pick up new or dropped tables."})
	d.Define(config.Key{Name: "topic.prefix", Type: config.String, Default: "", Importance: config.High, Group: g, Validator: validTopicPrefix,
		Doc: "Table mode: topic = prefix + table name. Query mode: the full topic name."})
	d.Define(config.Key{Name: "timestamp.delay.interval.ms", Type: config.Long, Default: int64(0), Importance: config.High, Group: g, Validator: config.AtLeast(0),
		Doc: "How long a row must be old (by the database clock) before it is read."})
	d.Define(config.Key{Name: "max.buffer.size", Type: config.Int, Default: 0, Importance: config.Low, Group: g, Doc: "Accepted for compatibility; rows are streamed, never buffered beyond batch.max.rows."})
	d.Define(config.Key{Name: "poll.linger.ms", Type: config.Int, Default: 5000, Importance: config.Low, Group: g, Doc: "Accepted for compatibility."})
	d.Define(config.Key{Name: "date.calendar.system", Type: config.String, Default: "LEGACY", Importance: config.Low, Group: g,
		Validator: config.OneOf("LEGACY", "PROLEPTIC_GREGORIAN"), Doc: "Accepted for compatibility; dates are always proleptic Gregorian."})

	g = "Tributary"
	d.Define(config.Key{Name: "timestamp.safe.window.enable", Type: config.Boolean, Default: false, Importance: config.Medium, Group: g,
		Doc: "Timestamp modes: cap each query's upper bound at the start of the oldest open transaction (PostgreSQL pg_stat_activity.xact_start, MySQL/MariaDB information_schema.innodb_trx.trx_started), so rows committed late by long transactions are not skipped. Default false (Confluent's behaviour)."})
	d.Define(config.Key{Name: "incrementing.safe.window.enable", Type: config.Boolean, Default: false, Importance: config.Medium, Group: g,
		Doc: "Incrementing mode: while a transaction that began before an earlier read is still open, keep the stored offset at what was read before it began, re-read the trailing ids and drop those already emitted, so an id committed out of order is not lost. Default false (Confluent's behaviour)."})
	d.Define(config.Key{Name: "record.key.mode", Type: config.String, Default: KeyModeNone, Importance: config.Medium, Group: g,
		Validator: config.OneOf(KeyModeNone, KeyModePrimaryKey),
		Doc:       "none: records have no key (Confluent's behaviour). primary_key: the key is a struct of the table's primary-key columns (or record.key.fields)."})
	d.Define(config.Key{Name: "record.key.fields", Type: config.List, Default: []string{}, Importance: config.Low, Group: g,
		Doc: "With record.key.mode=primary_key: the columns forming the key, instead of the primary key (required in query mode)."})
	return d
}

func optionalOneOf(allowed ...string) config.Validator {
	inner := config.OneOf(allowed...)
	return func(v any) error {
		if v == nil {
			return nil
		}
		return inner(v)
	}
}

func validZone(v any) error {
	s, _ := v.(string)
	if _, err := loadZone(s); err != nil {
		return err
	}
	return nil
}

var offsetZoneRE = regexp.MustCompile(`^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?$`)

// loadZone resolves db.timezone: IANA names, UTC/Z, and offsets like +02:00.
func loadZone(s string) (*time.Location, error) {
	s = strings.TrimSpace(s)
	switch strings.ToUpper(s) {
	case "", "UTC", "Z", "GMT", "ETC/UTC":
		return time.UTC, nil
	}
	if m := offsetZoneRE.FindStringSubmatch(s); m != nil {
		var h, mm int
		fmt.Sscanf(m[2], "%d", &h)
		if m[3] != "" {
			fmt.Sscanf(m[3], "%d", &mm)
		}
		off := h*3600 + mm*60
		if m[1] == "-" {
			off = -off
		}
		return time.FixedZone(s, off), nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", s)
	}
	return loc, nil
}

var topicPrefixRE = regexp.MustCompile(`^[a-zA-Z0-9._-]*$`)

func validTopicPrefix(v any) error {
	s, _ := v.(string)
	if !topicPrefixRE.MatchString(s) {
		return fmt.Errorf("topic prefix may contain only ASCII alphanumerics, '.', '_' and '-'")
	}
	if len(s) > 249 {
		return fmt.Errorf("topic prefix is longer than 249 characters")
	}
	return nil
}

// sourceConfig is the parsed, cross-checked connector config.
type sourceConfig struct {
	raw            map[string]string
	url, user, pw  string
	attempts       int
	backoff        time.Duration
	catalogPattern *string
	schemaPattern  *string
	whitelist      []string
	blacklist      []string
	include        []*regexp.Regexp // anchored: the whole FQN must match
	exclude        []*regexp.Regexp
	tableTypes     []string
	mode           string
	incColumn      string
	tsColumns      []string
	tsInitial      *int64
	validateNN     bool
	query          string
	querySuffix    string
	retryAttempts  int
	pollInterval   time.Duration
	batchMaxRows   int
	tablePoll      time.Duration
	topicPrefix    string
	numericMapping string
	zone           *time.Location
	zoneName       string
	quote          bool
	delay          time.Duration
	isolation      string
	granularity    string
	tsMapping      []colMapping
	incMapping     []colMapping
	safeTimestamp  bool
	safeIncrement  bool
	keyMode        string
	keyFields      []string
}

type colMapping struct {
	re   *regexp.Regexp
	cols []string
}

func (c *sourceConfig) queryMode() bool { return c.query != "" }

// parseSourceConfig parses and cross-checks a connector or task config.
func parseSourceConfig(raw map[string]string) (*sourceConfig, error) {
	def := SourceDef()
	v, err := def.Parse(raw)
	var errs config.Errors
	if err != nil {
		if e, ok := err.(config.Errors); ok {
			errs = append(errs, e...)
		} else {
			return nil, err
		}
	}
	c, more := buildSourceConfig(v)
	errs = append(errs, more...)
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

func buildSourceConfig(v *config.Values) (*sourceConfig, config.Errors) {
	var errs config.Errors
	add := func(key, format string, args ...any) {
		errs = append(errs, config.KeyError{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	c := &sourceConfig{
		raw:           v.Raw(),
		url:           v.String("connection.url"),
		user:          v.String("connection.user"),
		pw:            v.String("connection.password"),
		attempts:      v.Int("connection.attempts"),
		backoff:       v.Duration("connection.backoff.ms"),
		whitelist:     v.List("table.whitelist"),
		blacklist:     v.List("table.blacklist"),
		tableTypes:    v.List("table.types"),
		mode:          strings.ToLower(v.String("mode")),
		incColumn:     v.String("incrementing.column.name"),
		tsColumns:     nonEmpty(v.List("timestamp.column.name")),
		validateNN:    v.Bool("validate.non.null"),
		query:         v.String("query"),
		querySuffix:   v.String("query.suffix"),
		retryAttempts: v.Int("query.retry.attempts"),
		pollInterval:  v.Duration("poll.interval.ms"),
		batchMaxRows:  v.Int("batch.max.rows"),
		tablePoll:     v.Duration("table.poll.interval.ms"),
		topicPrefix:   v.String("topic.prefix"),
		zoneName:      v.String("db.timezone"),
		quote:         strings.EqualFold(v.String("quote.sql.identifiers"), "always"),
		delay:         v.Duration("timestamp.delay.interval.ms"),
		isolation:     strings.NewReplacer("UNCOMMITED", "UNCOMMITTED", "COMMITED", "COMMITTED").Replace(strings.ToUpper(v.String("transaction.isolation.mode"))),
		granularity:   strings.ToLower(v.String("timestamp.granularity")),
		safeTimestamp: v.Bool("timestamp.safe.window.enable"),
		safeIncrement: v.Bool("incrementing.safe.window.enable"),
		keyMode:       strings.ToLower(v.String("record.key.mode")),
		keyFields:     nonEmpty(v.List("record.key.fields")),
	}
	if c.query == "" {
		c.query = v.String("query.masked")
	}
	if s, ok := v.Get("catalog.pattern").(string); ok {
		c.catalogPattern = &s
	}
	if s, ok := v.Get("schema.pattern").(string); ok {
		c.schemaPattern = &s
	}
	if n, ok := v.Get("timestamp.initial").(int64); ok {
		c.tsInitial = &n
	}
	c.numericMapping = NumericNone
	if v.Bool("numeric.precision.mapping") {
		c.numericMapping = NumericPrecisionOnly
	}
	if s, ok := v.Get("numeric.mapping").(string); ok && s != "" {
		c.numericMapping = strings.ToLower(s)
	}
	if loc, err := loadZone(c.zoneName); err == nil {
		c.zone = loc
	} else {
		c.zone = time.UTC
	}
	for _, p := range nonEmpty(v.List("table.include.list")) {
		if re, err := regexp.Compile("^(?:" + p + ")$"); err == nil {
			c.include = append(c.include, re)
		}
	}
	for _, p := range nonEmpty(v.List("table.exclude.list")) {
		if re, err := regexp.Compile("^(?:" + p + ")$"); err == nil {
			c.exclude = append(c.exclude, re)
		}
	}
	c.whitelist, c.blacklist = nonEmpty(c.whitelist), nonEmpty(c.blacklist)
	if _, err := jdbc.ParseURL(c.url, c.user, c.pw); err != nil && c.url != "" {
		add("connection.url", "%v", err)
	}
	if d := v.String("dialect.name"); d != "" && !strings.EqualFold(d, "MySqlDatabaseDialect") && !strings.EqualFold(d, "PostgreSqlDatabaseDialect") {
		add("dialect.name", "unsupported dialect %q (supported: MySqlDatabaseDialect, PostgreSqlDatabaseDialect)", d)
	}

	// Mode and its columns.
	switch c.mode {
	case "":
		add("mode", "Missing required configuration \"mode\": one of bulk, incrementing, timestamp, timestamp+incrementing")
	case ModeIncrementing:
		if c.queryMode() && c.incColumn == "" {
			add("incrementing.column.name", "must be set in query mode with mode=incrementing")
		}
	case ModeTimestamp:
		if len(c.tsColumns) == 0 && v.String("timestamp.columns.mapping") == "" {
			add("timestamp.column.name", "must name at least one column with mode=timestamp")
		}
	case ModeTimestampIncrementing:
		if len(c.tsColumns) == 0 && v.String("timestamp.columns.mapping") == "" {
			add("timestamp.column.name", "must name at least one column with mode=timestamp+incrementing")
		}
		if c.queryMode() && c.incColumn == "" {
			add("incrementing.column.name", "must be set in query mode with mode=timestamp+incrementing")
		}
	}

	// Table filters.
	if len(c.whitelist) > 0 && len(c.blacklist) > 0 {
		add("table.blacklist", "table.whitelist and table.blacklist cannot both be set")
	}
	usesLists := len(c.include) > 0 || len(c.exclude) > 0
	if usesLists && (len(c.whitelist) > 0 || len(c.blacklist) > 0) {
		add("table.include.list", "table.include.list/table.exclude.list cannot be combined with table.whitelist/table.blacklist")
	}
	if len(c.exclude) > 0 && len(c.include) == 0 {
		add("table.exclude.list", "table.exclude.list requires table.include.list")
	}
	if c.queryMode() && (len(c.whitelist) > 0 || len(c.blacklist) > 0 || usesLists) {
		add("query", "query cannot be combined with table.whitelist, table.blacklist, table.include.list or table.exclude.list")
	}
	var err error
	if c.tsMapping, err = parseColMapping(v.String("timestamp.columns.mapping"), true); err != nil {
		add("timestamp.columns.mapping", "%v", err)
	}
	if c.incMapping, err = parseColMapping(v.String("incrementing.column.mapping"), false); err != nil {
		add("incrementing.column.mapping", "%v", err)
	}
	if (len(c.tsMapping) > 0 || len(c.incMapping) > 0) && len(c.include) == 0 {
		add("timestamp.columns.mapping", "timestamp.columns.mapping and incrementing.column.mapping require table.include.list")
	}
	if c.keyMode == KeyModePrimaryKey && c.queryMode() && len(c.keyFields) == 0 {
		add("record.key.fields", "must name the key columns with record.key.mode=primary_key in query mode")
	}
	if c.safeIncrement && c.mode != ModeIncrementing {
		add("incrementing.safe.window.enable", "applies only to mode=incrementing (timestamp modes use timestamp.safe.window.enable)")
	}
	return c, errs
}

// parseColMapping parses "re1:[a|b],re2:[c]" (timestamps) or "re1:a,re2:b".
func parseColMapping(s string, multi bool) ([]colMapping, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []colMapping
	rest := s
	for rest != "" {
		// Split on commas not inside brackets.
		depth, end := 0, len(rest)
		for j, r := range rest {
			if r == '[' {
				depth++
			} else if r == ']' {
				depth--
			} else if r == ',' && depth == 0 {
				end = j
				break
			}
		}
		item := strings.TrimSpace(rest[:end])
		if end < len(rest) {
			rest = rest[end+1:]
		} else {
			rest = ""
		}
		k := strings.LastIndex(item, ":")
		if k <= 0 {
			return nil, fmt.Errorf("entry %q is not regex:column", item)
		}
		re, err := regexp.Compile(item[:k])
		if err != nil {
			return nil, fmt.Errorf("entry %q: %v", item, err)
		}
		cols := strings.TrimSpace(item[k+1:])
		var list []string
		if multi {
			cols = strings.TrimSuffix(strings.TrimPrefix(cols, "["), "]")
			for _, c := range strings.Split(cols, "|") {
				if c = strings.TrimSpace(c); c != "" {
					list = append(list, c)
				}
			}
		} else if cols != "" {
			list = []string{cols}
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("entry %q names no column", item)
		}
		out = append(out, colMapping{re, list})
	}
	return out, nil
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
