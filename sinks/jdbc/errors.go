package jdbcsink

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

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

// classifyGeneric handles errors that are not the driver's server errors.
func classifyGeneric(err error) errClass {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errCanceled
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, sql.ErrTxDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, net.ErrClosed):
		return errRetriable
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return errRetriable
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return errRetriable
	}
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "broken pipe", "conn closed", "bad connection", "invalid connection", "unexpected EOF"} {
		if strings.Contains(msg, s) {
			return errRetriable
		}
	}
	return errData
}
