package postgres

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/cdc"
	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
	"github.com/tributary-cdc/tributary/schema/jsonconv"
)

var update = flag.Bool("update", false, "rewrite golden files")

// typeTable has a column of every type the connector maps.
const typeTable = `CREATE TABLE types (
  id int PRIMARY KEY,
  c_smallint smallint, c_int int, c_bigint bigint, c_oid oid,
  c_numeric numeric(10,2), c_numeric_unc numeric, c_numeric5 numeric(5),
  c_real real, c_double double precision,
  c_bool boolean,
  c_char char(5), c_varchar varchar(20), c_text text,
  c_bytea bytea,
  c_date date, c_time time, c_time3 time(3), c_timetz timetz,
  c_ts timestamp, c_ts3 timestamp(3), c_tstz timestamptz, c_tstz3 timestamptz(3),
  c_interval interval,
  c_uuid uuid, c_json json, c_jsonb jsonb, c_xml xml,
  c_int_arr int[], c_text_arr text[],
  c_enum mood,
  c_inet inet, c_cidr cidr, c_macaddr macaddr,
  c_money money,
  c_bit bit(10), c_bit1 bit(1), c_varbit varbit(20),
  c_hstore hstore,
  c_point point,
  c_big text,
  c_big_bytes bytea,
  c_required text NOT NULL DEFAULT 'x'
)`

const typeRow1 = `INSERT INTO types VALUES (1,
  -32768, 2147483647, -9223372036854775808, 4294967295,
  12345.67, 3.14159265358979323846, 99999,
  1.5, -2.25e-10,
  true,
  'ab', 'varchar ✓', E'text with "quotes" and \\backslash\\ and\nnewline',
  '\x00010203ff'::bytea,
  '2024-01-15', '13:45:30.123456', '13:45:30.123', '13:45:30.5+02:00',
  '2024-01-15 13:45:30.123456', '2024-01-15 13:45:30.123', '2024-01-15 13:45:30.123456+02', '2024-01-15 13:45:30.12+00',
  '1 year 2 mons 3 days 04:05:06.78',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": 1, "a": [1, 2]}', '{"b": 1, "a": [1, 2]}', '<a x="1">t</a>',
  '{1,NULL,-3}', '{"a","b c",NULL,"d\"e"}',
  'happy',
  '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03',
  1234.56,
  B'1000000001', B'1', B'101',
  'a=>1, "b c"=>NULL',
  '(1.5,-2)',
  (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 400) i),
  (SELECT decode(string_agg(md5(i::text), ''), 'hex') FROM generate_series(1, 400) i),
  'req')`

const typeRow2 = `INSERT INTO types (id) VALUES (2)`

const typeRow3 = `INSERT INTO types (id, c_numeric, c_numeric_unc, c_real, c_double, c_date, c_ts, c_tstz, c_interval, c_money, c_text_arr, c_int_arr, c_time, c_bytea, c_hstore)
VALUES (3, -0.01, 100.500, 'NaN', '-Infinity', '0044-03-15 BC', 'infinity', '-infinity', '-1 day -02:03:04.5', -0.5, '{}', '{}', '24:00:00', '', '')`

// goldenRecord renders records: schemas once each, then payloads with
// volatile values (times, LSNs, transaction ids) masked.
var volatile = regexp.MustCompile(`"(ts_ms|ts_us|ts_ns|txId|lsn)":-?\d+|"(sequence|db)":"(?:[^"\\]|\\.)*"`)

func maskLong(s string) string {
	// Long generated text (the TOASTed column) is shortened.
	re := regexp.MustCompile(`"([0-9A-Za-z+/=]{200,})"`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		return fmt.Sprintf(`"<%d chars %s…>"`, len(m)-2, m[1:9])
	})
}

func golden(t *testing.T, recs []schema.Record) string {
	t.Helper()
	withSchema := jsonconv.New(jsonconv.DefaultConfig())
	seen := map[*schema.Schema]int{}
	var schemas, events bytes.Buffer
	schemaID := func(s *schema.Schema) string {
		if s == nil {
			return "-"
		}
		if id, ok := seen[s]; ok {
			return fmt.Sprint(id)
		}
		id := len(seen) + 1
		seen[s] = id
		sj, err := withSchema.SchemaJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&schemas, "schema %d: %s\n", id, sj)
		return fmt.Sprint(id)
	}
	for _, r := range recs {
		ks, vs := schemaID(r.KeySchema), schemaID(r.ValueSchema)
		val := payloadJSON(t, r.ValueSchema, r.Value)
		val = volatile.ReplaceAllStringFunc(val, func(m string) string {
			k, _, _ := strings.Cut(m, ":")
			return k + `:"*"`
		})
		fmt.Fprintf(&events, "topic=%s key_schema=%s value_schema=%s\n  key: %s\n  value: %s\n", r.Topic, ks, vs,
			payloadJSON(t, r.KeySchema, r.Key), maskLong(val))
		for _, hd := range r.Headers {
			v := string(hd.Value)
			if hd.Key == cdc.HeaderRunID {
				v = "*" // a random id per task start
			}
			fmt.Fprintf(&events, "  header %s: %s\n", hd.Key, v)
		}
	}
	return schemas.String() + "\n" + events.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if string(want) != got {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update to accept)", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: got %d lines, want %d (run with -update to accept)", path, len(gl), len(wl))
	}
}

// typeMatrix runs snapshot + streamed changes over the type table under a
// config and replica identity, and compares with a golden file.
func typeMatrix(t *testing.T, name, identity string, extra ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db := harness.Postgres(t)
	c := pgConn(t, db)
	mustExec(t, c, "CREATE EXTENSION IF NOT EXISTS hstore", "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
		typeTable, "ALTER TABLE types REPLICA IDENTITY "+identity, typeRow1, typeRow2, typeRow3)
	cfg := baseConfig(db, append([]string{"table.include.list", "public.types"}, extra...)...)
	dropSlotAtEnd(t, db, cfg["slot.name"])
	h := newSim(t, cfg)
	h.start(ctx)
	defer h.stop()
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 3 })
	mustExec(t, c,
		strings.Replace(strings.Replace(typeRow1, "(1,", "(4,", 1), "'req')", "'req4')", 1),
		// c_big (TOASTed) is left unchanged by this update.
		"UPDATE types SET c_int = 42, c_text = 'changed', c_tstz = '2000-01-01 00:00:00+00' WHERE id = 1",
		"UPDATE types SET c_big = 'small now' WHERE id = 4",
		"DELETE FROM types WHERE id = 2")
	// c, u, u, d, tombstone
	h.pollUntil(ctx, 30*time.Second, func() bool { return h.count() >= 3+5 })
	h.pollIdle(ctx, 300*time.Millisecond)
	checkGolden(t, name, golden(t, h.records()))
}

func TestTypesDefaultIdentity(t *testing.T) { typeMatrix(t, "types_default", "DEFAULT") }

func TestTypesFullIdentity(t *testing.T) { typeMatrix(t, "types_full", "FULL") }

func TestTypesStringModes(t *testing.T) {
	typeMatrix(t, "types_string_modes", "DEFAULT",
		"decimal.handling.mode", "string", "time.precision.mode", "connect", "interval.handling.mode", "string",
		"hstore.handling.mode", "map", "binary.handling.mode", "base64", "unavailable.value.placeholder", "__toast")
}

func TestTypesDoubleModes(t *testing.T) {
	typeMatrix(t, "types_double_modes", "DEFAULT",
		"decimal.handling.mode", "double", "time.precision.mode", "adaptive_time_microseconds", "binary.handling.mode", "hex")
}
