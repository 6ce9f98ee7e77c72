//go:build unix

package quickstart

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// qsPackages are the Debian packages the quickstart's servers come from.
var qsPackages = []string{"mariadb-server", "postgresql"}

// debInstalled reports whether a Debian package is installed.
func debInstalled(ctx context.Context, pkg string) bool {
	out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Status}", pkg).Output()
	return err == nil && strings.TrimSpace(string(out)) == "install ok installed"
}

// checkPackages reports mariadb-server and postgresql missing with the
// commands that install them; it installs nothing itself (`make demo` runs
// scripts/install-deps.sh first). Without dpkg (not Debian) it only says
// what the servers need; the server start then names a missing binary.
func checkPackages(ctx context.Context, out io.Writer) error {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		fmt.Fprintln(out, "  - not a Debian system: make sure MariaDB and PostgreSQL server binaries are installed")
		return nil
	}
	var missing []string
	for _, p := range qsPackages {
		if !debInstalled(ctx, p) {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		fmt.Fprintf(out, "  ok  Debian packages %s installed\n", strings.Join(qsPackages, ", "))
		return nil
	}
	return fmt.Errorf("missing Debian packages %s: install them with `make deps` in the repository (scripts/install-deps.sh), or `sudo apt-get install %s`",
		strings.Join(missing, ", "), strings.Join(missing, " "))
}
