package jdbc

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrorClass sorts database errors by what a caller can do about them.
type ErrorClass uint8

const (
	// ErrOther is any other failure, usually the statement's data (a
	// constraint, a value the column does not take): retrying the same
	// statement fails again.
	ErrOther ErrorClass = iota
	// ErrTransient: the connection or the server failed (lost connection,
	// deadlock, lock timeout, shutdown); the same work may succeed later.
	ErrTransient
	// ErrMissingTable: the table does not exist (dropped or renamed).
	ErrMissingTable
	// ErrMissingColumn: a column does not exist.
	ErrMissingColumn
	// ErrCanceled: the caller's context ended.
	ErrCanceled
)

// MySQL/MariaDB error numbers, by class.
var mysqlClasses = map[uint16]ErrorClass{
	1040: ErrTransient,                                                             // too many connections
	1053: ErrTransient,                                                             // server shutdown in progress
	1205: ErrTransient,                                                             // lock wait timeout
	1213: ErrTransient,                                                             // deadlock
	1317: ErrTransient,                                                             // query execution was interrupted
	1927: ErrTransient,                                                             // connection was killed (MariaDB)
	2002: ErrTransient, 2003: ErrTransient, 2006: ErrTransient, 2013: ErrTransient, // connection errors
	4031: ErrTransient,    // disconnected by the server because of inactivity (MySQL 8)
	1146: ErrMissingTable, // table doesn't exist
	1051: ErrMissingTable, // unknown table
	1054: ErrMissingColumn,
}

func classifyMySQL(err error) ErrorClass {
	if canceled(err) {
		return ErrCanceled
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return mysqlClasses[me.Number] // ErrOther when not listed
	}
	if errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, mysql.ErrPktSync) || errors.Is(err, mysql.ErrPktSyncMul) {
		return ErrTransient
	}
	return classifyConn(err)
}

func classifyPostgres(err error) ErrorClass {
	if canceled(err) {
		return ErrCanceled
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "57P"), // operator intervention: shutdown, crash, cannot connect now, idle timeout
			pe.Code == "40001",                // serialization failure
			pe.Code == "40P01",                // deadlock
			pe.Code == "55P03",                // lock not available
			pe.Code == "53300":                // too many connections
			return ErrTransient
		case pe.Code == "42P01": // undefined table
			return ErrMissingTable
		case pe.Code == "42703": // undefined column
			return ErrMissingColumn
		}
		return ErrOther
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return ErrTransient
	}
	return classifyConn(err)
}

func canceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// connMessages are failures of the connection as drivers word them when
// they wrap nothing errors.Is can find.
var connMessages = []string{"connection refused", "connection reset", "broken pipe", "closed network connection",
	"conn closed", "bad connection", "invalid connection", "unexpected eof", "server closed"}

// classifyConn handles errors that are not the server's: lost or refused
// connections are transient, anything else ErrOther.
func classifyConn(err error) ErrorClass {
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, sql.ErrTxDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, net.ErrClosed):
		return ErrTransient
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return ErrTransient
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return ErrTransient
	}
	msg := strings.ToLower(err.Error())
	for _, s := range connMessages {
		if strings.Contains(msg, s) {
			return ErrTransient
		}
	}
	return ErrOther
}
