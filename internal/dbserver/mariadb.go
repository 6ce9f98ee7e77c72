//go:build unix

package dbserver

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"

	_ "github.com/go-sql-driver/mysql" // registers the "mysql" driver
)

// CDC credentials created on every MariaDB server, with the privileges a
// binlog reader needs (REPLICATION SLAVE, BINLOG MONITOR, REPLICATION
// CLIENT, SELECT, RELOAD).
const (
	MariaDBCDCUser     = "cdc"
	MariaDBCDCPassword = "cdcpw"
)

// MariaDBInstance is a throwaway mariadbd with row-based binary logging.
type MariaDBInstance struct {
	Host     string // 127.0.0.1
	Port     int
	User     string // root (empty password)
	Password string
	ServerID int
	Dir      string    // temp dir: data/, mysqld.pid, error.log, mysqld.sock
	TLS      *TLSFiles // with Options.TLS: the CA and certificates; else nil

	opts Options
	proc
}

// StartMariaDB initialises a data directory and starts mariadbd on a free
// port, waiting until it accepts connections. Close it when done.
func StartMariaDB(ctx context.Context, o Options) (*MariaDBInstance, error) {
	bin, err := findBinary("mariadb-server", []string{"mariadbd", "mysqld"}, "/usr/sbin", "/usr/libexec", "/usr/local/sbin")
	if err != nil {
		return nil, err
	}
	installDB, err := findBinary("mariadb-server", []string{"mariadb-install-db", "mysql_install_db"}, "/usr/bin", "/usr/sbin", "/usr/local/bin")
	if err != nil {
		return nil, err
	}
	port := o.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	dir, err := makeDir(o, "mariadb")
	if err != nil {
		return nil, err
	}
	sid := o.ServerID
	if sid == 0 {
		sid = 1
	}
	s := &MariaDBInstance{Host: "127.0.0.1", Port: port, User: "root", ServerID: sid, Dir: dir, opts: o,
		proc: proc{kind: "mariadb", daemon: "mariadbd", driver: "mysql", pidFile: filepath.Join(dir, "mysqld.pid"),
			abortSig: syscall.SIGKILL, maxAdmin: 4, bin: bin}}

	args := []string{"--no-defaults", "--datadir=" + filepath.Join(dir, "data"),
		"--auth-root-authentication-method=normal", "--skip-test-db"}
	if isRoot() {
		args = append(args, "--user=root")
	}
	// mariadb-install-db looks for mariadbd relative to --basedir; point it at
	// the binary we found when it is not in the usual place.
	if filepath.Dir(bin) != "/usr/sbin" {
		args = append(args, "--basedir="+filepath.Dir(filepath.Dir(bin)))
	}
	// Under heavy load mariadb-install-db occasionally fails; one retry on a
	// clean data directory.
	for attempt := 1; ; attempt++ {
		cmd := exec.CommandContext(ctx, installDB, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err == nil {
			break
		}
		if attempt >= 2 || ctx.Err() != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("harness: %s failed: %w\n%s", installDB, err, errorLines(string(out)))
		}
		os.RemoveAll(filepath.Join(dir, "data"))
	}
	if o.TLS {
		if s.TLS, err = makeTLS(dir, o.TLSHosts, -1, -1); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := s.Start(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.setup(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *MariaDBInstance) setup(ctx context.Context) error {
	db, err := s.adminDB()
	if err != nil {
		return err
	}
	for _, q := range []string{
		fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s'", MariaDBCDCUser, MariaDBCDCPassword),
		fmt.Sprintf("GRANT SELECT, RELOAD, REPLICATION SLAVE, BINLOG MONITOR, REPLICATION CLIENT ON *.* TO '%s'@'%%'", MariaDBCDCUser),
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("harness: mariadb setup %q: %w", q, err)
		}
	}
	return nil
}

// serverArgs are mariadbd's flags.
func (s *MariaDBInstance) serverArgs() []string {
	args := []string{"--no-defaults",
		"--datadir=" + filepath.Join(s.Dir, "data"),
		"--port=" + strconv.Itoa(s.Port),
		"--bind-address=127.0.0.1",
		"--socket=" + filepath.Join(s.Dir, "mysqld.sock"),
		"--pid-file=" + filepath.Join(s.Dir, "mysqld.pid"),
		"--log-error=" + filepath.Join(s.Dir, "error.log"),
		"--log-bin=mysql-bin",
		"--binlog-format=ROW",
		"--binlog-row-image=FULL",
		"--binlog-row-metadata=FULL",
		"--server-id=" + strconv.Itoa(s.ServerID),
		"--skip-name-resolve",
		"--max-connections=1000",
		"--innodb-buffer-pool-size=128M",
		"--innodb-flush-log-at-trx-commit=2",
		"--sync-binlog=0",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_general_ci",
		"--default-time-zone=+00:00",
	}
	if isRoot() {
		args = append(args, "--user=root")
	}
	if s.TLS != nil {
		args = append(args, "--ssl-ca="+s.TLS.CAFile, "--ssl-cert="+s.TLS.ServerCert, "--ssl-key="+s.TLS.ServerKey)
	}
	keys := make([]string, 0, len(s.opts.Settings))
	for k := range s.opts.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--"+k+"="+s.opts.Settings[k])
	}
	return args
}

// Start starts mariadbd (after Stop) and waits until it accepts connections.
func (s *MariaDBInstance) Start(ctx context.Context) error {
	return s.proc.start(ctx, s.Port, filepath.Join(s.Dir, "stdout.log"), filepath.Join(s.Dir, "error.log"), s.RootDSN(),
		func() *exec.Cmd {
			cmd := exec.Command(s.bin, s.serverArgs()...)
			cmd.Dir = s.Dir
			cmd.SysProcAttr = childAttr(s.opts.Persistent, nil)
			return cmd
		})
}

// Stop shuts mariadbd down cleanly (SIGTERM, SIGKILL after 30 s). The data
// directory stays, so Start brings the same server back.
func (s *MariaDBInstance) Stop(ctx context.Context) error {
	_ = s.proc.stop(syscall.SIGTERM, nil)
	return ctx.Err()
}

// Kill stops mariadbd with SIGKILL, as a crash would.
func (s *MariaDBInstance) Kill() {
	_ = s.proc.stop(syscall.SIGKILL, nil)
}

// Restart stops and starts the server on the same port and data.
func (s *MariaDBInstance) Restart(ctx context.Context) error {
	if err := s.Stop(ctx); err != nil {
		return err
	}
	return s.Start(ctx)
}

// Close stops the server and removes its temp directory (unless
// Options.KeepDataDir). Safe to call more than once.
func (s *MariaDBInstance) Close() error {
	return s.proc.stop(syscall.SIGTERM, func() error { return removeDir(s.Dir, s.opts.KeepDataDir) })
}

// Pid is mariadbd's process id (0 when stopped).
func (s *MariaDBInstance) Pid() int { return s.proc.pid() }

// RootDSN is a go-sql-driver DSN for root without a database.
func (s *MariaDBInstance) RootDSN() string {
	return fmt.Sprintf("root@tcp(%s:%d)/?parseTime=true&loc=UTC", s.Host, s.Port)
}

func (s *MariaDBInstance) adminDB() (*sql.DB, error) { return s.proc.adminDB(s.RootDSN()) }

// CreateDatabase creates a database and returns its connection details
// (root, empty password).
func (s *MariaDBInstance) CreateDatabase(ctx context.Context, name string) (*Database, error) {
	db, err := s.adminDB()
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE `"+name+"`"); err != nil {
		return nil, fmt.Errorf("harness: create mariadb database %q: %w", name, err)
	}
	return &Database{Kind: KindMariaDB, Name: name, Host: s.Host, Port: s.Port, User: "root"}, nil
}
