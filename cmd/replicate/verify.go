package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tributary-cdc/tributary/jdbc"
	"github.com/tributary-cdc/tributary/runtime/verify"
)

const verifyUsage = `usage: replicate verify --source-url URL --target-url URL --source-table T [flags]

Compares a source and a target table row by row (row counts, checksums per
chunk of keys in primary-key order, values normalized so MariaDB/MySQL and
PostgreSQL types compare equal) and prints the first differing keys.
URLs are JDBC URLs (jdbc:mariadb://host:3306/db?user=u&password=p,
jdbc:postgresql://host:5432/db?user=u) or native DSNs.
Exit status: 0 verified, 1 the tables differ, 2 bad usage or an error.

flags:
`

// verifyCmd is `replicate verify`.
func verifyCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	srcURL := fs.String("source-url", "", "source connection URL (JDBC URL or native DSN)")
	dstURL := fs.String("target-url", "", "target connection URL (JDBC URL or native DSN)")
	srcUser := fs.String("source-user", "", "source user (wins over the URL's)")
	srcPass := fs.String("source-password", "", "source password (wins over the URL's)")
	dstUser := fs.String("target-user", "", "target user (wins over the URL's)")
	dstPass := fs.String("target-password", "", "target password (wins over the URL's)")
	srcTable := fs.String("source-table", "", "source table: table, db.table or schema.table")
	dstTable := fs.String("target-table", "", "target table (default: the source table's name)")
	key := fs.String("key", "", "key columns, comma-separated (default: the primary key)")
	cols := fs.String("columns", "", "non-key columns to compare, comma-separated (default: every source column)")
	chunk := fs.Int("chunk-size", 1000, "keys per checksum chunk")
	maxDiffs := fs.Int("max-diffs", 10, "differing keys to print")
	wait := fs.Duration("wait", 0, "keep comparing (every second) until the tables verify or this much time passed")
	fs.Usage = func() {
		fmt.Fprint(stderr, verifyUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var missing []string
	for name, v := range map[string]string{"--source-url": *srcURL, "--target-url": *dstURL, "--source-table": *srcTable} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 || fs.NArg() > 0 {
		if len(missing) > 0 {
			fmt.Fprintf(stderr, "replicate verify: missing %s\n", strings.Join(sortedStrings(missing), ", "))
		} else {
			fmt.Fprintf(stderr, "replicate verify: unexpected arguments %q\n", fs.Args())
		}
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	open := func(side, raw, user, pass string) (*jdbcDB, error) {
		c, err := jdbc.ParseURL(raw, user, pass)
		if err != nil {
			return nil, fmt.Errorf("--%s-url: %w", side, err)
		}
		db, err := c.Open(ctx, 1, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", side, err)
		}
		return &jdbcDB{c, db}, nil
	}
	src, err := open("source", *srcURL, *srcUser, *srcPass)
	if err != nil {
		fmt.Fprintln(stderr, "replicate verify:", err)
		return 2
	}
	defer src.db.Close()
	dst, err := open("target", *dstURL, *dstUser, *dstPass)
	if err != nil {
		fmt.Fprintln(stderr, "replicate verify:", err)
		return 2
	}
	defer dst.db.Close()

	opts := verify.Options{SourceTable: *srcTable, TargetTable: *dstTable, Key: splitList(*key),
		Columns: splitList(*cols), ChunkSize: *chunk, MaxDiffs: *maxDiffs}
	var rep verify.Report
	if *wait > 0 {
		wctx, cancel := context.WithTimeout(ctx, *wait)
		rep, err = verify.Until(wctx, src.db, dst.db, opts, time.Second)
		cancel()
		if err != nil && len(rep.Key) == 0 { // never got as far as comparing rows
			fmt.Fprintln(stderr, "replicate verify:", err)
			return 2
		}
	} else {
		rep, err = verify.Tables(ctx, src.db, dst.db, opts)
		if err != nil {
			fmt.Fprintln(stderr, "replicate verify:", err)
			return 2
		}
	}
	printReport(stdout, &rep, src.conn, dst.conn)
	if !rep.Verified() {
		return 1
	}
	return 0
}

type jdbcDB struct {
	conn *jdbc.Conn
	db   *sqlx.DB
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func sortedStrings(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

// printReport writes a verification report for operators.
func printReport(w io.Writer, rep *verify.Report, src, dst *jdbc.Conn) {
	where := func(c *jdbc.Conn) string {
		if c == nil || c.Host == "" {
			return ""
		}
		return fmt.Sprintf(" (%s %s:%d/%s)", c.Flavor, c.Host, c.Port, c.Database)
	}
	fmt.Fprintf(w, "source  %s%s: %d rows, checksum %s\n", rep.SourceTable, where(src), rep.SourceRows, rep.SourceChecksum)
	fmt.Fprintf(w, "target  %s%s: %d rows, checksum %s\n", rep.TargetTable, where(dst), rep.TargetRows, rep.TargetChecksum)
	fmt.Fprintf(w, "key     %s; %d columns compared; %d chunks, %d differ\n", strings.Join(rep.Key, ","), len(rep.Columns), rep.Chunks, rep.ChunksDiffering)
	for _, d := range rep.Diffs {
		fmt.Fprintln(w, "  "+d.String())
	}
	if total := rep.Missing + rep.Extra + rep.Changed; total > int64(len(rep.Diffs)) {
		fmt.Fprintf(w, "  … %d more differing keys\n", total-int64(len(rep.Diffs)))
	}
	fmt.Fprintln(w, rep.Summary())
}
