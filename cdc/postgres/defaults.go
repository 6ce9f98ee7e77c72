package postgres

import (
	"regexp"
	"strings"

	"github.com/tributary-cdc/tributary/schema"
)

// columnDefault turns a column default, as pg_get_expr prints it, into the
// column's Connect value, so schemas carry defaults as Debezium's do (a sink
// can then add a NOT NULL column with a default, and a registry accepts the
// new schema as BACKWARD compatible). Only constants are taken, parsed by the
// column's own text converter: a quoted literal with optional casts
// ('basic'::character varying, '-1'::integer, '{}'::jsonb,
// '2024-01-01'::date), a bare number (0, 1.5, (-2)) or true/false. Anything
// else — now(), nextval(…), CURRENT_TIMESTAMP, expressions, NULL — or a
// literal the converter rejects gives no default.
func columnDefault(expr string, m mapping) (any, bool) {
	if expr == "" || m.conv == nil {
		return nil, false
	}
	lit, ok := defaultLiteral(expr)
	if !ok {
		return nil, false
	}
	v, err := m.conv([]byte(lit))
	if err != nil || v == nil {
		return nil, false
	}
	return v, true
}

// nowFunctions are the default expressions of the current time that
// Debezium reads as the epoch.
var nowFunctions = map[string]bool{
	"now()": true, "current_timestamp": true, "current_date": true, "current_time": true,
	"localtimestamp": true, "localtime": true, "transaction_timestamp()": true,
	"statement_timestamp()": true, "clock_timestamp()": true,
}

// epochText is the epoch (midnight) in the text format of a temporal
// column, by the schema the column maps to.
var epochText = map[string]string{
	schema.DebeziumDate: "1970-01-01", schema.DateName: "1970-01-01",
	schema.DebeziumTimestamp: "1970-01-01 00:00:00", schema.DebeziumMicroTimestamp: "1970-01-01 00:00:00",
	schema.DebeziumNanoTimestamp: "1970-01-01 00:00:00", schema.TimestampName: "1970-01-01 00:00:00",
	schema.DebeziumZonedTimestamp: "1970-01-01 00:00:00+00",
	schema.DebeziumTime:           "00:00:00", schema.DebeziumMicroTime: "00:00:00", schema.TimeName: "00:00:00",
	schema.DebeziumZonedTime: "00:00:00+00",
}

// computedDefault is the schema default Debezium 3.6.1 gives a column
// whose default is not a constant (seen on the real connector): the
// epoch for now() and its kin on a date/time column (nullable or not),
// and the type's zero for a NOT NULL serial (nextval(…)).
func computedDefault(expr string, m mapping, s *schema.Schema) (any, bool) {
	e := strings.ToLower(strings.TrimSpace(expr))
	if e == "" || m.conv == nil {
		return nil, false
	}
	if base, _, _ := strings.Cut(e, "::"); nowFunctions[base] {
		if txt, ok := epochText[s.Name]; ok {
			if v, err := m.conv([]byte(txt)); err == nil && v != nil {
				return v, true
			}
		}
		return nil, false
	}
	if strings.HasPrefix(e, "nextval(") && !s.Optional {
		return zeroValue(s), true
	}
	return nil, false
}

var (
	// castsRE matches a chain of casts: ::type, ::schema.type,
	// ::character varying(10), ::"Quoted", ::text[].
	castsRE  = regexp.MustCompile(`^(?:::(?:"[^"]+"|[A-Za-z_][\w$]*)(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))?(?: [A-Za-z_]\w*)*(?:\([0-9, ]*\))?(?:\[\])*)*$`)
	numberRE = regexp.MustCompile(`^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$`)
)

// defaultLiteral returns the text of a constant default expression in
// PostgreSQL's text format (what pgoutput sends for a value).
func defaultLiteral(expr string) (string, bool) {
	s := strings.TrimSpace(expr)
	for len(s) > 1 && s[0] == '(' && s[len(s)-1] == ')' && strings.Count(s, "(") == 1 {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	switch {
	case strings.HasPrefix(s, "'"):
		var b strings.Builder
		i := 1
		for ; i < len(s); i++ {
			if s[i] != '\'' {
				b.WriteByte(s[i])
				continue
			}
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			break
		}
		if i >= len(s) || !castsRE.MatchString(s[i+1:]) {
			return "", false
		}
		return b.String(), true
	case s == "true":
		return "t", true
	case s == "false":
		return "f", true
	}
	num, casts := s, ""
	if i := strings.Index(s, "::"); i >= 0 {
		num, casts = s[:i], s[i:]
	}
	num = strings.TrimSuffix(strings.TrimPrefix(num, "("), ")")
	if !numberRE.MatchString(num) || !castsRE.MatchString(casts) {
		return "", false
	}
	return num, true
}
