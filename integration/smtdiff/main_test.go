package smtdiff

import (
	"os"
	"testing"
)

// TestMain runs the tests; no database or broker is needed.
func TestMain(m *testing.M) { os.Exit(m.Run()) }
