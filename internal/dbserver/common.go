//go:build unix

package dbserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// dirPrefix names every temp directory the harness creates, so stale ones
// can be found and swept.
const dirPrefix = "tributary-harness-"

// ownerFile in a server directory holds the pid of the process that started
// the server; when that process is gone the directory is stale.
const ownerFile = "owner.pid"

// Options configures StartMariaDB and StartPostgres. The zero value is fine.
type Options struct {
	// Port to listen on (127.0.0.1); 0 picks a free port.
	Port int
	// Dir is the parent of the server's temp directory; "" uses os.TempDir()
	// (or /tmp when running as root, so the postgres user can reach it).
	Dir string
	// ServerID is MariaDB's server_id; 0 means 1.
	ServerID int
	// Settings are extra server settings: for MariaDB "name=value" passed as
	// --name=value, for PostgreSQL passed as -c name=value.
	Settings map[string]string
	// KeepDataDir keeps the directory after Close (for quickstart data that
	// should survive). Default false: Close removes everything.
	KeepDataDir bool
	// Persistent disables the parent-death signal, so the server outlives
	// the process that started it (for a long-running quickstart the caller
	// must then Close it itself). Default false.
	Persistent bool
	// TLS turns TLS on: a throwaway CA is made in the server's directory
	// and the server presents a certificate it issued for TLSHosts; clients
	// may still connect without TLS. The instance's TLS field has the file
	// names (the CA to trust, a client certificate for mTLS).
	TLS bool
	// TLSHosts are the names and addresses in the server certificate;
	// empty means 127.0.0.1 and localhost. A test sets another name to see
	// a host name check fail.
	TLSHosts []string
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func isRoot() bool { return os.Geteuid() == 0 }

// baseDir returns the parent directory for server temp dirs.
func baseDir(o Options) string {
	if o.Dir != "" {
		return o.Dir
	}
	if isRoot() {
		return "/tmp"
	}
	return os.TempDir()
}

// makeDir creates the server's temp directory and records the owner pid.
func makeDir(o Options, kind string) (string, error) {
	dir, err := os.MkdirTemp(baseDir(o), dirPrefix+kind+"-")
	if err != nil {
		return "", fmt.Errorf("create %s temp dir: %w", kind, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("write %s owner file: %w", kind, err)
	}
	return dir, nil
}

// findBinary finds name in PATH or in the extra directories, or returns an
// error that names the Debian package to install.
func findBinary(pkg string, names []string, dirs ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
		for _, d := range dirs {
			p := filepath.Join(d, n)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("harness: %s not found (looked in PATH and %s): install the Debian package %q (apt-get install -y %s, or run `make test`, which installs it)",
		strings.Join(names, "/"), strings.Join(dirs, ", "), pkg, pkg)
}

// postgresBinDirs lists /usr/lib/postgresql/<ver>/bin, newest version first.
func postgresBinDirs() []string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(matches, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(matches[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(matches[j])))
		return vi > vj
	})
	return matches
}

// findPostgresBin finds a PostgreSQL server binary, preferring the newest
// /usr/lib/postgresql/<ver>/bin so initdb and postgres come from one version.
func findPostgresBin(name string) (string, error) {
	for _, d := range postgresBinDirs() {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return findBinary("postgresql", []string{name})
}

// processAlive reports whether pid names a live (non-zombie) process.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// state is the field after ") "
	if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) {
		if b[i+2] == 'Z' || b[i+2] == 'X' {
			return false
		}
	}
	return true
}

// readPidFile returns the pid on the first line of a pid file, or 0.
func readPidFile(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// killAndWait sends sig to pid, then SIGKILL if it is still alive after
// grace, and waits until it is gone.
func killAndWait(pid int, sig syscall.Signal, grace time.Duration) {
	if !processAlive(pid) {
		return
	}
	_ = syscall.Kill(pid, sig)
	deadline := time.Now().Add(grace)
	for processAlive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if processAlive(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		for i := 0; i < 500 && processAlive(pid); i++ {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// ProcessesUsing returns the pids of live processes whose command line
// mentions dir. The harness tests use it to prove cleanup left nothing.
func ProcessesUsing(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.Contains(string(b), dir) && processAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// processUsesDir reports whether pid is alive and its command line
// mentions dir.
func processUsesDir(pid int, dir string) bool {
	if !processAlive(pid) {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return err == nil && strings.Contains(string(b), dir)
}

// SweepStale stops servers and removes temp directories left behind by
// harness users that died without cleaning up (owner pid gone).
func SweepStale() {
	for _, base := range []string{os.TempDir(), "/tmp"} {
		dirs, _ := filepath.Glob(filepath.Join(base, dirPrefix+"*"))
		for _, dir := range dirs {
			owner := readPidFile(filepath.Join(dir, ownerFile))
			if owner == 0 || processAlive(owner) {
				continue
			}
			pidFiles, _ := filepath.Glob(filepath.Join(dir, "node-*", "kafka.pid"))
			pidFiles = append(pidFiles, filepath.Join(dir, "mysqld.pid"), filepath.Join(dir, "data", "postmaster.pid"))
			for _, pf := range pidFiles {
				// Only a process that still runs from this directory: pids
				// are reused (pid_max is often 32768), and a stale pid
				// file may name another test's live server by now.
				if pid := readPidFile(pf); pid > 0 && processUsesDir(pid, dir) {
					killAndWait(pid, syscall.SIGKILL, time.Second)
				}
			}
			_ = os.RemoveAll(dir)
		}
	}
}

// tail returns the last n bytes of a log file, for error messages.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := st.Size() - n
	if off < 0 {
		off = 0
	}
	buf := make([]byte, st.Size()-off)
	_, _ = f.ReadAt(buf, off)
	return strings.TrimSpace(string(buf))
}
