//go:build unix

package dbserver

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// proc is the process side of a throwaway server, shared by MariaDBInstance
// and PostgresInstance: starting the server binary and waiting until it
// accepts connections, stopping it with a signal, and the cached admin pool.
type proc struct {
	kind     string         // "mariadb", "postgres": in messages
	daemon   string         // the server process's name in messages ("mariadbd", "postgres")
	driver   string         // database/sql driver for readiness pings and the admin pool
	pidFile  string         // the server's pid file, for a server we no longer hold a handle on
	abortSig syscall.Signal // stops a server that failed to come up in time
	maxAdmin int            // admin pool size
	bin      string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	admin  *sql.DB
}

// start runs the command newCmd builds (stdout and stderr appended to
// stdoutPath) and waits up to 60 s until dsn accepts connections. Startup
// errors carry the tail of errLog.
func (p *proc) start(ctx context.Context, port int, stdoutPath, errLog, dsn string, newCmd func() *exec.Cmd) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("harness: %s on port %d already running", p.kind, port)
	}
	logf, err := os.OpenFile(stdoutPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("harness: %s log: %w", p.kind, err)
	}
	cmd := newCmd()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("harness: start %s: %w", p.bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	p.cmd, p.exited = cmd, exited

	deadline := time.Now().Add(60 * time.Second)
	for {
		db, err := sql.Open(p.driver, dsn)
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
			p.cmd = nil
			return fmt.Errorf("harness: %s exited during startup: %v\n%s", p.daemon, err, tail(errLog, 3000))
		case <-ctx.Done():
			p.stopLocked(p.abortSig)
			return fmt.Errorf("harness: waiting for %s: %w", p.daemon, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stopLocked(p.abortSig)
			return fmt.Errorf("harness: %s did not accept connections in 60s: %v\n%s", p.daemon, err, tail(errLog, 3000))
		}
	}
}

// stop closes the admin pool and stops the server with sig, then runs then
// (when not nil) while still holding the lock.
func (p *proc) stop(sig syscall.Signal, then func() error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.admin != nil {
		p.admin.Close()
		p.admin = nil
	}
	p.stopLocked(sig)
	if then != nil {
		return then()
	}
	return nil
}

func (p *proc) stopLocked(sig syscall.Signal) {
	pid := readPidFile(p.pidFile)
	if p.cmd != nil && p.cmd.Process != nil {
		pid = p.cmd.Process.Pid
	}
	if pid > 0 && sig != p.abortSig && p.abortSig != syscall.SIGKILL && processAlive(pid) {
		// A graceful stop can hang: PostgreSQL's fast shutdown waits until
		// the clients of its WAL senders confirmed everything up to the
		// shutdown checkpoint, which a busy CDC reader may not do for a
		// long time. SIGKILL of the postmaster would then leave its
		// backends (and shared memory) behind and the next start fails
		// ("pre-existing shared memory block is still in use"); abortSig
		// (immediate shutdown) stops it with its children.
		_ = syscall.Kill(pid, sig)
		for deadline := time.Now().Add(10 * time.Second); processAlive(pid) && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		sig = p.abortSig
	}
	if pid > 0 {
		killAndWait(pid, sig, 30*time.Second)
	}
	if p.exited != nil {
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
		}
	}
	p.cmd, p.exited = nil, nil
}

// pid is the server's process id (0 when stopped).
func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// adminDB returns the admin pool on dsn, opening it on first use.
func (p *proc) adminDB(dsn string) (*sql.DB, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.admin == nil {
		db, err := sql.Open(p.driver, dsn)
		if err != nil {
			return nil, fmt.Errorf("harness: open %s admin: %w", p.kind, err)
		}
		db.SetMaxOpenConns(p.maxAdmin)
		p.admin = db
	}
	return p.admin, nil
}

// removeDir removes a server's temp directory unless keep is set or there is
// none.
func removeDir(dir string, keep bool) error {
	if keep || dir == "" {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("harness: remove %s: %w", dir, err)
	}
	return nil
}
