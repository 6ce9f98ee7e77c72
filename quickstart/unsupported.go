//go:build !unix

package quickstart

import (
	"fmt"
	"io"
)

// Main reports that the quickstart needs a Unix system: it starts MariaDB and
// PostgreSQL servers as child processes the way only Unix systems allow.
func Main(_ []string, _, stderr io.Writer, _ Options) int {
	fmt.Fprintln(stderr, "replicate quickstart: needs Linux or another Unix system (it starts throwaway MariaDB and PostgreSQL servers)")
	return 1
}
