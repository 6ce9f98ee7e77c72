package mysql

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
)

// table is one version of a captured table: its columns, converters and the
// Connect schemas built once for that version and shared by every record.
type table struct {
	db, name string
	id       string // db.name
	topic    string

	cols  []column
	convs []*converter

	valueIdx []int                // columns in the value struct (column.include/exclude.list applied)
	valueMap []*cdc.ColumnMapping // per value field: the column options' mapping (nil: none)
	keyIdx   []int                // primary-key columns, in key order; empty: null key

	keySchema   *schema.Schema
	valueSchema *schema.Schema
	envSchema   *schema.Schema

	pkNames []string
	charset string // table default character set
	comment string

	tm *replication.TableMapEvent // the table map this version was built from (nil for snapshot versions)
}

// tableNaming carries what builds names for a table's schemas and topic.
type tableNaming struct {
	prefix string
	adjust func(string) string // schema.name.adjustment.mode
	rules  *cdc.ColumnRules    // column options and message.key.columns (nil: none)
	// mariadb: source type names as Debezium's MariaDB connector reports
	// them (without UNSIGNED/ZEROFILL)
	mariadb bool
}

// newTable builds a table version. pk lists primary-key column indexes in
// key order; include says whether a column goes into the value.
func newTable(n tableNaming, db, name string, cols []column, pk []int, include func(col string) bool, opts typeOptions, source *schema.Schema) (*table, error) {
	t := &table{db: db, name: name, id: db + "." + name, topic: n.prefix + "." + db + "." + name, cols: cols, keyIdx: pk}
	if n.rules != nil {
		names := make([]string, len(cols))
		for i := range cols {
			names[i] = cols[i].name
		}
		if k := n.rules.KeyColumns(t.id, names); k != nil {
			pk, t.keyIdx = k, k
		}
	}
	t.convs = make([]*converter, len(cols))
	base := n.adjust(n.prefix + "." + db + "." + name)
	valueFields := make([]schema.Field, 0, len(cols))
	for i := range cols {
		cv, err := newConverter(&t.cols[i], opts)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", t.id, err)
		}
		t.convs[i] = cv
		if include == nil || include(cols[i].name) {
			m := n.rules.Mapping(sourceColumn(t.id, &cols[i], n.mariadb))
			t.valueIdx = append(t.valueIdx, i)
			t.valueMap = append(t.valueMap, m)
			valueFields = append(valueFields, schema.Field{Name: cols[i].name, Schema: m.Schema(cv.schema)})
		}
	}
	t.valueSchema = schema.NewStructSchema(base+".Value", valueFields...)
	if len(pk) > 0 {
		kf := make([]schema.Field, len(pk))
		for j, i := range pk {
			kf[j] = schema.Field{Name: cols[i].name, Schema: t.convs[i].schema}
			t.pkNames = append(t.pkNames, cols[i].name)
		}
		t.keySchema = schema.NewStructSchema(base+".Key", kf...)
	}
	t.envSchema = cdc.EnvelopeSchema(base+".Envelope", t.valueSchema, source)
	return t, nil
}

// sameTableMap reports whether tm describes the same table version as the
// one t was built from.
func (t *table) sameTableMap(tm *replication.TableMapEvent) bool {
	o := t.tm
	if o == nil || o.ColumnCount != tm.ColumnCount {
		return false
	}
	if !bytes.Equal(o.ColumnType, tm.ColumnType) || !bytes.Equal(o.NullBitmap, tm.NullBitmap) ||
		!bytes.Equal(o.SignednessBitmap, tm.SignednessBitmap) {
		return false
	}
	for i := range o.ColumnMeta {
		if o.ColumnMeta[i] != tm.ColumnMeta[i] {
			return false
		}
	}
	if len(o.ColumnName) != len(tm.ColumnName) || len(o.PrimaryKey) != len(tm.PrimaryKey) {
		return false
	}
	for i := range o.ColumnName {
		if !bytes.Equal(o.ColumnName[i], tm.ColumnName[i]) {
			return false
		}
	}
	for i := range o.PrimaryKey {
		if o.PrimaryKey[i] != tm.PrimaryKey[i] {
			return false
		}
	}
	if !equalU64(o.DefaultCharset, tm.DefaultCharset) || !equalU64(o.ColumnCharset, tm.ColumnCharset) {
		return false
	}
	return equalStrValues(o.EnumStrValue, tm.EnumStrValue) && equalStrValues(o.SetStrValue, tm.SetStrValue)
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalStrValues(a, b [][][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if !bytes.Equal(a[i][j], b[i][j]) {
				return false
			}
		}
	}
	return true
}

// rowValue converts a full row (all columns, table order) into the value
// struct and the key struct (nil without a primary key).
func (t *table) rowValue(row []any, binlog bool) (key, value *schema.Struct, err error) {
	vals := make([]any, len(t.valueIdx))
	for j, i := range t.valueIdx {
		if i >= len(row) {
			continue
		}
		if binlog {
			vals[j], err = t.convs[i].fromBinlog(row[i])
		} else {
			vals[j], err = t.convs[i].fromSnapshot(row[i])
		}
		if err != nil {
			return nil, nil, fmt.Errorf("table %s: %w", t.id, err)
		}
	}
	var plain []any // vals before the column options, for the key
	for j, m := range t.valueMap {
		if m != nil {
			if plain == nil {
				plain = slices.Clone(vals)
			}
			vals[j] = m.Convert(vals[j])
		}
	}
	if plain == nil {
		plain = vals
	}
	value = &schema.Struct{Schema: t.valueSchema, Values: vals}
	if t.keySchema != nil {
		kv := make([]any, len(t.keyIdx))
		for j, i := range t.keyIdx {
			// reuse the converted value when the key column is in the value
			found := false
			for vj, vi := range t.valueIdx {
				if vi == i {
					kv[j] = plain[vj]
					found = true
					break
				}
			}
			if !found && i < len(row) {
				if binlog {
					kv[j], err = t.convs[i].fromBinlog(row[i])
				} else {
					kv[j], err = t.convs[i].fromSnapshot(row[i])
				}
				if err != nil {
					return nil, nil, fmt.Errorf("table %s: %w", t.id, err)
				}
			}
		}
		key = &schema.Struct{Schema: t.keySchema, Values: kv}
	}
	return key, value, nil
}

// keyEqual reports whether two key structs hold the same values.
func keyEqual(a, b *schema.Struct) bool {
	if a == nil || b == nil {
		return a == b
	}
	for i := range a.Values {
		if !valueEqual(a.Values[i], b.Values[i]) {
			return false
		}
	}
	return true
}

func valueEqual(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case interface{ Equal(any) bool }:
		return x.Equal(b)
	}
	if da, ok := a.(interface{ String() string }); ok {
		if db, ok := b.(interface{ String() string }); ok {
			return da.String() == db.String()
		}
	}
	return a == b
}

var reTypeDims = regexp.MustCompile(`^[^(]*\((\d+)(?:,(\d+))?\)`)

// sourceColumn describes c as Debezium's DDL parser would from SHOW CREATE
// TABLE: the upper-cased type name (with UNSIGNED/ZEROFILL on MySQL, as its
// parser appends them), the declared length and scale, ENUM length 1, SET
// length 2n-1.
func sourceColumn(tableID string, c *column, mariadb bool) cdc.SourceColumn {
	sc := cdc.SourceColumn{Table: tableID, Name: c.name, TypeName: strings.ToUpper(c.dataType), Length: -1,
		Character: c.kind == kString || c.kind == kEnum || c.kind == kSet}
	ct := strings.ToLower(c.columnType)
	if !mariadb {
		switch {
		case strings.Contains(ct, "zerofill"):
			sc.TypeName += " UNSIGNED ZEROFILL"
		case strings.Contains(ct, "unsigned"):
			sc.TypeName += " UNSIGNED"
		}
	}
	switch c.kind {
	case kEnum:
		sc.Length = 1
	case kSet:
		sc.Length = max(0, 2*len(c.enumValues)-1)
	default:
		if m := reTypeDims.FindStringSubmatch(ct); m != nil {
			sc.Length, _ = strconv.Atoi(m[1])
			if m[2] != "" {
				sc.Scale, _ = strconv.Atoi(m[2])
				sc.HasScale = true
			}
		}
	}
	return sc
}
