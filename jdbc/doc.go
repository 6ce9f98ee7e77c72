// Package jdbc is the SQL layer both JDBC sides use: it parses Connect's
// connection.url (JDBC URLs and native DSNs) into a Conn with its Flavor,
// overlays connection.user/connection.password, and opens the database with
// retries. The polling source (jdbc/source) and the sink (sinks/jdbc) import
// it; it imports neither, and nothing of the engine.
package jdbc
