package postgres

import (
	"regexp"
	"strings"
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
