// Package harness is the testing.TB side of the throwaway database servers
// (internal/dbserver starts and stops them; the quickstart uses that package
// directly): it starts each server once per test package and gives each test
// a database of its own.
//
// In a test package:
//
//	func TestMain(m *testing.M) { os.Exit(harness.Run(m, harness.NeedMariaDB|harness.NeedPostgres)) }
//
//	func TestX(t *testing.T) {
//		db := harness.MariaDB(t) // a fresh database of its own
//		conn := db.Open(t)       // *sqlx.DB, closed on cleanup
//		...
//	}
//
// Each server is started once per test package; each test gets its own
// database. Every server runs in its own temp directory; Close stops the
// process (by its pid file) and removes the directory. As a backstop the
// servers are started with a parent-death signal, so they die with the test
// binary even when it panics or times out, and Run sweeps temp directories
// left behind by dead test binaries.
//
// BuildReplicate builds the replicate binary once for a test package that
// runs it end to end.
//
// A missing binary is an error that names the Debian package to install;
// tests are never skipped for it.
package harness
