package postgres

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/schema"
)

// colDef is one column of a table version, from a Relation message or the
// catalog.
type colDef struct {
	name    string
	oid     uint32
	typmod  int32
	notNull bool
	defExpr string // the column default as pg_get_expr prints it ("" = none)
}

// tableDef is one version of a table's shape.
type tableDef struct {
	relID    uint32
	schema   string
	name     string
	cols     []colDef
	pk       []string // primary key column names in key order
	identity byte     // relreplident: d default, f full, i index, n nothing
}

// signature identifies the shape; a new signature means new schemas.
func (d *tableDef) signature() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d|%s.%s|%c|%s", d.relID, d.schema, d.name, d.identity, strings.Join(d.pk, ","))
	for _, c := range d.cols {
		fmt.Fprintf(&b, "|%s:%d:%d:%t:%q", c.name, c.oid, c.typmod, c.notNull, c.defExpr)
	}
	return b.String()
}

// tcol is a column of a built table.
type tcol struct {
	name     string
	field    int // index in the value struct, -1 when filtered out or unsupported
	keyField int // index in the key struct, -1 when not a key column
	m        mapping
	sch      *schema.Schema     // with the column's optionality
	zero     any                // value when required but absent
	cm       *cdc.ColumnMapping // the column options' mapping of the value (nil: none)
}

// table is one version of a captured table with its schemas, built once and
// shared by every event of that version.
type table struct {
	def         tableDef
	id          string // schema.table (Debezium's data collection name)
	topic       string
	cols        []tcol
	keyCols     []int // column indexes of the key, in key order
	valueSchema *schema.Schema
	keySchema   *schema.Schema
	envelope    *schema.Schema
	nValue      int
	captured    bool // the include/exclude lists select it

	boxSchema, boxName any // source.schema and source.table, boxed once
}

// sourceSchema is io.debezium.connector.postgresql.Source.
var sourceSchema = func() *schema.Schema {
	b := schema.NewBuilder(schema.TypeStruct).Name("io.debezium.connector.postgresql.Source").Version(1)
	for _, f := range cdc.CommonSourceFields() {
		b.Field(f.Name, f.Schema)
	}
	return b.Field("schema", schema.StringSchema).
		Field("table", schema.StringSchema).
		Field("txId", schema.OptionalInt64).
		Field("lsn", schema.OptionalInt64).
		Field("xmin", schema.OptionalInt64).
		// Debezium 3.6: the replication origin of the transaction and
		// its LSN there (from pgoutput Origin messages); null for
		// changes made on this server, which is all Tributary reports.
		Field("origin", schema.OptionalString).
		Field("origin_lsn", schema.OptionalInt64).Build()
}()

// topicName sanitizes a topic name as Debezium's naming strategy does.
func topicName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '.' || c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			b[i] = '_'
		}
	}
	return string(b)
}

// builder turns table definitions into tables.
type builder struct {
	s      *settings
	m      *mapper
	types  *typeCache
	log    *slog.Logger
	warned map[string]bool
	mu     sync.Mutex
	bySig  map[string]*table // one table (and schemas) per shape
}

func (b *builder) schemaName(parts ...string) string {
	n := strings.Join(parts, ".")
	if b.s.avroNames {
		return cdc.SanitizeName(n)
	}
	return n
}

// build maps a definition to a table, looking types up with lookup. A
// shape seen before returns the same table, so its schemas are shared by
// pointer (converters cache by schema pointer).
func (b *builder) build(def tableDef, lookup func(oid uint32) (*pgType, error)) (*table, error) {
	sig := def.signature()
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.bySig[sig]; t != nil {
		return t, nil
	}
	t, err := b.newTable(def, lookup)
	if err != nil {
		return nil, err
	}
	if b.bySig == nil {
		b.bySig = map[string]*table{}
	}
	b.bySig[sig] = t
	return t, nil
}

func (b *builder) newTable(def tableDef, lookup func(oid uint32) (*pgType, error)) (*table, error) {
	t := &table{def: def, id: def.schema + "." + def.name, topic: topicName(b.s.prefix + "." + def.schema + "." + def.name),
		captured: b.s.filters.table(def.schema, def.name), boxSchema: def.schema, boxName: def.name}
	isPK := map[string]bool{}
	for _, n := range def.pk {
		isPK[n] = true
	}
	keyNames := def.pk
	if b.s.columns != nil {
		names := make([]string, len(def.cols))
		for i, c := range def.cols {
			names[i] = c.name
		}
		if k := b.s.columns.KeyColumns(t.id, names); k != nil {
			keyNames = make([]string, len(k))
			for j, i := range k {
				keyNames[j] = names[i]
			}
		}
	}
	pkPos := map[string]int{}
	for i, n := range keyNames {
		pkPos[n] = i
	}
	var valueFields, keyFields []schema.Field
	keyFields = make([]schema.Field, len(keyNames))
	t.keyCols = make([]int, len(keyNames))
	nKey := 0
	for i, c := range def.cols {
		tc := tcol{name: c.name, field: -1, keyField: -1}
		typ, err := lookup(c.oid)
		if err != nil {
			return nil, fmt.Errorf("table %s column %s: %w", t.id, c.name, err)
		}
		m, err := b.m.mapType(typ, c.typmod)
		if err != nil {
			var unsup errUnsupported
			if errors.As(err, &unsup) {
				if k := t.id + "." + c.name; !b.warned[k] {
					b.warned[k] = true
					b.log.Warn("column left out of events: type not supported", "table", t.id, "column", c.name, "type", unsup.typ)
				}
				t.cols = append(t.cols, tc)
				continue
			}
			return nil, fmt.Errorf("table %s column %s: %w", t.id, c.name, err)
		}
		tc.m = m
		tc.sch = m.schema.WithOptional(!c.notNull && !isPK[c.name])
		if v, ok := columnDefault(c.defExpr, m); ok {
			s := *tc.sch
			s.Default = v
			tc.sch = &s
		} else if v, ok := computedDefault(c.defExpr, m, tc.sch); ok {
			s := *tc.sch
			s.Default = v
			tc.sch = &s
		}
		if !tc.sch.Optional {
			// As Debezium's converters: a required column the WAL does
			// not carry (non-key columns of a key-only old tuple) gets
			// the column's default, or the type's zero without one.
			tc.zero = tc.sch.Default
			if tc.zero == nil {
				tc.zero = zeroValue(tc.sch)
			}
		}
		if b.s.filters.column(def.schema, def.name, c.name) {
			tc.field = len(valueFields)
			tc.cm = b.s.columns.Mapping(sourceColumn(t.id, c, typ))
			valueFields = append(valueFields, schema.Field{Name: c.name, Schema: tc.cm.Schema(tc.sch)})
		}
		if pos, ok := pkPos[c.name]; ok {
			tc.keyField = pos
			keyFields[pos] = schema.Field{Name: c.name, Schema: m.schema}
			t.keyCols[pos] = i
			nKey++
		}
		t.cols = append(t.cols, tc)
	}
	if nKey != len(keyNames) {
		// A key column is missing from the definition (unsupported type
		// or not in the tuple): events get no key rather than a wrong one.
		keyFields, t.keyCols = nil, nil
	}
	t.nValue = len(valueFields)
	t.valueSchema = schema.NewStructSchema(b.schemaName(b.s.prefix, def.schema, def.name, "Value"), valueFields...).WithOptional(true)
	if len(keyFields) > 0 {
		t.keySchema = schema.NewStructSchema(b.schemaName(b.s.prefix, def.schema, def.name, "Key"), keyFields...)
	}
	t.envelope = cdc.EnvelopeSchema(b.schemaName(b.s.prefix, def.schema, def.name, "Envelope"), t.valueSchema, sourceSchema)
	return t, nil
}

// Tuple column kinds, as pgoutput sends them.
const (
	kindNull  = 'n'
	kindToast = 'u'
	kindText  = 't'
)

// tupleGetter returns the kind and text of column i of a tuple.
type tupleGetter func(i int) (kind byte, data []byte)

// row converts a tuple to the value struct. prev, when not nil, supplies
// values for unchanged TOASTed columns (the old row under REPLICA IDENTITY
// FULL); otherwise they get the placeholder.
func (t *table) row(get tupleGetter, prev *schema.Struct) (*schema.Struct, error) {
	vals := make([]any, t.nValue)
	for i := range t.cols {
		c := &t.cols[i]
		if c.field < 0 {
			continue
		}
		kind, data := get(i)
		switch kind {
		case kindText, 'b':
			v, err := c.m.conv(data)
			if err != nil {
				return nil, fmt.Errorf("table %s column %s: %w", t.id, c.name, err)
			}
			if v == nil {
				v = c.zero // a value with no representation (numeric NaN in precise mode)
			}
			vals[c.field] = c.cm.Convert(v)
		case kindToast:
			switch {
			case prev != nil && prev.Values[c.field] != nil:
				vals[c.field] = prev.Values[c.field] // mapped already
			case c.m.toast != nil:
				vals[c.field] = c.cm.Convert(c.m.toast())
			default:
				vals[c.field] = c.cm.Convert(c.zero)
			}
		default:
			vals[c.field] = c.cm.Convert(c.zero)
		}
	}
	return &schema.Struct{Schema: t.valueSchema, Values: vals}, nil
}

// key builds the key struct of a tuple; nil when the table has no key.
func (t *table) key(get tupleGetter, row *schema.Struct) (*schema.Struct, error) {
	if t.keySchema == nil {
		return nil, nil
	}
	vals := make([]any, len(t.keyCols))
	for k, ci := range t.keyCols {
		c := &t.cols[ci]
		if c.field >= 0 && row != nil && c.cm == nil {
			vals[k] = row.Values[c.field]
			if vals[k] != nil {
				continue
			}
		}
		kind, data := get(ci)
		if kind != kindText && kind != 'b' {
			vals[k] = zeroValue(c.m.schema)
			continue
		}
		v, err := c.m.conv(data)
		if err != nil {
			return nil, fmt.Errorf("table %s key column %s: %w", t.id, c.name, err)
		}
		vals[k] = v
	}
	return &schema.Struct{Schema: t.keySchema, Values: vals}, nil
}

// keyJSON renders a key struct as the header value Connect's
// SimpleHeaderConverter writes for a struct: compact JSON of its fields.
func keyJSON(k *schema.Struct) []byte {
	if k == nil {
		return nil
	}
	out := []byte{'{'}
	for i, f := range k.Schema.Fields {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendJSONString(out, f.Name)
		out = append(out, ':')
		out = appendJSONValue(out, k.Values[i])
	}
	return append(out, '}')
}

func appendJSONValue(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		return appendJSONString(dst, x)
	case bool:
		return strconv.AppendBool(dst, x)
	case int16:
		return strconv.AppendInt(dst, int64(x), 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case float32:
		return strconv.AppendFloat(dst, float64(x), 'g', -1, 32)
	case float64:
		return strconv.AppendFloat(dst, x, 'g', -1, 64)
	case fmt.Stringer:
		return appendJSONString(dst, x.String())
	}
	return appendJSONString(dst, fmt.Sprint(v))
}

// equalKeys reports whether two key structs hold the same values.
func equalKeys(a, b *schema.Struct) bool {
	if a == nil || b == nil {
		return a == b
	}
	if len(a.Values) != len(b.Values) {
		return false
	}
	for i := range a.Values {
		if !equalValue(a.Values[i], b.Values[i]) {
			return false
		}
	}
	return true
}

func equalValue(x, y any) bool {
	switch a := x.(type) {
	case nil:
		return y == nil
	case int16, int32, int64, string, bool, float32, float64:
		return x == y
	case []byte:
		b, ok := y.([]byte)
		return ok && bytes.Equal(a, b)
	case decimal.Decimal:
		b, ok := y.(decimal.Decimal)
		return ok && a.Equal(b)
	case time.Time:
		b, ok := y.(time.Time)
		return ok && a.Equal(b)
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// sourceColumn describes a column as Debezium's PostgreSQL connector sees
// it: the type name (pg_type.typname) and the length and scale the JDBC
// driver reports — the declared ones for varchar(n), char(n) and
// numeric(p,s), the driver's fixed precisions for the integer and float
// types, unbounded (2147483647) for text and unconstrained varchar.
func sourceColumn(tableID string, c colDef, typ *pgType) cdc.SourceColumn {
	sc := cdc.SourceColumn{Table: tableID, Name: c.name, TypeName: typ.name, Length: -1}
	mod := c.typmod
	name := typ.name
	if typ.base != nil {
		if mod < 0 {
			mod = typ.baseMod
		}
		name = typ.base.name
	}
	fixed := func(length, scale int) { sc.Length, sc.Scale, sc.HasScale = length, scale, true }
	switch name {
	case "varchar", "bpchar", "text", "name", "char":
		sc.Character = true
		switch {
		case name == "name":
			fixed(63, 0)
		case mod >= 4:
			fixed(int(mod-4), 0)
		case name == "bpchar":
			fixed(1, 0)
		default:
			fixed(2147483647, 0)
		}
	case "int2":
		fixed(5, 0)
	case "int4", "oid":
		fixed(10, 0)
	case "int8":
		fixed(19, 0)
	case "float4":
		fixed(8, 8)
	case "float8":
		fixed(17, 17)
	case "bool":
		fixed(1, 0)
	case "numeric":
		if mod >= 4 {
			fixed(int((mod-4)>>16&0xffff), int((mod-4)&0xffff))
		} else {
			fixed(131089, 0)
		}
	}
	return sc
}
