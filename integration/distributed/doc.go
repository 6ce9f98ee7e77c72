// Package distributed tests `replicate distributed`: three worker processes
// on a real three-broker Apache Kafka cluster from the harness (replication
// factor 3) and, for the tests that run on each broker kind, on Tributary's
// embedded broker in a process of its own (brokerd, as workers cannot share
// one inside a worker).
//
// TestDistributedCluster runs six JDBC/CDC connectors over MariaDB and
// PostgreSQL: kill -9 under load, a rolling restart, kill -9 of the leader,
// row-by-row verification. The FileStream tests reproduce issue 18 with
// Connect's default group timeouts: kill -9 of a worker (also while the
// survivors rejoin), a SIGSTOP/SIGCONT zombie; each checks that no task ran
// on two workers at once (status topic history and worker logs), that pairs
// the faulted worker did not run have every line exactly once, and reports
// the failover time.
package distributed
