package jdbc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

func mustDialect(t *testing.T, f Flavor) Dialect {
	t.Helper()
	d, err := DialectFor(f)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestParseTableID moved here from sinks/jdbc with the parser.
func TestParseTableID(t *testing.T) {
	cases := []struct {
		flavor Flavor
		in     string
		want   TableID
		err    bool
	}{
		{MySQL, "orders", TableID{Name: "orders"}, false},
		{MySQL, "shop.orders", TableID{Catalog: "shop", Name: "orders"}, false},
		{MySQL, "srv.shop.orders", TableID{}, true},
		{MySQL, "`a.b`", TableID{Name: "a.b"}, false},
		{Postgres, "public.orders", TableID{Schema: "public", Name: "orders"}, false},
		{Postgres, "db.public.orders", TableID{Catalog: "db", Schema: "public", Name: "orders"}, false},
		{Postgres, `"my.table"`, TableID{Name: "my.table"}, false},
		{Postgres, "a..b", TableID{}, true},
	}
	for _, c := range cases {
		got, err := mustDialect(t, c.flavor).ParseTableID(c.in)
		if (err != nil) != c.err || (!c.err && got != c.want) {
			t.Errorf("ParseTableID(%s, %q) = %+v, %v; want %+v err=%v", c.flavor, c.in, got, err, c.want, c.err)
		}
	}
}

// An unknown flavor has no dialect: it is an error, never MySQL's.
func TestDialectForUnknownFlavor(t *testing.T) {
	for _, f := range []Flavor{"", "sqlserver", "MySQL"} {
		if d, err := DialectFor(f); err == nil || d != nil {
			t.Errorf("DialectFor(%q) = %v, %v; want an error", f, d, err)
		}
	}
	for _, f := range []Flavor{MySQL, Postgres} {
		if d := mustDialect(t, f); d.Flavor() != f {
			t.Errorf("DialectFor(%q).Flavor() = %q", f, d.Flavor())
		}
	}
}

// Quoting and qualification as the sink and the source write them.
func TestQuoterTable(t *testing.T) {
	my, pg := mustDialect(t, MySQL), mustDialect(t, Postgres)
	cases := []struct {
		q    Quoter
		id   TableID
		want string
	}{
		{Quoter{D: my, Always: true}, TableID{Catalog: "shop", Name: "or`ders"}, "`shop`.`or``ders`"},
		{Quoter{D: my}, TableID{Catalog: "shop", Name: "orders"}, "shop.orders"},
		{Quoter{D: pg, Always: true}, TableID{Catalog: "db", Schema: "public", Name: `my"t`}, `"public"."my""t"`},
		{Quoter{D: pg}, TableID{Name: "orders"}, "orders"},
	}
	for _, c := range cases {
		if got := c.q.Table(c.id); got != c.want {
			t.Errorf("%s Table(%+v) = %s, want %s", c.q.D.Flavor(), c.id, got, c.want)
		}
	}
	if got := pg.FoldUnquoted(TableID{Schema: "Public", Name: "Orders"}); got != (TableID{Schema: "public", Name: "orders"}) {
		t.Errorf("postgres FoldUnquoted = %+v", got)
	}
	if got := my.FoldUnquoted(TableID{Catalog: "Shop", Name: "Orders"}); got != (TableID{Catalog: "Shop", Name: "Orders"}) {
		t.Errorf("mysql FoldUnquoted = %+v", got)
	}
	if my.Placeholder(3) != "?" || pg.Placeholder(3) != "$3" {
		t.Errorf("placeholders %s %s", my.Placeholder(3), pg.Placeholder(3))
	}
}

// The classifier both sides use: every code either copy retried is
// transient, missing tables and columns are told apart.
func TestClassify(t *testing.T) {
	my, pg := mustDialect(t, MySQL), mustDialect(t, Postgres)
	cases := []struct {
		d    Dialect
		err  error
		want ErrorClass
	}{
		{my, fmt.Errorf("exec: %w", &mysql.MySQLError{Number: 1213}), ErrTransient},
		{my, &mysql.MySQLError{Number: 1205}, ErrTransient},
		{my, &mysql.MySQLError{Number: 1317}, ErrTransient},
		{my, &mysql.MySQLError{Number: 4031}, ErrTransient},
		{my, &mysql.MySQLError{Number: 1146}, ErrMissingTable},
		{my, &mysql.MySQLError{Number: 1054}, ErrMissingColumn},
		{my, &mysql.MySQLError{Number: 1062}, ErrOther}, // duplicate entry
		{my, mysql.ErrInvalidConn, ErrTransient},
		{pg, &pgconn.PgError{Code: "40P01"}, ErrTransient},
		{pg, &pgconn.PgError{Code: "08006"}, ErrTransient},
		{pg, &pgconn.PgError{Code: "57P01"}, ErrTransient},
		{pg, &pgconn.PgError{Code: "42P01"}, ErrMissingTable},
		{pg, &pgconn.PgError{Code: "42703"}, ErrMissingColumn},
		{pg, &pgconn.PgError{Code: "23505"}, ErrOther}, // unique violation
		{pg, fmt.Errorf("read: %w", io.ErrUnexpectedEOF), ErrTransient},
		{my, errors.New("dial tcp 127.0.0.1:1: connect: Connection refused"), ErrTransient},
		{pg, fmt.Errorf("query: %w", context.Canceled), ErrCanceled},
		{my, context.DeadlineExceeded, ErrCanceled},
		{pg, errors.New("syntax error"), ErrOther},
	}
	for _, c := range cases {
		if got := c.d.Classify(c.err); got != c.want {
			t.Errorf("%s Classify(%v) = %d, want %d", c.d.Flavor(), c.err, got, c.want)
		}
	}
}
