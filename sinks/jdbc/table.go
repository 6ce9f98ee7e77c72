package jdbcsink

import (
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary/jdbc"
)

// tableID names a destination table: catalog (MySQL database, or the
// PostgreSQL database of a three-part name), schema (PostgreSQL) and name.
type tableID struct {
	catalog, schema, name string
}

// String is the unquoted dotted name, as used in messages and in the
// exactly-once offsets table.
func (t tableID) String() string {
	var parts []string
	for _, p := range []string{t.catalog, t.schema, t.name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

// tableName applies table.name.format to a topic.
func tableName(format, topic string) string {
	return strings.ReplaceAll(format, "${topic}", topic)
}

// parseTableID parses [catalog.][schema.]table as Confluent's TableId parser
// does (dots inside quotes or backticks do not split).
func parseTableID(flavor jdbc.Flavor, s string) (tableID, error) {
	parts, err := splitQualified(s)
	if err != nil {
		return tableID{}, err
	}
	switch flavor {
	case jdbc.MySQL:
		switch len(parts) {
		case 1:
			return tableID{name: parts[0]}, nil
		case 2:
			return tableID{catalog: parts[0], name: parts[1]}, nil
		}
		return tableID{}, fmt.Errorf("table name %q has %d dot-separated parts, but MySQL/MariaDB tables are [database.]table: set table.name.format (or route the topic with RegexRouter) so the name has at most one dot", s, len(parts))
	default:
		switch len(parts) {
		case 1:
			return tableID{name: parts[0]}, nil
		case 2:
			return tableID{schema: parts[0], name: parts[1]}, nil
		case 3:
			return tableID{catalog: parts[0], schema: parts[1], name: parts[2]}, nil
		}
		return tableID{}, fmt.Errorf("table name %q has %d dot-separated parts, expected [database.][schema.]table: set table.name.format", s, len(parts))
	}
}

func splitQualified(s string) ([]string, error) {
	var parts []string
	var cur strings.Builder
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
				continue
			}
			cur.WriteRune(r)
		case r == '"' || r == '`':
			quote = r
		case r == '.':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("table name %q: unterminated quote", s)
	}
	parts = append(parts, cur.String())
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("table name %q has an empty part", s)
		}
	}
	return parts, nil
}

// tableMeta is what the sink knows about an existing table, read from the
// database's catalog.
type tableMeta struct {
	id      tableID
	view    bool
	cols    []*colMeta
	byLower map[string]*colMeta
	pk      []string
	uniques [][]string // column sets of unique indexes, the primary key included
}

// colMeta is one existing column.
type colMeta struct {
	name       string
	dataType   string // lower-case base type: int, bigint, varchar, numeric, timestamp with time zone, …
	fullType   string // with length/precision, e.g. "decimal(12,2)", "int(10) unsigned"
	nullable   bool
	hasDefault bool
	scale      int // numeric scale, -1 when unknown
	unsigned   bool
}

// addUniqueColumn adds col, read from the catalog in index and column order,
// to the unique index idx (a new entry in m.uniques the first time idx is
// seen; byIndex remembers where each went), and to m.pk when the index is
// the primary key.
func addUniqueColumn[K comparable](m *tableMeta, byIndex map[K]int, idx K, col string, primary bool) {
	i, ok := byIndex[idx]
	if !ok {
		i = len(m.uniques)
		byIndex[idx] = i
		m.uniques = append(m.uniques, nil)
	}
	m.uniques[i] = append(m.uniques[i], col)
	if primary {
		m.pk = append(m.pk, col)
	}
}

func (m *tableMeta) index() {
	m.byLower = make(map[string]*colMeta, len(m.cols))
	for _, c := range m.cols {
		m.byLower[strings.ToLower(c.name)] = c
	}
}

// column finds a column case-insensitively (Confluent's missing-column check
// is case-insensitive).
func (m *tableMeta) column(name string) *colMeta {
	if c := m.byLower[strings.ToLower(name)]; c != nil {
		return c
	}
	return nil
}

// hasUniqueOn reports whether a primary key or unique index makes cols
// usable as an upsert conflict target. exact requires the index columns to
// equal cols (PostgreSQL's ON CONFLICT inference); otherwise an index on a
// subset of cols suffices (MySQL's ON DUPLICATE KEY).
func (m *tableMeta) hasUniqueOn(cols []string, exact bool) bool {
	want := make(map[string]bool, len(cols))
	for _, c := range cols {
		want[strings.ToLower(c)] = true
	}
	for _, u := range m.uniques {
		if exact && len(u) != len(want) {
			continue
		}
		ok := len(u) > 0
		for _, c := range u {
			if !want[strings.ToLower(c)] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// TableError is a problem with a destination table that the sink cannot fix
// by itself: a missing table or column it may not create, or a change
// auto.evolve does not make (narrowing, NOT NULL without default).
type TableError struct {
	Table  string
	Column string // empty when the problem concerns the whole table
	Reason string
}

func (e *TableError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("table %s: %s", e.Table, e.Reason)
	}
	return fmt.Sprintf("table %s, column %s: %s", e.Table, e.Column, e.Reason)
}
