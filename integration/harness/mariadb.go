package harness

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

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
	Dir      string // temp dir: data/, mysqld.pid, error.log, mysqld.sock

	opts   Options
	bin    string
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	admin  *sql.DB
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
	s := &MariaDBInstance{Host: "127.0.0.1", Port: port, User: "root", ServerID: sid, Dir: dir, opts: o, bin: bin}

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
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("harness: mariadb on port %d already running", s.Port)
	}
	logf, err := os.OpenFile(filepath.Join(s.Dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("harness: mariadb log: %w", err)
	}
	cmd := exec.Command(s.bin, s.serverArgs()...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr(s.opts.Persistent, nil)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("harness: start %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	s.cmd, s.exited = cmd, exited

	dsn := s.RootDSN()
	deadline := time.Now().Add(60 * time.Second)
	for {
		db, err := sql.Open("mysql", dsn)
		if err == nil {
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err = db.PingContext(pctx)
			cancel()
			db.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-exited:
			s.cmd = nil
			return fmt.Errorf("harness: mariadbd exited during startup: %v\n%s", err, tail(filepath.Join(s.Dir, "error.log"), 3000))
		case <-ctx.Done():
			s.stopLocked(syscall.SIGKILL)
			return fmt.Errorf("harness: waiting for mariadbd: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stopLocked(syscall.SIGKILL)
			return fmt.Errorf("harness: mariadbd did not accept connections in 60s: %v\n%s", err, tail(filepath.Join(s.Dir, "error.log"), 3000))
		}
	}
}

// Stop shuts mariadbd down cleanly (SIGTERM, SIGKILL after 30 s). The data
// directory stays, so Start brings the same server back.
func (s *MariaDBInstance) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admin != nil {
		s.admin.Close()
		s.admin = nil
	}
	s.stopLocked(syscall.SIGTERM)
	return ctx.Err()
}

// Kill stops mariadbd with SIGKILL, as a crash would.
func (s *MariaDBInstance) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admin != nil {
		s.admin.Close()
		s.admin = nil
	}
	s.stopLocked(syscall.SIGKILL)
}

func (s *MariaDBInstance) stopLocked(sig syscall.Signal) {
	pid := readPidFile(filepath.Join(s.Dir, "mysqld.pid"))
	if s.cmd != nil && s.cmd.Process != nil {
		pid = s.cmd.Process.Pid
	}
	if pid > 0 {
		killAndWait(pid, sig, 30*time.Second)
	}
	if s.exited != nil {
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
		}
	}
	s.cmd, s.exited = nil, nil
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
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admin != nil {
		s.admin.Close()
		s.admin = nil
	}
	s.stopLocked(syscall.SIGTERM)
	if s.opts.KeepDataDir || s.Dir == "" {
		return nil
	}
	if err := os.RemoveAll(s.Dir); err != nil {
		return fmt.Errorf("harness: remove %s: %w", s.Dir, err)
	}
	return nil
}

// Pid is mariadbd's process id (0 when stopped).
func (s *MariaDBInstance) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// RootDSN is a go-sql-driver DSN for root without a database.
func (s *MariaDBInstance) RootDSN() string {
	return fmt.Sprintf("root@tcp(%s:%d)/?parseTime=true&loc=UTC", s.Host, s.Port)
}

func (s *MariaDBInstance) adminDB() (*sql.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admin == nil {
		db, err := sql.Open("mysql", s.RootDSN())
		if err != nil {
			return nil, fmt.Errorf("harness: open mariadb admin: %w", err)
		}
		db.SetMaxOpenConns(4)
		s.admin = db
	}
	return s.admin, nil
}

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
