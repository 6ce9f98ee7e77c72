// Package logging builds the process logger of `replicate`: log/slog with a
// level the REST API's /admin/loggers can change at run time.
package logging

import (
	"fmt"
	"io"
	"log/slog"
)

// New returns a logger writing to w in format "text" or "json" and its
// level, which the REST API's /admin/loggers/root can change at run time.
func New(w io.Writer, level, format string) (*slog.Logger, *slog.LevelVar, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, fmt.Errorf("-log-level: %w", err)
	}
	lvl := new(slog.LevelVar)
	lvl.Set(lv)
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), lvl, nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), lvl, nil
	}
	return nil, nil, fmt.Errorf("-log-format: %q is neither text nor json", format)
}
