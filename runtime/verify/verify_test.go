package verify_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/integration/harness"
	"github.com/tributary-cdc/tributary/runtime/verify"
)

func TestMain(m *testing.M) { os.Exit(harness.Run(m, harness.NeedMariaDB|harness.NeedPostgres)) }

func exec(t *testing.T, db *sqlx.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// typed creates the same table with the types Debezium + the JDBC sink
// map between the systems, filled with equal data written the way each
// system prints it.
func typed(t *testing.T) (my, pg *sqlx.DB) {
	my = harness.MariaDB(t).Open(t)
	my.SetMaxOpenConns(1) // one session: its time zone applies to every insert
	exec(t, my, "SET time_zone = '+00:00'")
	pg = harness.Postgres(t).Open(t)
	exec(t, my, `CREATE TABLE items (
		id BIGINT PRIMARY KEY, name VARCHAR(50), code CHAR(5), price DECIMAL(10,2), weight FLOAT, ratio DOUBLE,
		active TINYINT(1), flag BIT(1), created DATETIME(3), seen TIMESTAMP(6) NULL, day DATE, at TIME(6),
		doc LONGTEXT, raw VARBINARY(10), uid CHAR(36), note TEXT)`)
	exec(t, pg, `CREATE TABLE items (
		id BIGINT PRIMARY KEY, name TEXT, code CHAR(8), price NUMERIC(12,4), weight REAL, ratio DOUBLE PRECISION,
		active BOOLEAN, flag BOOLEAN, created TIMESTAMP(3), seen TIMESTAMPTZ, day DATE, at TIME(6),
		doc JSONB, raw BYTEA, uid UUID, note TEXT)`)
	for i := 1; i <= 250; i++ {
		act := i%2 == 0
		b := 0
		if act {
			b = 1
		}
		exec(t, my, fmt.Sprintf(`INSERT INTO items VALUES (%d, 'name %d', 'c%d', %d.50, %d.1, %d.25, %d, b'%d',
			'2024-03-0%d 10:11:12.345', '2024-03-01 23:59:59.123456', '2024-02-%02d', '12:34:56.5',
			'{"b": %d, "a": [1, 2]}', 0x%02x0f, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A%02d', %s)`,
			i, i, i%100, i, i, i, b, b, 1+i%9, 1+i%28, i, i%256, i%100, nullOr(i)))
		exec(t, pg, fmt.Sprintf(`INSERT INTO items VALUES (%d, 'name %d', 'c%d', %d.5000, %d.1, %d.25, %t, %t,
			'2024-03-0%d 10:11:12.345', '2024-03-02 01:59:59.123456+02', '2024-02-%02d', '12:34:56.500000',
			'{"a": [1,2], "b": %d}', '\x%02x0f', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a%02d', %s)`,
			i, i, i%100, i, i, i, act, act, 1+i%9, 1+i%28, i, i%256, i%100, nullOr(i)))
	}
	return my, pg
}

func nullOr(i int) string {
	if i%7 == 0 {
		return "NULL"
	}
	return fmt.Sprintf("'note %d'", i)
}

func TestEqualTablesVerifyAcrossSystems(t *testing.T) {
	my, pg := typed(t)
	ctx := context.Background()
	for _, dir := range []struct {
		name     string
		src, dst *sqlx.DB
	}{{"mariadb→postgres", my, pg}, {"postgres→mariadb", pg, my}} {
		t.Run(dir.name, func(t *testing.T) {
			rep, err := verify.Tables(ctx, dir.src, dir.dst, verify.Options{SourceTable: "items", ChunkSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Verified() {
				t.Fatalf("not verified: %s\n%v", rep.Summary(), rep.Diffs)
			}
			if rep.SourceRows != 250 || rep.TargetRows != 250 {
				t.Fatalf("rows %d/%d, want 250", rep.SourceRows, rep.TargetRows)
			}
			if rep.Chunks != 3 || rep.ChunksDiffering != 0 {
				t.Fatalf("chunks %d (differing %d), want 3 (0)", rep.Chunks, rep.ChunksDiffering)
			}
			if rep.SourceChecksum == "" || rep.SourceChecksum != rep.TargetChecksum {
				t.Fatalf("checksums %q / %q", rep.SourceChecksum, rep.TargetChecksum)
			}
			if strings.Join(rep.Key, ",") != "id" || len(rep.Columns) != 15 {
				t.Fatalf("key %v columns %v", rep.Key, rep.Columns)
			}
		})
	}
}

func TestDifferencesNameTheirKeys(t *testing.T) {
	my, pg := typed(t)
	exec(t, pg,
		`UPDATE items SET price = 7.51 WHERE id = 42`,
		`UPDATE items SET seen = NULL, note = 'other' WHERE id = 99`,
		`DELETE FROM items WHERE id = 17`,
		`INSERT INTO items (id, name) VALUES (1000, 'extra')`)
	rep, err := verify.Tables(context.Background(), my, pg, verify.Options{SourceTable: "items", TargetTable: "public.items", ChunkSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verified() {
		t.Fatal("verified despite differences")
	}
	if rep.Missing != 1 || rep.Extra != 1 || rep.Changed != 2 {
		t.Fatalf("missing %d extra %d changed %d, want 1 1 2", rep.Missing, rep.Extra, rep.Changed)
	}
	if rep.SourceRows != 250 || rep.TargetRows != 250 {
		t.Fatalf("rows %d/%d", rep.SourceRows, rep.TargetRows)
	}
	// Chunks of 50 keys: 17 and 42 in the first, 99 in the second, 1000 in the last.
	if rep.ChunksDiffering != 3 {
		t.Fatalf("%d chunks differ, want 3", rep.ChunksDiffering)
	}
	var got []string
	for _, d := range rep.Diffs {
		got = append(got, d.String())
	}
	want := []string{
		`missing in target: id=17`,
		`changed: id=42 (price: "42.5" != "7.51")`,
		`changed: id=99 (seen: "2024-03-01 23:59:59.123456" != NULL, note: "note 99" != "other")`,
		`extra in target: id=1000`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diffs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(rep.Summary(), "1 missing in target, 1 extra in target, 2 changed") {
		t.Fatalf("summary %q", rep.Summary())
	}
}

func TestTextAndCompositeKeysOrderAlike(t *testing.T) {
	my := harness.MariaDB(t).Open(t)
	pg := harness.Postgres(t).Open(t)
	// MariaDB's default collation is case- and accent-insensitive; keys
	// must still come back in one order on both sides.
	exec(t, my, `CREATE TABLE k (region VARCHAR(20), sku VARCHAR(20), qty INT, PRIMARY KEY (region, sku)) DEFAULT CHARSET utf8mb4`)
	exec(t, pg, `CREATE TABLE k (region TEXT, sku TEXT, qty INT, PRIMARY KEY (region, sku))`)
	regions := []string{"north", "émile", "Zulu", "a", "B", "_x", "10", "9"}
	n := 0
	for _, r := range regions {
		for _, s := range []string{"s1", "S2", "ß", "z"} {
			n++
			exec(t, my, fmt.Sprintf(`INSERT INTO k VALUES ('%s', '%s', %d)`, r, s, n))
			exec(t, pg, fmt.Sprintf(`INSERT INTO k VALUES ('%s', '%s', %d)`, r, s, n))
		}
	}
	rep, err := verify.Tables(context.Background(), my, pg, verify.Options{SourceTable: "k", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Verified() || rep.SourceRows != int64(n) {
		t.Fatalf("%s %v", rep.Summary(), rep.Diffs)
	}
	exec(t, my, `DELETE FROM k WHERE region = 'Zulu' AND sku = 'ß'`)
	rep, err = verify.Tables(context.Background(), my, pg, verify.Options{SourceTable: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Extra != 1 || len(rep.Diffs) != 1 || rep.Diffs[0].Key != "region=Zulu,sku=ß" {
		t.Fatalf("%s %v", rep.Summary(), rep.Diffs)
	}
}

func TestColumnsAndKeys(t *testing.T) {
	my := harness.MariaDB(t).Open(t)
	pg := harness.Postgres(t).Open(t)
	exec(t, my, `CREATE TABLE c (id INT PRIMARY KEY, a INT, b INT)`, `INSERT INTO c VALUES (1, 1, 1), (2, 2, 2)`)
	exec(t, pg, `CREATE TABLE c (id INT PRIMARY KEY, a INT, extra INT)`, `INSERT INTO c VALUES (1, 1, 5), (2, 2, 6)`)
	ctx := context.Background()
	rep, err := verify.Tables(ctx, my, pg, verify.Options{SourceTable: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verified() || strings.Join(rep.MissingColumns, ",") != "b" {
		t.Fatalf("missing columns %v, verified %v", rep.MissingColumns, rep.Verified())
	}
	rep, err = verify.Tables(ctx, my, pg, verify.Options{SourceTable: "c", Columns: []string{"a"}})
	if err != nil || !rep.Verified() {
		t.Fatalf("explicit columns: %v %s", err, rep.Summary())
	}
	if _, err := verify.Tables(ctx, my, pg, verify.Options{SourceTable: "c", Columns: []string{"b"}}); err == nil || !strings.Contains(err.Error(), `no column "b"`) {
		t.Fatalf("explicit missing column: %v", err)
	}
	if _, err := verify.Tables(ctx, my, pg, verify.Options{SourceTable: "nope"}); err == nil || !strings.Contains(err.Error(), "nope not found") {
		t.Fatalf("missing table: %v", err)
	}
	exec(t, my, `CREATE TABLE nokey (a INT)`)
	exec(t, pg, `CREATE TABLE nokey (a INT)`)
	if _, err := verify.Tables(ctx, my, pg, verify.Options{SourceTable: "nokey"}); err == nil || !strings.Contains(err.Error(), "primary key") {
		t.Fatalf("no key: %v", err)
	}
	if rep, err := verify.Tables(ctx, my, pg, verify.Options{SourceTable: "nokey", Key: []string{"a"}}); err != nil || !rep.Verified() {
		t.Fatalf("explicit key on empty tables: %v %s", err, rep.Summary())
	}
	// A key stored as text on one side and as a number on the other sorts
	// differently ('10' < '9'): an error, never a wrong report.
	exec(t, my, `CREATE TABLE mixed (id VARCHAR(10) PRIMARY KEY)`)
	exec(t, pg, `CREATE TABLE mixed (id INT PRIMARY KEY)`)
	exec(t, pg, `INSERT INTO mixed SELECT generate_series(1, 2000)`)
	exec(t, my, `INSERT INTO mixed SELECT seq FROM seq_1_to_2000`)
	if _, err := verify.Tables(ctx, my, pg, verify.Options{SourceTable: "mixed"}); err == nil || !strings.Contains(err.Error(), "out of order") {
		t.Fatalf("mixed key types: %v", err)
	}
}

func TestUntilWaitsForCatchUp(t *testing.T) {
	my := harness.MariaDB(t).Open(t)
	pg := harness.Postgres(t).Open(t)
	exec(t, my, `CREATE TABLE u (id INT PRIMARY KEY, v TEXT)`, `INSERT INTO u VALUES (1, 'x'), (2, 'y')`)
	exec(t, pg, `CREATE TABLE u (id INT PRIMARY KEY, v TEXT)`, `INSERT INTO u VALUES (1, 'x')`)
	go func() {
		time.Sleep(700 * time.Millisecond)
		pg.Exec(`INSERT INTO u VALUES (2, 'y')`)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep, err := verify.Until(ctx, my, pg, verify.Options{SourceTable: "u"}, 200*time.Millisecond)
	if err != nil || !rep.Verified() {
		t.Fatalf("%v %s", err, rep.Summary())
	}
	exec(t, pg, `DELETE FROM u WHERE id = 1`)
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	_, err = verify.Until(ctx2, my, pg, verify.Options{SourceTable: "u"}, 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "1 missing in target") {
		t.Fatalf("want a give-up error naming the difference, got %v", err)
	}
}

// BenchmarkTables compares a TRIBUTARY_ROWS-row table (default 20000) of
// six columns between MariaDB and PostgreSQL.
func BenchmarkTables(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("TRIBUTARY_ROWS")); err == nil && v > 0 {
		n = v
	}
	my := harness.MariaDB(b).Open(b)
	pg := harness.Postgres(b).Open(b)
	for _, s := range []string{
		`CREATE TABLE big (id BIGINT PRIMARY KEY, name VARCHAR(40), price DECIMAL(10,2), qty INT, at DATETIME(6), ok TINYINT(1))`,
		fmt.Sprintf(`INSERT INTO big SELECT seq, CONCAT('name ', seq), seq / 100, seq %% 1000,
			TIMESTAMP('2026-01-01') + INTERVAL seq SECOND, seq %% 2 FROM seq_1_to_%d`, n),
	} {
		if _, err := my.Exec(s); err != nil {
			b.Fatal(err)
		}
	}
	for _, s := range []string{
		`CREATE TABLE big (id BIGINT PRIMARY KEY, name TEXT, price NUMERIC(10,2), qty INT, at TIMESTAMP(6), ok BOOLEAN)`,
		fmt.Sprintf(`INSERT INTO big SELECT i, 'name ' || i, i / 100.0, i %% 1000,
			TIMESTAMP '2026-01-01' + i * INTERVAL '1 second', i %% 2 = 1 FROM generate_series(1, %d) i`, n),
	} {
		if _, err := pg.Exec(s); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		rep, err := verify.Tables(ctx, my, pg, verify.Options{SourceTable: "big"})
		if err != nil {
			b.Fatal(err)
		}
		if !rep.Verified() || rep.SourceRows != int64(n) {
			b.Fatalf("%s %v", rep.Summary(), rep.Diffs)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
