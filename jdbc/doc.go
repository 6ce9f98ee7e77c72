// Package jdbc is the SQL layer both JDBC sides use: it parses Connect's
// connection.url (JDBC URLs and native DSNs) into a Conn with its Flavor,
// overlays connection.user/connection.password, and opens the database with
// retries. Each Flavor has one Dialect (DialectFor; an unknown flavor is an
// error): identifier quoting, bind placeholders, table ids (TableID,
// ParseTableID) and the classifier of driver errors (Classify: transient,
// missing table or column, canceled). The polling source (jdbc/source) and
// the sink (sinks/jdbc) import it and build their own per-flavor dialects on
// it; it imports neither, and nothing of the engine.
package jdbc
