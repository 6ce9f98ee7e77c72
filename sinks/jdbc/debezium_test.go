package jdbcsink

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

// dbzShape builds Debezium change events shaped like the MySQL or the
// PostgreSQL connector's, round-tripped through the JSON converter so the
// sink sees exactly what it would read from Kafka.
type dbzShape struct {
	name    string // "mysql" or "postgres"
	topic   string
	key     *schema.Schema
	row     *schema.Schema
	source  *schema.Schema
	env     *schema.Schema
	kconv   *jsonconv.Converter
	vconv   *jsonconv.Converter
	offset  int64
	records []schema.Record
}

var (
	variableScaleSchema = schema.NewBuilder(schema.TypeStruct).Optional().Name(schema.DebeziumVariableScaleDec).Version(1).
				Field("scale", schema.Int32Schema).Field("value", schema.BytesSchema).Build()
	microTS   = schema.NewBuilder(schema.TypeInt64).Optional().Name(schema.DebeziumMicroTimestamp).Version(1).Build()
	zonedTS   = schema.NewBuilder(schema.TypeString).Optional().Name(schema.DebeziumZonedTimestamp).Version(1).Build()
	dbzDate   = schema.NewBuilder(schema.TypeInt32).Optional().Name(schema.DebeziumDate).Version(1).Build()
	microTime = schema.NewBuilder(schema.TypeInt64).Optional().Name(schema.DebeziumMicroTime).Version(1).Build()
	jsonStr   = schema.NewBuilder(schema.TypeString).Optional().Name(schema.DebeziumJSON).Version(1).Build()
	uuidStr   = schema.NewBuilder(schema.TypeString).Optional().Name(schema.DebeziumUUID).Version(1).Build()
	bits10    = schema.NewBuilder(schema.TypeBytes).Optional().Name(schema.DebeziumBits).Version(1).Param("length", "10").Build()
	yearInt   = schema.NewBuilder(schema.TypeInt32).Optional().Name(schema.DebeziumYear).Version(1).Build()
)

func newDbzShape(name string) *dbzShape {
	d := &dbzShape{name: name}
	common := []schema.Field{
		{Name: "id", Schema: schema.Int32Schema},
		{Name: "name", Schema: schema.OptionalString},
		{Name: "price", Schema: schema.DecimalSchema(2, 10, true)},
		{Name: "created", Schema: microTS},
		{Name: "updated", Schema: zonedTS},
		{Name: "birth", Schema: dbzDate},
		{Name: "at", Schema: microTime},
		{Name: "doc", Schema: jsonStr},
		{Name: "flag", Schema: schema.OptionalBoolean},
		{Name: "big", Schema: schema.OptionalString},
	}
	src := cdc.CommonSourceFields()
	if name == "mysql" {
		d.topic = "dbserver1.inventory.customers"
		common = append(common, schema.Field{Name: "bits", Schema: bits10}, schema.Field{Name: "yr", Schema: yearInt})
		src = append(src, schema.Field{Name: "table", Schema: schema.OptionalString}, schema.Field{Name: "server_id", Schema: schema.Int64Schema},
			schema.Field{Name: "gtid", Schema: schema.OptionalString}, schema.Field{Name: "file", Schema: schema.StringSchema},
			schema.Field{Name: "pos", Schema: schema.Int64Schema}, schema.Field{Name: "row", Schema: schema.Int32Schema},
			schema.Field{Name: "thread", Schema: schema.OptionalInt64}, schema.Field{Name: "query", Schema: schema.OptionalString})
		d.source = schema.NewStructSchema("io.debezium.connector.mysql.Source", src...)
	} else {
		d.topic = "pgserver.public.customers"
		common = append(common, schema.Field{Name: "free", Schema: variableScaleSchema}, schema.Field{Name: "uid", Schema: uuidStr},
			schema.Field{Name: "tags", Schema: schema.NewBuilder(schema.TypeArray).Optional().Items(schema.OptionalString).Build()})
		src = append(src, schema.Field{Name: "schema", Schema: schema.StringSchema}, schema.Field{Name: "table", Schema: schema.StringSchema},
			schema.Field{Name: "txId", Schema: schema.OptionalInt64}, schema.Field{Name: "lsn", Schema: schema.OptionalInt64},
			schema.Field{Name: "xmin", Schema: schema.OptionalInt64})
		d.source = schema.NewStructSchema("io.debezium.connector.postgresql.Source", src...)
	}
	d.key = schema.NewStructSchema(d.topic+".Key", schema.Field{Name: "id", Schema: schema.Int32Schema})
	d.row = schema.NewStructSchema(d.topic+".Value", common...)
	d.env = cdc.EnvelopeSchema(d.topic+".Envelope", d.row, d.source)
	kc := jsonconv.DefaultConfig()
	kc.IsKey = true
	d.kconv = jsonconv.New(kc)
	d.vconv = jsonconv.New(jsonconv.DefaultConfig())
	return d
}

// row builds a row image; version v changes the name; big may be the
// unavailable-value placeholder.
func (d *dbzShape) row_(id int32, v int, big string) *schema.Struct {
	vals := []any{
		id,
		fmt.Sprintf("n%d_v%d", id, v),
		decimal.RequireFromString("12.30"),
		int64(1529507596945104),
		"2018-06-20T13:37:03.120Z",
		schema.DateToDays(time.Date(2018, 6, 20, 0, 0, 0, 0, time.UTC)),
		int64(49530123456),
		`{"a":1}`,
		true,
		big,
	}
	if d.name == "mysql" {
		vals = append(vals, []byte{0x01, 0x02}, int32(2024))
	} else {
		vals = append(vals, structOf(variableScaleSchema, int32(3), schema.TwosComplement(decimal.RequireFromString("12345").BigInt())),
			"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", []any{"a", "b"})
	}
	return structOf(d.row, vals...)
}

func (d *dbzShape) sourceBlock() *schema.Struct {
	vals := []any{cdc.Version, d.name, "srv", int64(1700000000000), "false", "inventory", nil, nil, nil}
	if d.name == "mysql" {
		vals = append(vals, "customers", int64(1), nil, "mysql-bin.000003", d.offset, int32(0), nil, nil)
	} else {
		vals = append(vals, "public", "customers", int64(571), d.offset, nil)
	}
	return structOf(d.source, vals...)
}

// emit adds one Kafka record (value nil = tombstone) via the converter.
func (d *dbzShape) emit(t testing.TB, id int32, value *schema.Struct) {
	t.Helper()
	kb, err := d.kconv.FromConnect(d.topic, nil, d.key, structOf(d.key, id))
	if err != nil {
		t.Fatal(err)
	}
	var vb []byte
	if value != nil {
		if vb, err = d.vconv.FromConnect(d.topic, nil, d.env, value); err != nil {
			t.Fatal(err)
		}
	}
	ks, k, err := d.kconv.ToConnect(d.topic, nil, kb)
	if err != nil {
		t.Fatal(err)
	}
	vs, v, err := d.vconv.ToConnect(d.topic, nil, vb)
	if err != nil {
		t.Fatal(err)
	}
	d.records = append(d.records, schema.Record{Topic: d.topic, Partition: 0, Offset: d.offset, KeySchema: ks, Key: k, ValueSchema: vs, Value: v})
	d.offset++
}

func (d *dbzShape) event(t testing.TB, op cdc.Op, id int32, before, after *schema.Struct) {
	d.emit(t, id, cdc.NewEnvelope(d.env, op, before, after, d.sourceBlock(), nil, time.Unix(1700000000, 0)))
}

// scenario is a stream of changes with a known final state: snapshot rows
// 1 and 2, insert 3, update 1, delete 2 (+tombstone), primary-key change
// 3 → 30, an update of 1 whose "big" column is unavailable (unchanged TOAST),
// and 4 inserted, updated, deleted and inserted again.
func (d *dbzShape) scenario(t testing.TB) {
	d.event(t, cdc.OpRead, 1, nil, d.row_(1, 0, "big-1"))
	d.event(t, cdc.OpRead, 2, nil, d.row_(2, 0, "big-2"))
	d.event(t, cdc.OpCreate, 3, nil, d.row_(3, 0, "big-3"))
	d.event(t, cdc.OpUpdate, 1, d.row_(1, 0, "big-1"), d.row_(1, 1, "big-1"))
	d.event(t, cdc.OpDelete, 2, d.row_(2, 0, "big-2"), nil)
	d.emit(t, 2, nil)
	// Primary-key change: delete old key, tombstone, create new key.
	d.event(t, cdc.OpDelete, 3, d.row_(3, 0, "big-3"), nil)
	d.emit(t, 3, nil)
	d.event(t, cdc.OpCreate, 30, nil, d.row_(30, 0, "big-3"))
	// TOAST: the unchanged big column arrives as the placeholder.
	d.event(t, cdc.OpUpdate, 1, nil, d.row_(1, 2, DefaultPlaceholder))
	d.event(t, cdc.OpCreate, 4, nil, d.row_(4, 0, "big-4"))
	d.event(t, cdc.OpUpdate, 4, nil, d.row_(4, 1, "big-4b"))
	d.event(t, cdc.OpDelete, 4, d.row_(4, 1, "big-4b"), nil)
	d.emit(t, 4, nil)
	d.event(t, cdc.OpCreate, 4, nil, d.row_(4, 2, "big-4c"))
	// Another placeholder update after a real one in the same batch keeps
	// the value of the earlier change.
	d.event(t, cdc.OpUpdate, 4, nil, d.row_(4, 3, DefaultPlaceholder))
}

// TestDebeziumEnvelopes applies MySQL- and PostgreSQL-shaped change events
// (snapshot, create, update, delete, tombstones, PK change, TOAST
// placeholder) to MariaDB and PostgreSQL with delete.enabled=true, in one
// batch and record by record, and compares the target with the expected
// table.
func TestDebeziumEnvelopes(t *testing.T) {
	forEachDB(t, func(t *testing.T, hdb *harness.Database) {
		db := hdb.Open(t)
		for _, shapeName := range []string{"mysql", "postgres"} {
			for _, batching := range []string{"one_batch", "record_by_record"} {
				t.Run(shapeName+"/"+batching, func(t *testing.T) {
					d := newDbzShape(shapeName)
					d.scenario(t)
					table := "c_" + shapeName + "_" + batching
					cfg := sinkConfig(hdb, "topics", d.topic, "table.name.format", table, "auto.create", "true", "auto.evolve", "true",
						"insert.mode", "upsert", "pk.mode", "record_key", "delete.enabled", "true")
					task := startTask(t, cfg, nil)
					if batching == "one_batch" {
						mustPut(t, task, d.records...)
						mustFlush(t, task)
					} else {
						for _, r := range d.records {
							mustPut(t, task, r)
							mustFlush(t, task)
						}
					}
					common := "id, name, price, " + fmtTS(hdb, "created", false) + ", " + fmtTS(hdb, "updated", true) + ", " + txt(hdb, "birth") + ", " +
						txt(hdb, "at") + ", CASE WHEN flag THEN 1 ELSE 0 END, big"
					rest := func(id int, v int, big string) string {
						return fmt.Sprintf("%d|n%d_v%d|12.30|2018-06-20 15:13:16.945104|2018-06-20 13:37:03.120000|2018-06-20|13:45:30.123456|1|%s", id, id, v, big)
					}
					expectRows(t, db, "SELECT "+common+" FROM "+table+" ORDER BY id",
						rest(1, 2, "big-1"), rest(4, 3, "big-4c"), rest(30, 0, "big-3"))
					if shapeName == "mysql" {
						expectRows(t, db, "SELECT id, "+pick(hdb, "bits+0", "bits::text")+", yr, doc FROM "+table+" ORDER BY id",
							pick(hdb, `1|513|2024|{"a":1}`, `1|1000000001|2024|{"a": 1}`),
							pick(hdb, `4|513|2024|{"a":1}`, `4|1000000001|2024|{"a": 1}`),
							pick(hdb, `30|513|2024|{"a":1}`, `30|1000000001|2024|{"a": 1}`))
					} else {
						expectRows(t, db, "SELECT id, free, uid, tags FROM "+table+" WHERE id = 1",
							pick(hdb, `1|12.345000000000000000000000000000|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|["a","b"]`,
								`1|12.345|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|{a,b}`))
					}
					cols := strings.Join(columnsOf(t, hdb, db, table), "\n")
					for _, want := range map[harness.Kind][]string{
						harness.KindMariaDB:  {"created datetime(6)", "updated datetime(6)", "birth date", "at time(6)", "doc longtext"},
						harness.KindPostgres: {"created timestamp(6) without time zone", "updated timestamp with time zone", "birth date", "at time(6) without time zone", "doc jsonb"},
					}[hdb.Kind] {
						if !strings.Contains(cols, want) {
							t.Errorf("column %q not in\n%s", want, cols)
						}
					}
				})
			}
		}
	})
}

// fmtTS renders a timestamp column as YYYY-MM-DD HH:MM:SS.ffffff (zoned
// PostgreSQL columns in UTC).
func fmtTS(hdb *harness.Database, col string, zoned bool) string {
	if hdb.Kind == harness.KindMariaDB {
		return "DATE_FORMAT(" + col + ", '%Y-%m-%d %H:%i:%s.%f')"
	}
	if zoned {
		col = "(" + col + " AT TIME ZONE 'UTC')"
	}
	return "to_char(" + col + ", 'YYYY-MM-DD HH24:MI:SS.US')"
}
