// Package distributed tests `replicate distributed`: a broker process
// (brokerd: the embedded kfake broker in a process of its own), three worker
// processes, MariaDB and PostgreSQL from the harness, six connectors, a
// kill -9 under load, a rolling restart, and row-by-row verification.
package distributed
