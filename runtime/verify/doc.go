// Package verify compares a source table with a target table, possibly on
// different database systems (MariaDB/MySQL and PostgreSQL), row by row: it
// is how operators (`replicate verify`), the quickstart and the chaos suite
// prove that a pipeline delivered every change.
//
// Tables streams both tables in primary-key order on one dedicated
// connection each (session time zone UTC) and merges the two streams in Go.
// Every value is normalized to a canonical text form chosen from the column
// types of both sides, so that equal data compares equal across systems:
//
//   - integers, booleans and BIT(1) as decimal integers (true = 1);
//   - DECIMAL/NUMERIC without trailing zeros (12.50 = 12.5);
//   - FLOAT/REAL to 6 significant digits, DOUBLE to 15;
//   - DATETIME/TIMESTAMP/timestamptz and ISO-8601 strings in UTC with
//     microseconds, DATE as yyyy-mm-dd, TIME as hh:mm:ss.ffffff;
//   - JSON re-encoded compactly with sorted object keys, UUIDs in lower
//     case, CHAR padding removed, binary data in hex.
//
// The report has both tables' row counts, a SHA-256 checksum of each table
// (over the normalized rows in key order, so equal tables have equal
// checksums), per-chunk checksums (ChunkSize keys per chunk) and the first
// differing keys: rows missing from the target, extra rows in the target and
// changed rows with the columns that differ.
//
// Keys are ordered the same way on both systems: numeric and temporal keys
// in their natural order, text keys by their UTF-8 bytes (COLLATE "C" on
// PostgreSQL, a binary cast on MariaDB). If a stream still arrives out of
// order (an unusual key type), Tables returns an error rather than a wrong
// report.
//
// Tables reads each table in one statement; on a table under writes the
// two reads are not taken at the same instant, so compare after the
// pipeline caught up, or use Until, which repeats the comparison until it
// verifies or the context ends. Cancelling ctx stops the reads and returns
// ctx's error; nothing is written to either database.
package verify
