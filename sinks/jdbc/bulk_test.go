package jdbcsink

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

// bulkRows is enough rows for every batch of these tests to take the
// dialects' bulk statements (PostgreSQL) and parallel writers (MariaDB)
// where they have them.
const bulkRows = 2 * max(pgBulkMinRows, parallelMinRows)

// TestBulkTypeRoundTrip writes every type of typeCases (their expected
// values are hand-written there) in batches large enough for the bulk
// statements, rows with values and rows of nulls, and reads every row back.
// On PostgreSQL the batch must have gone through UNNEST; a batch whose
// timestamp column mixes Debezium's +infinity (bound as a string) with
// instants (bound as timestamps) must land too, through the multi-row path.
func TestBulkTypeRoundTrip(t *testing.T) {
	cases := typeCases()
	fields := []schema.Field{{Name: "id", Schema: schema.Int32Schema}}
	for _, c := range cases {
		fields = append(fields, schema.Field{Name: c.col, Schema: c.s})
	}
	vs := schema.NewStructSchema("bulktypes", fields...)
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		task := startTask(t, sinkConfig(hdb, "topics", "bulktypes", "auto.create", "true", "insert.mode", "upsert",
			"pk.mode", "record_value", "pk.fields", "id"), nil)
		var recs []schema.Record
		for i := 0; i < bulkRows; i++ {
			full := []any{int32(i)}
			nulls := []any{int32(1000 + i)}
			for _, c := range cases {
				full = append(full, c.v)
				nulls = append(nulls, nil)
			}
			recs = append(recs, record("bulktypes", 0, int64(2*i), nil, nil, vs, structOf(vs, full...)),
				record("bulktypes", 0, int64(2*i+1), nil, nil, vs, structOf(vs, nulls...)))
		}
		mustPut(t, task, recs...)
		mustFlush(t, task)
		if hdb.Kind == harness.KindPostgres && task.bulkRows.Load() != 2*bulkRows {
			t.Fatalf("%d rows went through the bulk statement, want %d", task.bulkRows.Load(), 2*bulkRows)
		}
		if task.parallelRows.Load() != 2*bulkRows {
			t.Fatalf("%d rows went through parallel writers, want %d", task.parallelRows.Load(), 2*bulkRows)
		}
		my := hdb.Kind == harness.KindMariaDB
		var exprs []string
		for _, c := range cases {
			e := c.pgEx
			if my {
				e = c.myExpr
			}
			if e == "" {
				e = "%s"
			}
			exprs = append(exprs, strings.ReplaceAll(e, "%s", c.col))
		}
		got := query(t, db, "SELECT id, "+strings.Join(exprs, ", ")+" FROM bulktypes ORDER BY id")
		if len(got) != 2*bulkRows {
			t.Fatalf("%d rows, want %d", len(got), 2*bulkRows)
		}
		for r, row := range got {
			null := r >= bulkRows
			for i, c := range cases {
				want := c.pg
				if my {
					want = c.my
				}
				if null {
					want = "NULL"
				}
				if row[i+1] != want {
					t.Errorf("row %s, %s (%s): got %q, want %q", row[0], c.col, c.s, row[i+1], want)
				}
			}
		}
		if hdb.Kind != harness.KindPostgres {
			return
		}
		// Mixed kinds in one column: the multi-row path, the same result.
		ts := schema.NewStructSchema("bulkinf", schema.Field{Name: "id", Schema: schema.Int32Schema},
			schema.Field{Name: "dts", Schema: semantic(schema.TypeInt64, schema.DebeziumTimestamp)})
		inf := startTask(t, sinkConfig(hdb, "topics", "bulkinf", "auto.create", "true", "insert.mode", "upsert",
			"pk.mode", "record_value", "pk.fields", "id"), nil)
		recs = recs[:0]
		for i := 0; i < bulkRows; i++ {
			v := int64(1529507596945)
			if i == 3 {
				v = dbzPosInfinity
			}
			recs = append(recs, record("bulkinf", 0, int64(i), nil, nil, ts, structOf(ts, int32(i), v)))
		}
		mustPut(t, inf, recs...)
		mustFlush(t, inf)
		if inf.bulkRows.Load() >= bulkRows {
			t.Errorf("%d rows, with those of a column mixing strings and timestamps, went through the bulk statement", inf.bulkRows.Load())
		}
		expectRows(t, db, "SELECT dts::text, COUNT(*) FROM bulkinf GROUP BY dts ORDER BY dts",
			fmt.Sprintf("2018-06-20 15:13:16.945|%d", bulkRows-1), "infinity|1")
	})
}

// TestBulkExistingColumns writes into a table made by hand with column
// types auto.create does not make (lengths, scales, a narrower integer, a
// zoned timestamp, uuid, jsonb, bit varying), in one bulk-sized batch with
// two bad records: a string too long for its VARCHAR(5) and an int64 too
// large for its INTEGER. With an errant-record reporter exactly those two
// records are reported and every other row is written; the values read back
// are as written (the modifiers are checked, never truncated to fit).
func TestBulkExistingColumns(t *testing.T) {
	vs := schema.NewStructSchema("pre", schema.Field{Name: "id", Schema: schema.Int32Schema},
		schema.Field{Name: "v", Schema: schema.OptionalString},
		schema.Field{Name: "n", Schema: schema.OptionalInt64},
		schema.Field{Name: "d", Schema: schema.DecimalSchema(2, 6, true)},
		schema.Field{Name: "zt", Schema: semantic(schema.TypeString, schema.DebeziumZonedTimestamp)},
		schema.Field{Name: "u", Schema: semantic(schema.TypeString, schema.DebeziumUUID)},
		schema.Field{Name: "j", Schema: semantic(schema.TypeString, schema.DebeziumJSON)},
		schema.Field{Name: "c", Schema: schema.OptionalString},
		schema.Field{Name: "bt", Schema: schema.NewBuilder(schema.TypeBytes).Optional().Name(schema.DebeziumBits).Version(1).Param("length", "4").Build()})
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		ddl := `CREATE TABLE pre (id INT PRIMARY KEY, v VARCHAR(5), n INT, d DECIMAL(6,2), zt DATETIME(6), u CHAR(36), j JSON, c CHAR(3), bt BIT(4))`
		if hdb.Kind == harness.KindPostgres {
			ddl = `CREATE TABLE pre (id INTEGER PRIMARY KEY, v VARCHAR(5), n INTEGER, d NUMERIC(6,2), zt TIMESTAMPTZ, u UUID, j JSONB, c CHAR(3), bt BIT(4))`
		}
		if _, err := db.Exec(ddl); err != nil {
			t.Fatal(err)
		}
		rep := &reporter{}
		task := startTask(t, sinkConfig(hdb, "topics", "pre", "insert.mode", "upsert", "pk.mode", "record_value", "pk.fields", "id"), rep)
		defer func() {
			// The first two batches failed on one parallel writer (the
			// other may have committed), then went row by row; the third
			// went through the parallel writers (PostgreSQL: in bulk).
			if hdb.Kind == harness.KindPostgres && task.bulkRows.Load() < bulkRows {
				t.Errorf("%d rows went through the bulk statement, want at least %d (the third batch)", task.bulkRows.Load(), bulkRows)
			}
			if task.parallelRows.Load() != bulkRows {
				t.Errorf("%d rows went through parallel writers, want %d (the third batch)", task.parallelRows.Load(), bulkRows)
			}
		}()
		// Three batches, one bad record in each of the first two: the
		// server refuses the first (a cast to VARCHAR(5) would have
		// truncated it), the driver the second; they are written row by
		// row, the third in bulk.
		for b := 0; b < 3; b++ {
			var recs []schema.Record
			for i := b * bulkRows; i < (b+1)*bulkRows; i++ {
				v, n := "abcde", int64(2147483647)
				switch i {
				case 7:
					v = "abcdef" // VARCHAR(5)
				case bulkRows + 13:
					n = 2147483648 // INTEGER
				}
				recs = append(recs, record("pre", 0, int64(i), nil, nil, vs, structOf(vs, int32(i), v, n,
					decimal.RequireFromString("1234.50"), "2018-06-20T13:37:03.123456Z", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", `{"a":1}`, "x", []byte{0x05})))
			}
			mustPut(t, task, recs...)
			mustFlush(t, task)
		}
		if got := rep.offsets(); !slices.Equal(got, []int64{7, bulkRows + 13}) {
			t.Fatalf("reported offsets %v, want [7 %d] (errors %v)", got, bulkRows+13, rep.errs)
		}
		zt, u, j, c, bt := "(zt AT TIME ZONE 'UTC')::text", "u::text", "j::text", "c", "bt::text"
		if hdb.Kind == harness.KindMariaDB {
			zt, u, j, c, bt = "CAST(zt AS CHAR)", "u", "j", "CONCAT(c, '|')", "LPAD(BIN(bt), 4, '0')"
		} else {
			c = "c::text || '|'" // char(n) pads to its length; bpchar→text drops the padding
		}
		expectRows(t, db, "SELECT COUNT(*), MIN(v), MAX(v), MIN(n), MAX(n), MIN(d), MAX(d), MIN("+zt+"), MAX("+u+"), MIN("+j+"), MIN("+c+"), MIN("+bt+"), MAX("+bt+") FROM pre",
			pick(hdb, fmt.Sprintf(`%d|abcde|abcde|2147483647|2147483647|1234.50|1234.50|2018-06-20 13:37:03.123456|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|{"a":1}|x||0101|0101`, 3*bulkRows-2),
				fmt.Sprintf(`%d|abcde|abcde|2147483647|2147483647|1234.50|1234.50|2018-06-20 13:37:03.123456|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|{"a": 1}|x||0101|0101`, 3*bulkRows-2)))
		expectRows(t, db, fmt.Sprintf("SELECT COUNT(*) FROM pre WHERE id IN (7, %d)", bulkRows+13), "0")
	})
}

// TestBulkKeyOrder: in one bulk-sized batch a key written twice keeps its
// last value, a write then a delete of a key leaves no row, a delete then a
// write leaves the write; a later batch of deletes (bulk-sized) removes
// exactly its keys.
func TestBulkKeyOrder(t *testing.T) {
	const gone = 10000 // keys of the rows the second batch deletes
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		task := startTask(t, sinkConfig(hdb, "topics", "bko", "auto.create", "true", "insert.mode", "upsert",
			"pk.mode", "record_key", "delete.enabled", "true"), nil)
		off := int64(0)
		put := func(id int32, name string) schema.Record {
			off++
			return modeRec("bko", off, id, name, id)
		}
		del := func(id int32) schema.Record {
			off++
			return record("bko", 0, off, modeKeySchema, structOf(modeKeySchema, id), nil, nil)
		}
		var recs []schema.Record
		for i := int32(1); i <= bulkRows; i++ {
			recs = append(recs, put(i, fmt.Sprintf("a%d", i)))
		}
		for i := int32(gone); i < gone+bulkRows; i++ {
			recs = append(recs, put(i, "gone"))
		}
		recs = append(recs, put(5, "b5"), del(6), del(7), put(7, "c7"), put(8, "b8"), put(8, "c8"), del(9999))
		mustPut(t, task, recs...)
		mustFlush(t, task)
		var want []string
		for i := 1; i <= bulkRows; i++ {
			name := fmt.Sprintf("a%d", i)
			switch i {
			case 5:
				name = "b5"
			case 6:
				continue
			case 7:
				name = "c7"
			case 8:
				name = "c8"
			}
			want = append(want, fmt.Sprintf("%d|%s", i, name))
		}
		for i := gone; i < gone+bulkRows; i++ {
			want = append(want, fmt.Sprintf("%d|gone", i))
		}
		expectRows(t, db, "SELECT id, name FROM bko ORDER BY id", want...)

		before, parBefore := task.bulkRows.Load(), task.parallelRows.Load()
		if parBefore == 0 {
			t.Errorf("the first batch did not go through parallel writers")
		}
		recs = recs[:0]
		for i := int32(gone); i < gone+bulkRows-1; i++ {
			recs = append(recs, del(i))
		}
		recs = append(recs, del(1), put(1, "d1"))
		mustPut(t, task, recs...)
		mustFlush(t, task)
		want[0] = "1|d1"
		want = append(want[:len(want)-bulkRows], fmt.Sprintf("%d|gone", gone+bulkRows-1))
		expectRows(t, db, "SELECT id, name FROM bko ORDER BY id", want...)
		if hdb.Kind == harness.KindPostgres && task.bulkRows.Load()-before < bulkRows {
			t.Errorf("%d deletes went through the bulk statement, want at least %d", task.bulkRows.Load()-before, bulkRows)
		}
		if task.parallelRows.Load()-parBefore != bulkRows+1 {
			t.Errorf("%d rows of the second batch went through parallel writers, want %d", task.parallelRows.Load()-parBefore, bulkRows+1)
		}
	})
}

// TestShortError: a bulk statement's error text keeps its head and its
// reason at the end, at most 405 bytes, and still unwraps to the error.
func TestShortError(t *testing.T) {
	inner := errors.New("unable to encode []interface {}{" + strings.Repeat("2147483647, ", 3000) + "}: 2147483648 is greater than maximum value for int4")
	e := fmt.Errorf("write 3000 rows to t: %w", shortError{inner})
	if s := e.Error(); len(s) > 22+405 || !strings.HasPrefix(s, "write 3000 rows to t: unable to encode") || !strings.HasSuffix(s, "greater than maximum value for int4") {
		t.Errorf("%d bytes: %s", len(s), s)
	}
	if !errors.Is(e, inner) {
		t.Error("the short error does not unwrap to the driver's")
	}
	if s := (shortError{errors.New("short")}).Error(); s != "short" {
		t.Errorf("short error changed: %q", s)
	}
}
