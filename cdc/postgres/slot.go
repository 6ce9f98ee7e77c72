package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrSlotInUse means another process streams from the replication slot.
var ErrSlotInUse = errors.New("replication slot in use")

// ErrSlotMissing means stored offsets point into a slot that no longer
// exists, so changes since then cannot be read.
var ErrSlotMissing = errors.New("replication slot missing")

func quoteKV(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// dsn builds a libpq keyword/value connection string from the settings.
func (s *settings) dsn() string {
	parts := []string{
		"host=" + quoteKV(s.host),
		"port=" + strconv.Itoa(s.port),
		"user=" + quoteKV(s.user),
		"dbname=" + quoteKV(s.dbname),
		"sslmode=" + s.sslmode,
		"connect_timeout=30",
	}
	if s.password != "" {
		parts = append(parts, "password="+quoteKV(s.password))
	}
	for _, kv := range [][2]string{{"sslrootcert", s.sslRootCert}, {"sslcert", s.sslCert}, {"sslkey", s.sslKey}, {"sslpassword", s.sslPass}} {
		if strings.TrimSpace(kv[1]) != "" {
			parts = append(parts, kv[0]+"="+quoteKV(kv[1]))
		}
	}
	return strings.Join(parts, " ")
}

// sqlConfig is the config of a normal (snapshot, catalog) connection.
func (s *settings) sqlConfig() (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(s.dsn())
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", keyHostname, keyPort, err)
	}
	for k, v := range sessionParams {
		cfg.RuntimeParams[k] = v
	}
	return cfg, nil
}

// replConfig is the config of the logical replication connection.
func (s *settings) replConfig() (*pgconn.Config, error) {
	cfg, err := pgconn.ParseConfig(s.dsn())
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", keyHostname, keyPort, err)
	}
	for k, v := range sessionParams {
		cfg.RuntimeParams[k] = v
	}
	cfg.RuntimeParams["replication"] = "database"
	return cfg, nil
}

func (s *settings) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := s.sqlConfig()
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s:%d/%s: %w", s.host, s.port, s.dbname, err)
	}
	return conn, nil
}

func (s *settings) connectReplication(ctx context.Context) (*pgconn.PgConn, error) {
	cfg, err := s.replConfig()
	if err != nil {
		return nil, err
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("replication connection to %s:%d/%s: %w", s.host, s.port, s.dbname, err)
	}
	return conn, nil
}

// serverInfo is what the connector checks about the server before it starts.
type serverInfo struct {
	version  int // server_version_num
	walLevel string
}

func checkServer(ctx context.Context, conn *pgx.Conn) (serverInfo, error) {
	var si serverInfo
	var v string
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num'), current_setting('wal_level')").Scan(&v, &si.walLevel); err != nil {
		return si, fmt.Errorf("read server settings: %w", err)
	}
	si.version, _ = strconv.Atoi(v)
	if si.walLevel != "logical" {
		return si, fmt.Errorf("wal_level is %q; logical decoding needs wal_level=logical", si.walLevel)
	}
	if si.version < 100000 {
		return si, fmt.Errorf("PostgreSQL %d is too old: pgoutput needs 10 or later", si.version/10000)
	}
	return si, nil
}

// ensurePublication creates or updates the publication per
// publication.autocreate.mode.
func ensurePublication(ctx context.Context, conn *pgx.Conn, s *settings) error {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)", s.publication).Scan(&exists); err != nil {
		return fmt.Errorf("look up publication %s: %w", s.publication, err)
	}
	name := pgx.Identifier{s.publication}.Sanitize()
	switch s.pubMode {
	case "disabled":
		if !exists {
			return fmt.Errorf("%s: publication %q does not exist and %s=disabled", keyPublicationName, s.publication, keyPublicationMode)
		}
		return nil
	case "all_tables":
		if exists {
			return nil
		}
		if _, err := conn.Exec(ctx, "CREATE PUBLICATION "+name+" FOR ALL TABLES"); err != nil {
			return fmt.Errorf("create publication %s FOR ALL TABLES: %w", s.publication, err)
		}
		return nil
	}
	// filtered: the publication lists exactly the tables the filters select.
	rows, err := conn.Query(ctx, `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`)
	if err != nil {
		return fmt.Errorf("list tables for publication %s: %w", s.publication, err)
	}
	var tables []string
	for rows.Next() {
		var sch, tbl string
		if err := rows.Scan(&sch, &tbl); err != nil {
			rows.Close()
			return err
		}
		// Debezium requires the signal table in the publication: its
		// inserts (signals and window watermarks) are read from the stream.
		if s.filters.table(sch, tbl) || s.isSignalTable(sch, tbl) {
			tables = append(tables, pgx.Identifier{sch, tbl}.Sanitize())
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var stmt string
	switch {
	case !exists && len(tables) == 0:
		stmt = "CREATE PUBLICATION " + name
	case !exists:
		stmt = "CREATE PUBLICATION " + name + " FOR TABLE " + strings.Join(tables, ", ")
	case len(tables) > 0:
		stmt = "ALTER PUBLICATION " + name + " SET TABLE " + strings.Join(tables, ", ")
	default:
		return nil
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}

// slotState is a row of pg_replication_slots.
type slotState struct {
	exists        bool
	plugin        string
	database      string
	active        bool
	activePID     int32
	confirmed     pglogrepl.LSN
	restart       pglogrepl.LSN
	slotTemporary bool
}

func readSlot(ctx context.Context, conn *pgx.Conn, name string) (slotState, error) {
	var st slotState
	var confirmed, restart *string
	var pid *int32
	var plugin, db *string
	err := conn.QueryRow(ctx, `SELECT plugin, database, active, active_pid, confirmed_flush_lsn::text, restart_lsn::text, temporary
FROM pg_replication_slots WHERE slot_name = $1`, name).Scan(&plugin, &db, &st.active, &pid, &confirmed, &restart, &st.slotTemporary)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read slot %s: %w", name, err)
	}
	st.exists = true
	if plugin != nil {
		st.plugin = *plugin
	}
	if db != nil {
		st.database = *db
	}
	if pid != nil {
		st.activePID = *pid
	}
	if confirmed != nil {
		st.confirmed, _ = pglogrepl.ParseLSN(*confirmed)
	}
	if restart != nil {
		st.restart, _ = pglogrepl.ParseLSN(*restart)
	}
	return st, nil
}

// dropSlot drops a slot, waiting up to wait for a previous reader to let go.
func dropSlot(ctx context.Context, conn *pgx.Conn, name string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		_, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", name)
		if err == nil {
			return nil
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			switch pgErr.Code {
			case "42704": // undefined_object: already gone
				return nil
			case "55006": // object_in_use
				if time.Now().Before(deadline) {
					select {
					case <-ctx.Done():
						return ctx.Err()
					case <-time.After(200 * time.Millisecond):
					}
					continue
				}
				return fmt.Errorf("%w: drop slot %s: %s", ErrSlotInUse, name, pgErr.Message)
			}
		}
		return fmt.Errorf("drop slot %s: %w", name, err)
	}
}

// dropPublication drops the publication if it exists.
func dropPublication(ctx context.Context, conn *pgx.Conn, name string) error {
	if _, err := conn.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("drop publication %s: %w", name, err)
	}
	return nil
}

// advanceSlot moves an inactive slot's confirmed_flush_lsn forward to lsn
// (used at stop, after the replication connection is gone, so the last
// acknowledged position is not lost).
func advanceSlot(ctx context.Context, conn *pgx.Conn, name string, lsn pglogrepl.LSN) error {
	_, err := conn.Exec(ctx, "SELECT pg_replication_slot_advance($1, $2::pg_lsn)", name, lsn.String())
	if err != nil {
		return fmt.Errorf("advance slot %s to %s: %w", name, lsn, err)
	}
	return nil
}

// isInUse reports whether err says the slot is active for another process.
func isInUse(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55006"
}

// isFatal reports whether a replication error cannot be cured by
// reconnecting (a missing slot or publication, bad permissions).
func isFatal(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "42704", "42501", "28000", "28P01", "3D000", "0A000":
		return true
	}
	return false
}
