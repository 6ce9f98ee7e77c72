package harness_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/integration/harness"
)

func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.NeedMariaDB|harness.NeedPostgres|harness.NeedKafka|harness.NeedKafkaSASL))
}

// TestStandaloneServersAndCleanup starts its own servers with the exported
// constructors, checks the replication settings, creates a table in each,
// closes them and checks that no process or directory is left behind.
func TestStandaloneServersAndCleanup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	maria, err := harness.StartMariaDB(ctx, harness.Options{ServerID: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer maria.Close()
	pg, err := harness.StartPostgres(ctx, harness.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()

	mdb, err := maria.CreateDatabase(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mdb.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"SELECT @@log_bin":             "1",
		"SELECT @@binlog_format":       "ROW",
		"SELECT @@binlog_row_image":    "FULL",
		"SELECT @@binlog_row_metadata": "FULL",
		"SELECT @@server_id":           "7",
	} {
		var got string
		if err := m.QueryRowContext(ctx, q).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
	var name, val string
	if err := m.QueryRowContext(ctx, "SHOW VARIABLES LIKE 'log_bin'").Scan(&name, &val); err != nil || val != "ON" {
		t.Errorf("SHOW VARIABLES LIKE 'log_bin' = %q, %v; want ON", val, err)
	}
	t.Logf("mariadb %s:%d log_bin=%s", maria.Host, maria.Port, val)
	if _, err := m.ExecContext(ctx, "CREATE TABLE orders (id BIGINT PRIMARY KEY AUTO_INCREMENT, customer VARCHAR(64) NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ExecContext(ctx, "INSERT INTO orders (customer) VALUES ('alice')"); err != nil {
		t.Fatal(err)
	}
	m.Close()

	pdb, err := pg.CreateDatabase(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	p, err := pdb.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wal string
	if err := p.QueryRowContext(ctx, "SHOW wal_level").Scan(&wal); err != nil || wal != "logical" {
		t.Errorf("wal_level = %q, %v; want logical", wal, err)
	}
	t.Logf("postgres %d at %s:%d wal_level=%s", pg.Version, pg.Host, pg.Port, wal)
	if _, err := p.ExecContext(ctx, "CREATE TABLE orders (id bigserial PRIMARY KEY, customer text NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ExecContext(ctx, "INSERT INTO orders (customer) VALUES ('alice')"); err != nil {
		t.Fatal(err)
	}
	p.Close()

	mPid, pPid, mDir, pDir := maria.Pid(), pg.Pid(), maria.Dir, pg.Dir
	if mPid == 0 || pPid == 0 {
		t.Fatalf("pids %d %d", mPid, pPid)
	}
	if err := maria.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pg.Close(); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{mDir, pDir} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s still exists after Close (err %v)", dir, err)
		}
		if pids := harness.ProcessesUsing(dir); len(pids) > 0 {
			t.Errorf("processes still running for %s: %v", dir, pids)
		}
	}
	for _, pid := range []int{mPid, pPid} {
		if _, err := os.Stat("/proc/" + itoa(pid)); err == nil {
			if b, _ := os.ReadFile("/proc/" + itoa(pid) + "/cmdline"); len(b) > 0 {
				t.Errorf("server pid %d still alive: %q", pid, b)
			}
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestSuiteDatabases checks the per-test databases of the shared servers:
// unique names, working DSN/JDBC URL, and a server restart keeping data.
func TestSuiteDatabases(t *testing.T) {
	ctx := context.Background()
	a, b := harness.MariaDB(t), harness.MariaDB(t)
	if a.Name == b.Name {
		t.Fatalf("two databases share the name %q", a.Name)
	}
	if got := a.JDBCURL(); got != "jdbc:mariadb://127.0.0.1:"+itoa(a.Port)+"/"+a.Name+"?user=root" {
		t.Errorf("JDBCURL = %q", got)
	}
	mdb := a.Open(t)
	mdb.MustExec("CREATE TABLE t (id INT PRIMARY KEY)")
	mdb.MustExec("INSERT INTO t VALUES (1), (2)")

	p := harness.Postgres(t)
	pdb := p.Open(t)
	pdb.MustExec("CREATE TABLE t (id INT PRIMARY KEY)")
	pdb.MustExec("INSERT INTO t VALUES (1), (2), (3)")
	if got := p.JDBCURL(); got != "jdbc:postgresql://127.0.0.1:"+itoa(p.Port)+"/"+p.Name+"?user=postgres" {
		t.Errorf("JDBCURL = %q", got)
	}

	if err := harness.MariaDBServer(t).Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := harness.PostgresServer(t).Restart(ctx); err != nil {
		t.Fatal(err)
	}
	// Connections do not survive a restart; open new ones.
	mdb, pdb = a.Open(t), p.Open(t)
	var n int
	if err := mdb.GetContext(ctx, &n, "SELECT COUNT(*) FROM t"); err != nil || n != 2 {
		t.Errorf("mariadb after restart: count %d, %v", n, err)
	}
	if err := pdb.GetContext(ctx, &n, "SELECT COUNT(*) FROM t"); err != nil || n != 3 {
		t.Errorf("postgres after restart: count %d, %v", n, err)
	}
	// Root DSNs work.
	for _, dsn := range []string{harness.MariaDBServer(t).RootDSN(), harness.PostgresServer(t).RootDSN()} {
		if dsn == "" {
			t.Error("empty root DSN")
		}
	}
}
