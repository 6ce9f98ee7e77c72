package jdbcsink

import (
	"fmt"
	"strings"
)

// tableName applies table.name.format to a topic.
func tableName(format, topic string) string {
	return strings.ReplaceAll(format, "${topic}", topic)
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
	castType   string // PostgreSQL: the type without modifiers as a cast names it (format_type(atttypid, NULL))
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
