package mysql

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/schema"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

const typesDDL = `CREATE TABLE types (
  id INT NOT NULL PRIMARY KEY,
  b1 BIT(1), b10 BIT(10), bool_col BOOL,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  d DECIMAL(10,2), dbig DECIMAL(38,10), dint DECIMAL(5,0),
  f FLOAT, dbl DOUBLE,
  c CHAR(5), vc VARCHAR(50), txt TEXT,
  vc_l1 VARCHAR(20) CHARACTER SET latin1, txt_l1 TEXT CHARACTER SET latin1,
  bin BINARY(4), vbin VARBINARY(10), blb BLOB,
  dt DATE, tm TIME, tm6 TIME(6), dtm DATETIME, dtm3 DATETIME(3), dtm6 DATETIME(6),
  ts TIMESTAMP NULL DEFAULT NULL, ts3 TIMESTAMP(3) NULL DEFAULT NULL,
  yr YEAR, e ENUM('red','green','blue'), s SET('a','b','c'),
  j JSON, u UUID, ip4 INET4, ip6 INET6,
  dflt VARCHAR(10) DEFAULT 'dv', qty INT NOT NULL DEFAULT 7,
  zd DATE NOT NULL DEFAULT '2000-01-01', zdt DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00', zdn DATE NULL
) CHARACTER SET utf8mb4`

const typesCols = `id, b1, b10, bool_col, ti, tiu, si, siu, mi, miu, i, iu, bi, biu, d, dbig, dint, f, dbl, c, vc, txt, vc_l1, txt_l1,
  bin, vbin, blb, dt, tm, tm6, dtm, dtm3, dtm6, ts, ts3, yr, e, s, j, u, ip4, ip6, dflt, qty, zd, zdt, zdn`

// typesRows are the edge-value rows, as SQL value lists without the id.
var typesRows = []string{
	// minimum / negative values, multibyte text, fractional seconds
	`b'0', b'1000000001', FALSE, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
	 -12345678.90, -1234567890123456789012345678.0123456789, -99999, -3.25, -1.7976931348623157e308,
	 'ä', 'héllo wörld 日本語 🎉', 'multi\nline', 'café', 'Ça va ½',
	 x'01', x'00ff', x'deadbeef', '1000-01-01', '-838:59:59', '-12:34:56.789012', '1000-01-01 00:00:00', '1969-12-31 23:59:59.999', '2024-02-29 13:45:30.123456',
	 '1970-01-01 00:00:01', '2038-01-19 03:14:07.499', 1901, 'red', '', '{"a": [1, 2.5, "x"], "b": null}',
	 '123e4567-e89b-12d3-a456-426614174000', '0.0.0.0', '::', NULL, -1, '2024-01-01', '2024-01-01 00:00:00', '2024-01-02'`,
	// maximum values
	`b'1', b'1111111111', TRUE, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
	 99999999.99, 9999999999999999999999999999.9999999999, 99999, 3.4028235e38, 1.7976931348623157e308,
	 'abcde', REPEAT('x', 50), REPEAT('y', 300), 'ÿÿ', 'end',
	 x'ffffffff', x'ffffffffffffffffffff', x'00', '9999-12-31', '838:59:59', '838:59:59.000000', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999', '9999-12-31 23:59:59.999999',
	 '2038-01-19 03:14:07', '2001-02-03 04:05:06.7', 2155, 'blue', 'a,b,c', '[]',
	 'ffffffff-ffff-ffff-ffff-ffffffffffff', '255.255.255.255', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'x', 2147483647, '2024-12-31', '2024-12-31 23:59:59', NULL`,
	// NULL everywhere it is allowed
	`NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, 0, '2024-01-01', '2024-01-01 00:00:00', NULL`,
	// empty and zero values: empty strings, zero dates, 0, epoch
	`b'0', b'0', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	 0, 0, 0, 0, 0,
	 '', '', '', '', '',
	 x'', x'', x'', '0000-00-00', '00:00:00', '00:00:00.000000', '0000-00-00 00:00:00', '1970-01-01 00:00:00', '0000-00-00 00:00:00.000000',
	 '0000-00-00 00:00:00', '0000-00-00 00:00:00.000', 0, '', '', '{}',
	 '00000000-0000-0000-0000-000000000000', '127.0.0.1', '::ffff:1.2.3.4', '', 0, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00'`,
}

// typeModes are the handling-mode combinations with a golden file each.
var typeModes = []struct {
	name string
	kv   []string
}{
	{"default", nil},
	{"string_connect_precise_hex", []string{"decimal.handling.mode", "string", "time.precision.mode", "connect", "bigint.unsigned.handling.mode", "precise", "binary.handling.mode", "hex"}},
	{"double_base64", []string{"decimal.handling.mode", "double", "binary.handling.mode", "base64"}},
	{"urlsafe_adaptive", []string{"binary.handling.mode", "base64-url-safe", "time.precision.mode", "adaptive"}},
}

// TestTypeMatrixGolden snapshots a table with every MariaDB type and edge
// values, then streams inserts of the same rows, an update and a delete, and
// compares every event with hand-checked Debezium JSON in testdata/ (one
// file per handling-mode combination). Streamed rows must equal the snapshot
// rows column for column.
func TestTypeMatrixGolden(t *testing.T) {
	db := harness.MariaDB(t)
	conn := db.Open(t)
	mustExec(t, conn, typesDDL)
	ins := func(id int, row string) string {
		return fmt.Sprintf("INSERT INTO types (%s) VALUES (%d, %s)", typesCols, id, row)
	}
	for i, row := range typesRows {
		mustExec(t, conn, "SET SESSION sql_mode = ''")
		mustExec(t, conn, ins(i+1, row))
	}
	for _, mode := range typeModes {
		t.Run(mode.name, func(t *testing.T) {
			prefix := "tm_" + mode.name
			off := &memOffsets{}
			task := startTask(t, testConfig(db, prefix, append([]string{"include.schema.changes", "false"}, mode.kv...)...), off)
			c := &collector{t: t, task: task, off: off}
			topic := prefix + "." + db.Name + ".types"
			c.pollUntil(20*time.Second, "snapshot", func() bool { return c.count(topic) >= len(typesRows) })
			if mode.name == "default" {
				for i, row := range typesRows {
					mustExec(t, conn, "SET SESSION sql_mode = ''")
					mustExec(t, conn, ins(100+i+1, row))
				}
				mustExec(t, conn, "UPDATE types SET vc = 'changed', d = 1.5, e = 'green', dtm6 = '2000-01-01 00:00:00.000001', u = '00000000-0000-0000-0000-000000000001' WHERE id = 101")
				mustExec(t, conn, "DELETE FROM types WHERE id = 102")
			}
			want := 2*len(typesRows) - 1 // later modes snapshot the rows the default mode streamed
			if mode.name == "default" {
				want = 2*len(typesRows) + 1 + 2
			}
			// later modes see the streamed rows of the default mode in their snapshot
			c.pollUntil(20*time.Second, "stream", func() bool { return c.count(topic) >= want })
			var snap, stream []schema.Record
			for _, r := range c.recs {
				if r.Topic != topic {
					continue
				}
				if opOf(r) == "r" {
					snap = append(snap, r)
				} else {
					stream = append(stream, r)
				}
			}
			// Streamed inserts equal the snapshot rows, column by column.
			byID := map[int32]*schema.Struct{}
			for _, r := range snap {
				after := r.Value.(*schema.Struct).Get("after").(*schema.Struct)
				byID[after.Get("id").(int32)] = after
			}
			for _, r := range stream {
				if opOf(r) != "c" {
					continue
				}
				after := r.Value.(*schema.Struct).Get("after").(*schema.Struct)
				id := after.Get("id").(int32)
				s := byID[id-100]
				if s == nil {
					continue
				}
				for _, f := range after.Schema.Fields {
					if f.Name == "id" {
						continue
					}
					a, b := jsonOf(t, f.Schema, after.Values[f.Index]), jsonOf(t, f.Schema, s.Values[f.Index])
					if a != b {
						t.Errorf("row %d column %s: streamed %s, snapshot %s", id, f.Name, a, b)
					}
				}
			}
			got := bytes.ReplaceAll(goldenDoc(t, snap, stream), []byte(db.Name), []byte("<db>"))
			path := filepath.Join("testdata", "types_"+mode.name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want2, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want2) {
				diffLines(t, string(want2), string(got))
			}
		})
	}
}

func jsonOf(t testing.TB, s *schema.Schema, v any) string {
	b, err := jsonKeyConv.FromConnect("", nil, s, v)
	if err != nil {
		t.Fatalf("to JSON: %v", err)
	}
	return string(b)
}

// goldenDoc renders the value schema once and each event's stable parts.
func goldenDoc(t testing.TB, snap, stream []schema.Record) []byte {
	var b strings.Builder
	env := snap[0].ValueSchema
	after, _ := env.Field("after")
	b.WriteString("{\n\"value_schema\": ")
	b.WriteString(indentJSON(t, jsonSchemaOf(t, after.Schema)))
	b.WriteString(",\n\"key_schema\": ")
	b.WriteString(indentJSON(t, jsonSchemaOf(t, snap[0].KeySchema)))
	b.WriteString(",\n\"events\": [\n")
	all := append(append([]schema.Record{}, snap...), stream...)
	for i, r := range all {
		ev := map[string]any{"key": json.RawMessage(keyString(t, r))}
		if r.Value == nil {
			ev["value"] = nil
		} else {
			st := r.Value.(*schema.Struct)
			ev["op"] = st.Get("op")
			for _, side := range []string{"before", "after"} {
				f, _ := st.Schema.Field(side)
				ev[side] = json.RawMessage(jsonOf(t, f.Schema, st.Get(side)))
			}
			src := st.Get("source").(*schema.Struct)
			ev["source"] = map[string]any{"connector": src.Get("connector"), "name": src.Get("name"), "db": "<db>", "table": src.Get("table"), "snapshot": src.Get("snapshot")}
		}
		line, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		if i < len(all)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]}\n")
	return []byte(b.String())
}

func jsonSchemaOf(t testing.TB, s *schema.Schema) string {
	b, err := jsonValueConv.SchemaJSON(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func indentJSON(t testing.TB, s string) string {
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(s), "", "  "); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func diffLines(t testing.TB, want, got string) {
	t.Helper()
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	n := 0
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			t.Errorf("golden line %d:\n want %s\n  got %s", i+1, w, g)
			if n++; n > 10 {
				break
			}
		}
	}
}
