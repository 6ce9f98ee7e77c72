package quickstart

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the demo account's MariaDB connection
	_ "github.com/jackc/pgx/v5/stdlib" // and PostgreSQL's

	"github.com/tributary-cdc/tributary/integration/harness"
)

var binary string

func TestMain(m *testing.M) {
	bin, remove, err := harness.BuildReplicate("replicate-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = bin
	code := harness.Run(m, harness.NeedMariaDB|harness.NeedPostgres)
	remove()
	os.Exit(code)
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestQuickstartVerifiesEveryTable runs `replicate quickstart --duration 5s
// --keep` as a user would, waits for the verification, checks the REST API
// and metrics it points to, then stops it with SIGINT and checks that it
// exits 0 and removed its data directory.
func TestQuickstartVerifiesEveryTable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "quickstart", "--duration", "5s", "--keep",
		"--rest-port", "0", "--broker-port", "0", "--registry-port", "0")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("quickstart output:\n%s", out.String())
		}
	}()

	// Wait for the verification summary (or an early exit).
	deadline := time.Now().Add(150 * time.Second)
	for !strings.Contains(out.String(), "press Ctrl-C") {
		select {
		case err := <-exited:
			t.Fatalf("quickstart exited before the verification finished: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no verification within 150s")
		}
	}
	text := out.String()

	// Every table printed "verified", six of them, and nothing failed.
	var verified []string
	sc := bufio.NewScanner(strings.NewReader(text))
	inVerification := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Verification") {
			inVerification = true
			continue
		}
		if inVerification && strings.Contains(line, "rows  checksum") {
			if !strings.HasSuffix(line, " verified") {
				t.Errorf("table not verified: %s", line)
			}
			verified = append(verified, strings.Fields(line)[0]+" "+strings.Fields(line)[1])
		}
	}
	if len(verified) != 6 {
		t.Errorf("verified %d tables %v, want 6", len(verified), verified)
	}
	for _, want := range []string{"All 6 tables verified.", "ALTER TABLE customers ADD COLUMN loyalty_points INT"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(text, "!!") {
		t.Errorf("output reports a problem (!!)")
	}
	// Progress lines were printed while the workload ran.
	if n := len(regexp.MustCompile(`(?m)^\s+\[\s*\d+s\] mariadb → postgres\s+customers`).FindAllString(text, -1)); n < 3 {
		t.Errorf("%d progress lines for mariadb → postgres, want at least 3", n)
	}

	// The REST API and metrics it points to answer.
	rest := regexp.MustCompile(`REST API:\s+(http://\S+)/connectors`).FindStringSubmatch(text)
	if rest == nil {
		t.Fatal("no REST API address printed")
	}
	body := get(t, rest[1]+"/connectors")
	for _, c := range []string{"mariadb-source", "postgres-source", "postgres-sink", "mariadb-sink"} {
		if !strings.Contains(body, `"`+c+`"`) {
			t.Errorf("GET /connectors = %s, lacks %s", body, c)
		}
	}
	if st := get(t, rest[1]+"/connectors/postgres-sink/status"); !strings.Contains(st, `"RUNNING"`) || strings.Contains(st, "FAILED") {
		t.Errorf("postgres-sink status %s", st)
	}
	if m := get(t, rest[1]+"/metrics"); !strings.Contains(m, "mariadb-sink") {
		t.Errorf("/metrics has no series of mariadb-sink")
	}
	checkHygiene(t, text, cmd.Process.Pid)
	logPath := regexp.MustCompile(`Worker log:\s+(\S+)`).FindStringSubmatch(text)
	if logPath == nil {
		t.Fatal("no worker log path printed")
	}
	dataDir := filepath.Dir(logPath[1])
	if _, err := os.Stat(dataDir); err != nil {
		t.Fatalf("data dir %s: %v", dataDir, err)
	}

	// Ctrl-C stops everything and removes the data directory.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v (want status 0: every table verified)", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("quickstart did not stop within 60s of SIGINT")
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("data dir %s still exists after exit (%v)", dataDir, err)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	return string(b)
}

// TestVerifyCommand runs `replicate verify` against a MariaDB and a
// PostgreSQL table: equal tables exit 0, differences exit 1 naming the
// keys, bad usage exits 2.
func TestVerifyCommand(t *testing.T) {
	my := harness.MariaDB(t)
	pg := harness.Postgres(t)
	mydb, pgdb := my.Open(t), pg.Open(t)
	for _, s := range []string{
		`CREATE TABLE accounts (id INT PRIMARY KEY, owner VARCHAR(40), balance DECIMAL(12,2), open TINYINT(1), since DATE)`,
		`INSERT INTO accounts VALUES (1, 'ada', 10.50, 1, '2026-01-02'), (2, 'alan', 0, 0, '2026-02-03'), (3, 'grace', 99.99, 1, NULL)`,
	} {
		if _, err := mydb.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{
		`CREATE TABLE accounts (id INT PRIMARY KEY, owner TEXT, balance NUMERIC(14,4), open BOOLEAN, since DATE)`,
		`INSERT INTO accounts VALUES (1, 'ada', 10.5, true, '2026-01-02'), (2, 'alan', 0.0000, false, '2026-02-03'), (3, 'grace', 99.99, true, NULL)`,
	} {
		if _, err := pgdb.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (string, int) {
		cmd := exec.Command(binary, append([]string{"verify"}, args...)...)
		b, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(b), code
	}
	args := []string{"--source-url", my.JDBCURL(), "--target-url", pg.DSN(), "--source-table", "accounts", "--target-table", "public.accounts"}
	out, code := run(args...)
	if code != 0 || !strings.Contains(out, "verified: 3 rows") {
		t.Fatalf("equal tables: exit %d\n%s", code, out)
	}
	if _, err := pgdb.Exec(`UPDATE accounts SET balance = 10.51 WHERE id = 1; DELETE FROM accounts WHERE id = 3; INSERT INTO accounts (id) VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	out, code = run(args...)
	if code != 1 {
		t.Fatalf("differing tables: exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{`changed: id=1 (balance: "10.5" != "10.51")`, "missing in target: id=3", "extra in target: id=7", "NOT verified"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if out, code = run("--source-url", my.JDBCURL()); code != 2 || !strings.Contains(out, "missing --source-table, --target-url") {
		t.Errorf("missing flags: exit %d\n%s", code, out)
	}
	if out, code = run(append(args[:len(args)-2], "--target-table", "nope")...); code != 2 || !strings.Contains(out, "nope not found") {
		t.Errorf("missing table: exit %d\n%s", code, out)
	}
}

// checkHygiene: the quickstart prints no superuser access (neither root nor
// postgres nor the CDC account's password) but a demo account that can read
// the data and is no superuser, and every port it or its servers listen on
// is on loopback.
func checkHygiene(t *testing.T, text string, pid int) {
	t.Helper()
	for _, bad := range []string{"-u root", "-U postgres", harness.MariaDBCDCPassword} {
		if strings.Contains(text, bad) {
			t.Errorf("the quickstart prints %q", bad)
		}
	}
	my := regexp.MustCompile(`MariaDB:\s+mariadb -h 127\.0\.0\.1 -P (\d+) -u (\w+) -p(\w+) inventory`).FindStringSubmatch(text)
	pg := regexp.MustCompile(`PostgreSQL:\s+PGPASSWORD=(\w+) psql -h 127\.0\.0\.1 -p (\d+) -U (\w+) inventory`).FindStringSubmatch(text)
	if my == nil || pg == nil {
		t.Fatalf("no demo account printed (MariaDB %v, PostgreSQL %v)", my, pg)
	}
	ctx := context.Background()
	mdb, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(127.0.0.1:%s)/inventory", my[2], my[3], my[1]))
	if err != nil {
		t.Fatal(err)
	}
	defer mdb.Close()
	var n int
	if err := mdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM customers").Scan(&n); err != nil || n == 0 {
		t.Errorf("MariaDB demo account reads customers: %d, %v", n, err)
	}
	if _, err := mdb.ExecContext(ctx, "CREATE DATABASE demo_may_not"); err == nil {
		t.Errorf("MariaDB demo account can create databases")
	}
	pdb, err := sql.Open("pgx", fmt.Sprintf("postgres://%s:%s@127.0.0.1:%s/inventory?sslmode=disable", pg[3], pg[1], pg[2]))
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	var super bool
	if err := pdb.QueryRowContext(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil || super {
		t.Errorf("PostgreSQL demo account superuser=%v, %v", super, err)
	}
	if err := pdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM customers").Scan(&n); err != nil || n == 0 {
		t.Errorf("PostgreSQL demo account reads customers: %d, %v", n, err)
	}
	pids := append([]int{pid}, children(pid)...)
	addrs := 0
	for _, p := range pids {
		for _, a := range listenAddrs(t, p) {
			addrs++
			if !strings.HasPrefix(a, "127.0.0.1:") && !strings.HasPrefix(a, "[::1]:") {
				t.Errorf("process %d listens on %s, not loopback", p, a)
			}
		}
	}
	if addrs < 5 { // REST, broker, registry, MariaDB, PostgreSQL
		t.Errorf("found %d listening sockets of the quickstart and its servers %v, want at least 5", addrs, pids)
	}
}

// children are the pids whose parent is pid.
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			c, _ := strconv.Atoi(e.Name())
			out = append(out, c)
		}
	}
	return out
}

// listenAddrs are the TCP addresses pid listens on (its socket inodes
// looked up in /proc/net/tcp and tcp6, state 0A = LISTEN).
func listenAddrs(t *testing.T, pid int) []string {
	inodes := map[string]bool{}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var out []string
	for _, file := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, file))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] {
				continue
			}
			out = append(out, hexAddr(t, f[1]))
		}
	}
	return out
}

// hexAddr decodes /proc/net/tcp's little-endian hex address:port.
func hexAddr(t *testing.T, s string) string {
	host, port, _ := strings.Cut(s, ":")
	p, _ := strconv.ParseUint(port, 16, 16)
	raw, err := hex.DecodeString(host)
	if err != nil {
		t.Fatalf("address %q: %v", s, err)
	}
	for i := 0; i+4 <= len(raw); i += 4 { // each 32-bit word is little-endian
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	return net.JoinHostPort(net.IP(raw).String(), strconv.FormatUint(p, 10))
}
