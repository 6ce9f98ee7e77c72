package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gmysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-cdc/tributary/internal/dbserver"
	"github.com/tributary-cdc/tributary/runtime/kafka"
)

// rawBinlogParse is the catch-up baseline for MariaDB: go-mysql's
// BinlogSyncer alone (same decode options as the connector: ParseTime,
// UseDecimal) reading the same binlog from the same position, events
// decoded into Go values, nothing converted or produced.
func rawBinlogParse(ctx context.Context, c *child) (result, error) {
	d := c.p.MariaCDC
	s := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: uint32(c.p.ServerID), Flavor: gmysql.MariaDBFlavor, Host: d.Host, Port: uint16(d.Port),
		User: d.User, Password: d.Password, ParseTime: true, UseDecimal: true, EventCacheCount: 256,
		Logger: slog.New(slog.DiscardHandler),
	})
	defer s.Close()
	if err := c.begin(); err != nil {
		return result{}, err
	}
	st, err := s.StartSync(gmysql.Position{Name: c.p.BinlogFile, Pos: c.p.BinlogPos})
	if err != nil {
		return result{}, fmt.Errorf("start binlog sync: %w", err)
	}
	var rows, bytes int64
	for rows < int64(c.p.Rows) {
		gctx, cancel := context.WithTimeout(ctx, time.Minute)
		ev, err := st.GetEvent(gctx)
		cancel()
		if err != nil {
			return result{}, fmt.Errorf("binlog event after %d rows: %w", rows, err)
		}
		bytes += int64(ev.Header.EventSize)
		if re, ok := ev.Event.(*replication.RowsEvent); ok && strings.EqualFold(string(re.Table.Table), c.p.Table) {
			rows += int64(len(re.Rows))
		}
	}
	return result{Rows: rows, Seconds: c.end(), Bytes: bytes, Note: "binlog bytes"}, nil
}

// rawPgDecode is the catch-up baseline for PostgreSQL: pglogrepl receiving
// the same changes from a second slot created at the same point (same
// publication, pgoutput v2) and parsing every message, building nothing.
func rawPgDecode(ctx context.Context, c *child) (result, error) {
	d := c.p.Postgres
	conn, err := pgconn.Connect(ctx, fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable&replication=database", d.User, d.Host, d.Port, d.Name))
	if err != nil {
		return result{}, fmt.Errorf("replication connection: %w", err)
	}
	defer conn.Close(context.Background())
	if err := c.begin(); err != nil {
		return result{}, err
	}
	err = pglogrepl.StartReplication(ctx, conn, c.p.Slot, 0, pglogrepl.StartReplicationOptions{PluginArgs: []string{
		"proto_version '2'", "publication_names '" + c.p.Publication + "'"}})
	if err != nil {
		return result{}, fmt.Errorf("start replication: %w", err)
	}
	var inserts, bytes int64
	for inserts < int64(c.p.Rows) {
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		msg, err := conn.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			return result{}, fmt.Errorf("receive after %d inserts: %w", inserts, err)
		}
		cd, ok := msg.(*pgproto3.CopyData)
		if !ok || len(cd.Data) == 0 || cd.Data[0] != pglogrepl.XLogDataByteID {
			continue
		}
		xld, err := pglogrepl.ParseXLogData(cd.Data[1:])
		if err != nil {
			return result{}, err
		}
		bytes += int64(len(xld.WALData))
		m, err := pglogrepl.ParseV2(xld.WALData, false)
		if err != nil {
			return result{}, err
		}
		if _, ok := m.(*pglogrepl.InsertMessageV2); ok {
			inserts++
		}
	}
	return result{Rows: inserts, Seconds: c.end(), Bytes: bytes, Note: "pgoutput bytes"}, nil
}

// rawScan is the snapshot baseline: one streaming SELECT of the table
// through database/sql (go-sql-driver/mysql or pgx stdlib), every column
// scanned into Go values.
func rawScan(ctx context.Context, c *child, d *dbserver.Database) (result, error) {
	db, err := d.Connect(ctx)
	if err != nil {
		return result{}, err
	}
	defer db.Close()
	if err := c.begin(); err != nil {
		return result{}, err
	}
	rows, err := db.QueryContext(ctx, "SELECT id, v, s, d, ts FROM "+c.p.Table)
	if err != nil {
		return result{}, err
	}
	defer rows.Close()
	var (
		n, bytes int64
		id, v    int64
		s, dec   string
		ts       time.Time
	)
	for rows.Next() {
		if err := rows.Scan(&id, &v, &s, &dec, &ts); err != nil {
			return result{}, err
		}
		n++
		bytes += int64(16 + len(s) + len(dec) + 8)
	}
	if err := rows.Err(); err != nil {
		return result{}, err
	}
	return result{Rows: n, Seconds: c.end(), Bytes: bytes, Note: "column bytes"}, nil
}

// rawProduce is the Kafka baseline: kgo alone, with the runtime's producer
// options (idempotent, acks=all, linger 5 ms), producing p.Rows records of
// p.RecordBytes bytes (key included) into the same broker.
func rawProduce(ctx context.Context, c *child) (result, error) {
	opts, err := kafka.ProducerOpts(map[string]string{"bootstrap.servers": c.p.Bootstrap})
	if err != nil {
		return result{}, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return result{}, err
	}
	defer cl.Close()
	size := max(c.p.RecordBytes, 24)
	value := []byte(strings.Repeat("v", size-16))
	var (
		wg       sync.WaitGroup
		failed   atomic.Pointer[error]
		produced atomic.Int64
	)
	if err := c.begin(); err != nil {
		return result{}, err
	}
	for i := 0; i < c.p.Rows; i++ {
		key := []byte(fmt.Sprintf("%016d", i))
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Topic: c.p.Topic, Key: key, Value: value}, func(r *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				failed.CompareAndSwap(nil, &err)
				return
			}
			produced.Add(int64(len(r.Key) + len(r.Value)))
		})
	}
	wg.Wait()
	secs := c.end()
	if e := failed.Load(); e != nil {
		return result{}, fmt.Errorf("produce: %w", *e)
	}
	return result{Rows: int64(c.p.Rows), Seconds: secs, Bytes: produced.Load(), Note: fmt.Sprintf("%d-byte records", size)}, nil
}

// rawInsert is the sink baseline: the same rows as the sink topic, written
// with a hand-built multi-row upsert (INSERT … ON DUPLICATE KEY UPDATE /
// ON CONFLICT DO UPDATE) of p.SinkBatch rows per statement and transaction
// into a table with the sink table's DDL.
func rawInsert(ctx context.Context, c *child, d *dbserver.Database) (result, error) {
	db, err := d.Connect(ctx)
	if err != nil {
		return result{}, err
	}
	defer db.Close()
	pg := d.Kind == dbserver.KindPostgres
	stmts := map[int]string{}
	stmt := func(n int) string {
		if s, ok := stmts[n]; ok {
			return s
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "INSERT INTO %s (id,v,s,d,ts) VALUES ", c.p.Table)
		p := 0
		for r := 0; r < n; r++ {
			if r > 0 {
				sb.WriteByte(',')
			}
			sb.WriteByte('(')
			for col := 0; col < 5; col++ {
				if col > 0 {
					sb.WriteByte(',')
				}
				p++
				if pg {
					fmt.Fprintf(&sb, "$%d", p)
				} else {
					sb.WriteByte('?')
				}
			}
			sb.WriteByte(')')
		}
		if pg {
			sb.WriteString(" ON CONFLICT (id) DO UPDATE SET v=EXCLUDED.v,s=EXCLUDED.s,d=EXCLUDED.d,ts=EXCLUDED.ts")
		} else {
			sb.WriteString(" ON DUPLICATE KEY UPDATE v=VALUES(v),s=VALUES(s),d=VALUES(d),ts=VALUES(ts)")
		}
		stmts[n] = sb.String()
		return stmts[n]
	}
	batch := c.p.SinkBatch
	args := make([]any, 0, batch*5)
	if err := c.begin(); err != nil {
		return result{}, err
	}
	var bytes int64
	for lo := 1; lo <= c.p.Rows; lo += batch {
		hi := min(lo+batch-1, c.p.Rows)
		args = args[:0]
		for i := lo; i <= hi; i++ {
			id, v, s, dec, ts := row(int64(i))
			ds := dec.StringFixed(2)
			args = append(args, id, v, s, ds, ts)
			bytes += int64(16 + len(s) + len(ds) + 8)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return result{}, err
		}
		if _, err := tx.ExecContext(ctx, stmt(hi-lo+1), args...); err != nil {
			tx.Rollback()
			return result{}, fmt.Errorf("insert rows %d–%d: %w", lo, hi, err)
		}
		if err := tx.Commit(); err != nil {
			return result{}, err
		}
	}
	return result{Rows: int64(c.p.Rows), Seconds: c.end(), Bytes: bytes, Note: "column bytes"}, nil
}
