package jdbc

import (
	"fmt"
	"strings"
)

// TableID names a table: Catalog (the MySQL database, or the PostgreSQL
// database of a three-part name), Schema (PostgreSQL) and Name.
type TableID struct {
	Catalog, Schema, Name string
}

// String is the unquoted dotted name, as used in messages, source
// partitions and the sink's exactly-once offsets table.
func (t TableID) String() string { return strings.Join(t.parts(), ".") }

// parts are the non-empty parts, outermost first.
func (t TableID) parts() []string {
	parts := make([]string, 0, 3)
	for _, p := range []string{t.Catalog, t.Schema, t.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return parts
}

// parseTableID splits s and fills the fields layout names for its number
// of parts, outermost first; no fields (nil) is the tooMany error, a format
// taking s and the number of parts.
func parseTableID(s string, layout func(id *TableID, parts int) []*string, tooMany string) (TableID, error) {
	parts, err := SplitQualified(s)
	if err != nil {
		return TableID{}, err
	}
	var id TableID
	fields := layout(&id, len(parts))
	if fields == nil {
		return TableID{}, fmt.Errorf(tooMany, s, len(parts))
	}
	for i, f := range fields {
		*f = parts[i]
	}
	return id, nil
}

// SplitQualified splits a dotted name; dots inside double quotes or
// backticks do not split, and the quotes are dropped.
func SplitQualified(s string) ([]string, error) {
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
