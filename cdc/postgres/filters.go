package postgres

import (
	"fmt"
	"regexp"
	"strings"
)

// filters decides which schemas, tables and columns are captured, as
// Debezium's include/exclude lists do: each entry is a regular expression
// matched case-insensitively against the whole identifier (schema,
// schema.table, schema.table.column).
type filters struct {
	schemaIn, schemaEx []*regexp.Regexp
	tableIn, tableEx   []*regexp.Regexp
	colIn, colEx       []*regexp.Regexp
}

// systemSchemas are never captured.
var systemSchemas = map[string]bool{"pg_catalog": true, "information_schema": true, "pg_toast": true}

func compileAll(key string, exprs []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, e := range exprs {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		re, err := regexp.Compile("(?i)^(?:" + e + ")$")
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", key, e, err)
		}
		out = append(out, re)
	}
	return out, nil
}

func newFilters(schemaIn, schemaEx, tableIn, tableEx, colIn, colEx []string) (*filters, error) {
	f := &filters{}
	var err error
	for _, c := range []struct {
		key string
		in  []string
		out *[]*regexp.Regexp
	}{
		{keySchemaInclude, schemaIn, &f.schemaIn}, {keySchemaExclude, schemaEx, &f.schemaEx},
		{keyTableInclude, tableIn, &f.tableIn}, {keyTableExclude, tableEx, &f.tableEx},
		{keyColumnInclude, colIn, &f.colIn}, {keyColumnExclude, colEx, &f.colEx},
	} {
		if *c.out, err = compileAll(c.key, c.in); err != nil {
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

// table reports whether schema.table is captured.
// tableRank is the index of the first table.include.list entry that
// matches schema.table (0 without an include list).
func (f *filters) tableRank(schema, table string) int {
	id := schema + "." + table
	for i, re := range f.tableIn {
		if re.MatchString(id) {
			return i
		}
	}
	return len(f.tableIn)
}

func (f *filters) table(schema, table string) bool {
	if systemSchemas[schema] || strings.HasPrefix(schema, "pg_temp") || strings.HasPrefix(schema, "pg_toast") {
		return false
	}
	if len(f.schemaIn) > 0 && !anyMatch(f.schemaIn, schema) {
		return false
	}
	if anyMatch(f.schemaEx, schema) {
		return false
	}
	id := schema + "." + table
	if len(f.tableIn) > 0 && !anyMatch(f.tableIn, id) {
		return false
	}
	return !anyMatch(f.tableEx, id)
}

// column reports whether schema.table.column is part of events.
func (f *filters) column(schema, table, column string) bool {
	if len(f.colIn) == 0 && len(f.colEx) == 0 {
		return true
	}
	id := schema + "." + table + "." + column
	if len(f.colIn) > 0 && !anyMatch(f.colIn, id) {
		return false
	}
	return !anyMatch(f.colEx, id)
}
