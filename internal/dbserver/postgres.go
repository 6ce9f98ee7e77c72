//go:build unix

package dbserver

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// PostgresInstance is a throwaway PostgreSQL with wal_level=logical.
type PostgresInstance struct {
	Host     string // 127.0.0.1
	Port     int
	User     string // postgres (trust auth, no password)
	Password string
	Dir      string    // temp dir: data/, postgres.log, the unix socket
	Version  int       // major version of the binaries
	TLS      *TLSFiles // with Options.TLS: the CA and certificates; else nil

	opts Options
	cred *syscall.Credential
	proc
}

// StartPostgres runs initdb into a temp dir and starts postgres on a free
// port, waiting until it accepts connections. When running as root the
// server runs as the postgres user. Close it when done.
func StartPostgres(ctx context.Context, o Options) (*PostgresInstance, error) {
	bin, err := findPostgresBin("postgres")
	if err != nil {
		return nil, err
	}
	initdb := filepath.Join(filepath.Dir(bin), "initdb")
	if _, err := os.Stat(initdb); err != nil {
		if initdb, err = findPostgresBin("initdb"); err != nil {
			return nil, err
		}
	}
	var cred *syscall.Credential
	if isRoot() {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("harness: running as root, PostgreSQL must run as the postgres user, which does not exist (install the Debian package \"postgresql\", which creates it): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	port := o.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	dir, err := makeDir(o, "postgres")
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("harness: chown %s to postgres: %w", dir, err)
		}
	}
	ver, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(bin))))
	s := &PostgresInstance{Host: "127.0.0.1", Port: port, User: "postgres", Dir: dir, Version: ver, opts: o, cred: cred,
		proc: proc{kind: "postgres", daemon: "postgres", driver: "pgx", pidFile: filepath.Join(dir, "data", "postmaster.pid"),
			abortSig: syscall.SIGQUIT, maxAdmin: 2, bin: bin}}

	cmd := exec.CommandContext(ctx, initdb, "-D", filepath.Join(dir, "data"), "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("harness: %s failed: %w\n%s", initdb, err, lastLines(string(out), 30))
	}
	if o.TLS {
		uid, gid := -1, -1
		if cred != nil {
			uid, gid = int(cred.Uid), int(cred.Gid)
		}
		if s.TLS, err = makeTLS(dir, o.TLSHosts, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := s.Start(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *PostgresInstance) serverArgs() []string {
	settings := map[string]string{
		"listen_addresses":        s.Host,
		"unix_socket_directories": s.Dir,
		"wal_level":               "logical",
		"max_replication_slots":   "20",
		"max_wal_senders":         "20",
		"max_connections":         "300",
		"fsync":                   "off",
		"synchronous_commit":      "off",
		"full_page_writes":        "off",
		"TimeZone":                "UTC",
	}
	if s.TLS != nil {
		settings["ssl"] = "on"
		settings["ssl_cert_file"] = s.TLS.ServerCert
		settings["ssl_key_file"] = s.TLS.ServerKey
		settings["ssl_ca_file"] = s.TLS.CAFile
	}
	for k, v := range s.opts.Settings {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := []string{"-D", filepath.Join(s.Dir, "data"), "-p", strconv.Itoa(s.Port)}
	for _, k := range keys {
		args = append(args, "-c", k+"="+settings[k])
	}
	return args
}

// Start starts postgres (after Stop) and waits until it accepts connections.
func (s *PostgresInstance) Start(ctx context.Context) error {
	logPath := filepath.Join(s.Dir, "postgres.log")
	return s.proc.start(ctx, s.Port, logPath, logPath, s.dsn("postgres"), func() *exec.Cmd {
		// The postmaster is our direct child (not daemonized by pg_ctl), so the
		// parent-death signal reaches it and we can wait for it.
		cmd := exec.Command(s.bin, s.serverArgs()...)
		cmd.Dir = s.Dir
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		cmd.SysProcAttr = childAttr(s.opts.Persistent, s.cred)
		return cmd
	})
}

// Stop shuts postgres down (fast shutdown: SIGINT; SIGKILL after 30 s).
// The data directory stays, so Start brings the same server back.
func (s *PostgresInstance) Stop(ctx context.Context) error {
	_ = s.proc.stop(syscall.SIGINT, nil)
	return ctx.Err()
}

// Kill stops postgres with an immediate shutdown (SIGQUIT), as close to a
// crash as PostgreSQL allows while still reaping its backends.
func (s *PostgresInstance) Kill() {
	_ = s.proc.stop(syscall.SIGQUIT, nil)
}

// Restart stops and starts the server on the same port and data.
func (s *PostgresInstance) Restart(ctx context.Context) error {
	if err := s.Stop(ctx); err != nil {
		return err
	}
	return s.Start(ctx)
}

// Close stops the server and removes its temp directory (unless
// Options.KeepDataDir). Safe to call more than once.
func (s *PostgresInstance) Close() error {
	return s.proc.stop(syscall.SIGINT, func() error {
		// Backends exit when the postmaster does; make sure none is left.
		if s.Dir != "" {
			for _, pid := range ProcessesUsing(s.Dir) {
				killAndWait(pid, syscall.SIGKILL, time.Second)
			}
		}
		return removeDir(s.Dir, s.opts.KeepDataDir)
	})
}

// Pid is the postmaster's process id (0 when stopped).
func (s *PostgresInstance) Pid() int { return s.proc.pid() }

func (s *PostgresInstance) dsn(db string) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", s.User, s.Host, s.Port, db)
}

// RootDSN is a postgres:// URL for the postgres superuser and database.
func (s *PostgresInstance) RootDSN() string { return s.dsn("postgres") }

func (s *PostgresInstance) adminDB() (*sql.DB, error) { return s.proc.adminDB(s.RootDSN()) }

// CreateDatabase creates a database owned by postgres and returns its
// connection details.
func (s *PostgresInstance) CreateDatabase(ctx context.Context, name string) (*Database, error) {
	db, err := s.adminDB()
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		return nil, fmt.Errorf("harness: create postgres database %q: %w", name, err)
	}
	return &Database{Kind: KindPostgres, Name: name, Host: s.Host, Port: s.Port, User: s.User}, nil
}
