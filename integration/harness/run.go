package harness

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Need selects the servers Run starts.
type Need int

// Servers Run can start.
const (
	NeedMariaDB Need = 1 << iota
	NeedPostgres
	// NeedKafka starts a one-broker Apache Kafka cluster (unless EnvKafka
	// leaves out "kafka", or EnvBootstrap names an existing cluster).
	NeedKafka
	// NeedKafka3 starts a three-broker cluster instead (replication factor
	// 3, min.insync.replicas 2).
	NeedKafka3
	// NeedKafkaSASL adds a SASL_SSL listener (SCRAM-SHA-512) to the cluster.
	NeedKafkaSASL
)

// suite holds the servers of the running test binary. It is set once by
// Run before any test runs.
var suite struct {
	mu      sync.Mutex
	maria   *MariaDBInstance
	pg      *PostgresInstance
	kafka   *Broker
	mErr    error
	pErr    error
	kErr    error
	kinds   []string
	started Need
	seq     atomic.Int64
}

// Run starts the servers named by need (in parallel), runs the tests, then
// stops the servers and removes their directories. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(harness.Run(m, harness.NeedMariaDB)) }
//
// If a server cannot start (for example its binary is missing), Run prints
// why and returns 1 without running tests.
func Run(m *testing.M, need Need) (code int) {
	SweepStale()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	var wg sync.WaitGroup
	if need&NeedMariaDB != 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			suite.maria, suite.mErr = StartMariaDB(ctx, Options{})
		}()
	}
	if need&NeedPostgres != 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			suite.pg, suite.pErr = StartPostgres(ctx, Options{})
		}()
	}
	suite.kinds, suite.kErr = kafkaKinds()
	if suite.kErr == nil && need&(NeedKafka|NeedKafka3) != 0 && slices.Contains(suite.kinds, "kafka") {
		wg.Add(1)
		go func() {
			defer wg.Done()
			brokers := 1
			if need&NeedKafka3 != 0 {
				brokers = 3
			}
			kctx, kcancel := context.WithTimeout(context.Background(), 8*time.Minute) // includes the first Maven fetch
			defer kcancel()
			suite.kafka, suite.kErr = startKafka(kctx, brokers, need&NeedKafkaSASL != 0)
		}()
	}
	wg.Wait()
	cancel()
	suite.started = need

	var once sync.Once
	closeAll := func() {
		once.Do(func() {
			if suite.maria != nil {
				if err := suite.maria.Close(); err != nil {
					fmt.Fprintln(os.Stderr, err)
				}
			}
			if suite.pg != nil {
				if err := suite.pg.Close(); err != nil {
					fmt.Fprintln(os.Stderr, err)
				}
			}
			if suite.kafka != nil && suite.kafka.Cluster != nil {
				if err := suite.kafka.Cluster.Close(); err != nil {
					fmt.Fprintln(os.Stderr, err)
				}
			}
		})
	}
	defer closeAll()

	// Clean up on Ctrl-C / kill as well.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case s := <-sig:
			fmt.Fprintf(os.Stderr, "harness: %v: stopping test servers\n", s)
			closeAll()
			os.Exit(1)
		case <-done:
		}
	}()
	defer signal.Stop(sig)

	for _, err := range []error{suite.mErr, suite.pErr, suite.kErr} {
		if err != nil {
			fmt.Fprintln(os.Stderr, "FAIL: test servers could not start:", err)
			return 1
		}
	}
	return m.Run()
}

// MariaDBServer returns the package's MariaDB server; the test fails if
// TestMain did not ask for it with NeedMariaDB.
func MariaDBServer(t testing.TB) *MariaDBInstance {
	t.Helper()
	if suite.maria == nil {
		t.Fatalf("harness: no MariaDB server: call harness.Run(m, harness.NeedMariaDB|…) from TestMain (err: %v)", suite.mErr)
	}
	return suite.maria
}

// PostgresServer returns the package's PostgreSQL server; the test fails if
// TestMain did not ask for it with NeedPostgres.
func PostgresServer(t testing.TB) *PostgresInstance {
	t.Helper()
	if suite.pg == nil {
		t.Fatalf("harness: no PostgreSQL server: call harness.Run(m, harness.NeedPostgres|…) from TestMain (err: %v)", suite.pErr)
	}
	return suite.pg
}

// MariaDB creates a fresh database for the test on the package's MariaDB
// server (user root, no password).
func MariaDB(t testing.TB) *Database {
	t.Helper()
	s := MariaDBServer(t)
	db, err := s.CreateDatabase(context.Background(), dbName(t.Name(), suite.seq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// Postgres creates a fresh database for the test on the package's
// PostgreSQL server (user postgres, trust auth).
func Postgres(t testing.TB) *Database {
	t.Helper()
	s := PostgresServer(t)
	db, err := s.CreateDatabase(context.Background(), dbName(t.Name(), suite.seq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return db
}
