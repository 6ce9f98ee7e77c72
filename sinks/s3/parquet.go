package s3

import (
	"bytes"
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/brotli"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/lz4"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/uncompressed"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// ParquetFormat writes the view as Confluent's ParquetFormat does through
// AvroData and parquet-avro: a struct becomes the message (keys and headers
// are enveloped in RecordKey/RecordHeaders), optional schemas are OPTIONAL,
// arrays are the three-level LIST (repeated group list { element }) that
// parquet-avro writes for optional items (we write it for every array: the
// spec's form, which every reader including parquet-go's understands; the
// two-level legacy form is not), maps are MAP key_value groups, INT8/INT16 are INT32, Decimal is BINARY DECIMAL,
// Date is INT32 DATE, Time is INT32 TIME_MILLIS and Timestamp is INT64
// TIMESTAMP_MILLIS. The extension carries the codec as parquet-mr's does
// (.snappy.parquet).
type parquetFormat struct {
	s       *settings
	vw      *viewer
	codec   compress.Codec
	ext     string
	schemas map[*schema.Schema]*pqSchema
}

func parquetCodec(name string) (compress.Codec, string, error) {
	switch name {
	case "none", "uncompressed":
		return &uncompressed.Codec{}, ".parquet", nil
	case "", "snappy":
		return &snappy.Codec{}, ".snappy.parquet", nil
	case "gzip":
		return &gzip.Codec{}, ".gz.parquet", nil
	case "brotli":
		return &brotli.Codec{}, ".br.parquet", nil
	case "lz4":
		return &lz4.Codec{}, ".lz4raw.parquet", nil
	case "zstd":
		return &zstd.Codec{}, ".zstd.parquet", nil
	}
	return nil, "", fmt.Errorf("parquet.codec %s is not supported", name)
}

func (f *parquetFormat) extension() string { return f.ext }

func (f *parquetFormat) newWriter(string) fileWriter { return &parquetWriter{f: f} }

func (f *parquetFormat) compiled(s *schema.Schema) (*pqSchema, error) {
	if ps, ok := f.schemas[s]; ok {
		return ps, nil
	}
	ps, err := compileParquet(s)
	if err != nil {
		return nil, err
	}
	if len(f.schemas) > 1000 {
		clear(f.schemas)
	}
	f.schemas[s] = ps
	return ps, nil
}

type parquetWriter struct {
	f      *parquetFormat
	schema *schema.Schema
	ps     *pqSchema
	buf    bytes.Buffer
	w      *parquet.Writer
	rows   []parquet.Row
	cols   [][]parquet.Value
	arena  []parquet.Value
	n      int
}

const parquetBatch = 256

func (w *parquetWriter) write(rec *schema.Record) error {
	s, v := w.f.vw.get(rec)
	if s == nil {
		return fmt.Errorf("ParquetFormat: the %s has no schema; schemaless data cannot be written as Parquet", w.f.vw.v)
	}
	if w.w == nil {
		ps, err := w.f.compiled(s)
		if err != nil {
			return fmt.Errorf("ParquetFormat: %w", err)
		}
		w.ps, w.schema = ps, s
		w.cols = make([][]parquet.Value, ps.ncols)
		w.w = parquet.NewWriter(&w.buf, ps.schema, parquet.Compression(w.f.codec),
			parquet.PageBufferSize(64*1024), parquet.CreatedBy("tributary", "", ""))
	} else if s != w.schema && !schema.Equal(s, w.schema) {
		return fmt.Errorf("ParquetFormat: the %s schema changed within one file", w.f.vw.v)
	}
	row, err := w.ps.row(w.cols, &w.arena, v)
	if err != nil {
		return fmt.Errorf("ParquetFormat: %w", err)
	}
	w.rows = append(w.rows, row)
	w.n++
	if len(w.rows) >= parquetBatch {
		return w.flushRows()
	}
	return nil
}

func (w *parquetWriter) flushRows() error {
	if len(w.rows) == 0 {
		return nil
	}
	_, err := w.w.WriteRows(w.rows)
	clear(w.rows)
	w.rows = w.rows[:0]
	w.arena = w.arena[:0]
	if err != nil {
		return fmt.Errorf("ParquetFormat: %w", err)
	}
	return nil
}

func (w *parquetWriter) finish() ([]byte, error) {
	if w.w == nil {
		return nil, nil
	}
	if err := w.flushRows(); err != nil {
		return nil, err
	}
	if err := w.w.Close(); err != nil {
		return nil, fmt.Errorf("ParquetFormat: %w", err)
	}
	return w.buf.Bytes(), nil
}

func (w *parquetWriter) size() int { return w.buf.Len() + len(w.rows)*64 }

// pqSchema is a Connect struct schema compiled to a Parquet schema and a
// row builder (Dremel striping into per-column values).
type pqSchema struct {
	schema *parquet.Schema
	root   *pqNode
	ncols  int
}

type pqKind int

const (
	pqLeaf pqKind = iota
	pqGroup
	pqList // group (LIST) { repeated group list { <opt> element } }
	pqMap  // group (MAP) { repeated group key_value { required key; <opt> value } }
)

type pqNode struct {
	kind     pqKind
	name     string
	optional bool
	repLevel int // repetition level of the repeated child (lists, maps)
	children []*pqNode
	col      int // leaf column index
	first    int // first leaf column under this node
	last     int // last leaf column under this node
	conv     func(v any) (parquet.Value, error)
	cs       *schema.Schema
}

func compileParquet(s *schema.Schema) (*pqSchema, error) {
	if s.Type != schema.TypeStruct {
		return nil, fmt.Errorf("a %s schema cannot be written as Parquet: the value must be a struct", s.Type)
	}
	c := &pqCompiler{}
	root, node, err := c.compile("", s, 0, true)
	if err != nil {
		return nil, err
	}
	name := s.Name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	if name == "" {
		name = "ConnectDefault"
	}
	return &pqSchema{schema: parquet.NewSchema(name, node), root: root, ncols: c.cols}, nil
}

type pqCompiler struct {
	cols  int
	depth int
}

// compile returns the row-building node and the Parquet node for s (without
// its optional/repeated wrapper when top is true).
func (c *pqCompiler) compile(name string, s *schema.Schema, rep int, top bool) (*pqNode, parquet.Node, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > 64 {
		return nil, nil, fmt.Errorf("schema nests deeper than 64 levels")
	}
	n := &pqNode{name: name, optional: s.Optional && !top, cs: s, first: c.cols}
	var node parquet.Node
	switch s.Type {
	case schema.TypeStruct:
		n.kind = pqGroup
		fields := make([]parquet.Field, 0, len(s.Fields))
		for _, f := range s.Fields {
			cn, cnode, err := c.compile(f.Name, f.Schema, rep, false)
			if err != nil {
				return nil, nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			n.children = append(n.children, cn)
			fields = append(fields, pqField{Node: cnode, name: f.Name})
		}
		if len(fields) == 0 {
			return nil, nil, fmt.Errorf("struct %q has no fields; Parquet groups need at least one", s.Name)
		}
		node = &pqGroupNode{fields: fields, typ: parquet.Group{}.Type()}
	case schema.TypeArray:
		items := s.ValueSchema
		if items == nil {
			return nil, nil, fmt.Errorf("array without item schema")
		}
		n.repLevel = rep + 1
		n.kind = pqList
		el, elNode, err := c.compile("element", items, rep+1, false)
		if err != nil {
			return nil, nil, err
		}
		list := &pqNode{kind: pqGroup, name: "list", children: []*pqNode{el}, first: el.first, last: el.last}
		n.children = []*pqNode{list}
		inner := &pqGroupNode{fields: []parquet.Field{pqField{Node: elNode, name: "element"}}, typ: parquet.Group{}.Type()}
		node = &pqGroupNode{fields: []parquet.Field{pqField{Node: parquet.Repeated(inner), name: "list"}}, typ: parquet.List(parquet.String()).Type()}
	case schema.TypeMap:
		if s.KeySchema == nil || s.ValueSchema == nil {
			return nil, nil, fmt.Errorf("map without key or value schema")
		}
		n.kind = pqMap
		n.repLevel = rep + 1
		k, kNode, err := c.compile("key", s.KeySchema, rep+1, true)
		if err != nil {
			return nil, nil, err
		}
		v, vNode, err := c.compile("value", s.ValueSchema, rep+1, false)
		if err != nil {
			return nil, nil, err
		}
		kv := &pqNode{kind: pqGroup, name: "key_value", children: []*pqNode{k, v}, first: k.first, last: v.last}
		n.children = []*pqNode{kv}
		inner := &pqGroupNode{fields: []parquet.Field{pqField{Node: kNode, name: "key"}, pqField{Node: vNode, name: "value"}}, typ: parquet.Group{}.Type()}
		node = &pqGroupNode{fields: []parquet.Field{pqField{Node: parquet.Repeated(inner), name: "key_value"}}, typ: parquet.Map(parquet.String(), parquet.String()).Type()}
	default:
		n.kind = pqLeaf
		n.col = c.cols
		c.cols++
		var err error
		node, n.conv, err = leafOf(s)
		if err != nil {
			return nil, nil, err
		}
	}
	n.last = c.cols - 1
	if n.optional {
		node = parquet.Optional(node)
	}
	return n, node, nil
}

func leafOf(s *schema.Schema) (parquet.Node, func(any) (parquet.Value, error), error) {
	switch s.Name {
	case schema.DecimalName:
		scale, err := schema.DecimalScale(s)
		if err != nil {
			return nil, nil, err
		}
		prec := 64
		if p, ok := s.Param(schema.DecimalPrecisionParam); ok {
			if n, err := strconv.Atoi(p); err == nil && n > 0 {
				prec = n
			}
		}
		if int(scale) > prec {
			prec = int(scale)
		}
		return parquet.Decimal(int(scale), prec, parquet.ByteArrayType), func(v any) (parquet.Value, error) {
			d, ok := v.(decimal.Decimal)
			if !ok {
				return parquet.Value{}, fmt.Errorf("expected a decimal, got %T", v)
			}
			return parquet.ByteArrayValue(schema.DecimalToUnscaled(d, scale)), nil
		}, nil
	case schema.DateName:
		return parquet.Date(), func(v any) (parquet.Value, error) {
			t, ok := v.(time.Time)
			if !ok {
				return parquet.Value{}, fmt.Errorf("expected a time, got %T", v)
			}
			return parquet.Int32Value(schema.DateToDays(t)), nil
		}, nil
	case schema.TimeName:
		return parquet.Time(parquet.Millisecond), func(v any) (parquet.Value, error) {
			t, ok := v.(time.Time)
			if !ok {
				return parquet.Value{}, fmt.Errorf("expected a time, got %T", v)
			}
			return parquet.Int32Value(schema.TimeToMillis(t)), nil
		}, nil
	case schema.TimestampName:
		return parquet.Timestamp(parquet.Millisecond), func(v any) (parquet.Value, error) {
			t, ok := v.(time.Time)
			if !ok {
				return parquet.Value{}, fmt.Errorf("expected a time, got %T", v)
			}
			return parquet.Int64Value(t.UnixMilli()), nil
		}, nil
	}
	bad := func(v any) (parquet.Value, error) {
		return parquet.Value{}, fmt.Errorf("a %s value must not be %T", s.Type, v)
	}
	switch s.Type {
	case schema.TypeInt8, schema.TypeInt16, schema.TypeInt32:
		return parquet.Leaf(parquet.Int32Type), func(v any) (parquet.Value, error) {
			switch x := v.(type) {
			case int8:
				return parquet.Int32Value(int32(x)), nil
			case int16:
				return parquet.Int32Value(int32(x)), nil
			case int32:
				return parquet.Int32Value(x), nil
			}
			return bad(v)
		}, nil
	case schema.TypeInt64:
		return parquet.Leaf(parquet.Int64Type), func(v any) (parquet.Value, error) {
			if x, ok := v.(int64); ok {
				return parquet.Int64Value(x), nil
			}
			return bad(v)
		}, nil
	case schema.TypeFloat32:
		return parquet.Leaf(parquet.FloatType), func(v any) (parquet.Value, error) {
			if x, ok := v.(float32); ok {
				return parquet.FloatValue(x), nil
			}
			return bad(v)
		}, nil
	case schema.TypeFloat64:
		return parquet.Leaf(parquet.DoubleType), func(v any) (parquet.Value, error) {
			if x, ok := v.(float64); ok {
				return parquet.DoubleValue(x), nil
			}
			return bad(v)
		}, nil
	case schema.TypeBoolean:
		return parquet.Leaf(parquet.BooleanType), func(v any) (parquet.Value, error) {
			if x, ok := v.(bool); ok {
				return parquet.BooleanValue(x), nil
			}
			return bad(v)
		}, nil
	case schema.TypeString:
		return parquet.String(), func(v any) (parquet.Value, error) {
			if x, ok := v.(string); ok {
				// WriteRows copies the bytes into its column buffers before
				// returning, so the string's memory is only read.
				return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(x), len(x))), nil
			}
			return bad(v)
		}, nil
	case schema.TypeBytes:
		return parquet.Leaf(parquet.ByteArrayType), func(v any) (parquet.Value, error) {
			if x, ok := v.([]byte); ok {
				return parquet.ByteArrayValue(x), nil
			}
			return bad(v)
		}, nil
	}
	return nil, nil, fmt.Errorf("type %s cannot be written as Parquet", s.Type)
}

// row stripes one value into cols (reused between rows) and returns the
// row's values in column order.
//
// Rows are slices of *arena, which holds the values of rows built since the
// last WriteRows (a new arena is started when it is full, so rows handed
// out stay valid until written).
func (ps *pqSchema) row(cols [][]parquet.Value, arena *[]parquet.Value, v any) (parquet.Row, error) {
	for i := range cols {
		cols[i] = cols[i][:0]
	}
	if err := ps.emit(cols, ps.root, v, 0, 0); err != nil {
		return nil, err
	}
	n := 0
	for _, c := range cols {
		n += len(c)
	}
	a := *arena
	if cap(a)-len(a) < n {
		a = make([]parquet.Value, 0, max(n*parquetBatch, 4096))
	}
	start := len(a)
	for _, c := range cols {
		a = append(a, c...)
	}
	*arena = a
	return parquet.Row(a[start:len(a):len(a)]), nil
}

func (ps *pqSchema) nulls(cols [][]parquet.Value, n *pqNode, r, d int) {
	for c := n.first; c <= n.last; c++ {
		cols[c] = append(cols[c], parquet.NullValue().Level(r, d, c))
	}
}

// emit writes v of node n with repetition level r; d is the definition
// level of n's parent.
func (ps *pqSchema) emit(cols [][]parquet.Value, n *pqNode, v any, r, d int) error {
	if v == nil {
		if n.cs.Default != nil {
			v = n.cs.Default
		} else if n.optional {
			ps.nulls(cols, n, r, d)
			return nil
		} else {
			return fmt.Errorf("%s: null value for a required %s", n.pathName(), n.cs.Type)
		}
	}
	if n.optional {
		d++
	}
	switch n.kind {
	case pqLeaf:
		pv, err := n.conv(v)
		if err != nil {
			return fmt.Errorf("%s: %w", n.pathName(), err)
		}
		cols[n.col] = append(cols[n.col], pv.Level(r, d, n.col))
	case pqGroup:
		st, ok := v.(*schema.Struct)
		if !ok || len(st.Values) != len(n.children) {
			return fmt.Errorf("%s: expected a struct of %d fields, got %T", n.pathName(), len(n.children), v)
		}
		for i, c := range n.children {
			if err := ps.emit(cols, c, st.Values[i], r, d); err != nil {
				return err
			}
		}
	case pqList:
		items, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: expected an array, got %T", n.pathName(), v)
		}
		if len(items) == 0 {
			ps.nulls(cols, n, r, d)
			return nil
		}
		for i, it := range items {
			rr := r
			if i > 0 {
				rr = n.repLevel
			}
			if err := ps.emit(cols, n.children[0].children[0], it, rr, d+1); err != nil {
				return err
			}
		}
	case pqMap:
		m, ok := v.(map[any]any)
		if !ok {
			if sm, ok2 := v.(map[string]any); ok2 {
				m = make(map[any]any, len(sm))
				for k, x := range sm {
					m[k] = x
				}
			} else {
				return fmt.Errorf("%s: expected a map, got %T", n.pathName(), v)
			}
		}
		if len(m) == 0 {
			ps.nulls(cols, n, r, d)
			return nil
		}
		keys := make([]any, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareKeys)
		kv := n.children[0]
		for i, k := range keys {
			rr := r
			if i > 0 {
				rr = n.repLevel
			}
			if err := ps.emit(cols, kv.children[0], k, rr, d+1); err != nil {
				return err
			}
			if err := ps.emit(cols, kv.children[1], m[k], rr, d+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func (n *pqNode) pathName() string {
	if n.name == "" {
		return "value"
	}
	return "field " + n.name
}

// compareKeys orders map keys so files are deterministic.
func compareKeys(a, b any) int {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
	case int32:
		if y, ok := b.(int32); ok {
			return cmp.Compare(x, y)
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// pqGroupNode is a Parquet group whose fields keep the Connect field order
// (parquet.Group sorts them by name).
type pqGroupNode struct {
	fields []parquet.Field
	typ    parquet.Type
}

func (g *pqGroupNode) ID() int                      { return 0 }
func (g *pqGroupNode) String() string               { return "group" }
func (g *pqGroupNode) Type() parquet.Type           { return g.typ }
func (g *pqGroupNode) Optional() bool               { return false }
func (g *pqGroupNode) Repeated() bool               { return false }
func (g *pqGroupNode) Required() bool               { return true }
func (g *pqGroupNode) Leaf() bool                   { return false }
func (g *pqGroupNode) Fields() []parquet.Field      { return g.fields }
func (g *pqGroupNode) Encoding() encoding.Encoding  { return nil }
func (g *pqGroupNode) Compression() compress.Codec  { return nil }
func (g *pqGroupNode) GoType() reflect.Type         { return reflect.TypeFor[map[string]any]() }
func (f pqField) Name() string                      { return f.name }
func (f pqField) Value(reflect.Value) reflect.Value { return reflect.Value{} }

type pqField struct {
	parquet.Node
	name string
}
