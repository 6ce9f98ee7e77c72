package jsonconv

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrEnvelope is wrapped by the error ToConnect returns when schemas.enable is
// on and the message is not a {"schema","payload"} object.
var ErrEnvelope = errors.New(`JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.`)

// FieldError is a conversion failure at a place inside a value. Path names the
// field from the top of the value ("after.amount", "tags[2]"); it is empty
// for the top-level value itself.
type FieldError struct {
	Path string
	Err  error
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return "jsonconv: " + e.Err.Error()
	}
	return "jsonconv: field " + strconv.Quote(e.Path) + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

// pathError collects the path while the recursion unwinds, so the success
// path builds nothing.
type pathError struct {
	rev []string // innermost first; "[3]" elements are indexes
	err error
}

func (e *pathError) Error() string { return e.finish().Error() }

func (e *pathError) finish() *FieldError {
	var sb strings.Builder
	for i := len(e.rev) - 1; i >= 0; i-- {
		s := e.rev[i]
		if sb.Len() > 0 && !strings.HasPrefix(s, "[") {
			sb.WriteByte('.')
		}
		sb.WriteString(s)
	}
	return &FieldError{Path: sb.String(), Err: e.err}
}

func errorf(format string, args ...any) error {
	return &pathError{err: fmt.Errorf(format, args...)}
}

// inField adds a path segment to err (a *pathError from this package).
func inField(err error, name string) error {
	if pe, ok := err.(*pathError); ok {
		pe.rev = append(pe.rev, name)
		return pe
	}
	return &pathError{rev: []string{name}, err: err}
}

func inIndex(err error, i int) error { return inField(err, "["+strconv.Itoa(i)+"]") }

// public converts an internal error to the one callers see.
func public(err error) error {
	if pe, ok := err.(*pathError); ok {
		return pe.finish()
	}
	return err
}
