package jdbcsink

import "github.com/tributary-cdc/tributary/jdbc"

// errClass sorts database errors by what the sink does about them.
type errClass uint8

const (
	// errData: the statement failed because of the data (a constraint, a
	// value the column does not take). Re-run row by row to find the record.
	errData errClass = iota
	// errRetriable: the connection or the server failed (lost connection,
	// deadlock, timeout); the same batch may succeed later.
	errRetriable
	// errSchema: a table or column is missing, probably changed by someone
	// else; re-read the table metadata and try again.
	errSchema
	// errCanceled: the caller's context ended.
	errCanceled
)

// classify sorts an error from the database with the dialect's classifier
// (jdbc.Dialect.Classify).
func classify(d jdbc.Dialect, err error) errClass {
	switch d.Classify(err) {
	case jdbc.ErrTransient:
		return errRetriable
	case jdbc.ErrMissingTable, jdbc.ErrMissingColumn:
		return errSchema
	case jdbc.ErrCanceled:
		return errCanceled
	}
	return errData
}
