// Package source is the polling source, Confluent's JdbcSourceConnector in Go:
// bulk, incrementing, timestamp, timestamp+incrementing and custom-query modes
// over MariaDB/MySQL and PostgreSQL through sqlx. It also owns connection.url
// parsing (JDBC URLs and native DSNs), which the JDBC sink shares.
package source
